"""Files inside an ISO9660 image (GRUB's ``loopback``): the loader copies them
out of the real image (built with xorriso) into its work directory."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import pytest

from bootd.errors import ResourceError
from bootd.loader import resources
from bootd.model import BootOption, Device, Resource
from bootd.parsers import ParseContext, parse_device
from bootd.parsers.view import DirectoryView
from tests.isobuild import INITRD, KERNEL, UBUNTU_FILES, build_iso

GRUB_CFG = """\
menuentry "Ubuntu live (ISO)" {
  loopback loop /isos/ubuntu.iso
  linux (loop)/casper/vmlinuz boot=casper iso-scan/filename=/isos/ubuntu.iso
  initrd (loop)/casper/initrd
}
"""


@pytest.fixture
def stick(tmp_path: Path) -> Device:
    root = tmp_path / "usb1"
    build_iso(root / "isos" / "ubuntu.iso", UBUNTU_FILES)
    (root / "boot" / "grub").mkdir(parents=True)
    (root / "boot" / "grub" / "grub.cfg").write_text(GRUB_CFG)
    return Device("usb1", mountpoint=PurePosixPath(str(root)))


def scanned(dev: Device) -> BootOption:
    assert dev.mountpoint is not None
    result = parse_device(DirectoryView(Path(str(dev.mountpoint)), dev), ParseContext())
    [opt] = [o for o in result.options if o.name == "Ubuntu live (ISO)"]
    return opt


async def test_the_staged_kernel_and_initrd_are_the_bytes_put_in_the_image(stick: Device, tmp_path: Path) -> None:
    opt = scanned(stick)
    progress: list[str] = []
    staged = await resources.stage(opt, {"usb1": stick}, tmp_path / "work", lambda m, f: progress.append(m.text))
    assert staged.kernel == tmp_path / "work" / "kernel"
    assert staged.kernel.read_bytes() == KERNEL
    assert staged.initrd is not None and staged.initrd.read_bytes() == INITRD
    assert progress[0] == "Loading kernel /isos/ubuntu.iso[/casper/vmlinuz]"


async def test_an_image_damaged_after_the_scan_is_refused_with_a_reason(stick: Device, tmp_path: Path) -> None:
    opt = scanned(stick)
    assert stick.mountpoint is not None
    Path(str(stick.mountpoint), "isos", "ubuntu.iso").write_bytes(os.urandom(1 << 16))
    with pytest.raises(ResourceError, match=r"ubuntu.iso\[/casper/vmlinuz\]: .*not a readable ISO9660 image"):
        await resources.stage(opt, {"usb1": stick}, tmp_path / "work")


async def test_a_file_missing_from_the_image_is_refused(stick: Device, tmp_path: Path) -> None:
    opt = BootOption(
        id="usb1/x", device="usb1", name="x",
        kernel=Resource(path=PurePosixPath("/isos/ubuntu.iso"), inside=PurePosixPath("/casper/nosuch")),
    )  # fmt: skip
    with pytest.raises(ResourceError, match="/casper/nosuch: no such file in /isos/ubuntu.iso"):
        await resources.stage(opt, {"usb1": stick}, tmp_path / "work")


async def test_an_image_behind_a_link_out_of_the_device_is_refused(stick: Device, tmp_path: Path) -> None:
    assert stick.mountpoint is not None
    outside = tmp_path / "outside.iso"
    build_iso(outside, UBUNTU_FILES)
    os.symlink("/../../../../../../" + str(outside).lstrip("/"), Path(str(stick.mountpoint), "isos", "link.iso"))
    opt = BootOption(
        id="usb1/x", device="usb1", name="x",
        kernel=Resource(path=PurePosixPath("/isos/link.iso"), inside=PurePosixPath("/casper/vmlinuz")),
    )  # fmt: skip
    with pytest.raises(ResourceError, match="link.iso"):
        await resources.stage(opt, {"usb1": stick}, tmp_path / "work")
    assert not (tmp_path / "work" / "kernel").exists()


def test_a_file_larger_than_the_cap_is_not_copied(stick: Device, tmp_path: Path) -> None:
    assert stick.mountpoint is not None
    image = Path(str(stick.mountpoint), "isos", "ubuntu.iso")
    res = Resource(path=PurePosixPath("/isos/ubuntu.iso"), inside=PurePosixPath("/casper/vmlinuz"))
    with pytest.raises(ResourceError, match="more than the 1000-byte limit"):
        resources.extract_inside(image, res, tmp_path / "kernel", max_bytes=1000)
