"""Boot one option: resources → device tree → hooks → kexec load → execute.

:func:`boot` is what the daemon, autoboot and ``bootd boot --scan`` call.
Every failure is a :class:`~bootd.errors.BootdError` with a message for
people; nothing is executed after a failed step.

On ppc64/ppc64le a boot with a patched device tree goes through
:mod:`bootd.loader.ppc64`: kexec-tools there ignores ``--append`` and refuses
``--initrd`` next to ``--dtb``, so the command line is written into
``/chosen/bootargs``, the initrd travels as an extra ELF segment of the kernel
file with its range in ``/chosen/linux,initrd-*``, and a spare
``/memreserve/`` entry is added for kexec-tools to overwrite.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from bootd.errors import DtbError, Unsupported
from bootd.loader import dtb, hooks, kexec, ppc64, resources, verify
from bootd.model import BootRequest, Device, Framebuffer
from bootd.platform import Platform

log = logging.getLogger(__name__)

PATCHED_DTB = "boot.dtb"
STAGING = 0.4
"""The share of a boot's progress that loading (and downloading) its files takes."""


@dataclass(frozen=True)
class BootPlan:
    kernel: Path
    initrd: Path | None
    dtb: Path | None
    args: str
    console: str | None
    dt_console_path: str | None
    kexec_load_argv: tuple[str, ...]
    kexec_exec_argv: tuple[str, ...]
    notes: tuple[str, ...] = ()
    dtb_changes: tuple[str, ...] = ()
    """Human-readable diff lines of the device-tree patch."""


async def _ppc64_plan(
    plan: kexec.KexecPlan,
    *,
    kernel: Path,
    initrd: Path | None,
    dtb_path: Path,
    args: str,
    work_dir: Path,
    live: bytes | None,
) -> tuple[kexec.KexecPlan, Path, Path]:
    """Rework a ``kexec -l --dtb`` plan for ppc64 (see the module docstring)."""
    addr: int | None = None
    size: int | None = None
    note = "ppc64: the kernel command line is in /chosen/bootargs"
    blob = await asyncio.to_thread(dtb_path.read_bytes)
    if initrd is not None:
        combined = work_dir / "kernel+initrd"
        floor = ppc64.load_floor(blob)
        if floor is None and live is not None:
            floor = ppc64.load_floor(live)  # an entry's own tree: the running kernel's says where it ends
        layout = ppc64.memory_layout(blob, live)
        segment = await asyncio.to_thread(
            ppc64.stage_kernel, kernel, initrd, combined, floor=floor, layout=layout
        )
        kernel, addr, size = combined, segment.initrd_addr, segment.initrd_size
        note += f"; the initrd is an extra kernel segment at 0x{addr:x}"
    blob = ppc64.prepare_dtb(blob, bootargs=args, initrd_addr=addr, initrd_size=size)
    dtb.check(blob)
    out = work_dir / "boot-ppc64.dtb"
    await asyncio.to_thread(out.write_bytes, blob)
    argv = tuple(ppc64.kexec_args(kernel=kernel, dtb=out, kexec=plan.load_argv[0]))
    return kexec.KexecPlan(argv, plan.exec_argv, plan.cmdline, (*plan.notes, note)), kernel, out


def _framebuffer(platform: Platform) -> tuple[Framebuffer | None, str | None]:
    fbs = platform.boot.framebuffers()
    fb = next((f for f in fbs if f.name == "fb0"), fbs[0] if fbs else None)
    if fb is None or not fb.width or not fb.address:
        return None, None
    return fb, platform.boot.display_node(fb.name)


