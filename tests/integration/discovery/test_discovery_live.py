"""Discovery on real loop devices with udevd: hotplug, partitions, devices
pulled during their scan, and hostile filesystems that must not stall the
others.  Only loop devices the test created are looked at (device filter)."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bootd.discovery.manager import Discovery
from bootd.errors import BootdError
from bootd.inventory import Inventory
from bootd.model import Severity, Text
from bootd.platform import Platform
from bootd.platform.block import BlockDevice
from tests.integration.discovery import helpers as h
from tests.integration.discovery.conftest import title_of

pytestmark = pytest.mark.root


def _only(loops: list[h.Loop]) -> Callable[[BlockDevice], bool]:
    names = {lp.name for lp in loops}
    return lambda dev: dev.name in names or (dev.parent or "") in names


async def wait_until(pred: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> float:
    start = time.monotonic()
    while not pred():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(0.02)
    return time.monotonic() - start


class Recorder:
    def __init__(self) -> None:
        self.status: list[tuple[Severity, str]] = []
        self.loop_errors: list[str] = []

    def on_status(self, severity: Severity, message: str | Text) -> None:
        self.status.append((severity, str(message)))


@asynccontextmanager
async def running(
    platform: Platform, mount_root: Path, watched: list[h.Loop], *, parse_timeout: float = 15.0
) -> AsyncIterator[tuple[Discovery, Inventory, Recorder]]:
    inv = Inventory()
    rec = Recorder()
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _l, ctx: rec.loop_errors.append(str(ctx.get("message"))))
    disc = Discovery(
        platform,
        inv,
        scan_loop_devices=True,
        status=rec.on_status,
        mount_root=mount_root,
        parse_timeout=parse_timeout,
        device_filter=_only(watched),
    )
    await disc.start()
    try:
        yield disc, inv, rec
    finally:
        await disc.stop()
    assert h.mounts_under(mount_root) == [], "mounts left behind after stop"
    assert list(mount_root.iterdir()) == [], "mount points left behind after stop"
    assert not any("discovery failed" in m for _, m in rec.status), rec.status
    assert rec.loop_errors == []


def titles(inv: Inventory) -> list[str]:
    return sorted(o.name for o in inv.options())


async def test_options_follow_attach_and_detach(
    images: dict[str, Path], platform: Platform, loops: h.LoopFactory, mount_root: Path
) -> None:
    image = images["ext4"]
    before = h.sha256(image)
    slot = loops.new()
    async with running(platform, mount_root, [slot]) as (disc, inv, rec):
        await disc.settled(10)
        assert inv.options() == []
        loops.attach(image, slot)
        await wait_until(lambda: titles(inv) == [title_of("ext4")], what="the option after attach")
        dev = inv.device(slot.name)
        assert dev is not None and dev.label == "E4BOOT" and dev.mountpoint is not None
        assert Path(str(dev.mountpoint)).is_relative_to(mount_root)
        entry = next(e for e in platform.block.mounts() if e.target == Path(str(dev.mountpoint)))
        assert entry.read_only and "noload" in ",".join(entry.options) or entry.read_only
        loops.detach(slot)
        await wait_until(lambda: inv.options() == [] and inv.devices() == [], what="removal after detach")
        await disc.settled(10)
        assert h.mounts_under(mount_root) == []
    assert h.sha256(image) == before


async def test_partitions_appear_and_the_plain_partition_has_no_options(
    images: dict[str, Path], platform: Platform, loops: h.LoopFactory, mount_root: Path
) -> None:
    slot = loops.new()
    async with running(platform, mount_root, [slot]) as (disc, inv, _rec):
        loops.attach(images["partitioned"], slot)
        await wait_until(lambda: titles(inv) == [title_of("partitioned")], what="the partition's option")
        await wait_until(lambda: {d.id for d in inv.devices()} == {f"{slot.name}p1", f"{slot.name}p2"}, what="both")
        (opt,) = inv.options()
        assert opt.device == f"{slot.name}p1"
        assert inv.device(f"{slot.name}p2") is not None and inv.device(f"{slot.name}p2").label == "PART2"  # type: ignore[union-attr]
        loops.detach(slot)
        await wait_until(lambda: inv.devices() == [], what="partitions gone")


async def test_devices_present_at_start_are_found(
    images: dict[str, Path], platform: Platform, loops: h.LoopFactory, mount_root: Path
) -> None:
    a = loops.attach(images["squashfs"])
    b = loops.attach(images["vfat"])
    h.settle()
    async with running(platform, mount_root, [a, b]) as (disc, inv, _rec):
        await disc.settled(30)
        assert titles(inv) == sorted([title_of("squashfs"), title_of("vfat")])
        await disc.rescan()
        await disc.settled(30)
        assert titles(inv) == sorted([title_of("squashfs"), title_of("vfat")])


async def test_device_pulled_during_scan_leaves_nothing(
    images: dict[str, Path], hostile: dict[str, Path], platform: Platform, loops: h.LoopFactory, mount_root: Path
) -> None:
    """Attach and detach at once, several times, with a slow-to-parse image and a quick one."""
    hashes = {k: h.sha256(p) for k, p in (("many", hostile["many"]), ("ext4", images["ext4"]))}
    slots = [loops.new() for _ in range(2)]
    async with running(platform, mount_root, slots) as (disc, inv, rec):
        for delay in (0.0, 0.05, 0.2, 0.5):
            loops.attach(hostile["many"], slots[0])
            loops.attach(images["ext4"], slots[1])
            await asyncio.sleep(delay)
            loops.detach(slots[0])
            loops.detach(slots[1])
            await wait_until(lambda: inv.devices() == [], what="devices gone after pull")
            await disc.settled(30)
            assert h.mounts_under(mount_root) == [], f"mount left after a pull at {delay} s"
        assert inv.options() == []
        assert not [m for s, m in rec.status if s is Severity.ERROR and "discovery failed" in m]
    for k, p in (("many", hostile["many"]), ("ext4", images["ext4"])):
        assert h.sha256(p) == hashes[k]


@pytest.fixture(scope="module")
def hostile(udev: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    d = tmp_path_factory.mktemp("hostile")
    out: dict[str, Path] = {}
    # 10,000 files in loader/entries
    src = d / "many.src"
    entries = src / "loader" / "entries"
    entries.mkdir(parents=True)
    for i in range(10_000):
        (entries / f"e{i:05d}.conf").write_text(h.bls_entry(f"many {i}"))
    out["many"] = h.make_ext4_from(d / "many.img", src, label="MANY", size_mb=96)
    # a FIFO where configs are, and a 1 GB sparse config file
    src = d / "traps.src"
    (src / "loader" / "entries").mkdir(parents=True)
    (src / "boot" / "grub").mkdir(parents=True)
    os.mkfifo(src / "loader" / "entries" / "fifo.conf")
    os.mkfifo(src / "boot" / "grub" / "grub.cfg")
    with (src / "loader" / "entries" / "huge.conf").open("wb") as f:
        f.truncate(1 << 30)
    (src / "syslinux").mkdir()
    with (src / "syslinux" / "syslinux.cfg").open("wb") as f:
        f.truncate(1 << 30)
    out["traps"] = h.make_ext4_from(d / "traps.img", src, label="TRAPS")
    # a corrupt filesystem: valid superblock, garbage group descriptors and inode tables
    corrupt = h.make_ext4(d / "corrupt.img", h.boot_tree("corrupt Linux"), label="CORRUPT")
    with corrupt.open("r+b") as f:
        f.seek(4096)
        f.write(b"\xa5" * (4 * 1024 * 1024))
    out["corrupt"] = corrupt
    yield out


async def test_hostile_devices_do_not_stall_the_others(
    images: dict[str, Path], hostile: dict[str, Path], platform: Platform, loops: h.LoopFactory, mount_root: Path
) -> None:
    kinds = ["corrupt", "many", "traps"]
    all_images = [hostile[k] for k in kinds] + [images["ext4"]]
    hashes = [h.sha256(p) for p in all_images]
    slots = [loops.new() for _ in all_images]
    async with running(platform, mount_root, slots, parse_timeout=20) as (disc, inv, rec):
        t0 = time.monotonic()
        for slot, image in zip(slots, all_images, strict=True):
            loops.attach(image, slot)
        good = slots[-1].name
        took = await wait_until(lambda: bool(inv.options_of(good)), timeout=10, what="the good device's option")
        assert inv.options_of(good)[0].name == title_of("ext4")
        await disc.settled(60)
        elapsed = time.monotonic() - t0
        assert took < 10 and elapsed < 60
        traps = inv.device(slots[2].name)
        assert traps is not None, rec.status
        assert inv.options_of(slots[2].name) == []
        many = inv.options_of(slots[1].name)
        assert len(many) > 0
        # the corrupt one: a status message names it, it offers nothing and no mount of it is left
        corrupt = slots[0].name
        said = [m for sev, m in rec.status if sev is Severity.WARNING and m.startswith(f"{corrupt}:")]
        assert len(said) == 1 and "cannot mount" in said[0], rec.status
        assert inv.options_of(corrupt) == []
        dev = inv.device(corrupt)
        assert dev is None or dev.mountpoint is None, dev
        assert [m for m in h.mounts_under(mount_root) if m.name == corrupt] == []
        assert not (mount_root / corrupt).exists(), "the failed mount point is removed"
        for slot in slots:
            loops.detach(slot)
        await wait_until(lambda: inv.devices() == [], what="all gone")
    for p, before in zip(all_images, hashes, strict=True):
        assert h.sha256(p) == before


async def test_luks_container_is_listed_locked_and_not_mounted(
    platform: Platform, loops: h.LoopFactory, mount_root: Path, tmp_path: Path
) -> None:
    uuid = "6a2c3e10-0f5b-4c1e-9b7a-2d4e8f1a3c55"
    image = h.make_luks_header(tmp_path / "luks.img", uuid)
    before = h.sha256(image)
    slot = loops.new()
    async with running(platform, mount_root, [slot]) as (disc, inv, rec):
        loops.attach(image, slot)
        await wait_until(lambda: inv.device(slot.name) is not None, what="the locked device")
        await disc.settled(10)
        dev = inv.device(slot.name)
        assert dev is not None and dev.uuid == uuid and dev.fstype == "crypto_LUKS"
        assert dev.prop("LOCKED") == "1" and dev.mountpoint is None
        assert inv.options_of(slot.name) == []
        assert h.mounts_under(mount_root) == []
        assert any("encrypted" in m for _, m in rec.status)
        loops.detach(slot)
        await wait_until(lambda: inv.device(slot.name) is None, what="the locked device to go")
    assert h.sha256(image) == before


async def test_mounts_left_by_a_crashed_run_are_cleaned_up_at_start(
    images: dict[str, Path], platform: Platform, loops: h.LoopFactory, mount_root: Path
) -> None:
    stale_loop = loops.attach(images["ext4"])
    stale = mount_root / stale_loop.name
    stale.mkdir()
    h.sh("mount", "-o", "ro,noload", stale_loop.node, stale)
    (mount_root / "empty-leftover").mkdir()
    async with running(platform, mount_root, []) as (disc, _inv, _rec):
        await disc.settled(10)
        assert h.mounts_under(mount_root) == []
        assert list(mount_root.iterdir()) == []


async def test_second_path_to_the_same_filesystem_is_skipped_then_takes_over(
    images: dict[str, Path], platform: Platform, loops: h.LoopFactory, mount_root: Path
) -> None:
    a = loops.new()
    b = loops.new()
    async with running(platform, mount_root, [a, b]) as (disc, inv, _rec):
        loops.attach(images["ext4"], a)
        await wait_until(lambda: inv.device(a.name) is not None, what="the first path")
        await disc.settled(10)
        loops.attach(images["ext4"], b)
        h.settle()
        await disc.settled(10)
        assert [d.id for d in inv.devices()] == [a.name], "the duplicate is not listed"
        assert titles(inv) == [title_of("ext4")]
        loops.detach(a)
        await wait_until(lambda: [d.id for d in inv.devices()] == [b.name], what="the second path to take over")
        await wait_until(lambda: titles(inv) == [title_of("ext4")], what="its option")
        loops.detach(b)
        await wait_until(lambda: inv.devices() == [], what="both gone")


async def test_busy_mount_is_detached_lazily_on_removal(
    images: dict[str, Path], platform: Platform, loops: h.LoopFactory, mount_root: Path
) -> None:
    """A file held open on the filesystem (an admin's shell, a running copy) does
    not keep a pulled device's mount alive: it is detached lazily."""
    slot = loops.new()
    async with running(platform, mount_root, [slot]) as (disc, inv, _rec):
        loops.attach(images["ext4"], slot)
        await wait_until(lambda: titles(inv) == [title_of("ext4")], what="the option after attach")
        dev = inv.device(slot.name)
        assert dev is not None and dev.mountpoint is not None
        target = Path(str(dev.mountpoint))
        opt = inv.options()[0]
        assert opt.kernel is not None and opt.kernel.path is not None
        fd = os.open(target / str(opt.kernel.path).lstrip("/"), os.O_RDONLY)
        try:
            # the plain unmount is refused while the file is open
            with pytest.raises(BootdError, match="busy"):
                await platform.block.umount(target)
            loops.detach(slot)
            await wait_until(lambda: inv.devices() == [], what="removal after detach")
            await disc.settled(10)
            await wait_until(lambda: h.mounts_under(mount_root) == [], what="the lazy unmount")
            assert not target.exists(), f"{target} left behind"
            assert os.read(fd, 7) == b"kernel:"  # the open file stays readable until it is closed
        finally:
            os.close(fd)
