"""kexec-tools command lines, and loading/executing through the Platform.

* :func:`choose_mode` decides first.  A patched DTB is passed with
  ``kexec -l IMAGE --dtb=… --initrd=… --append=…`` (the ``kexec_load`` path:
  ``kexec_file_load`` ignores ``--dtb`` on arm64 and ppc64; on ppc64 the blob
  carries the command line and initrd, see :mod:`bootd.loader.ppc64`).
* Without a DTB to pass, ``kexec -l IMAGE --initrd=… --append=…`` (kexec-tools
  hands on the running kernel's own tree where there is one); the console then
  goes on the command line as ``console=NAME[,options]`` (:func:`command_line`)
  and a note says why.  ``kexec_load`` because Debian 12's arm64 and ppc64el
  kernels are built without ``kexec_file_load`` (``# CONFIG_KEXEC_FILE is not set``).
* When the kernel is locked down (only signed ``kexec_file_load`` is allowed),
  ``kexec -s``, with the console on the command line as above.
* Execution is ``systemctl kexec`` under systemd (services stop cleanly),
  else ``kexec -e``.  Nothing is executed after a failed load.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from bootd.errors import CommandError, KexecError, SignatureRefused
from bootd.model import N_, ChosenConsole
from bootd.platform import Platform

log = logging.getLogger(__name__)

KEXEC = "kexec"


class Syscall(StrEnum):
    """Which kexec system call loads the next kernel."""

    LOAD = "kexec_load"
    """``kexec -l``: takes a patched device tree (``--dtb``), or hands on the running one."""
    FILE_LOAD = "kexec_file_load"
    """``kexec -s``: the only one under lockdown (signed kernels); builds its own tree."""


@dataclass(frozen=True)
class Mode:
    """The kexec mode of one boot, chosen before anything is computed."""

    syscall: Syscall
    carries_dtb: bool = False
    """bootd patches a tree and passes it (``--dtb``); the console is its ``stdout-path``.
    False: the console goes on the command line."""
    blob_carries_all: bool = False
    """ppc64 ``kexec -l --dtb``: the blob carries the command line and the
    initrd range (``--append`` is ignored, ``--initrd`` refused)."""
    notes: tuple[str, ...] = ()
    lockdown: str = ""
    """The running kernel's lockdown mode when it is locked down: kexec_file_load
    then checks the new kernel's signature against the kernel's own trusted keys."""

    @property
    def kernel_checks_signature(self) -> bool:
        return self.syscall is Syscall.FILE_LOAD and self.lockdown != ""


@dataclass(frozen=True)
class KexecPlan:
    load_argv: tuple[str, ...]
    exec_argv: tuple[str, ...]
    cmdline: str
    notes: tuple[str, ...] = ()


def choose_mode(*, lockdown: str, has_tree: bool, tree_change: bool, blob_carries_all: bool = False) -> Mode:
    """``kexec -s`` under lockdown; else ``kexec -l``, with a patched tree when
    there is a tree and something to change in it."""
    if lockdown not in ("", "none"):
        note = (
            f"the kernel is locked down ({lockdown}): only kexec_file_load (kexec -s) is allowed, "
            "which cannot pass a patched device tree; the running kernel checks the new kernel's "
            "signature against its own trusted keys and refuses one that does not verify"
        )
        return Mode(Syscall.FILE_LOAD, notes=(note,), lockdown=lockdown)
    if not has_tree:
        return Mode(Syscall.LOAD, notes=("there is no device tree to patch on this machine",))
    if not tree_change:
        return Mode(Syscall.LOAD)
    return Mode(Syscall.LOAD, carries_dtb=True, blob_carries_all=blob_carries_all)


def with_console(args: str, console: str) -> str:
    """``args`` with ``console`` as its last (preferred) console."""
    return f"{args} {console}".strip() if not re.search(rf"(^|\s){re.escape(console)}(\s|$)", args) else args


def command_line(mode: Mode, args: str, console: ChosenConsole | None) -> tuple[str, tuple[str, ...]]:
    """The command line ``mode`` hands on, and notes: without a tree of ours
    the console is a ``console=`` argument; with one it is ``stdout-path``."""
    if mode.carries_dtb or console is None:
        return args, ()
    arg = console.kernel_arg
    if arg is None:
        return args, (f"console {console.text} has no kernel name; the next kernel picks its own console",)
    return with_console(args, arg), (f"the console is passed on the kernel command line as {arg}",)


def command(
    mode: Mode,
    *,
    kernel: Path,
    initrd: Path | None,
    dtb: Path | None,
    cmdline: str,
    systemd: bool = False,
    kexec: str = KEXEC,
) -> KexecPlan:
    """The load and exec command lines of ``mode`` (``dtb`` only with kexec_load)."""
    exec_argv = ("systemctl", "kexec") if systemd else (kexec, "-e")
    if mode.carries_dtb:
        if dtb is None:
            raise KexecError.of(N_("a device tree was to be passed, but none was made"))
        argv = [kexec, "-l", str(kernel), f"--dtb={dtb}"]
        if not mode.blob_carries_all:
            argv += [f"--initrd={initrd}"] if initrd is not None else []
            argv.append(f"--append={cmdline}")
        return KexecPlan(tuple(argv), exec_argv, cmdline, mode.notes)
    flag = "-s" if mode.syscall is Syscall.FILE_LOAD else "-l"
    argv = [kexec, flag, str(kernel), *([f"--initrd={initrd}"] if initrd is not None else []), f"--append={cmdline}"]
    return KexecPlan(tuple(argv), exec_argv, cmdline, mode.notes)


async def _run(platform: Platform, argv: tuple[str, ...], failure: str) -> None:
    """Run ``argv``; a KexecError ``failure`` (a template with ``{command}`` and
    ``{error}``) on failure, ``{error}`` being the command's own last words."""
    try:
        result = await platform.boot.kexec(argv)
    except CommandError as e:  # not installed, or could not be started
        raise KexecError.of(failure, command=argv[0], error=e.stderr.strip() or str(e)) from None
    if not result.ok:
        lines = (result.stderr or result.stdout).strip().splitlines()
        detail = "; ".join(line.strip() for line in lines[-4:]) if lines else f"exit status {result.returncode}"
        raise KexecError.of(failure, command=argv[0], error=detail)


