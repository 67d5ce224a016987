"""``bootd boot``: boot an option.

With ``--scan SOURCE`` it needs no daemon (rescue shells, minimal initramfs):
the sources are scanned with the parser registry, the option is picked by
``--name`` (its title, id or entry id; default: the entry the config itself
would boot), and the loader boots it on this machine.  ``--dry-run`` records
kexec instead of running it and prints the plan; ``--machine DIR`` does the
same on a sandbox machine.  This path imports neither D-Bus nor TUI nor udev
libraries.  Without ``--scan`` the daemon is asked to boot.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from bootd.errors import BootdError, InvalidArgument, NotFound, Unsupported

if TYPE_CHECKING:
    from bootd.loader.boot import BootPlan
    from bootd.model import BootOption, Device
    from bootd.platform import Platform


DRY_RUN_PASSTHROUGH = frozenset({"dtc"})
"""What a dry run on this machine still runs for real: everything else (kexec, hooks) is recorded."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("option", nargs="?", help="option id (daemon mode)")
    parser.add_argument("--scan", action="append", metavar="SOURCE", help="boot from this source, without the daemon")
    parser.add_argument("--name", help="the option's title, id or entry id")
    parser.add_argument("--console", help="console for the next kernel: hvc0, ttyS0:115200n8, tty1, or a DT path")
    parser.add_argument("--args", help="replace the option's kernel arguments")
    parser.add_argument("--next", action="store_true", help="daemon mode: only remember the choice for the next boot")
    parser.add_argument("--dry-run", action="store_true", help="record kexec instead of running it; print the plan")
    parser.add_argument("--machine", type=Path, metavar="DIR", help="boot on a sandbox machine (always recorded)")
    parser.add_argument("--state-dir", type=Path, metavar="DIR", help="sandbox records go here (with --machine)")
    parser.add_argument("--hooks-dir", type=Path, default=Path("/etc/bootd/boot.d"), metavar="DIR")
    parser.add_argument("--work-dir", type=Path, metavar="DIR", help="keep the staged files (patched DTB) here")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")


def run(args: argparse.Namespace) -> int:
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
            raise Unsupported("this build has no daemon client; use --scan SOURCE to boot without the daemon")
        rc: int = boot_via_daemon(args)
        return rc
    return asyncio.run(_boot_scanned(args))


def parse_source(text: str) -> tuple[Path, dict[str, str]]:
    """``PATH[,uuid=U][,label=L][,id=I]``."""
    path, *rest = text.split(",")
    extra: dict[str, str] = {}
    for item in rest:
        key, sep, value = item.partition("=")
        if not sep or key not in ("uuid", "label", "id"):
            raise InvalidArgument(f"--scan {text}: expected PATH[,uuid=U][,label=L][,id=I]")
        extra[key] = value
    return Path(path), extra


def _platform(args: argparse.Namespace, state_dir: Path) -> Platform:
    """The composition point: real machine, real machine with kexec recorded, or a sandbox."""
    if args.machine is not None:
        from bootd.platform.sandbox import sandbox_platform

        return sandbox_platform(args.machine, args.state_dir or state_dir)
    from bootd.platform.linux import linux_platform

    platform = linux_platform()
    if not args.dry_run:
        return platform
    from dataclasses import replace

    from bootd.platform.linux_boot import LinuxBoot
    from bootd.platform.run import RecordingRunner

    recorder = RecordingRunner(passthrough=DRY_RUN_PASSTHROUGH)
    return replace(platform, runner=recorder, boot=LinuxBoot(recorder))


@contextmanager
def _work_dir(args: argparse.Namespace) -> Iterator[Path]:
    if args.work_dir is not None:
        args.work_dir.mkdir(parents=True, exist_ok=True)
        yield args.work_dir
        return
    with tempfile.TemporaryDirectory(prefix="bootd-boot-") as tmp:
        yield Path(tmp)


