"""GRUB's ``loopback``: ``(loop)`` devices read inside real ISO9660 images
(built with xorriso at test time), and hostile images cost bounded work."""

from __future__ import annotations

import os
import struct
import time
from pathlib import Path, PurePosixPath

import pytest

from bootd.model import Resource
from tests.isobuild import INITRD, ISO_DIRECT, KERNEL, UBUNTU_FILES, build_iso
from tests.unit.grub.conftest import Run

ISO = PurePosixPath("/isos/ubuntu.iso")


@pytest.fixture(scope="module")
def ubuntu_iso(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return build_iso(tmp_path_factory.mktemp("iso") / "ubuntu.iso", UBUNTU_FILES).read_bytes()


@pytest.fixture(scope="module")
def plain_iso(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    out = tmp_path_factory.mktemp("iso") / "plain.iso"
    return build_iso(out, UBUNTU_FILES, rock=False, joliet=False).read_bytes()


def inside(path: str, image: PurePosixPath = ISO) -> Resource:
    return Resource(path=image, inside=PurePosixPath(path))


DIRECT = ISO_DIRECT


def test_linux_and_initrd_from_loop_are_files_inside_the_image(run: Run, ubuntu_iso: bytes) -> None:
    out = run(DIRECT, files={str(ISO): ubuntu_iso})
    [opt] = out.options
    assert opt.kernel == inside("/casper/vmlinuz")
    assert opt.initrds == (inside("/casper/initrd"),)
    assert opt.args == "boot=casper iso-scan/filename=/isos/ubuntu.iso quiet"
    assert not out.diagnostics


def test_configfile_of_loopback_cfg_reads_the_image_and_keeps_root(run: Run, ubuntu_iso: bytes) -> None:
    # the convention of multi-ISO sticks: loopback.cfg's own paths are on $root,
    # which configfile does not change; iso_path reaches it exported
    cfg = """\
menuentry "Ubuntu via loopback.cfg" {
  loopback loop /isos/ubuntu.iso
  set iso_path=/isos/ubuntu.iso
  export iso_path
  set root=(loop)
  configfile (loop)/boot/grub/loopback.cfg
}
"""
    out = run(cfg, files={str(ISO): ubuntu_iso})
    names = [o.name for o in out.options]
    assert names == ["Try Ubuntu without installing", "Ubuntu (safe graphics)"]
    first = out.options[0]
    assert first.kernel == inside("/casper/vmlinuz")
    assert first.initrds == (inside("/casper/initrd"),)
    assert first.args == "boot=casper iso-scan/filename=/isos/ubuntu.iso quiet splash ---"


def test_source_reads_inside_the_image(run: Run, ubuntu_iso: bytes) -> None:
    cfg = "loopback loop /isos/ubuntu.iso\nset root=(loop)\nsource (loop)/boot/grub/loopback.cfg\n"
    out = run(cfg, files={str(ISO): ubuntu_iso})
    assert [o.kernel for o in out.options] == [inside("/casper/vmlinuz")] * 2


def test_file_tests_look_inside_the_image(run: Run, ubuntu_iso: bytes) -> None:
    cfg = """\
loopback loop /isos/ubuntu.iso
if [ -f (loop)/casper/vmlinuz ]; then echo has-kernel; fi
if [ -f (loop)/casper/nosuch ]; then echo has-nosuch; fi
if [ -d (loop)/casper ]; then echo has-dir; fi
if [ -f /casper/vmlinuz ]; then echo on-device; fi
loopback -d loop
if [ -f (loop)/casper/vmlinuz ]; then echo after-delete; fi
"""
    out = run(cfg, files={str(ISO): ubuntu_iso})
    assert out.echoes == [["has-kernel"], ["has-dir"]]


def test_plain_iso9660_names_are_seen_in_lower_case_as_grub_sees_them(run: Run, plain_iso: bytes) -> None:
    out = run(DIRECT, files={str(ISO): plain_iso})
    [opt] = out.options
    assert opt.kernel == inside("/casper/vmlinuz")
    cfg = "loopback loop /isos/ubuntu.iso\n"
    cfg += (
        "if [ -f (loop)/casper/vmlinuz ]; then echo lower; fi\nif [ -f (loop)/CASPER/VMLINUZ ]; then echo upper; fi\n"
    )
    assert run(cfg, files={str(ISO): plain_iso}).echoes == [["lower"]]


def test_isoscan_loop_over_images_each_entry_its_own_device(run: Run, ubuntu_iso: bytes) -> None:
    cfg = """\
for isofile in /isos/a.iso /isos/b.iso; do
  menuentry "$isofile" "$isofile" {
    loopback loop $2
    set root=(loop)
    linux /casper/vmlinuz iso-scan/filename=$2
    initrd /casper/initrd
  }
done
"""
    files = {"/isos/a.iso": ubuntu_iso, "/isos/b.iso": ubuntu_iso}
    out = run(cfg, files=files)
    assert [o.kernel for o in out.options] == [
        inside("/casper/vmlinuz", PurePosixPath("/isos/a.iso")),
        inside("/casper/vmlinuz", PurePosixPath("/isos/b.iso")),
    ]
    assert not out.diagnostics


def test_a_name_in_use_in_the_same_script_is_an_error(run: Run, ubuntu_iso: bytes) -> None:
    cfg = "loopback loop /isos/a.iso\nloopback loop /isos/b.iso\necho $?\nlinux_path=(loop)\n"
    cfg += "if [ -f (loop)/casper/vmlinuz ]; then echo still-a; fi\n"
    out = run(cfg, files={"/isos/a.iso": ubuntu_iso, "/isos/b.iso": b"not an image"})
    assert out.echoes == [["18"], ["still-a"]]  # GRUB_ERR_BAD_ARGUMENT, as GRUB returns
    assert any("already in use" in d.message for d in out.diagnostics)


def test_a_missing_image_is_a_message_and_the_entry_names_it(run: Run) -> None:
    out = run(DIRECT)
    [opt] = out.options
    assert opt.kernel == inside("/casper/vmlinuz")
    assert any("/isos/ubuntu.iso: no such regular file" in d.message for d in out.diagnostics)


def test_an_image_behind_a_link_out_of_the_device_is_not_read(run: Run, ubuntu_iso: bytes, tmp_path: Path) -> None:
    outside = tmp_path / "outside.iso"
    outside.write_bytes(ubuntu_iso)
    cfg = DIRECT.replace("/isos/ubuntu.iso", "/isos/link.iso") + "if [ -f (loop)/casper/vmlinuz ]; then echo x; fi\n"
    cfg = "loopback loop /isos/link.iso\n" + cfg
    out = run(cfg, files={"/isos/.keep": ""}, device={"id": "disk"})
    # the view resolves an absolute link inside the device: nothing there
    assert out.echoes == []
    root = next(p for p in tmp_path.iterdir() if p.name.startswith("dev"))
    (root / "isos" / "link.iso").symlink_to(outside)
    from bootd.model import Device
    from bootd.parsers import ParseContext
    from bootd.parsers.grub import interpret
    from bootd.parsers.view import DirectoryView

    view = DirectoryView(root, Device(id="disk"))
    again = interpret(view, PurePosixPath("/boot/grub/grub.cfg"), ParseContext(others={}))
    assert again.echoes == []
    assert any("loopback /isos/link.iso: not a regular file" in d.message for d in again.diagnostics)


# -- hostile images -----------------------------------------------------------


def _record(data: bytes, name: bytes) -> int:
    """Offset of the ISO9660 directory record whose identifier is ``name``."""
    i = data.find(b"\x00\x00\x01" + bytes([len(name)]) + name)
    assert i > 0, name
    return i + 4 - 33


def patched(data: bytes, name: bytes, *, extent: int | None = None, length: int | None = None) -> bytes:
    out = bytearray(data)
    rec = _record(data, name)
    if extent is not None:
        out[rec + 2 : rec + 10] = struct.pack("<I", extent) + struct.pack(">I", extent)
    if length is not None:
        out[rec + 10 : rec + 18] = struct.pack("<I", length) + struct.pack(">I", length)
    return bytes(out)


def _root_extent(data: bytes) -> int:
    value: int = struct.unpack_from("<I", data, 16 * 2048 + 156 + 2)[0]
    return value


def hostile(iso: bytes) -> dict[str, bytes]:
    return {
        "truncated": iso[: 17 * 2048 + 100],
        "garbage": os.urandom(1 << 20),
        "tiny": b"CD001" * 10,
        "directory loop": patched(iso, b"CASPER", extent=_root_extent(iso)),
        "huge directory": patched(iso, b"CASPER", length=0xFFFFF800),
        "huge file": patched(iso, b"VMLINUZ.;1", length=0xFFFFFF00),
    }


@pytest.mark.parametrize("kind", ["truncated", "garbage", "tiny", "directory loop", "huge directory", "huge file"])
def test_a_hostile_image_is_a_message_for_its_entry_only(run: Run, ubuntu_iso: bytes, kind: str) -> None:
    bad = hostile(ubuntu_iso)[kind]
    cfg = DIRECT.replace("Ubuntu live (ISO)", "bad").replace("/isos/ubuntu.iso", "/isos/bad.iso") + DIRECT
    cfg += "loopback cfgloop /isos/bad.iso\nsource (cfgloop)/boot/grub/loopback.cfg\n"
    start = time.process_time()
    out = run(cfg, files={"/isos/bad.iso": bad, str(ISO): ubuntu_iso})
    assert time.process_time() - start < 5
    good = next(o for o in out.options if o.name == "Ubuntu live (ISO)")
    assert good.kernel == inside("/casper/vmlinuz")
    bad_opt = next(o for o in out.options if o.name == "bad")
    assert bad_opt.kernel == inside("/casper/vmlinuz", PurePosixPath("/isos/bad.iso"))
    if kind != "huge file":  # the tree is readable; only the kernel's size is a lie
        assert any("/isos/bad.iso" in d.message and "loopback" in d.message for d in out.diagnostics), kind


def test_a_huge_claimed_file_size_stays_within_the_image(ubuntu_iso: bytes) -> None:
    from bootd.model import Device
    from bootd.parsers.isoview import open_view

    bad = hostile(ubuntu_iso)["huge file"]
    view = open_view(Device(id="d"), ISO, lambda o, n: bad[o : o + n], len(bad))
    size = view.size("/casper/vmlinuz")
    assert size is not None and size <= len(bad)


def test_the_image_files_are_the_ones_put_in(ubuntu_iso: bytes) -> None:
    from bootd.model import Device
    from bootd.parsers.isoview import open_view

    view = open_view(Device(id="d"), ISO, lambda o, n: ubuntu_iso[o : o + n], len(ubuntu_iso))
    assert view.read_bytes("/casper/vmlinuz") == KERNEL
    assert view.read_bytes("/casper/initrd") == INITRD
    assert view.listdir("/") == [".disk", "boot", "casper"]
    assert view.regular_files("/casper") == {"initrd", "vmlinuz"}
    assert view.read_range("/casper/vmlinuz", 256, 4) == bytes(range(4))


def test_opening_an_image_stops_at_its_cpu_time(ubuntu_iso: bytes) -> None:
    from bootd.model import Device
    from bootd.parsers.isoview import ImageError, open_view

    with pytest.raises(ImageError, match="too much CPU time; not read"):
        open_view(Device(id="d"), ISO, lambda o, n: ubuntu_iso[o : o + n], len(ubuntu_iso), cpu_seconds=0.0)


def test_a_device_the_submenu_made_is_in_use_in_its_entries(run: Run, ubuntu_iso: bytes) -> None:
    cfg = """\
submenu "ISOs" {
  loopback loop /isos/a.iso
  menuentry "keeps a" {
    loopback loop /isos/b.iso
    linux (loop)/casper/vmlinuz status=$?
  }
}
menuentry "own device" {
  loopback loop /isos/b.iso
  linux (loop)/casper/vmlinuz status=$?
}
"""
    out = run(cfg, files={"/isos/a.iso": ubuntu_iso, "/isos/b.iso": ubuntu_iso})
    kept, own = out.options
    assert kept.kernel == inside("/casper/vmlinuz", PurePosixPath("/isos/a.iso"))
    assert kept.args == "status=18"
    assert own.kernel == inside("/casper/vmlinuz", PurePosixPath("/isos/b.iso"))
    assert own.args == "status=0"
