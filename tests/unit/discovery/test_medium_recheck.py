"""An optical drive that is not ready when its one media-change event is
probed (udev reports no medium, and no later event comes): discovery asks the
drive again through the platform, a bounded number of times, without holding
up other devices.  The sandbox drive behaves as a real one does: NOT READY for
a while after the change, then ready without an event of its own."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bootd.discovery.manager import Discovery
from bootd.discovery.udev import NO_MEDIUM, Step, interpret
from bootd.inventory import Inventory
from bootd.platform.block import BlockAction, BlockDevice, BlockEvent
from bootd.platform.sandbox_block import SandboxBlock
from tests.unit.discovery.test_sandbox_discovery import entry, sandbox_block_platform

MACHINE = """
[[device]]
id = "cd"
type = "optical"
fstype = "iso9660"
label = "CDTWO"

[[device]]
id = "late"
type = "disk"
fstype = "ext4"
plug_after = 0.3
"""


def make_machine(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "machine.toml").write_text(MACHINE)
    for dev, title in (("cd", "CD Linux"), ("late", "Late Linux")):
        entries = root / "devices" / dev / "loader" / "entries"
        entries.mkdir(parents=True)
        (entries / "a.conf").write_text(entry(title))
    return root


async def wait_until(what: str, cond: object, timeout: float = 10.0) -> None:
    assert callable(cond)
    for _ in range(int(timeout / 0.01)):
        if cond():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"not within {timeout} s: {what}")


def names(inv: Inventory) -> set[str]:
    return {o.name for o in inv.options()}


async def test_a_cd_the_drive_was_not_ready_for_is_found_by_asking_again(tmp_path: Path) -> None:
    platform = sandbox_block_platform(make_machine(tmp_path / "m"), tmp_path / "state")
    block = platform.block
    assert isinstance(block, SandboxBlock)
    inv = Inventory()
    delays = (0.05, 0.1, 0.2, 0.4, 0.8)
    disc = Discovery(platform, inv, mount_root=tmp_path / "mnt", medium_recheck=delays)
    await platform.parsers.start()
    await disc.start()
    await wait_until("the CD's option", lambda: "CD Linux" in names(inv))
    # another medium goes in: the drive is not ready when udev probes it, and ready 0.25 s later
    block.change_medium("cd", ready_after=0.25)
    await wait_until("the old CD gone", lambda: inv.device("cd") is None, 5)
    await wait_until("the CD found again", lambda: "CD Linux" in names(inv) and inv.device("cd") is not None, 5)
    cd = inv.device("cd")
    assert cd is not None and cd.label == "CDTWO" and cd.mountpoint is not None
    assert block.reprobes == {"cd": 1}, "udev was asked to read the drive again once it was ready"
    asked = block.status_reads["cd"]
    assert 1 <= asked < len(delays), block.status_reads
    # found: the drive is not asked again
    await asyncio.sleep(sum(delays))
    assert block.status_reads["cd"] == asked and block.reprobes == {"cd": 1}
    await disc.stop()


async def test_an_empty_drive_is_asked_a_bounded_number_of_times_and_never_holds_up_another_device(
    tmp_path: Path,
) -> None:
    platform = sandbox_block_platform(make_machine(tmp_path / "m"), tmp_path / "state")
    block = platform.block
    assert isinstance(block, SandboxBlock)
    inv = Inventory()
    delays = (0.2,) * 8
    disc = Discovery(platform, inv, mount_root=tmp_path / "mnt", medium_recheck=delays)
    await platform.parsers.start()
    await disc.start()
    # the medium is taken out (the tray stays open): the drive really has none
    block.change_medium("cd", ready_after=None)
    await wait_until("the disk plugged in meanwhile", lambda: "Late Linux" in names(inv))
    assert block.status_reads.get("cd", 0) < len(delays), "the other device waited for the drive's re-checks"
    # waiting for discovery to settle does not wait for the re-checks either
    await disc.settled(5)
    assert block.status_reads.get("cd", 0) < len(delays)
    await wait_until("every re-check", lambda: block.status_reads.get("cd") == len(delays), 10)
    await asyncio.sleep(0.5)
    assert block.status_reads["cd"] == len(delays), "asked again after the last pause"
    assert block.reprobes == {}, "an empty drive is not read again"
    assert inv.device("cd") is None and "CD Linux" not in names(inv)
    await disc.stop()


async def test_stopping_discovery_ends_the_re_checks(tmp_path: Path) -> None:
    platform = sandbox_block_platform(make_machine(tmp_path / "m"), tmp_path / "state")
    block = platform.block
    assert isinstance(block, SandboxBlock)
    disc = Discovery(platform, Inventory(), mount_root=tmp_path / "mnt", medium_recheck=(0.05,) * 20)
    await disc.start()
    block.change_medium("cd", ready_after=None)
    await wait_until("a first re-check", lambda: block.status_reads.get("cd", 0) >= 1)
    await disc.stop()
    asked = block.status_reads["cd"]
    await asyncio.sleep(0.3)
    assert block.status_reads["cd"] == asked


def _drive(**props: str) -> BlockDevice:
    return BlockDevice(name="sr0", node="/dev/sr0", properties=tuple(sorted(props.items())))


def test_only_a_media_change_that_left_an_optical_drive_looking_empty_is_rechecked() -> None:
    def meaning(dev: BlockDevice) -> tuple[Step, bool]:
        m = interpret(BlockEvent(BlockAction.CHANGE, dev), None)
        return m.step, m.recheck

    assert meaning(_drive(ID_CDROM="1", DISK_MEDIA_CHANGE="1")) == (Step.SKIP, True)
    # the medium is there but udev could not read its filesystem yet
    assert meaning(_drive(ID_CDROM="1", ID_CDROM_MEDIA="1", DISK_MEDIA_CHANGE="1")) == (Step.SKIP, True)
    # no media change: the drive was empty when discovery started, or a re-read found nothing yet
    assert meaning(_drive(ID_CDROM="1")) == (Step.SKIP, False)
    # an eject request is not a medium to look for
    assert meaning(_drive(ID_CDROM="1", DISK_EJECT_REQUEST="1", DISK_MEDIA_CHANGE="1"))[1] is False
    # not an optical drive
    assert meaning(_drive(DISK_MEDIA_CHANGE="1")) == (Step.SKIP, False)
    assert interpret(BlockEvent(BlockAction.CHANGE, _drive(ID_CDROM="1")), None).decision.reason == NO_MEDIUM
    # a medium that was found needs no re-check
    found = _drive(ID_CDROM="1", ID_CDROM_MEDIA="1", DISK_MEDIA_CHANGE="1", ID_FS_TYPE="iso9660")
    found = BlockDevice(name="sr0", node="/dev/sr0", fstype="iso9660", properties=found.properties)
    assert meaning(found) == (Step.ADD, False)


async def test_one_insertion_announced_twice_is_mounted_once(tmp_path: Path) -> None:
    """Tray opened, medium loaded: two media-change events, both probed by udev once
    the medium was in.  The second one's change was numbered before the mount, so the
    medium mounted is the one it announces: it is not mounted again.  A change after
    the mount still is."""
    platform = sandbox_block_platform(make_machine(tmp_path / "m"), tmp_path / "state")
    block = platform.block
    assert isinstance(block, SandboxBlock)
    inv = Inventory()
    disc = Discovery(platform, inv, mount_root=tmp_path / "mnt", medium_recheck=())
    await platform.parsers.start()
    await disc.start()
    await disc.settled(5)
    block.change_medium("cd", ready_after=None)  # the drive is emptied
    await wait_until("the CD gone", lambda: inv.device("cd") is None, 5)
    before = block.mounted["cd"]
    block.insert_medium("cd", events=2)
    await wait_until("the CD's option", lambda: "CD Linux" in names(inv), 5)
    await disc.settled(5)
    assert block.mounted["cd"] == before + 1
    # another medium, announced after the mount: read again
    block.insert_medium("cd", events=1)
    await wait_until("the CD mounted again", lambda: block.mounted["cd"] == before + 2, 5)
    await disc.settled(5)
    assert "CD Linux" in names(inv) and block.mounted["cd"] == before + 2
    await disc.stop()


def test_a_media_change_numbered_before_the_mount_is_no_new_medium() -> None:
    from bootd.discovery.udev import is_new_medium

    assert not is_new_medium(_drive(DISKSEQ="7", DISK_MEDIA_CHANGE="1"), 7)
    assert not is_new_medium(_drive(DISKSEQ="6", DISK_MEDIA_CHANGE="1"), 7)
    assert is_new_medium(_drive(DISKSEQ="8", DISK_MEDIA_CHANGE="1"), 7)
    # not mounted, or the kernel numbers nothing: any media change may be a new medium
    assert is_new_medium(_drive(DISKSEQ="7", DISK_MEDIA_CHANGE="1"), None)
    assert is_new_medium(_drive(DISK_MEDIA_CHANGE="1"), 7)
    assert not is_new_medium(_drive(DISKSEQ="9"), 7)