async def _scan(platform: Platform, sources: list[str]) -> tuple[list[BootOption], dict[str, Device]]:
    from bootd.model import Device
    from bootd.parsers import ParseContext, parse_device
    from bootd.parsers.view import DirectoryView

    views = []
    for text in sources:
        path, extra = parse_source(text)
        if not path.is_dir():
            raise InvalidArgument(f"--scan {path}: not a directory (mount the device, or use bootd scan for images)")
        root = path.resolve()
        dev = Device(
            id=extra.get("id") or root.name or "root",
            uuid=extra.get("uuid"),
            label=extra.get("label"),
            mountpoint=PurePosixPath(str(root)),
            node=str(root),
        )
        views.append(DirectoryView(root, dev))
    others = {v.device.id: v for v in views}
    ctx = ParseContext(others=others, arch=platform.arch, firmware=platform.firmware)
    options: list[BootOption] = []
    for view in views:
        result = parse_device(view, ctx)
        for d in result.diagnostics:
            print(f"bootd boot: {view.device.id}: {d}", file=sys.stderr)
        options.extend(result.options)
    return options, {v.device.id: v.device for v in views}


def pick(options: list[BootOption], name: str | None) -> BootOption:
    """The option called ``name`` (title, id or entry id), or the default one."""
    if name is None:
        chosen = [o for o in options if o.default][:1] or options[:1]
    else:
        chosen = [o for o in options if name in (o.name, o.id, o.entry_id)]
    if not chosen:
        listing = "; ".join(f"{o.name!r} ({o.id})" for o in options) or "none"
        raise NotFound(f"no boot option {name!r}; the sources offer: {listing}")
    if len(chosen) > 1:
        raise InvalidArgument(f"{name!r} names several options: {', '.join(o.id for o in chosen)}; give an id")
    return chosen[0]


def plan_json(option: BootOption, plan: BootPlan) -> dict[str, object]:
    return {
        "option": option.id,
        "name": option.name,
        "kernel": str(plan.kernel),
        "initrd": str(plan.initrd) if plan.initrd else None,
        "dtb": str(plan.dtb) if plan.dtb else None,
        "args": plan.args,
        "console": plan.console,
        "dt_console_path": plan.dt_console_path,
        "kexec_load": list(plan.kexec_load_argv),
        "kexec_exec": list(plan.kexec_exec_argv),
        "notes": list(plan.notes),
        "dtb_changes": list(plan.dtb_changes),
    }


def print_plan(option: BootOption, plan: BootPlan, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(plan_json(option, plan), indent=2))
        return
    import shlex

    print(f"option:      {option.name} ({option.id})")
    print(f"kexec load:  {shlex.join(plan.kexec_load_argv)}")
    print(f"kexec exec:  {shlex.join(plan.kexec_exec_argv)}")
    if plan.console:
        print(f"console:     {plan.console} -> {plan.dt_console_path or 'kernel command line'}")
    for note in plan.notes:
        print(f"note:        {note}")
    if plan.dtb_changes:
        print("device tree changes:")
        for line in plan.dtb_changes:
            print(f"  {line}")
    sys.stdout.flush()


async def _boot_scanned(args: argparse.Namespace) -> int:
    from bootd.loader.boot import boot
    from bootd.model import BootRequest

    recorded = args.dry_run or args.machine is not None
    with _work_dir(args) as work:
        platform = _platform(args, work / "sandbox")
        options, devices = await _scan(platform, args.scan)
        option = pick(options, args.name)
        request = BootRequest(option=option, console=args.console, args=args.args)

        def progress(message: str, _fraction: float) -> None:
            print(f"bootd boot: {message}", file=sys.stderr)

        if not recorded:
            if os.geteuid() != 0:
                raise BootdError("booting needs root (use --dry-run to see the plan)")
            # Print the plan before the jump: after kexec there is nobody to print it.
            plan = await boot(platform, request, devices, work_dir=work, hooks_dir=args.hooks_dir, execute=False)
            print_plan(option, plan, as_json=args.json)
            from bootd.loader import kexec

            await kexec.execute(platform, kexec.KexecPlan(plan.kexec_load_argv, plan.kexec_exec_argv, plan.args))
            return 0
        plan = await boot(
            platform, request, devices, work_dir=work, hooks_dir=args.hooks_dir, progress=progress, execute=True
        )
        print_plan(option, plan, as_json=args.json)
    return 0
