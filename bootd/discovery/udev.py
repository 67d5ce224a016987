"""What a udev event means for discovery, and which block devices are boot sources.

The platform turns udev's events into :class:`BlockEvent` dataclasses; this
module reads udev's vocabulary (actions, ``DISK_EJECT_REQUEST``,
``DISK_MEDIA_CHANGE``, ``ID_FS_*``, ``ID_CDROM*``, device-mapper flags) and
decides, purely from an event and what discovery knows already, what to do:
:func:`interpret` classifies each event once into a :class:`Step`, with the
device's :class:`Decision` (mount and scan it, show it as a locked LUKS
container, activate LVM volume groups on it, or skip it: swap, RAID members,
loop devices unless asked for, disks without a filesystem).
:class:`bootd.discovery.manager.Discovery` only carries the step out.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bootd.model import Device, DeviceType
from bootd.platform.block import BACKING_DEVICES, BlockAction, BlockDevice, BlockEvent

SKIPPED_FSTYPES = frozenset({"swap", "linux_raid_member", "zfs_member", "bcache", "ceph", "isw_raid_member"})

# udev properties worth carrying into the model's Device.
KEPT_PROPERTIES = (
    "ID_BUS",
    "ID_MODEL",
    "ID_VENDOR",
    "ID_SERIAL",
    "ID_FS_VERSION",
    "ID_PART_ENTRY_NAME",
    "ID_PART_ENTRY_UUID",
    "ID_PART_ENTRY_TYPE",
    "ID_CDROM_MEDIA",
    "DEVTYPE",
)


NO_MEDIUM = "no medium"
NO_FILESYSTEM = "no filesystem"


class Action(StrEnum):
    SCAN = "scan"
    """Mount read-only and run the parsers."""
    LOCKED = "locked"
    """An encrypted container: listed, not opened."""
    LVM = "lvm"
    """An LVM physical volume: activate its volume group; the volumes appear themselves."""
    SKIP = "skip"


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str = ""


def device_type(dev: BlockDevice) -> DeviceType:
    if dev.flag("ID_CDROM"):
        return DeviceType.OPTICAL
    if dev.prop("ID_BUS") == "usb" or dev.prop("ID_USB_DRIVER"):
        return DeviceType.USB
    return DeviceType.DISK


def classify(dev: BlockDevice, *, scan_loop_devices: bool = False) -> Decision:
    """What to do with ``dev`` (pure: properties only)."""
    if dev.devtype not in ("disk", "partition"):
        return Decision(Action.SKIP, f"device type {dev.devtype}")
    if dev.name.startswith(("ram", "zram")):
        return Decision(Action.SKIP, "memory device")
    if dev.is_loop and not scan_loop_devices:
        return Decision(Action.SKIP, "loop device (loop devices are not scanned by default)")
    if dev.flag("DM_UDEV_DISABLE_OTHER_RULES_FLAG") or dev.flag("DM_SUSPENDED"):
        return Decision(Action.SKIP, "device-mapper device not ready")
    if dev.flag("ID_CDROM") and dev.directory is None and not dev.flag("ID_CDROM_MEDIA") and not dev.fstype:
        return Decision(Action.SKIP, NO_MEDIUM)
    fstype = dev.fstype
    if not fstype:
        return Decision(Action.SKIP, NO_FILESYSTEM)
    if fstype in SKIPPED_FSTYPES:
        return Decision(Action.SKIP, f"{fstype} is not a filesystem")
    if fstype == "crypto_LUKS":
        return Decision(Action.LOCKED, "encrypted (LUKS)")
    if fstype == "LVM2_member":
        return Decision(Action.LVM, "LVM physical volume")
    if dev.prop("ID_FS_USAGE") not in (None, "filesystem"):
        return Decision(Action.SKIP, f"{fstype} is not a filesystem")
    return Decision(Action.SCAN)


class Step(StrEnum):
    """What discovery does for one event."""

    REMOVE = "remove"
    """The device went away: forget it (and what is built on it)."""
    EJECT = "eject"
    """Someone wants the medium (eject button, ``losetup -d``): let go of what is mounted from it."""
    SKIP = "skip"
    """Not a boot source: forget it if it was one."""
    LVM = "lvm"
    """An LVM physical volume: activate volume groups."""
    ADD = "add"
    """A new boot source (to scan, or to list as locked)."""
    READD = "readd"
    """A known boot source whose filesystem or medium changed: remove, then add."""
    UNCHANGED = "unchanged"
    """A known boot source re-read by udev with nothing that matters changed."""


@dataclass(frozen=True)
class Meaning:
    step: Step
    decision: Decision
    """The device's classification (SCAN or LOCKED for ADD and READD)."""
    recheck: bool = False
    """An optical drive looked empty (or its medium unreadable) right after a
    media change: the drive may not have been ready yet, so ask it again
    (:class:`bootd.discovery.medium.MediumRecheck`)."""


