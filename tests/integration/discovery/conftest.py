"""Fixtures for discovery on real devices: udevd, loop devices (64 and up,
removed in teardown even on failure), images of every filesystem, a
temporary mount root that is checked to be empty afterwards."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from bootd.platform import Platform
from bootd.platform.firmware import detect_firmware
from bootd.platform.linux_block import LinuxBlock
from bootd.platform.run import RealRunner
from tests.integration.discovery import helpers as h

TOOLS = ("losetup", "partx", "blkid", "mount", "umount", "udevadm", "mkfs.ext4", "sfdisk")


def _require_root_and_udev() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root: creates loop devices and mounts filesystems")
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (make apt installs them)")
    if not h.ensure_udev():
        pytest.skip("systemd-udevd is not running and could not be started")


@pytest.fixture(scope="session")
def udev() -> None:
    _require_root_and_udev()
    h.settle()


@pytest.fixture
def loops(udev: None) -> Iterator[h.LoopFactory]:
    factory = h.LoopFactory()
    try:
        yield factory
    finally:
        factory.cleanup()
        h.settle()


@pytest.fixture
def mount_root(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "mnt"
    root.mkdir()
    try:
        yield root
    finally:
        h.force_unmount_under(root)


def linux_block_platform() -> Platform:
    """A Platform whose block side is the real machine (discovery needs nothing else)."""
    runner = RealRunner()
    return Platform(
        name="linux",
        arch=os.uname().machine,
        firmware=detect_firmware(),
        runner=runner,
        block=LinuxBlock(runner),
        boot=cast(Any, None),
        net=cast(Any, None),
    )


@pytest.fixture
def platform(udev: None) -> Platform:
    return linux_block_platform()


IMAGE_KINDS = ("ext4", "dirty-ext4", "btrfs", "xfs", "squashfs", "vfat", "iso9660", "partitioned")


def title_of(kind: str) -> str:
    return f"{kind} Linux"


@pytest.fixture(scope="session")
def images(udev: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """One image per filesystem kind, each with one BLS entry titled ``<kind> Linux``."""
    d = tmp_path_factory.mktemp("images")
    loops = h.LoopFactory()
    out: dict[str, Path] = {}
    try:
        out["ext4"] = h.make_ext4(d / "ext4.img", h.boot_tree(title_of("ext4")), label="E4BOOT")
        out["dirty-ext4"] = h.make_dirty_ext4(
            d / "dirty.img", h.boot_tree(title_of("dirty-ext4")), label="DIRTY", loops=loops
        )
        out["btrfs"] = h.make_btrfs_subvol(d / "btrfs.img", h.boot_tree(title_of("btrfs")), label="BTR", loops=loops)
        out["xfs"] = h.make_xfs(d / "xfs.img", h.boot_tree(title_of("xfs")), label="XFSBOOT", loops=loops)
        out["squashfs"] = h.make_squashfs(d / "squash.img", h.boot_tree(title_of("squashfs")))
        out["vfat"] = h.make_vfat(d / "fat.img", h.boot_tree(title_of("vfat")), label="FATBOOT")
        out["iso9660"] = h.make_iso(d / "cd.iso", h.boot_tree(title_of("iso9660")), label="CDBOOT")
        p1 = h.make_ext4(d / "p1.part", h.boot_tree(title_of("partitioned")), label="PART1", size_mb=16)
        p2 = h.make_vfat(d / "p2.part", {"hello.txt": "no boot files here\n"}, label="PART2")
        out["partitioned"] = h.make_partitioned(d / "disk.img", [p1, p2])
        p1.unlink()
        p2.unlink()
    finally:
        loops.cleanup()
    yield out
