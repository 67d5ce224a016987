"""Block devices: enumerate, follow hotplug, attach images, mount read-only.

The Protocol every implementation (``linux_block``, ``sandbox_block``) meets,
and the frozen dataclasses that cross it: udev's objects never leave the
platform, they become :class:`BlockDevice` at the edge.

Mounting is read-only by construction: :meth:`BlockPlatform.mount` takes
extra options but refuses any that could make a mount writable, and always
passes ``ro`` itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from bootd.errors import InvalidArgument
from bootd.model import N_, Record, record

_set = object.__setattr__

if TYPE_CHECKING:
    import asyncio


class BlockAction(StrEnum):
    ADD = "add"
    CHANGE = "change"
    REMOVE = "remove"


BACKING_DEVICES = "BACKING_DEVICES"
"""Property of a device-mapper device (a logical volume): the kernel names of the
devices it is built on, space-separated.  Set by the platform, not by udev."""


@record
class BlockDevice(Record):
    """One block device as udev (or a sandbox machine) describes it."""

    name: str
    """Kernel name: ``sda2``, ``loop64p1``, ``dm-0``; also the device id."""
    node: str | None = None
    devtype: str = "disk"
    """``disk`` or ``partition``."""
    fstype: str | None = None
    """``ID_FS_TYPE``: ``ext4``, ``vfat``, ``crypto_LUKS``, ``LVM2_member``…"""
    uuid: str | None = None
    label: str | None = None
    parent: str | None = None
    """Kernel name of the whole disk a partition belongs to."""
    properties: tuple[tuple[str, str], ...] = ()
    """udev properties (``ID_BUS``, ``ID_CDROM``, ``DISK_MEDIA_CHANGE``…)."""
    directory: Path | None = None
    """Set when the device's files are already readable in a directory (sandbox)."""

    def __init__(
        self,
        name: str,
        node: str | None = None,
        devtype: str = "disk",
        fstype: str | None = None,
        uuid: str | None = None,
        label: str | None = None,
        parent: str | None = None,
        properties: tuple[tuple[str, str], ...] = (),
        directory: Path | None = None,
    ) -> None:
        _set(self, "name", name)
        _set(self, "node", node)
        _set(self, "devtype", devtype)
        _set(self, "fstype", fstype)
        _set(self, "uuid", uuid)
        _set(self, "label", label)
        _set(self, "parent", parent)
        _set(self, "properties", properties)
        _set(self, "directory", directory)

    def prop(self, key: str, default: str | None = None) -> str | None:
        for k, v in self.properties:
            if k == key:
                return v
        return default

    def flag(self, key: str) -> bool:
        return self.prop(key, "0") not in ("0", "", None)

    @property
    def is_loop(self) -> bool:
        return self.name.startswith("loop") or (self.parent or "").startswith("loop")


class MediumStatus(StrEnum):
    """What a drive with removable media says about its medium right now."""

    PRESENT = "present"
    ABSENT = "absent"
    """No medium, or the tray is open."""
    NOT_READY = "not-ready"
    """A medium is there but the drive cannot read it yet (spinning up)."""
    UNKNOWN = "unknown"
    """The drive cannot say (no such query for this device)."""


@record
class BlockEvent(Record):
    action: BlockAction
    device: BlockDevice

    def __init__(
        self,
        action: BlockAction,
        device: BlockDevice,
    ) -> None:
        _set(self, "action", action)
        _set(self, "device", device)


@record
class MountEntry(Record):
    """One line of ``/proc/self/mountinfo``."""

    source: str
    target: Path
    fstype: str
    options: tuple[str, ...]
    devno: str
    """``major:minor`` of the mounted device."""

    def __init__(
        self,
        source: str,
        target: Path,
        fstype: str,
        options: tuple[str, ...],
        devno: str,
    ) -> None:
        _set(self, "source", source)
        _set(self, "target", target)
        _set(self, "fstype", fstype)
        _set(self, "options", options)
        _set(self, "devno", devno)

    @property
    def read_only(self) -> bool:
        return "ro" in self.options