KEY_ERRORS = (
    "Key was rejected by service",
    "Required key not available",
    "Bad message",
    "Permission denied",
    "Operation not permitted",
)
"""What kexec-tools reports (strerror) when the kernel's own signature check
refuses an image: EKEYREJECTED, ENOKEY, EBADMSG (a malformed signature),
EACCES (IMA appraisal), EPERM (lockdown)."""


async def load(platform: Platform, plan: KexecPlan, mode: Mode | None = None) -> None:
    """Load the new kernel; KexecError with kexec's own message on failure.
    Under lockdown (``mode``), a refusal by the kernel's own signature check
    is a :class:`~bootd.errors.SignatureRefused` that says so."""
    try:
        await _run(platform, plan.load_argv, N_("kexec could not load the kernel: {error}"))
    except KexecError as e:
        if mode is None or not mode.kernel_checks_signature or not any(k in str(e) for k in KEY_ERRORS):
            raise
        raise SignatureRefused.of(
            N_(
                "the running kernel is locked down ({lockdown}) and refused to load {kernel}: "
                "its signature does not verify against the kernel's trusted keys ({error})"
            ),
            lockdown=mode.lockdown,
            kernel=plan.load_argv[2],
            error=str(e),
        ) from None


async def execute(platform: Platform, plan: KexecPlan) -> None:
    """Jump to the loaded kernel (returns only in a sandbox, or on failure)."""
    await _run(platform, plan.exec_argv, N_("{command} could not start the loaded kernel: {error}"))
