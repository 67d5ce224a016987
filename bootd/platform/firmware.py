"""GRUB's ``grub_platform`` for this machine, from what the kernel shows
(its own module: ``bootd scan`` asks for it and nothing else of the platform)."""

from __future__ import annotations

import os
from pathlib import Path


def detect_firmware(sys_root: Path = Path("/")) -> str:
    """GRUB's ``grub_platform`` for this machine."""
    if (sys_root / "sys/firmware/efi").exists():
        return "efi"
    if (sys_root / "proc/device-tree").exists() or (sys_root / "sys/firmware/devicetree/base").exists():
        machine = os.uname().machine
        return "ieee1275" if machine.startswith("ppc") else "efi"
    return "pc"
