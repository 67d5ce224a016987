"""A GRUB scan lets go of its menu without the cyclic garbage collector.

Each menu item holds the context it was defined in, and that context's menu
holds the item: left as they are, a large scan's whole menu (and the syntax
trees of its entries) waits for one long collector pass."""

from __future__ import annotations

import gc
from pathlib import Path

from bootd.model import Device
from bootd.parsers import ParseContext
from bootd.parsers.grub import parse
from bootd.parsers.view import DirectoryView

CFG = """set timeout=5
menuentry 'Debian' --id debian {
  linux /vmlinuz root=/dev/sda1
  initrd /initrd.img
}
submenu 'Advanced' {
  menuentry 'Debian (recovery)' {
    linux /vmlinuz root=/dev/sda1 single
  }
  submenu 'Deeper' {
    menuentry 'Old' { linux /vmlinuz.old }
  }
}
menuentry 'Menu file' { configfile /boot/grub/other.cfg }
"""
OTHER = "menuentry 'From the other file' { linux /vmlinuz quiet }\n"


def test_a_scan_leaves_no_cyclic_garbage(tmp_path: Path) -> None:
    grub = tmp_path / "boot" / "grub"
    grub.mkdir(parents=True)
    (grub / "grub.cfg").write_text(CFG)
    (grub / "other.cfg").write_text(OTHER)
    view = DirectoryView(tmp_path, Device(id="disk"))
    parse(view, ParseContext())  # imports and caches first
    gc.collect()
    gc.disable()
    try:
        result = parse(view, ParseContext())
        assert gc.collect() == 0
    finally:
        gc.enable()
    assert [o.name for o in result.options] == [
        "Debian",
        "Debian (recovery)",
        "Old",
        "From the other file",
    ]
