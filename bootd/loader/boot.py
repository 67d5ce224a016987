"""Boot one option in one forward pass; nothing is computed twice.

1. **Decide.**  The console is read once into a
   :class:`~bootd.model.ChosenConsole`; the kexec mode is chosen
   (:func:`bootd.loader.kexec.choose_mode`) from lockdown, the architecture
   and what the boot asks the tree to change (an entry's own tree, a console,
   a framebuffer to hand on, boot seeds).
2. **Stage** the kernel, initrd and the entry's tree (download, verify), and
   check their signatures (:mod:`bootd.loader.verify`); measure them into
   the TPM (:mod:`bootd.loader.measure`).
3. **Compute what the mode carries.**  ``kexec -s``: the command line with
   ``console=``.  ``kexec -l --dtb``: one :class:`~bootd.loader.dtb.PatchSpec`
   (console node, framebuffer, fresh seeds, ``bootargs``; on ppc64 also the
   initrd's range and a spare ``/memreserve/``, the initrd staged as a kernel
   segment where :func:`bootd.loader.ppc64.initrd_address` puts it, from the
   trees' memory and reservations).
4. **Patch once** and write the tree.
5. **Run the boot hooks** on the result.  A hook may hand its own tree
   (``BOOT_DTB``: it gets fresh seeds, nothing else), and a new command line,
   kernel or initrd where the mode does not carry them in the tree (arm64's
   kexec-tools writes ``--append`` into ``/chosen/bootargs`` itself); where it
   does (ppc64), such a change is refused with the reason.  ``BOOT_CONSOLE``
   is for hooks to read: the console was decided in step 1.
6. **Load** with kexec, then execute.

:func:`boot` is what the daemon, autoboot and ``bootd boot --scan`` call.
Every failure is a :class:`~bootd.errors.BootdError` with a message for
people; nothing is executed after a failed step.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from bootd.errors import DtbError, HookError, Unsupported
from bootd.loader import dtb, hooks, kexec, measure, ppc64, resources, verify
from bootd.model import N_, BootRequest, ChosenConsole, Device, Framebuffer, Text, Transfer
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
    console: ChosenConsole | None
    """The console chosen, with the device-tree node ``stdout-path`` names when a tree carries it."""
    kexec_load_argv: tuple[str, ...]
    kexec_exec_argv: tuple[str, ...]
    notes: tuple[str, ...] = ()
    dtb_changes: tuple[str, ...] = ()
    """Human-readable diff lines of the device-tree patch."""
    framebuffer: Framebuffer | None = None
    """The framebuffer the tree hands on, as the platform found it (Linux: the
    ``FBIOGET_*`` ioctls on ``/dev/fbN``); None when it hands none on."""
    framebuffer_node: str | None = None
    """Its node in that tree: the display node offb binds, or a simple-framebuffer."""

    @property
    def dt_console_path(self) -> str | None:
        return self.console.stdout_path if self.console is not None and self.dtb is not None else None


class _Progress:
    """One boot's progress never goes back, and no step is announced twice."""

    def __init__(
        self,
        progress: Callable[[Text, float], None] | None,
        downloading: Callable[[Text, float, Transfer], None] | None = None,
    ) -> None:
        self._progress = progress
        self._downloading = downloading
        self._last: tuple[Text, float] | None = None

    def download(self, message: Text, fraction: float, report: Transfer) -> None:
        """A download's report: its step, the boot's fraction, bytes, rate and time left."""
        if self._downloading is not None:
            self._downloading(message, max(fraction, self._last[1] if self._last else 0.0), report)

    def __call__(self, message: Text, fraction: float) -> None:
        if self._last is not None:
            fraction = max(fraction, self._last[1])
            if (message, fraction) == self._last:
                return
        if self._last is None or message != self._last[0]:
            log.info("%s", message)
        self._last = (message, fraction)
        if self._progress is not None:
            self._progress(message, fraction)


def _framebuffer(platform: Platform) -> tuple[Framebuffer | None, str | None]:
    fbs = platform.boot.framebuffers()
    fb = next((f for f in fbs if f.name == "fb0"), fbs[0] if fbs else None)
    if fb is None or not fb.width or not fb.address:
        return None, None
    return fb, platform.boot.display_node(fb.name)


async def _read_tree(path: Path, who: str) -> bytes:
    try:
        return await asyncio.to_thread(path.read_bytes)
    except OSError as e:
        raise DtbError.of(
            N_("the device tree {who} named, {path}, cannot be read: {error}"), who=who, path=path, error=e.strerror
        ) from None


