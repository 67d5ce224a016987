"""The sandbox machine the menu tests run on: the demo's OpenPOWER device
tree and consoles (hvc0, hvc1, tty1), a disk with BLS entries and a USB stick
plugged in a few seconds after start."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

from tests.integration.daemon.helpers import Entry, write_entries

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "config" / "demo"

DEVICES = """
[[device]]
id = "sda2"
type = "disk"
node = "/dev/sda2"
fstype = "ext4"
uuid = "2f6c7c4e-5d2a-4b8e-9a51-0c1d2e3f4a5b"

[[device]]
id = "sdb1"
type = "usb"
node = "/dev/sdb1"
label = "STICK"
fstype = "vfat"
plug_after = {plug_after}
"""

DISK_ENTRIES = [
    Entry("fedora", "Fedora Linux 40", "root=UUID=2f6c7c4e ro quiet"),
    Entry("fedora-old", "Fedora Linux 39", "root=UUID=2f6c7c4e ro quiet"),
    Entry("rescue", "Fedora Linux (rescue)", "root=UUID=2f6c7c4e ro single"),
]
STICK_ENTRIES = [Entry("live", "Live system from USB", "boot=live"), Entry("broken", "Broken kernel")]
NOT_ELF = {"broken"}


def vmlinux(tag: str) -> bytes:
    """A minimal ppc64le ELF image: headers and one loadable segment."""
    body = tag.encode().ljust(256, b"\0")
    phoff, ehsize, phsize = 64, 64, 56
    offset = 4096
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + b"\0" * 8
    ehdr = struct.pack(
        "<16sHHIQQQIHHHHHH", ident, 2, 21, 1, 0xC000000000000000, phoff, 0, 0, ehsize, phsize, 1, 0, 0, 0
    )
    phdr = struct.pack("<IIQQQQQQ", 1, 5, offset, 0xC000000000000000, 0, len(body), len(body), 0x10000)
    return (ehdr + phdr).ljust(offset, b"\0") + body


def make_menu_machine(root: Path, *, plug_after: float = 4.0, extra_disk_entries: int = 0) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(DEMO / "machine.dts", root / "machine.dts")
    head = (DEMO / "machine.toml").read_text(encoding="utf-8").split("[[device]]")[0]
    (root / "machine.toml").write_text(head + DEVICES.format(plug_after=plug_after), encoding="utf-8")
    disk = [*DISK_ENTRIES, *(Entry(f"extra{i:04d}", f"Extra entry {i:04d}") for i in range(extra_disk_entries))]
    for dev, entries, default in (("sda2", disk, "fedora"), ("sdb1", STICK_ENTRIES, None)):
        write_entries(root / "devices" / dev, entries, default)
        for e in entries:
            if e.stem in NOT_ELF:
                continue
            (root / "devices" / dev / f"vmlinuz-{e.stem}").write_bytes(vmlinux(e.stem))
    return root
