"""Where GRUB configurations are looked for, and legacy menu.lst."""

from __future__ import annotations

from pathlib import Path

import pytest

from bootd.model import Resource, Source
from bootd.parsers import ParseContext
from bootd.parsers.grub import candidates, parse
from tests.unit.grub.helpers import make_view

ENTRY = "menuentry '{0}' {{ linux /{0} }}\n"


@pytest.mark.parametrize(
    "path",
    [
        "/boot/grub/grub.cfg",
        "/boot/grub2/grub.cfg",
        "/grub/grub.cfg",
        "/grub2/grub.cfg",
        "/grub.cfg",
        "/EFI/debian/grub.cfg",
        "/boot/efi/EFI/ubuntu/grub.cfg",
        "/EFI/BOOT/GRUB.CFG",
        "/efi/boot/grub.cfg",
    ],
)
def test_each_location_is_found(tmp_path: Path, path: str) -> None:
    view = make_view(tmp_path / "d", {path: ENTRY.format("found")}, id="d")
    result = parse(view, ParseContext())
    assert [o.name for o in result.options] == ["found"]
    assert result.options[0].source is Source.GRUB2


def test_order_and_fallback_to_a_config_with_entries(tmp_path: Path) -> None:
    files = {
        "/boot/grub/grub.cfg": "set timeout=3\n",  # no entries: the next config is tried
        "/grub2/grub.cfg": ENTRY.format("second"),
        "/EFI/fedora/grub.cfg": ENTRY.format("third"),
    }
    view = make_view(tmp_path / "d", files, id="d")
    assert [str(p) for p in candidates(view)] == ["/boot/grub/grub.cfg", "/grub2/grub.cfg", "/EFI/fedora/grub.cfg"]
    assert [o.name for o in parse(view, ParseContext()).options] == ["second"]


MENU_LST = """
# legacy config
default=1
timeout 5
hiddenmenu

title Debian GNU/Linux, kernel 2.6.32
root (hd0,0)
kernel /vmlinuz-2.6.32 root=/dev/sda1 ro quiet
initrd /initrd.img-2.6.32

title Debian GNU/Linux, kernel 2.6.26
root (hd0,0)
kernel (hd0,0)/vmlinuz-2.6.26 root=/dev/sda1 ro
initrd=/initrd.img-2.6.26

title Xen
kernel /xen.gz dom0_mem=512M
module /vmlinuz-xen root=/dev/sda1
module /initrd-xen

title Windows
rootnoverify (hd0,1)
chainloader +1
"""


def test_legacy_menu_lst(tmp_path: Path) -> None:
    view = make_view(tmp_path / "d", {"/boot/grub/menu.lst": MENU_LST}, id="d")
    result = parse(view, ParseContext())
    names = [(o.name, o.default, o.kind) for o in result.options]
    assert names == [
        ("Debian GNU/Linux, kernel 2.6.32", False, "linux"),
        ("Debian GNU/Linux, kernel 2.6.26", True, "linux"),
        ("Xen", False, "multiboot"),
    ]
    assert result.timeout == 5.0
    second = result.options[1]
    assert second.kernel == Resource.local("/vmlinuz-2.6.26")
    assert second.initrds == (Resource.local("/initrd.img-2.6.26"),)
    assert second.args == "root=/dev/sda1 ro"
    assert [str(r.path) for r in result.options[2].initrds] == ["/vmlinuz-xen", "/initrd-xen"]


def test_grub2_config_wins_over_legacy(tmp_path: Path) -> None:
    files = {"/boot/grub/menu.lst": MENU_LST, "/boot/grub2/grub.cfg": ENTRY.format("grub2")}
    view = make_view(tmp_path / "d", files, id="d")
    assert [o.name for o in parse(view, ParseContext()).options] == ["grub2"]


def test_nothing_found_is_empty_and_quiet(tmp_path: Path) -> None:
    view = make_view(tmp_path / "d", {"/readme.txt": "hello"}, id="d")
    result = parse(view, ParseContext())
    assert result.options == () and result.diagnostics == ()