def _facts(dev: BlockDevice) -> tuple[str | None, str | None, str | None, str | None]:
    return (dev.fstype, dev.uuid, dev.label, dev.node)


def interpret(
    event: BlockEvent, known: BlockDevice | None, *, scan_loop_devices: bool = False, mounted_seq: int | None = None
) -> Meaning:
    """The one classification of ``event``; ``known`` is the device as discovery last added it,
    ``mounted_seq`` the disk's sequence number when discovery mounted it (None: not mounted)."""
    dev = event.device
    if event.action is BlockAction.REMOVE:
        return Meaning(Step.REMOVE, Decision(Action.SKIP, "removed"))
    if is_eject_request(dev):
        return Meaning(Step.EJECT, Decision(Action.SKIP, "eject requested"))
    decision = classify(dev, scan_loop_devices=scan_loop_devices)
    if decision.action is Action.SKIP:
        not_ready = decision.reason in (NO_MEDIUM, NO_FILESYSTEM) and dev.flag("ID_CDROM")
        return Meaning(Step.SKIP, decision, recheck=not_ready and is_media_change(dev))
    if decision.action is Action.LVM:
        return Meaning(Step.LVM, decision)
    if known is not None and (_facts(known) != _facts(dev) or is_new_medium(dev, mounted_seq)):
        return Meaning(Step.READD, decision)
    if known is not None and event.action is BlockAction.CHANGE:
        return Meaning(Step.UNCHANGED, decision)
    return Meaning(Step.ADD, decision)


def backing_devices(dev: BlockDevice) -> frozenset[str]:
    """The devices ``dev`` is built on (a logical volume's physical volumes); empty for others."""
    return frozenset((dev.prop(BACKING_DEVICES) or "").split())


def is_media_change(dev: BlockDevice) -> bool:
    return dev.flag("DISK_MEDIA_CHANGE")


def is_new_medium(dev: BlockDevice, mounted_seq: int | None) -> bool:
    """Whether a media-change event may announce a medium other than the one mounted.

    Not when the mount came after the change: one insertion often brings two
    events (tray opened, medium loaded), and udev may probe the first one only
    once the medium is in, so both describe the medium already mounted.  The
    kernel numbers each change (``DISKSEQ``); a change numbered up to the
    disk's number at mount time was already there when it was mounted."""
    if not is_media_change(dev):
        return False
    try:
        seq = int(dev.prop("DISKSEQ") or "")
    except ValueError:
        return True
    return mounted_seq is None or seq > mounted_seq


def is_eject_request(dev: BlockDevice) -> bool:
    return dev.flag("DISK_EJECT_REQUEST")


def to_device(dev: BlockDevice, *, locked: bool = False) -> Device:
    """The model's Device for a block device (``mountpoint`` is added once mounted)."""
    props = [(k, v) for k in KEPT_PROPERTIES if (v := dev.prop(k)) is not None]
    if dev.parent:
        props.append(("PARENT", dev.parent))
    if locked:
        props.append(("LOCKED", "1"))
    return Device(
        id=dev.name,
        type=device_type(dev),
        node=dev.node,
        uuid=dev.uuid,
        label=dev.label,
        fstype=dev.fstype,
        properties=tuple(sorted(props)),
    )


class UuidTracker:
    """Spots a filesystem seen twice (multipath, a disk and its image): the
    first device with a UUID owns it; others with the same UUID are skipped."""

    def __init__(self) -> None:
        self._owner: dict[str, str] = {}

    def claim(self, dev: BlockDevice) -> str | None:
        """Claim ``dev``'s UUID; returns the owning device's name when it is a duplicate."""
        if not dev.uuid:
            return None
        key = f"{dev.fstype}:{dev.uuid}".lower()
        owner = self._owner.setdefault(key, dev.name)
        return owner if owner != dev.name else None

    def release(self, name: str) -> None:
        for key, owner in list(self._owner.items()):
            if owner == name:
                del self._owner[key]