@record
class LoopDevice(Record):
    """A loop device attached read-only to an image file."""

    node: str
    name: str
    image: Path
    created: bool
    """Whether the platform created the node (and removes it on detach)."""

    def __init__(
        self,
        node: str,
        name: str,
        image: Path,
        created: bool,
    ) -> None:
        _set(self, "node", node)
        _set(self, "name", name)
        _set(self, "image", image)
        _set(self, "created", created)


EventCallback = Callable[[BlockEvent], None]

# Options that could make a mount writable or otherwise unsafe; never accepted.
FORBIDDEN_MOUNT_OPTIONS = frozenset({"rw", "remount", "bind", "rbind", "move", "suid", "dev", "exec"})
SAFE_DEFAULT_OPTIONS = ("ro", "nodev", "nosuid", "noexec")


def checked_mount_options(options: Sequence[str]) -> tuple[str, ...]:
    """``ro`` plus the caller's options; InvalidArgument for any writable one."""
    out = list(SAFE_DEFAULT_OPTIONS)
    for opt in options:
        for part in opt.split(","):
            key = part.strip()
            if not key:
                continue
            if key.split("=", 1)[0].lower() in FORBIDDEN_MOUNT_OPTIONS:
                raise InvalidArgument.of(
                    N_("mount option {option} is not allowed: bootd mounts read-only only"), option=repr(key)
                )
            if key not in out:
                out.append(key)
    return tuple(out)


class BlockPlatform(Protocol):
    """Block-device side effects."""

    def enumerate(self) -> list[BlockDevice]:
        """Every initialised block device now present."""
        ...

    def monitor(self, loop: asyncio.AbstractEventLoop, callback: EventCallback) -> Callable[[], None]:
        """Call ``callback`` on ``loop`` for every add/change/remove; returns the stop function."""
        ...

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait until the device manager has processed pending events."""
        ...

    async def probe(self, node: str) -> BlockDevice | None:
        """Filesystem facts of one node read directly (blkid), without udev."""
        ...

    async def medium_status(self, device: BlockDevice) -> MediumStatus:
        """Ask a drive with removable media (an optical drive) whether it holds a medium now."""
        ...

    async def reprobe(self, device: BlockDevice) -> None:
        """Ask the device manager to read ``device`` again: a change event follows
        with what it finds (its medium and filesystem)."""
        ...

    def partitions(self, node: str) -> list[str]:
        """Nodes of the partitions of a whole-disk node, as the kernel knows them."""
        ...

    async def add_partitions(self, node: str) -> None:
        """Tell the kernel about a disk's partitions (``partx -a``)."""
        ...

    async def activate_volume_groups(self) -> None:
        """``vgchange -ay``: make logical volumes on new physical volumes appear."""
        ...

    async def attach_loop(self, image: Path) -> LoopDevice:
        """Attach ``image`` read-only on a new loop device (partitions added too)."""
        ...

    async def detach_loop(self, loop: LoopDevice) -> None: ...

    def kernel_filesystems(self) -> frozenset[str]:
        """Filesystem types the running kernel can mount."""
        ...

    def fuse_driver(self, fstype: str) -> str | None:
        """The installed FUSE program that reads ``fstype``, if any."""
        ...

    def mounts(self) -> list[MountEntry]: ...

    def devno(self, node: str) -> str | None:
        """``major:minor`` of a block device node."""
        ...

    def diskseq(self, device: BlockDevice) -> int | None:
        """The kernel's sequence number of the disk's current medium (it grows with
        every media change, and events carry it as ``DISKSEQ``); None if unknown."""
        ...

    async def mount(self, device: BlockDevice, target: Path, fstype: str, options: Sequence[str] = ()) -> Path:
        """Mount ``device`` read-only on ``target``; returns where its files are."""
        ...

    async def mount_fuse(self, device: BlockDevice, target: Path, driver: str) -> Path:
        """Mount ``device`` read-only with a FUSE driver; returns where its files are."""
        ...

    async def umount(self, target: Path, *, lazy: bool = False) -> None: ...

    async def btrfs_default_subvolume(self, top: Path) -> str | None:
        """The path (from the top level) of the default subvolume of the btrfs
        mounted at its top level on ``top``; None when it is the top level or unknown."""
        ...

    def make_mountpoint(self, target: Path) -> None: ...

    def remove_mountpoint(self, target: Path) -> None: ...