async def boot(
    platform: Platform,
    request: BootRequest,
    devices: Mapping[str, Device],
    *,
    work_dir: Path,
    hooks_dir: Path | None,
    progress: Callable[[Text, float], None] | None = None,
    execute: bool = True,
    starting: Callable[[], None] | None = None,
    add_seeds: bool = True,
    signed_boot: verify.Policy = verify.OFF,
    warn: Callable[[str], None] | None = None,
    measured_boot: measure.Tpm | None = None,
    downloading: Callable[[Text, float, Transfer], None] | None = None,
) -> BootPlan:
    """Boot ``request`` (see the module docstring); returns what was done.

    Every device tree handed on gets fresh ``kaslr-seed`` and ``rng-seed``
    from the platform's RNG (:class:`bootd.loader.dtb.Seeds`); ``add_seeds``
    false leaves them out of a tree that had none (the ``add_boot_seeds``
    setting).  ``signed_boot`` is checked right after staging
    (:mod:`bootd.loader.verify`); under ``warn`` each failure also goes to
    ``warn``.  Then, with ``measured_boot``, the files are measured into that
    TPM (:mod:`bootd.loader.measure`).  ``starting`` is called right before the loaded kernel is
    executed: from then on the boot must not be cancelled.  ``downloading``
    gets every report of a download (step, fraction of the boot, and the
    :class:`~bootd.model.Transfer`: bytes, total, rate, time left).
    """
    report = _Progress(progress, downloading)
    option = request.option
    if option.kind != "linux":
        raise Unsupported.of(
            N_("{name}: a {kind} entry cannot be booted with kexec"), name=option.name, kind=option.kind
        )
    args = request.args if request.args is not None else option.args

    # 1. decide: the console, then the kexec mode
    console = ChosenConsole.parse(request.console, platform.boot.consoles()) if request.console else None
    fb, display = _framebuffer(platform)
    live = await asyncio.to_thread(platform.boot.live_dtb)
    blob_carries_all = ppc64.needs_dtb_strategy(platform.arch)
    # A tree is patched when the boot changes something in it; a live tree with
    # seeds always is (they must be fresh).  kexec -s makes its own, seeded tree.
    seeded = live is not None and option.dtb is None and dtb.has_seeds(live)
    mode = kexec.choose_mode(
        lockdown=platform.boot.lockdown(),
        has_tree=option.dtb is not None or live is not None,
        tree_change=option.dtb is not None or console is not None or fb is not None or seeded,
        blob_carries_all=blob_carries_all,
    )
    # 2. stage the files and check their signatures
    staged = await resources.stage(
        option,
        devices,
        work_dir,
        lambda m, f: report(m, STAGING * f),
        lambda m, f, t: report.download(m, STAGING * f, t),
    )
    notes: list[str] = list(await verify.apply(platform, signed_boot, request, staged, devices, work_dir, warn))
    cmdline, console_notes = kexec.command_line(mode, args, console)
    if measured_boot is not None:  # the command line as the kernel gets it (with console= when the mode adds it)
        booted = replace(request, args=cmdline)
        notes.extend(await measure.apply(platform, measured_boot, booted, staged, devices, work_dir))
    notes.extend(mode.notes)
    kernel, initrd = staged.kernel, staged.initrd

    # 3.-4. what the mode carries, patched once
    report(Text.of(N_("Preparing the device tree")), 0.4)
    source = staged.dtb if staged.dtb is not None else live
    notes.extend(console_notes)

    def fresh_seeds() -> dtb.Seeds:
        # kexec -l on arm64 fills the kaslr-seed itself (see Seeds.fresh)
        return dtb.Seeds.fresh(platform.boot.random_bytes, add=add_seeds, kexec_tools_kaslr=platform.arch == "aarch64")

    dtb_path: Path | None = None
    changes: list[str] = []
    handed: tuple[Framebuffer, str] | None = None
    if mode.carries_dtb:
        if source is None:  # the entry's tree was named but came back empty
            raise DtbError.of(N_("{name}: there is no device tree to hand on"), name=option.name)
        spec = dtb.PatchSpec(
            console=console,
            framebuffer=fb,
            display_node=display,
            bootargs=cmdline,
            seeds=fresh_seeds(),
            byte_order=dtb.byte_order(platform.arch),
        )
        if mode.blob_carries_all:
            spec, kernel, ppc_note = await _ppc64_carriers(spec, source, live, kernel, initrd, work_dir)
            notes.append(ppc_note)
        patched = dtb.patch(source, spec)
        console = patched.console
        notes.extend(patched.notes)
        if fb is not None and patched.framebuffer_node is not None:
            handed = (fb, patched.framebuffer_node)
        dtb_path = work_dir / PATCHED_DTB
        await asyncio.to_thread(dtb_path.write_bytes, patched.blob)
        changes = dtb.diff(source, patched.blob)

    # 5. hooks on the result
    report(Text.of(N_("Running boot hooks")), 0.6)
    values = hooks.HookValues(
        image=str(kernel if not mode.blob_carries_all else staged.kernel),
        initrd=str(initrd) if initrd is not None else "",
        dtb=str(dtb_path) if dtb_path is not None else "",
        args=cmdline,
        console=console.text if console is not None else "",
    )
    after, hook_notes = await hooks.run_hooks(platform, hooks_dir, values)
    notes.extend(hook_notes)
    if after.console != values.console:
        kept = values.console or "the kernel's own"
        notes.append(f"a boot hook changed BOOT_CONSOLE; the console is chosen before the hooks run and stays {kept}")
    if after.dtb != values.dtb:
        if not mode.carries_dtb:
            notes.append("a boot hook named a device tree, but kexec_file_load hands none on; it is not used")
        elif not after.dtb:
            raise HookError.of(N_("a boot hook removed BOOT_DTB, but this boot carries its console in the device tree"))
        else:
            blob = await _read_tree(Path(after.dtb), "a boot hook")
            blob, seed_notes = dtb.refresh_seeds(blob, fresh_seeds())
            notes.extend(seed_notes)
            dtb_path = work_dir / PATCHED_DTB
            await asyncio.to_thread(dtb_path.write_bytes, blob)
            changes = dtb.diff(source, blob) if source is not None else []
            handed = None  # the hook's tree says what it hands on
    if mode.blob_carries_all and dtb_path is not None:
        moved = [n for n in ("image", "initrd", "args") if getattr(after, n) != getattr(values, n)]
        if moved:
            names = ", ".join(f"BOOT_{n.upper()}" for n in moved)
            raise HookError.of(
                N_(
                    "a boot hook changed {names}; on ppc64 the device tree carries the command line and the "
                    "initrd, and it was made before the hooks ran: such a hook must hand its own BOOT_DTB"
                )
                if after.dtb == values.dtb
                else N_(
                    "a boot hook changed {names} and BOOT_DTB; on ppc64 kexec-tools takes neither "
                    "--append nor --initrd with a device tree, so the hook's tree must carry them itself"
                ),
                names=names,
            )
    else:
        kernel = Path(after.image)
        initrd = Path(after.initrd) if after.initrd else None
        cmdline = after.args

    # 6. load, then execute
    plan = kexec.command(
        mode,
        kernel=kernel,
        initrd=None if mode.blob_carries_all and mode.carries_dtb else initrd,
        dtb=dtb_path,
        cmdline=cmdline,
        systemd=platform.boot.under_systemd(),
    )
    if mode.kernel_checks_signature:
        checked = N_("Loading the kernel; the running kernel checks its signature (lockdown: {lockdown})")
        report(Text.of(checked, lockdown=mode.lockdown), 0.8)
    else:
        report(Text.of(N_("Loading the kernel")), 0.8)
    await kexec.load(platform, plan, mode)
    result = BootPlan(
        kernel=kernel,
        initrd=initrd,
        dtb=dtb_path,
        args=plan.cmdline,
        console=console,
        kexec_load_argv=plan.load_argv,
        kexec_exec_argv=plan.exec_argv,
        notes=tuple(notes),
        dtb_changes=tuple(changes),
        framebuffer=handed[0] if handed is not None else None,
        framebuffer_node=handed[1] if handed is not None else None,
    )
    if execute:
        if starting is not None:
            starting()
        report(Text.of(N_("Starting the kernel")), 1.0)
        await kexec.execute(platform, plan)
    return result


