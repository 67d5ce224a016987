"""Resolving kernels, initrds and DTBs: device paths (confined), other devices, URLs."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import pytest

from bootd.errors import ResourceError
from bootd.loader import resources
from bootd.model import BootOption, Device, Resource


@pytest.fixture
def devices(tmp_path: Path) -> dict[str, Device]:
    disk = tmp_path / "sda2"
    (disk / "boot").mkdir(parents=True)
    (disk / "boot" / "vmlinuz-6.1").write_bytes(b"KERNEL")
    os.symlink("/boot/vmlinuz-6.1", disk / "boot" / "vmlinuz")  # absolute: means the device's /boot
    (disk / "boot" / "initrd-a").write_bytes(b"AAAA")
    (disk / "boot" / "initrd-b").write_bytes(b"BB")
    os.symlink("/../../../../etc/hostname", disk / "boot" / "escape")
    other = tmp_path / "sdb1"
    (other / "dtbs").mkdir(parents=True)
    (other / "dtbs" / "board.dtb").write_bytes(b"DTB")
    return {
        "sda2": Device("sda2", mountpoint=PurePosixPath(str(disk))),
        "sdb1": Device("sdb1", uuid="1234-ABCD", label="BOOT", mountpoint=PurePosixPath(str(other))),
        "sdc1": Device("sdc1"),
    }


def option(**kw: object) -> BootOption:
    base: dict[str, object] = {"id": "sda2/x", "device": "sda2", "name": "x", "kernel": Resource.local("/boot/vmlinuz")}
    base.update(kw)
    return BootOption(**base)  # type: ignore[arg-type]


async def test_local_kernel_follows_links_inside_the_device(devices: dict[str, Device], tmp_path: Path) -> None:
    staged = await resources.stage(option(), devices, tmp_path / "work")
    assert staged.kernel == tmp_path / "sda2" / "boot" / "vmlinuz-6.1"
    assert staged.initrd is None and staged.dtb is None


async def test_initrds_are_concatenated_and_dtb_read_from_another_device(
    devices: dict[str, Device], tmp_path: Path
) -> None:
    opt = option(
        initrds=(Resource.local("/boot/initrd-a"), Resource.local("boot/initrd-b")),
        dtb=Resource.by_uuid("1234-abcd", "/dtbs/board.dtb"),
    )
    progress: list[str] = []
    staged = await resources.stage(opt, devices, tmp_path / "work", lambda m, f: progress.append(str(m)))
    assert staged.initrd == tmp_path / "work" / "initrd"
    assert staged.initrd.read_bytes() == b"AAAABB"
    assert staged.dtb == b"DTB"
    assert progress[0] == "Loading kernel /boot/vmlinuz" and any("board.dtb" in p for p in progress)


async def test_single_initrd_is_used_in_place(devices: dict[str, Device], tmp_path: Path) -> None:
    opt = option(initrds=(Resource.by_label("BOOT", "/dtbs/board.dtb"),))
    staged = await resources.stage(opt, devices, tmp_path / "work")
    assert staged.initrd == tmp_path / "sdb1" / "dtbs" / "board.dtb"


@pytest.mark.parametrize(
    ("resource", "message"),
    [
        (Resource.local("/../../../../etc/hostname"), "no such file"),
        (Resource.local("/boot/escape"), "no such file"),
        (Resource.local("/boot"), "not a regular file"),
        (Resource.local("/boot/missing"), "no such file"),
        (Resource.by_uuid("ffff", "/vmlinuz"), "no device with uuid=ffff"),
        (Resource.local("/vmlinuz", device="sdz9"), "device sdz9 is not present"),
        (Resource.local("/vmlinuz", device="sdc1"), "not mounted"),
    ],
)
async def test_bad_resources_are_refused(
    devices: dict[str, Device], tmp_path: Path, resource: Resource, message: str
) -> None:
    with pytest.raises(ResourceError, match=message):
        await resources.stage(option(kernel=resource), devices, tmp_path / "work")


def test_size_cap(devices: dict[str, Device]) -> None:
    with pytest.raises(ResourceError, match="more than the 3-byte limit"):
        resources.local_path(Resource.local("/boot/vmlinuz"), "sda2", devices, max_bytes=3)


async def test_urls_are_fetched_into_the_work_dir(devices: dict[str, Device], tmp_path: Path) -> None:
    src = tmp_path / "remote-kernel"
    src.write_bytes(b"REMOTE")
    staged = await resources.stage(option(kernel=Resource.remote(src.as_uri())), devices, tmp_path / "work")
    assert staged.kernel == tmp_path / "work" / "kernel"
    assert staged.kernel.read_bytes() == b"REMOTE"


async def test_missing_url_is_a_resource_error(devices: dict[str, Device], tmp_path: Path) -> None:
    with pytest.raises(ResourceError):
        await resources.stage(option(kernel=Resource.remote((tmp_path / "nope").as_uri())), devices, tmp_path / "w")


async def test_option_without_kernel(devices: dict[str, Device], tmp_path: Path) -> None:
    with pytest.raises(ResourceError, match="has no kernel"):
        await resources.stage(option(kernel=None), devices, tmp_path / "work")


async def test_a_unified_kernel_image_is_staged_section_by_section(tmp_path: Path) -> None:
    from bootd.parsers import ParseContext, bls
    from bootd.parsers.view import DirectoryView
    from tests.ukibuild import OSREL, arm64_pe_kernel, build_uki

    esp = tmp_path / "esp"
    (esp / "EFI" / "Linux").mkdir(parents=True)
    kernel, ucode, initrd = arm64_pe_kernel(50_000), b"UCODE" * 10, b"070701" * 999
    dtb = b"\xd0\x0d\xfe\xed" + b"x" * 60
    build_uki(
        esp / "EFI" / "Linux" / "deb.efi",
        [(".osrel", OSREL.encode()), (".cmdline", b"quiet"), (".linux", kernel), (".initrd", initrd),
         (".ucode", ucode), (".dtb", dtb)],
    )  # fmt: skip
    device = Device("esp", mountpoint=PurePosixPath(str(esp)))
    [opt] = bls.parse(DirectoryView(esp, device), ParseContext(arch="aarch64")).options
    staged = await resources.stage(opt, {"esp": device}, tmp_path / "work")
    assert staged.kernel.read_bytes() == kernel
    assert staged.initrd is not None and staged.initrd.read_bytes() == ucode + initrd  # microcode first
    assert staged.dtb == dtb


async def test_a_section_the_image_no_longer_has_is_refused(devices: dict[str, Device], tmp_path: Path) -> None:
    opt = option(kernel=Resource(path=PurePosixPath("/boot/vmlinuz-6.1"), section=".linux"))
    with pytest.raises(ResourceError, match=r"\[\.linux\].*not a PE"):
        await resources.stage(opt, devices, tmp_path / "work")
