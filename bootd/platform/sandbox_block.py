"""Block devices of a sandbox machine: each ``[[device]]`` directory stands in
for a filesystem.  ``plug_after``/``unplug_after`` become add/remove events on
the asyncio loop; "mounting" a device gives its directory, untouched, after
its ``scan_delay`` (how the tests make one device slower than another).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from bootd.errors import MountError, Unsupported
from bootd.model import DeviceType
from bootd.platform.block import (
    BlockAction,
    BlockDevice,
    BlockEvent,
    EventCallback,
    LoopDevice,
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


class SandboxBlock:
    """:class:`~bootd.platform.block.BlockPlatform` over a sandbox machine."""

    def __init__(self, spec: MachineSpec, runner: Runner, state_dir: Path) -> None:
        self.spec = spec
        self.runner = runner
        self.state_dir = state_dir
        self._devices = [d for d in spec.devices if d.type in _BLOCK_TYPES]
        self._delays = {d.id: d.scan_delay for d in self._devices if d.scan_delay > 0}

    def enumerate(self) -> list[BlockDevice]:
        return [_to_block_device(d) for d in self._devices if d.plug_after is None]

    def monitor(self, loop: asyncio.AbstractEventLoop, callback: EventCallback) -> Callable[[], None]:
        handles: list[asyncio.TimerHandle] = []
        for dev in self._devices:
            bdev = _to_block_device(dev)
            if dev.plug_after is not None:
                handles.append(loop.call_later(dev.plug_after, callback, BlockEvent(BlockAction.ADD, bdev)))
            if dev.unplug_after is not None:
                handles.append(loop.call_later(dev.unplug_after, callback, BlockEvent(BlockAction.REMOVE, bdev)))

        def stop() -> None:
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

    def partitions(self, node: str) -> list[str]:
        return []

    async def add_partitions(self, node: str) -> None:
        return None

    async def activate_volume_groups(self) -> None:
        await self.runner.run(["vgchange", "-ay"])  # recorded, not run

    async def attach_loop(self, image: Path) -> LoopDevice:
        raise Unsupported(f"{image}: a sandbox machine cannot attach image files; give a directory instead")

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
            raise MountError(f"{device.name}: its directory {device.directory} does not exist")
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
