"""Block devices of a sandbox machine: each ``[[device]]`` directory stands in
for a filesystem.  ``plug_after``/``unplug_after`` become add/remove events on
the asyncio loop; "mounting" a device gives its directory, untouched, after
its ``scan_delay`` (how the tests make one device slower than another).
:meth:`SandboxBlock.change_medium` changes an optical drive's medium as a real
drive reports it: not ready at first, ready later without an event.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from bootd.errors import MountError, Unsupported
from bootd.model import N_, DeviceType
from bootd.platform.block import (
    BlockAction,
    BlockDevice,
    BlockEvent,
    EventCallback,
    LoopDevice,
    MediumStatus,
    MountEntry,
    checked_mount_options,
)
from bootd.platform.machine import MachineSpec, SandboxDevice
from bootd.platform.run import Runner

log = logging.getLogger(__name__)

_BLOCK_TYPES = (DeviceType.DISK, DeviceType.USB, DeviceType.OPTICAL)


def _to_block_device(dev: SandboxDevice) -> BlockDevice:
    props: dict[str, str] = {"ID_FS_TYPE": dev.fstype or "ext4"}
    if dev.type is DeviceType.USB:
        props["ID_BUS"] = "usb"
    elif dev.type is DeviceType.OPTICAL:
        props["ID_CDROM"] = "1"
        props["ID_CDROM_MEDIA"] = "1"
    if dev.uuid:
        props["ID_FS_UUID"] = dev.uuid
    if dev.label:
        props["ID_FS_LABEL"] = dev.label
    return BlockDevice(
        name=dev.id,
        node=dev.node,
        devtype="partition",
        fstype=dev.fstype or "ext4",
        uuid=dev.uuid,
        label=dev.label,
        properties=tuple(sorted(props.items())),
        directory=dev.dir,
    )


def _empty_drive(dev: SandboxDevice, *, media_change: bool) -> BlockDevice:
    """An optical drive as udev reports it when it found no medium."""
    props = {"ID_CDROM": "1", **({"DISK_MEDIA_CHANGE": "1"} if media_change else {})}
    return BlockDevice(name=dev.id, node=dev.node, devtype="disk", properties=tuple(sorted(props.items())))


class SandboxBlock:
    """:class:`~bootd.platform.block.BlockPlatform` over a sandbox machine."""

    def __init__(self, spec: MachineSpec, runner: Runner, state_dir: Path) -> None:
        self.spec = spec
        self.runner = runner
        self.state_dir = state_dir
        self._devices = [d for d in spec.devices if d.type in _BLOCK_TYPES]
        self._delays = {d.id: d.scan_delay for d in self._devices if d.scan_delay > 0}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._callback: EventCallback | None = None
        self._ready_at: dict[str, float | None] = {}
        """Optical drives whose medium changed: when the drive is ready (None: no medium)."""
        self.status_reads: dict[str, int] = {}
        """How often each drive was asked for its medium (tests read it)."""
        self.reprobes: dict[str, int] = {}
        """How often each device was read again (tests read it)."""
        self._seq: dict[str, int] = {}
        self.mounted: dict[str, int] = {}
        """How often each device was mounted (tests read it)."""
        self._after_mount: dict[str, list[BlockEvent]] = {}
        """Events udev delivers once the device is mounted (see :meth:`insert_medium`)."""

    def enumerate(self) -> list[BlockDevice]:
        return [_to_block_device(d) for d in self._devices if d.plug_after is None]

    def monitor(self, loop: asyncio.AbstractEventLoop, callback: EventCallback) -> Callable[[], None]:
        self._loop, self._callback = loop, callback
        handles: list[asyncio.TimerHandle] = []
        for dev in self._devices:
            bdev = _to_block_device(dev)
            if dev.plug_after is not None:
                handles.append(loop.call_later(dev.plug_after, callback, BlockEvent(BlockAction.ADD, bdev)))
            if dev.unplug_after is not None:
                handles.append(loop.call_later(dev.unplug_after, callback, BlockEvent(BlockAction.REMOVE, bdev)))

        def stop() -> None:
            self._callback = None
            for h in handles:
                h.cancel()

        return stop

    async def settle(self, timeout: float = 10.0) -> None:
        return None

    async def probe(self, node: str) -> BlockDevice | None:
        for dev in self._devices:
            if dev.node == node:
                return _to_block_device(dev)
        return None

    def _device(self, name: str) -> SandboxDevice:
        for dev in self._devices:
            if dev.id == name:
                return dev
        raise KeyError(name)

    def change_medium(self, name: str, *, ready_after: float | None) -> None:
        """Put a medium in optical drive ``name`` as a real drive reports it: the one
        media-change event comes while the drive is not ready yet (udev finds no
        medium); it is ready ``ready_after`` seconds later and says so only when
        asked.  ``ready_after=None``: the drive holds no medium."""
        if self._loop is None or self._callback is None:
            raise RuntimeError("change_medium needs a running monitor")
        dev = self._device(name)
        self._ready_at[name] = None if ready_after is None else self._loop.time() + ready_after
        self._callback(BlockEvent(BlockAction.CHANGE, self._numbered(_empty_drive(dev, media_change=True))))

    def insert_medium(self, name: str, *, events: int = 2) -> None:
        """Load a medium into optical drive ``name`` as a slow udev reports it: the
        kernel numbers ``events`` media changes (tray opened, medium loaded) at once,
        and udev probes each of them only once the medium is in; the first event
        comes now, the others while discovery reads the medium (after its mount)."""
        if self._loop is None or self._callback is None:
            raise RuntimeError("insert_medium needs a running monitor")
        dev = self._device(name)
        self._ready_at.pop(name, None)
        first = self._seq.get(name, 1) + 1
        self._seq[name] = first + events - 1
        seen = []
        for seq in range(first, first + events):
            props = (*_to_block_device(dev).properties, ("DISKSEQ", str(seq)), ("DISK_MEDIA_CHANGE", "1"))
            seen.append(BlockEvent(BlockAction.CHANGE, replace(_to_block_device(dev), properties=tuple(sorted(props)))))
        self._callback(seen[0])
        self._after_mount.setdefault(name, []).extend(seen[1:])

    def _numbered(self, dev: BlockDevice) -> BlockDevice:
        """``dev`` with a new sequence number when its event is a media change."""
        if not dev.flag("DISK_MEDIA_CHANGE"):
            return dev
        self._seq[dev.name] = seq = self._seq.get(dev.name, 1) + 1
        return replace(dev, properties=tuple(sorted((*dev.properties, ("DISKSEQ", str(seq))))))

    def diskseq(self, device: BlockDevice) -> int | None:
        return self._seq.get(device.name, 1)

    def _ready(self, name: str) -> bool:
        if name not in self._ready_at:
            return True
        at = self._ready_at[name]
        return at is not None and self._loop is not None and self._loop.time() >= at

    async def medium_status(self, device: BlockDevice) -> MediumStatus:
        self.status_reads[device.name] = self.status_reads.get(device.name, 0) + 1
        try:
            dev = self._device(device.name)
        except KeyError:
            return MediumStatus.UNKNOWN
        if dev.type is not DeviceType.OPTICAL:
            return MediumStatus.UNKNOWN
        if self._ready(dev.id):
            return MediumStatus.PRESENT
        return MediumStatus.ABSENT if self._ready_at.get(dev.id) is None else MediumStatus.NOT_READY

    async def reprobe(self, device: BlockDevice) -> None:
        self.reprobes[device.name] = self.reprobes.get(device.name, 0) + 1
        try:
            dev = self._device(device.name)
        except KeyError:
            return
        seen = _to_block_device(dev) if self._ready(dev.id) else _empty_drive(dev, media_change=False)
        if self._loop is not None and self._callback is not None:
            self._loop.call_soon(self._callback, BlockEvent(BlockAction.CHANGE, seen))

    def partitions(self, node: str) -> list[str]:
        return []

    async def add_partitions(self, node: str) -> None:
        return None

    async def activate_volume_groups(self) -> None:
        await self.runner.run(["vgchange", "-ay"])  # recorded, not run

    async def attach_loop(self, image: Path) -> LoopDevice:
        raise Unsupported.of(
            N_("{image}: a sandbox machine cannot attach image files; give a directory instead"), image=image
        )

    async def detach_loop(self, loop: LoopDevice) -> None:
        return None

    def kernel_filesystems(self) -> frozenset[str]:
        return frozenset(d.fstype or "ext4" for d in self._devices)

    def fuse_driver(self, fstype: str) -> str | None:
        return None

    def mounts(self) -> list[MountEntry]:
        return []

    def devno(self, node: str) -> str | None:
        return None

    async def mount(self, device: BlockDevice, target: Path, fstype: str, options: Sequence[str] = ()) -> Path:
        checked_mount_options(options)
        if device.directory is None or not device.directory.is_dir():
            raise MountError.of(
                N_("{device}: its directory {directory} does not exist"), device=device.name, directory=device.directory
            )
        self.mounted[device.name] = self.mounted.get(device.name, 0) + 1
        if self._loop is not None and self._callback is not None:
            for event in self._after_mount.pop(device.name, []):
                self._loop.call_soon(self._callback, event)
        delay = self._delays.get(device.name)
        if delay:
            await asyncio.sleep(delay)
        return device.directory

    async def mount_fuse(self, device: BlockDevice, target: Path, driver: str) -> Path:
        return await self.mount(device, target, device.fstype or "", ())

    async def umount(self, target: Path, *, lazy: bool = False) -> None:
        return None

    async def btrfs_default_subvolume(self, top: Path) -> str | None:
        return None

    def make_mountpoint(self, target: Path) -> None:
        return None

    def remove_mountpoint(self, target: Path) -> None:
        return None
