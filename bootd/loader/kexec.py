"""kexec-tools command lines, and loading/executing through the Platform.

* A patched DTB is passed with ``kexec -l IMAGE --dtb=… --initrd=… --append=…``
  (the ``kexec_load`` path: ``kexec_file_load`` ignores ``--dtb`` on arm64
  and ppc64).
* Without a DTB to pass, ``kexec -l IMAGE --initrd=… --append=…`` (kexec-tools
  hands on the running kernel's own tree where there is one); the console then
  goes on the command line as ``console=NAME[,options]`` and a note says why.
  ``kexec_load`` because Debian 12's arm64 and ppc64el kernels are built without
  ``kexec_file_load`` (``# CONFIG_KEXEC_FILE is not set``).
* When the kernel is locked down (only signed ``kexec_file_load`` is allowed),
  ``kexec -s``, with the console on the command line as above.
* Execution is ``systemctl kexec`` under systemd (services stop cleanly),
  else ``kexec -e``.  Nothing is executed after a failed load.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bootd.errors import CommandError, KexecError
from bootd.model import Console
from bootd.platform import Platform

log = logging.getLogger(__name__)

KEXEC = "kexec"


@dataclass(frozen=True)
class KexecPlan:
    load_argv: tuple[str, ...]
    exec_argv: tuple[str, ...]
    cmdline: str
    notes: tuple[str, ...] = ()


def console_arg(console: str | None, consoles: Sequence[Console]) -> str | None:
    """``console=`` for a console name or DT path (``ttyS0:115200n8`` → ``console=ttyS0,115200n8``)."""
    if not console:
        return None
    name, _, options = console.partition(":")
    if name.startswith("/"):
        known = next((c for c in consoles if c.dt_path == name), None)
        if known is None:
            return None
        name = known.name
    return f"console={name}" + (f",{options}" if options else "")


def with_console(args: str, console: str) -> str:
    """``args`` with ``console`` as its last (preferred) console."""
    return f"{args} {console}".strip() if not re.search(rf"(^|\s){re.escape(console)}(\s|$)", args) else args


def build(
    *,
    kernel: Path,
    initrd: Path | None,
    dtb: Path | None,
    args: str,
    console: str | None,
    consoles: Sequence[Console] = (),
    lockdown: str = "none",
    systemd: bool = False,
    kexec: str = KEXEC,
) -> KexecPlan:
    """The load and exec command lines for one boot."""
    notes: list[str] = []
    exec_argv = ("systemctl", "kexec") if systemd else (kexec, "-e")
    locked = lockdown not in ("", "none")
    if dtb is not None and not locked:
        argv = [kexec, "-l", str(kernel), f"--dtb={dtb}"]
        if initrd is not None:
            argv.append(f"--initrd={initrd}")
        argv.append(f"--append={args}")
        return KexecPlan(tuple(argv), exec_argv, args, ())
    cmdline = args
    arg = console_arg(console, consoles)
    if locked:
        notes.append(
            f"the kernel is locked down ({lockdown}): only kexec_file_load (kexec -s) is allowed, "
            "which cannot pass a patched device tree"
        )
    elif console:
        notes.append("there is no device tree to patch on this machine")
    if arg is not None:
        cmdline = with_console(args, arg)
        notes.append(f"the console is passed on the kernel command line as {arg}")
    elif console:
        notes.append(f"console {console} has no kernel name; the next kernel picks its own console")
    argv = [kexec, "-s" if locked else "-l", str(kernel)]
    if initrd is not None:
        argv.append(f"--initrd={initrd}")
    argv.append(f"--append={cmdline}")
    return KexecPlan(tuple(argv), exec_argv, cmdline, tuple(notes))


async def _run(platform: Platform, argv: tuple[str, ...], failure: str) -> None:
    try:
        result = await platform.boot.kexec(argv)
    except CommandError as e:  # not installed, or could not be started
        raise KexecError(f"{failure}: {e.stderr.strip() or e}") from None
    if not result.ok:
        lines = (result.stderr or result.stdout).strip().splitlines()
        detail = "; ".join(line.strip() for line in lines[-4:]) if lines else f"exit status {result.returncode}"
        raise KexecError(f"{failure}: {detail}")


async def load(platform: Platform, plan: KexecPlan) -> None:
    """Load the new kernel; KexecError with kexec's own message on failure."""
    await _run(platform, plan.load_argv, "kexec could not load the kernel")


async def execute(platform: Platform, plan: KexecPlan) -> None:
    """Jump to the loaded kernel (returns only in a sandbox, or on failure)."""
    await _run(platform, plan.exec_argv, f"{plan.exec_argv[0]} could not start the loaded kernel")