async def _ppc64_carriers(
    spec: dtb.PatchSpec,
    source: bytes,
    live: bytes | None,
    kernel: Path,
    initrd: Path | None,
    work_dir: Path,
) -> tuple[dtb.PatchSpec, Path, str]:
    """What the ppc64 blob carries besides the console (see :mod:`bootd.loader.ppc64`):
    the command line, the initrd (staged as a kernel segment) and a spare reserve entry."""
    note = "ppc64: the kernel command line is in /chosen/bootargs"
    rng: tuple[int, int] | None = None
    if initrd is not None:
        floor = ppc64.load_floor(source)
        if floor is None and live is not None:
            floor = ppc64.load_floor(live)  # an entry's own tree: the running kernel's says where it ends
        layout = ppc64.memory_layout(source, live)
        combined = work_dir / "kernel+initrd"
        segment = await asyncio.to_thread(ppc64.stage_kernel, kernel, initrd, combined, floor=floor, layout=layout)
        kernel, rng = combined, (segment.initrd_addr, segment.initrd_size)
        note += f"; the initrd is an extra kernel segment at 0x{segment.initrd_addr:x}"
    initrd_range = (rng[0], rng[0] + rng[1]) if rng is not None else None
    spare = ppc64.spare_reserve(source, rng)
    return (
        dtb.PatchSpec(
            console=spec.console,
            framebuffer=spec.framebuffer,
            display_node=spec.display_node,
            seeds=spec.seeds,
            byte_order=spec.byte_order,
            bootargs=spec.bootargs,
            initrd=initrd_range,
            reserve=(spare,),
        ),
        kernel,
        note,
    )
