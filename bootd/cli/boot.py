"""``bootd boot``: boot an option.

With ``--scan SOURCE`` it needs no daemon (rescue shells, minimal initramfs):
the sources are scanned with the parser registry, the option is picked by
``--name`` (its title, id or entry id; default: the entry the config itself
would boot), and the loader boots it on this machine.  ``--dry-run`` records
kexec instead of running it and prints the plan; ``--machine DIR`` does the
same on a sandbox machine.  ``--signed-boot MODE --keyring FILE`` and
``--measured-boot`` do what the signed_boot and measured_boot settings do
(this path reads no settings).  It imports neither D-Bus nor TUI nor udev
libraries.  Without ``--scan`` the daemon is asked to boot.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from bootd.cli import N_
from bootd.cli.i18n import _
from bootd.errors import BootdError, InvalidArgument, NotFound, Unsupported

if TYPE_CHECKING:
    from bootd.loader.boot import BootPlan
    from bootd.model import BootOption, Device, Framebuffer, Text
    from bootd.platform import Platform


DRY_RUN_PASSTHROUGH = frozenset({"dtc"})
"""What a dry run on this machine still runs for real: everything else (kexec, hooks) is recorded."""
SIGNED_BOOT_MODES = ("off", "warn", "enforce")
"""``bootd.loader.verify.MODES``, named here so that daemon mode does not import the loader."""
DEFAULT_KEYRING = "/etc/bootd/keyring.gpg"
"""``bootd.loader.verify.DEFAULT_KEYRING`` (the signed_boot_keyring setting's default)."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("option", nargs="?", help=N_("option id (daemon mode)"))
    parser.add_argument(
        "--scan", action="append", metavar="SOURCE", help=N_("boot from this source, without the daemon")
    )
    parser.add_argument("--name", help=N_("the option's title, id or entry id"))
    parser.add_argument("--console", help=N_("console for the next kernel: hvc0, ttyS0:115200n8, tty1, or a DT path"))
    parser.add_argument("--args", help=N_("replace the option's kernel arguments"))
    parser.add_argument(
        "--next", action="store_true", help=N_("daemon mode: only remember the choice for the next boot")
    )
    parser.add_argument("--bus", metavar="system|session|ADDRESS", help=N_("daemon mode: the daemon's bus"))
    parser.add_argument("--dry-run", action="store_true", help=N_("record kexec instead of running it; print the plan"))
    parser.add_argument("--machine", type=Path, metavar="DIR", help=N_("boot on a sandbox machine (always recorded)"))
    parser.add_argument("--state-dir", type=Path, metavar="DIR", help=N_("sandbox records go here (with --machine)"))
    parser.add_argument("--hooks-dir", type=Path, default=Path("/etc/bootd/boot.d"), metavar="DIR")
    parser.add_argument("--work-dir", type=Path, metavar="DIR", help=N_("keep the staged files (patched DTB) here"))
    parser.add_argument("--json", action="store_true", help=N_("print the plan as JSON"))
    parser.add_argument(
        "--measured-boot",
        nargs="?",
        const="",
        metavar="TCTI",
        help=N_(
            "with --scan: extend the TPM before kexec, as measured_boot = true does (TCTI: tpm2-tools' own choice)"
        ),
    )
    parser.add_argument(
        "--signed-boot",
        choices=SIGNED_BOOT_MODES,
        default="off",
        help=N_("with --scan: check the option's signatures first, as the signed_boot setting does (default: off)"),
    )
    parser.add_argument(
        "--keyring",
        default=DEFAULT_KEYRING,
        metavar="FILE",
        help=N_("with --signed-boot: the owner's binary OpenPGP keyring (default: %(default)s)"),
    )


def run(args: argparse.Namespace) -> int:
    import asyncio

    if not args.scan:
        import importlib

        try:
            client = importlib.import_module("bootd.cli.client")
        except ModuleNotFoundError as e:
            if e.name != "bootd.cli.client":
                raise
            client = None
        boot_via_daemon = getattr(client, "boot_via_daemon", None)
        if boot_via_daemon is None:
            raise Unsupported(_("this build has no daemon client; use --scan SOURCE to boot without the daemon"))
        rc: int = boot_via_daemon(args)
        return rc
    return asyncio.run(_boot_scanned(args))


def _platform(args: argparse.Namespace, state_dir: Path) -> Platform:
    """The composition point: real machine, real machine with kexec recorded, or a sandbox."""
    from bootd.composition import choose_platform, real_platform, recording_platform

    if args.machine is not None:
        return choose_platform(args.machine, args.state_dir or state_dir)
    if args.dry_run:
        return recording_platform(DRY_RUN_PASSTHROUGH)
    return real_platform()


@contextmanager
def _work_dir(args: argparse.Namespace) -> Iterator[Path]:
    import tempfile

    if args.work_dir is not None:
        args.work_dir.mkdir(parents=True, exist_ok=True)
        yield args.work_dir
        return
    with tempfile.TemporaryDirectory(prefix="bootd-boot-") as tmp:
        yield Path(tmp)


@asynccontextmanager
async def _scanned(platform: Platform, sources: list[str]) -> AsyncIterator[tuple[list[BootOption], dict[str, Device]]]:
    """Parse the sources (images and block devices stay mounted read-only until exit)."""
    from bootd.cli.scan import directory_view, parse_source, scan_views

    specs = [parse_source(text) for text in sources]
    taken: set[str] = set()
    views = [directory_view(spec, taken) for spec in specs if spec.path.is_dir()]
    others = [spec.path for spec in specs if not spec.path.is_dir()]
    async with AsyncExitStack() as stack:
        if others:
            from bootd.discovery.scanner import mounted_sources

            views += await stack.enter_async_context(mounted_sources(platform, others))
        devices, options, diags = scan_views(views, arch=platform.arch, firmware=platform.firmware)
        for dev_id, diag in diags:
            print(f"bootd boot: {dev_id}: {diag.text().translated(_)}", file=sys.stderr)
        yield options, {d.id: d for d in devices}


def pick(options: list[BootOption], name: str | None) -> BootOption:
    """The option called ``name`` (title, id or entry id), or the default one."""
    if name is None:
        chosen = [o for o in options if o.default][:1] or options[:1]
    else:
        chosen = [o for o in options if name in (o.name, o.id, o.entry_id)]
    if not chosen:
        if not options:
            raise NotFound(_("the sources offer no boot options (see `bootd scan SOURCE` for why)"))
        listing = "; ".join(f"{o.name!r} ({o.id})" for o in options)
        raise NotFound(
            _("no boot option is called {name}; the sources offer: {listing}").format(name=repr(name), listing=listing)
        )
    if len(chosen) > 1:
        raise InvalidArgument(
            _("{name} names several options: {ids}; give an id").format(
                name=repr(name), ids=", ".join(o.id for o in chosen)
            )
        )
    return chosen[0]


def plan_json(option: BootOption, plan: BootPlan) -> dict[str, object]:
    from dataclasses import asdict

    fb = plan.framebuffer
    return {
        "option": option.id,
        "name": option.name,
        "kernel": str(plan.kernel),
        "initrd": str(plan.initrd) if plan.initrd else None,
        "dtb": str(plan.dtb) if plan.dtb else None,
        "args": plan.args,
        "console": plan.console.text if plan.console is not None else None,
        "dt_console_path": plan.dt_console_path,
        "kexec_load": list(plan.kexec_load_argv),
        "kexec_exec": list(plan.kexec_exec_argv),
        "notes": list(plan.notes),
        "dtb_changes": list(plan.dtb_changes),
        "framebuffer": None if fb is None else {**asdict(fb), "node": plan.framebuffer_node},
    }


def framebuffer_line(fb: Framebuffer, node: str | None) -> str:
    """``fb0 800x600, 32 bpp a8r8g8b8, stride 3200, 1920000 bytes at 0x200080000000 -> NODE``."""
    return (
        f"{fb.name} {fb.width}x{fb.height}, {fb.depth} bpp {fb.format}, stride {fb.stride}, "
        f"{fb.size} bytes at 0x{fb.address:x} -> {node}"
    )


def _label(text: str, width: int = 13) -> str:
    """``text`` padded to ``width`` terminal columns (a CJK character takes two)."""
    import unicodedata

    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(1, width - used)


def print_plan(option: BootOption, plan: BootPlan, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(plan_json(option, plan), indent=2))
        return
    import shlex

    print(_label(_("option:")) + f"{option.name} ({option.id})")
    print(_label("kexec load:") + shlex.join(plan.kexec_load_argv))
    print(_label("kexec exec:") + shlex.join(plan.kexec_exec_argv))
    if plan.console is not None:
        where = plan.dt_console_path if plan.dt_console_path is not None else _("kernel command line")
        print(_label(_("console:")) + f"{plan.console.text} -> {where}")
    if plan.framebuffer is not None:
        print(_label("framebuffer:") + framebuffer_line(plan.framebuffer, plan.framebuffer_node))
    for note in plan.notes:
        print(_label(_("note:")) + note)
    if plan.dtb_changes:
        print(_("device tree changes:"))
        for line in plan.dtb_changes:
            print(f"  {line}")
    sys.stdout.flush()


async def _boot_scanned(args: argparse.Namespace) -> int:
    from bootd.loader import kexec, measure, verify
    from bootd.loader.boot import boot
    from bootd.model import BootRequest

    recorded = args.dry_run or args.machine is not None
    if not recorded and os.geteuid() != 0:
        raise BootdError(_("booting needs root (use --dry-run to see the plan)"))

    def progress(message: Text, _fraction: float) -> None:
        print(f"bootd boot: {message.translated(_)}", file=sys.stderr)

    with _work_dir(args) as work:
        platform = _platform(args, work / "sandbox")
        async with _scanned(platform, args.scan) as (options, devices):
            option = pick(options, args.name)
            request = BootRequest(option=option, console=args.console, args=args.args)
            tpm = measure.Tpm(args.measured_boot) if args.measured_boot is not None else None
            plan = await boot(
                platform,
                request,
                devices,
                work_dir=work,
                hooks_dir=args.hooks_dir,
                progress=progress,
                execute=False,
                measured_boot=tpm,
                signed_boot=verify.Policy(args.signed_boot, args.keyring),
            )
            # Print the plan before the jump: after kexec there is nobody to print it.
            print_plan(option, plan, as_json=args.json)
            await kexec.execute(platform, kexec.KexecPlan(plan.kexec_load_argv, plan.kexec_exec_argv, plan.args))
    return 0
