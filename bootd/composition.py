"""The composition root's one choice: which machine bootd runs on.

Every command that needs a :class:`~bootd.platform.Platform` gets it here:
the real machine (:mod:`bootd.platform.linux`), the real machine with kexec
recorded instead of run (``--dry-run``), or a sandbox machine
(:mod:`bootd.platform.sandbox`).  No other module outside ``bootd.platform``
names a platform implementation (an import-linter contract says so).  Light on
purpose: it imports no D-Bus, urwid or pyudev until a platform is built.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # names for annotations only: loading them costs a command's start
    from bootd.platform import BootPlatform, Platform


def choose_platform(sandbox: Path | None, state_dir: Path) -> Platform:
    """The sandbox machine described under ``sandbox``, else the real one."""
    if sandbox is not None:
        from bootd.platform.sandbox import sandbox_platform

        return sandbox_platform(sandbox, state_dir)
    return real_platform()


def real_platform() -> Platform:
    """The machine bootd runs on."""
    from bootd.platform.linux import linux_platform

    return linux_platform()


def recording_platform(passthrough: Iterable[str]) -> Platform:
    """The real machine, but every program except ``passthrough`` is recorded, not run."""
    from bootd.platform.linux_boot import LinuxBoot
    from bootd.platform.run import RecordingRunner

    recorder = RecordingRunner(passthrough=frozenset(passthrough))
    return replace(real_platform(), runner=recorder, boot=LinuxBoot(recorder))


def machine_boot() -> BootPlatform:
    """This machine's boot side (consoles, framebuffers, its live device tree) alone."""
    from bootd.platform.linux_boot import LinuxBoot
    from bootd.platform.run import RealRunner

    return LinuxBoot(RealRunner())


def machine_firmware() -> str:
    """GRUB's ``grub_platform`` for this machine."""
    from bootd.platform.firmware import detect_firmware

    return detect_firmware()


def tree_blob(base: Path) -> bytes:
    """A device tree directory (like ``/proc/device-tree``) as a flattened blob."""
    from bootd.platform.linux_boot import tree_to_blob

    return tree_to_blob(base)