async def boot(
    platform: Platform,
    request: BootRequest,
    devices: Mapping[str, Device],
    *,
    work_dir: Path,
    hooks_dir: Path | None,
    progress: Callable[[str, float], None] | None = None,
    execute: bool = True,
    starting: Callable[[], None] | None = None,
    add_seeds: bool = True,
    signed_boot: verify.Policy = verify.OFF,
    warn: Callable[[str], None] | None = None,
) -> BootPlan:
    """Boot ``request`` (see the module docstring); returns what was done.

    Every device tree handed on gets fresh ``kaslr-seed`` and ``rng-seed``
    (:class:`bootd.loader.dtb.Seeds`); ``add_seeds`` false leaves them out of
    a tree that had none (the ``add_boot_seeds`` setting).

    ``signed_boot`` is checked right after staging (:mod:`bootd.loader.verify`);
    under ``warn`` each failure also goes to ``warn``.

    ``starting`` is called right before the loaded kernel is executed: from
    then on the boot must not be cancelled.
    """

    last: tuple[str, float] | None = None

    def report(message: str, fraction: float) -> None:
        # One boot's progress never goes back, and no step is announced twice.
        nonlocal last
        if last is not None:
            fraction = max(fraction, last[1])
            if (message, fraction) == last:
                return
        if last is None or message != last[0]:
            log.info("%s", message)
        last = (message, fraction)
        if progress is not None:
            progress(message, fraction)

    option = request.option
    if option.kind != "linux":
        raise Unsupported(f"{option.name}: a {option.kind} entry cannot be booted with kexec")
    args = request.args if request.args is not None else option.args
    console = request.console or None
    staged = await resources.stage(option, devices, work_dir, lambda m, f: report(m, STAGING * f))
    trust = await verify.apply(platform, signed_boot, request, staged, devices, work_dir, warn)
    report("Preparing the device tree", 0.4)
    source = staged.dtb if staged.dtb is not None else await asyncio.to_thread(platform.boot.live_dtb)
    consoles = tuple(platform.boot.consoles())
    fb, display = _framebuffer(platform)
    notes: list[str] = list(trust)

    seeded = source is not None and dtb.has_seeds(source)

    def fresh_seeds() -> dtb.Seeds:
        # kexec -l on arm64 fills the kaslr-seed itself (see Seeds.fresh); the
        # lockdown path (kexec -s) hands on no tree of ours at all.
        return dtb.Seeds.fresh(add=add_seeds, kexec_tools_kaslr=platform.arch == "aarch64")

    def patch_dtb(con: str | None, bootargs: str) -> tuple[Path | None, str | None, list[str]]:
        if source is None or not (staged.dtb is not None or con or fb is not None or seeded):
            return None, None, []
        spec = dtb.PatchSpec(
            console=con,
            consoles=consoles,
            framebuffer=fb,
            display_node=display,
            bootargs=bootargs,
            seeds=fresh_seeds(),
        )
        patched = dtb.patch(source, spec)
        path = work_dir / PATCHED_DTB
        path.write_bytes(patched.blob)
        notes.extend(patched.notes)
        return path, patched.console_path, dtb.diff(source, patched.blob)

    dtb_path, dt_console, changes = patch_dtb(console, args)
    report("Running boot hooks", 0.6)
    values = hooks.HookValues(
        image=str(staged.kernel),
        initrd=str(staged.initrd or ""),
        dtb=str(dtb_path or ""),
        args=args,
        console=console or "",
    )
    after, hook_notes = await hooks.run_hooks(platform, hooks_dir, values)
    notes.extend(hook_notes)
    if after.dtb != values.dtb:
        dtb_path = Path(after.dtb) if after.dtb else None
        if dtb_path is not None:
            try:
                blob = await asyncio.to_thread(dtb_path.read_bytes)
            except OSError as e:
                raise DtbError(f"the device tree a boot hook named, {dtb_path}, cannot be read: {e.strerror}") from None
            blob, seed_notes = dtb.refresh_seeds(blob, fresh_seeds())
            notes.extend(seed_notes)
            dtb_path = work_dir / PATCHED_DTB
            await asyncio.to_thread(dtb_path.write_bytes, blob)
            changes = dtb.diff(source, blob) if source is not None else []
    elif (after.console, after.args) != (values.console, values.args):
        dtb_path, dt_console, changes = patch_dtb(after.console or None, after.args)
    kernel = Path(after.image)
    initrd = Path(after.initrd) if after.initrd else None
    plan = kexec.build(
        kernel=kernel,
        initrd=initrd,
        dtb=dtb_path,
        args=after.args,
        console=after.console or None,
        consoles=consoles,
        lockdown=platform.boot.lockdown(),
        systemd=platform.boot.under_systemd(),
    )
    if plan.load_argv[1:2] == ("-s",):
        dtb_path, dt_console = None, None
    elif dtb_path is not None and ppc64.needs_dtb_strategy(platform.arch):
        live = source if staged.dtb is None else await asyncio.to_thread(platform.boot.live_dtb)
        plan, kernel, dtb_path = await _ppc64_plan(
            plan, kernel=kernel, initrd=initrd, dtb_path=dtb_path, args=after.args, work_dir=work_dir, live=live
        )
        if source is not None:
            changes = dtb.diff(source, await asyncio.to_thread(dtb_path.read_bytes))
    notes.extend(plan.notes)
    report("Loading the kernel", 0.8)
    await kexec.load(platform, plan)
    result = BootPlan(
        kernel=kernel,
        initrd=initrd,
        dtb=dtb_path,
        args=plan.cmdline,
        console=after.console or None,
        dt_console_path=dt_console,
        kexec_load_argv=plan.load_argv,
        kexec_exec_argv=plan.exec_argv,
        notes=tuple(notes),
        dtb_changes=tuple(changes) if dtb_path is not None else (),
    )
    if execute:
        if starting is not None:
            starting()
        report("Starting the kernel", 1.0)
        await kexec.execute(platform, plan)
    return result
