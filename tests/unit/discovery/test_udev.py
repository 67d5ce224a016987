"""Which block devices discovery scans, and as what (pure classification)."""

from __future__ import annotations

import pytest

from bootd.discovery.udev import (
    Action,
    Step,
    UuidTracker,
    classify,
    device_type,
    interpret,
    is_eject_request,
    to_device,
)
from bootd.model import DeviceType
from bootd.platform.block import BlockAction, BlockDevice, BlockEvent


def dev(name: str = "sda1", fstype: str | None = "ext4", devtype: str = "partition", **props: str) -> BlockDevice:
    p = dict(props)
    if fstype:
        p.setdefault("ID_FS_TYPE", fstype)
        p.setdefault("ID_FS_USAGE", "filesystem")
    return BlockDevice(
        name=name,
        node=f"/dev/{name}",
        devtype=devtype,
        fstype=fstype,
        uuid=p.get("ID_FS_UUID"),
        label=p.get("ID_FS_LABEL"),
        properties=tuple(sorted(p.items())),
    )


@pytest.mark.parametrize(
    ("device", "action"),
    [
        (dev(), Action.SCAN),
        (dev(fstype="swap", ID_FS_USAGE="other"), Action.SKIP),
        (dev(fstype="linux_raid_member", ID_FS_USAGE="raid"), Action.SKIP),
        (dev(fstype="LVM2_member", ID_FS_USAGE="raid"), Action.LVM),
        (dev(fstype="crypto_LUKS", ID_FS_USAGE="crypto"), Action.LOCKED),
        (dev(name="sda", fstype=None, devtype="disk", ID_PART_TABLE_TYPE="gpt"), Action.SKIP),
        (dev(name="md0", fstype="ext4", devtype="disk"), Action.SCAN),
        (dev(name="dm-0", fstype="xfs", devtype="disk"), Action.SCAN),
        (dev(name="loop64", fstype="ext4", devtype="disk"), Action.SKIP),
        (dev(name="zram0", fstype="swap", devtype="disk"), Action.SKIP),
        (dev(name="sr0", fstype=None, devtype="disk", ID_CDROM="1"), Action.SKIP),
        (dev(name="sr0", fstype="iso9660", devtype="disk", ID_CDROM="1", ID_CDROM_MEDIA="1"), Action.SCAN),
        (dev(name="dm-1", DM_UDEV_DISABLE_OTHER_RULES_FLAG="1"), Action.SKIP),
    ],
)
def test_classify(device: BlockDevice, action: Action) -> None:
    decision = classify(device)
    assert decision.action is action, decision
    if action is Action.SKIP:
        assert decision.reason


def test_loop_devices_only_when_asked() -> None:
    loop = dev(name="loop64", devtype="disk")
    part = BlockDevice(name="loop64p1", node="/dev/loop64p1", devtype="partition", fstype="ext4", parent="loop64")
    assert classify(loop).action is Action.SKIP
    assert classify(part).action is Action.SKIP
    assert classify(loop, scan_loop_devices=True).action is Action.SCAN
    assert classify(part, scan_loop_devices=True).action is Action.SCAN


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({}, DeviceType.DISK),
        ({"ID_BUS": "usb"}, DeviceType.USB),
        ({"ID_USB_DRIVER": "usb-storage", "ID_BUS": "scsi"}, DeviceType.USB),
        ({"ID_CDROM": "1", "ID_BUS": "usb"}, DeviceType.OPTICAL),
        ({"ID_BUS": "ata"}, DeviceType.DISK),
    ],
)
def test_device_type(props: dict[str, str], expected: DeviceType) -> None:
    assert device_type(dev(**props)) is expected


def test_to_device_carries_facts_and_marks_locked() -> None:
    d = to_device(dev(ID_FS_UUID="u-1", ID_FS_LABEL="L", ID_BUS="usb", ID_MODEL="Stick", SECRET="x"), locked=True)
    assert (d.id, d.type, d.uuid, d.label, d.fstype) == ("sda1", DeviceType.USB, "u-1", "L", "ext4")
    assert d.prop("ID_MODEL") == "Stick" and d.prop("LOCKED") == "1" and d.prop("SECRET") is None
    assert d.mountpoint is None


def test_duplicate_uuid_is_spotted_and_released() -> None:
    t = UuidTracker()
    a = dev("sda1", ID_FS_UUID="AAAA")
    b = dev("sdb1", ID_FS_UUID="aaaa")
    c = dev("sdc1", ID_FS_UUID="cccc")
    assert t.claim(a) is None
    assert t.claim(a) is None  # the owner itself again
    assert t.claim(b) == "sda1"
    assert t.claim(c) is None
    t.release("sda1")
    assert t.claim(b) is None
    assert t.claim(dev("sdd1")) is None  # no UUID: never a duplicate


def test_eject_request() -> None:
    assert is_eject_request(dev("sr0", DISK_EJECT_REQUEST="1"))
    assert not is_eject_request(dev("sr0"))


@pytest.mark.parametrize(
    ("action", "device", "known", "step", "decided"),
    [
        (BlockAction.REMOVE, dev(), dev(), Step.REMOVE, Action.SKIP),
        (BlockAction.CHANGE, dev(name="sr0", DISK_EJECT_REQUEST="1"), None, Step.EJECT, Action.SKIP),
        (BlockAction.ADD, dev(fstype="swap", ID_FS_USAGE="other"), None, Step.SKIP, Action.SKIP),
        (BlockAction.ADD, dev(fstype="LVM2_member", ID_FS_USAGE="raid"), None, Step.LVM, Action.LVM),
        (BlockAction.ADD, dev(), None, Step.ADD, Action.SCAN),
        (BlockAction.ADD, dev(fstype="crypto_LUKS", ID_FS_USAGE="crypto"), None, Step.ADD, Action.LOCKED),
        (BlockAction.CHANGE, dev(), dev(), Step.UNCHANGED, Action.SCAN),
        (BlockAction.CHANGE, dev(ID_FS_UUID="new"), dev(ID_FS_UUID="old"), Step.READD, Action.SCAN),
        (BlockAction.CHANGE, dev(DISK_MEDIA_CHANGE="1"), dev(), Step.READD, Action.SCAN),
        (BlockAction.ADD, dev(), dev(), Step.ADD, Action.SCAN),
    ],
)
def test_each_event_is_classified_once_into_one_step(
    action: BlockAction, device: BlockDevice, known: BlockDevice | None, step: Step, decided: Action
) -> None:
    meaning = interpret(BlockEvent(action, device), known)
    assert (meaning.step, meaning.decision.action) == (step, decided)


def test_a_loop_device_event_follows_the_loop_setting() -> None:
    loop = dev(name="loop3", devtype="disk")
    assert interpret(BlockEvent(BlockAction.ADD, loop), None).step is Step.SKIP
    assert interpret(BlockEvent(BlockAction.ADD, loop), None, scan_loop_devices=True).step is Step.ADD
