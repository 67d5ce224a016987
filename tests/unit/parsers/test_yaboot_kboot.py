"""yaboot.conf and kboot.conf."""

from __future__ import annotations

from pathlib import Path

from bootd.model import Device, Resource, Source
from bootd.parsers import ParseContext, kboot, yaboot
from tests.unit.parsers.helpers import make_view

YABOOT = """\
# global
boot=/dev/sda1
device=hd:
partition=2
root=/dev/sda2
timeout=80
append="console=hvc0"
read-only
default=second

image=/vmlinux
	label=first
	initrd=/initrd.img
	append="quiet splash"

image=/vmlinux.old
	label=second
	alias=old

image=hd:3,/vmlinux-other
	label=other
	initrd=/initrd-other
	read-write

image=/vmlinux-part
	partition=4
	root=/dev/sda4

image=/vmlinux
	label=lit
	literal="root=/dev/sdb1 single"
"""


def test_yaboot_entries(tmp_path: Path) -> None:
    view = make_view(tmp_path, {"/etc/yaboot.conf": YABOOT}, device=Device(id="sda2", node="/dev/sda2"))
    result = yaboot.parse(view, ParseContext())
    opts = result.options
    assert [o.name for o in opts] == ["first", "second", "other", "vmlinux-part", "lit"]
    assert [o.default for o in opts] == [False, True, False, False, False]
    assert all(o.source == Source.YABOOT for o in opts)
    first, second, other, part, lit = opts
    assert first.kernel == Resource.local("/vmlinux") and first.initrds == (Resource.local("/initrd.img"),)
    assert first.args == "root=/dev/sda2 ro quiet splash"
    # the global append is used when the image has none (Petitboot ignores it)
    assert second.args == "root=/dev/sda2 ro console=hvc0"
    assert other.kernel == Resource(path=Resource.local("/vmlinux-other").path, selector="node=/dev/sda3")
    assert other.initrds[0].selector == "node=/dev/sda3"
    assert other.args == "root=/dev/sda2 rw console=hvc0"
    # a per-image partition= is honoured (Petitboot ignores it)
    assert part.kernel is not None and part.kernel.selector == "node=/dev/sda4"
    assert part.args == "root=/dev/sda4 ro console=hvc0"
    assert lit.args == "root=/dev/sdb1 single"
    assert result.timeout == 8.0


def test_yaboot_default_by_alias_and_missing(tmp_path: Path) -> None:
    cfg = "default=old\nimage=/a\n label=new\nimage=/b\n label=b\n alias=old\n"
    opts = yaboot.parse(make_view(tmp_path, {"/yaboot.conf": cfg}), ParseContext()).options
    assert [o.default for o in opts] == [False, True]
    cfg = "default=nothing\nimage=/a\nimage=/b\n"
    result = yaboot.parse(make_view(tmp_path, {"/yaboot.conf": cfg}), ParseContext())
    assert [o.default for o in result.options] == [True, False]
    assert [o.name for o in result.options] == ["a", "b"]
    assert any("names no image" in d.message for d in result.diagnostics)


def test_yaboot_linux_device_names_and_nvme(tmp_path: Path) -> None:
    cfg = "device=nvme0n1\npartition=5\nimage=/v\n"
    view = make_view(tmp_path, {"/etc/yaboot.conf": cfg}, device=Device(id="x", node="/dev/nvme0n1p2"))
    (opt,) = yaboot.parse(view, ParseContext()).options
    assert opt.kernel is not None and opt.kernel.selector == "node=/dev/nvme0n1p5"


def test_kboot_entries(tmp_path: Path) -> None:
    cfg = (
        "# kboot\n"
        "default=two\n"
        "timeout=10\n"
        "message=/etc/kboot.msg\n"
        "one='/boot/vmlinux initrd=/boot/initrd root=/dev/sda2 quiet'\n"
        'two="/boot/vmlinux-2 initrd=/boot/i1,/boot/i2 dtb=/boot/board.dtb console=hvc0"\n'
        "three=/dev/sdb1:/vmlinux initrd=sdb1:/initrd\n"
        "broken=\n"
        "garbage line\n"
    )
    view = make_view(tmp_path, {"/etc/kboot.conf": cfg}, device=Device(id="sda2", node="/dev/sda2"))
    result = kboot.parse(view, ParseContext())
    one, two, three = result.options
    assert [o.name for o in result.options] == ["one", "two", "three"]
    assert [o.default for o in result.options] == [False, True, False]
    assert one.kernel == Resource.local("/boot/vmlinux") and one.args == "root=/dev/sda2 quiet"
    assert one.initrds == (Resource.local("/boot/initrd"),)
    assert two.initrds == (Resource.local("/boot/i1"), Resource.local("/boot/i2"))
    assert two.dtb == Resource.local("/boot/board.dtb") and two.args == "console=hvc0"
    assert three.kernel is not None and three.kernel.selector == "node=/dev/sdb1"
    assert three.initrds[0].selector == "node=/dev/sdb1"
    assert result.timeout == 10.0 and all(o.source == Source.KBOOT for o in result.options)
    messages = [d.message for d in result.diagnostics]
    assert any("'broken' names no kernel" in m for m in messages) and any("without '='" in m for m in messages)


def test_kboot_same_partition_is_local(tmp_path: Path) -> None:
    view = make_view(tmp_path, {"/kboot.conf": "a=/dev/sda2:/vmlinux\n"}, device=Device(id="s", node="/dev/sda2"))
    (opt,) = kboot.parse(view, ParseContext()).options
    assert opt.kernel == Resource.local("/vmlinux") and opt.default
