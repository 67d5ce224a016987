"""Block devices on the real machine: udev (pyudev, imported lazily), loop
devices, read-only mounts through ``mount``/``umount`` and FUSE drivers.

udev objects are turned into :class:`BlockDevice` right here; nothing above
the platform sees pyudev.  Hotplug events come from pyudev's monitor thread
and are handed to the asyncio loop with ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import logging
import os
import re
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bootd.errors import BootdError, CommandError, MountError
from bootd.model import N_
from bootd.platform.block import (
    BACKING_DEVICES,
    BlockAction,
    BlockDevice,
    BlockEvent,
    EventCallback,
    LoopDevice,
    MediumStatus,
    MountEntry,
    checked_mount_options,
)
from bootd.platform.linux_loop import loop_add, loop_remove
from bootd.platform.run import Runner

log = logging.getLogger(__name__)

FUSE_DRIVERS: dict[str, tuple[str, ...]] = {
    "vfat": ("fusefat",),
    "msdos": ("fusefat",),
    "iso9660": ("fuseiso",),
}

_PROPERTY_KEYS_SKIP = frozenset({"DEVLINKS", "TAGS", "CURRENT_TAGS"})

# <linux/cdrom.h>: the drive-status ioctl and its answers
CDROM_DRIVE_STATUS = 0x5326
CDSL_CURRENT = 0x7FFFFFFF
_DRIVE_STATUS = {
    1: MediumStatus.ABSENT,  # CDS_NO_DISC
    2: MediumStatus.ABSENT,  # CDS_TRAY_OPEN
    3: MediumStatus.NOT_READY,  # CDS_DRIVE_NOT_READY
    4: MediumStatus.PRESENT,  # CDS_DISC_OK
}
MEDIUM_STATUS_TIMEOUT = 20.0
"""Seconds to wait for a drive's answer (the kernel may first re-read a changed medium)."""


def drive_status(node: str) -> MediumStatus:
    """The optical drive's own answer (``CDROM_DRIVE_STATUS``), read on a
    non-blocking open: that neither locks the tray nor needs a medium."""
    try:
        fd = os.open(node, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        log.debug("%s: cannot open it to ask for its medium: %s", node, e.strerror)
        return MediumStatus.ABSENT if e.errno == errno.ENOMEDIUM else MediumStatus.UNKNOWN
    try:
        answer = fcntl.ioctl(fd, CDROM_DRIVE_STATUS, CDSL_CURRENT)
    except OSError as e:
        log.debug("%s: no drive status: %s", node, e.strerror)
        return MediumStatus.UNKNOWN
    finally:
        os.close(fd)
    return _DRIVE_STATUS.get(int(answer), MediumStatus.UNKNOWN)


def _unescape(field: str) -> str:
    """Undo the octal escapes of /proc/self/mountinfo (``\\040`` for space)."""
    out = []
    i = 0
    while i < len(field):
        if field[i] == "\\" and i + 4 <= len(field) and field[i + 1 : i + 4].isdigit():
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def parse_mountinfo(text: str) -> list[MountEntry]:
    entries = []
    for line in text.splitlines():
        fields = line.split()
        try:
            sep = fields.index("-")
            entries.append(
                MountEntry(
                    source=_unescape(fields[sep + 2]),
                    target=Path(_unescape(fields[4])),
                    fstype=fields[sep + 1],
                    options=tuple(fields[5].split(",")),
                    devno=fields[2],
                )
            )
        except (ValueError, IndexError):
            continue
    return entries


def parse_export(text: str) -> dict[str, str]:
    """``KEY=VALUE`` lines (``blkid -o export``)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key.strip()] = value.strip()
    return out


def _backing_devices(name: str) -> list[str]:
    """Kernel names of the devices a device-mapper device is built on (its ``slaves`` in sysfs)."""
    try:
        return sorted(p.name for p in (Path("/sys/class/block") / name / "slaves").iterdir())
    except OSError:
        return []


def _to_block_device(dev: Any) -> BlockDevice:
    props: dict[str, str] = {}
    for key in dev.properties:
        if key in _PROPERTY_KEYS_SKIP:
            continue
        try:
            props[str(key)] = str(dev.properties[key])
        except (KeyError, UnicodeDecodeError):
            continue
    parent = None
    if dev.device_type == "partition":
        p = dev.find_parent("block")
        parent = str(p.sys_name) if p is not None else None
    if str(dev.sys_name).startswith("dm-") and (backing := _backing_devices(str(dev.sys_name))):
        props[BACKING_DEVICES] = " ".join(backing)
    return BlockDevice(
        name=str(dev.sys_name),
        node=str(dev.device_node) if dev.device_node else None,
        devtype=str(dev.device_type or "disk"),
        fstype=props.get("ID_FS_TYPE") or None,
        uuid=props.get("ID_FS_UUID") or None,
        label=props.get("ID_FS_LABEL") or None,
        parent=parent,
        properties=tuple(sorted(props.items())),
    )


class _AutoclearPoller:
    """Turns ``losetup -d`` on a loop device that is still in use into an eject
    request.  The kernel only marks such a device to be detached when its last
    user lets go, and sends no event; without this, a mount made by bootd
    would keep a loop device alive that its owner asked to detach."""

    INTERVAL = 0.2

    def __init__(self, loop: asyncio.AbstractEventLoop, callback: EventCallback) -> None:
        self.loop = loop
        self.callback = callback
        self.seen: set[tuple[str, str]] = set()
        self.handle: asyncio.TimerHandle | None = None
        self.stopped = False
        self._poll(initial=True)

    def _poll(self, *, initial: bool = False) -> None:
        if self.stopped:
            return
        # one request per attachment: a loop device's diskseq changes on every attach
        pending: set[tuple[str, str]] = set()
        for path in Path("/sys/block").glob("loop*/loop/autoclear"):
            block = path.parent.parent
            try:
                if path.read_text().strip() != "1":
                    continue
                seq = (block / "diskseq").read_text().strip() if (block / "diskseq").exists() else ""
            except OSError:
                continue
            pending.add((block.name, seq))
        if not initial:
            for name, _seq in sorted(pending - self.seen):
                props = (("DISK_EJECT_REQUEST", "1"),)
                dev = BlockDevice(name=name, node=f"/dev/{name}", devtype="disk", properties=props)
                self.callback(BlockEvent(BlockAction.CHANGE, dev))
        self.seen = pending
        self.handle = self.loop.call_later(self.INTERVAL, self._poll)

    def stop(self) -> None:
        self.stopped = True
        if self.handle is not None:
            self.loop.call_soon_threadsafe(self.handle.cancel)


class LinuxBlock:
    """:class:`~bootd.platform.block.BlockPlatform` on this machine."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self._context: Any = None

    def _udev(self) -> Any:
        if self._context is None:
            import pyudev

            self._context = pyudev.Context()
        return self._context

    # -- udev ------------------------------------------------------------
    def enumerate(self) -> list[BlockDevice]:
        out = []
        for dev in self._udev().list_devices(subsystem="block"):
            if not dev.is_initialized:
                continue
            out.append(_to_block_device(dev))
        return out

    def monitor(self, loop: asyncio.AbstractEventLoop, callback: EventCallback) -> Callable[[], None]:
        import pyudev

        mon = pyudev.Monitor.from_netlink(self._udev())
        mon.filter_by("block")
        mon.set_receive_buffer_size(8 * 1024 * 1024)

        def on_event(dev: Any) -> None:
            try:
                action = BlockAction(dev.action)
            except ValueError:
                return
            event = BlockEvent(action, _to_block_device(dev))
            try:
                loop.call_soon_threadsafe(callback, event)
            except RuntimeError:  # the loop closed while udev was talking
                pass

        observer = pyudev.MonitorObserver(mon, callback=on_event, name="bootd-udev")
        observer.start()
        poller = _AutoclearPoller(loop, callback)

        def stop() -> None:
            poller.stop()
            observer.send_stop()
            observer.join(timeout=5)

        return stop

    async def settle(self, timeout: float = 10.0) -> None:
        await self.runner.run(
            ["udevadm", "settle", f"--timeout={int(max(1, timeout))}"], check=False, timeout=timeout + 5
        )

    # -- probing ---------------------------------------------------------
    async def probe(self, node: str) -> BlockDevice | None:
        res = await self.runner.run(["blkid", "-p", "-o", "export", node], check=False, timeout=30)
        if not res.ok:
            return None
        facts = parse_export(res.stdout)
        name = Path(node).name
        sysfs = Path("/sys/class/block") / name
        partition = (sysfs / "partition").exists()
        parent = sysfs.resolve().parent.name if partition else None
        return BlockDevice(
            name=name,
            node=node,
            devtype="partition" if partition else "disk",
            fstype=facts.get("TYPE") or None,
            uuid=facts.get("UUID") or None,
            label=facts.get("LABEL") or None,
            parent=parent,
            properties=tuple(sorted(facts.items())),
        )

    async def medium_status(self, device: BlockDevice) -> MediumStatus:
        if device.node is None:
            return MediumStatus.UNKNOWN
        try:
            return await asyncio.wait_for(asyncio.to_thread(drive_status, device.node), MEDIUM_STATUS_TIMEOUT)
        except TimeoutError:
            log.info("%s: the drive did not say within %g s if it holds a medium", device.name, MEDIUM_STATUS_TIMEOUT)
            return MediumStatus.UNKNOWN

    async def reprobe(self, device: BlockDevice) -> None:
        # what ``udevadm trigger --action=change`` does: udev runs its rules again (cdrom_id, blkid)
        uevent = Path("/sys/class/block") / device.name / "uevent"
        log.debug("%s: asking udev to read it again", device.name)
        try:
            await asyncio.to_thread(uevent.write_text, "change")
        except OSError as e:
            log.info("%s: cannot ask udev to read it again: %s", device.name, e.strerror)

    def partitions(self, node: str) -> list[str]:
        name = Path(node).name
        sysfs = Path("/sys/class/block") / name
        try:
            children = sorted(p.name for p in sysfs.iterdir() if (p / "partition").exists())
        except OSError:
            return []
        return [f"/dev/{c}" for c in children]

    async def add_partitions(self, node: str) -> None:
        res = await self.runner.run(["partx", "-a", node], check=False, timeout=30)
        if not res.ok:
            log.debug("partx -a %s: %s", node, res.stderr.strip())

    async def activate_volume_groups(self) -> None:
        res = await self.runner.run(
            ["vgchange", "-ay", "--config", "global { metadata_read_only = 1 }"], check=False, timeout=60
        )
        if not res.ok:
            log.info("vgchange -ay: %s", res.stderr.strip())

    # -- loop devices ------------------------------------------------------
    async def attach_loop(self, image: Path) -> LoopDevice:
        number = await asyncio.to_thread(loop_add)
        node = f"/dev/loop{number}"
        loop = LoopDevice(node=node, name=f"loop{number}", image=image, created=True)
        try:
            await self.runner.run(["losetup", "-r", node, str(image)], timeout=30)
            await self.add_partitions(node)
        except BaseException:
            await self.detach_loop(loop)
            raise
        return loop

    async def detach_loop(self, loop: LoopDevice) -> None:
        if self.partitions(loop.node):
            await self.runner.run(["partx", "-d", loop.node], check=False, timeout=30)
        await self.runner.run(["losetup", "-d", loop.node], check=False, timeout=30)
        if loop.created:
            try:
                await asyncio.to_thread(loop_remove, int(loop.name.removeprefix("loop")))
            except OSError as e:
                log.warning("could not remove %s: %s", loop.node, e.strerror)

    # -- mounts ------------------------------------------------------------
    def kernel_filesystems(self) -> frozenset[str]:
        try:
            text = Path("/proc/filesystems").read_text()
        except OSError:
            return frozenset()
        return frozenset(line.split()[-1] for line in text.splitlines() if line.split())

    def fuse_driver(self, fstype: str) -> str | None:
        for prog in FUSE_DRIVERS.get(fstype, ()):
            if shutil.which(prog):
                return prog
        return None

    def mounts(self) -> list[MountEntry]:
        try:
            return parse_mountinfo(Path("/proc/self/mountinfo").read_text())
        except OSError:
            return []

    def devno(self, node: str) -> str | None:
        try:
            rdev = os.stat(node).st_rdev
        except OSError:
            return None
        return f"{os.major(rdev)}:{os.minor(rdev)}"

    def diskseq(self, device: BlockDevice) -> int | None:
        try:
            return int((Path("/sys/class/block") / device.name / "diskseq").read_text())
        except (OSError, ValueError):
            return None

    async def mount(self, device: BlockDevice, target: Path, fstype: str, options: Sequence[str] = ()) -> Path:
        if device.node is None:
            raise MountError.of(N_("{device}: has no device node"), device=device.name)
        opts = ",".join(checked_mount_options(options))
        try:
            await self.runner.run(["mount", "-r", "-t", fstype, "-o", opts, "--", device.node, str(target)], timeout=60)
        except CommandError as e:
            raise MountError.of(
                N_("{device}: cannot mount {fstype} read-only: {error}"),
                device=device.name,
                fstype=fstype,
                error=e.stderr.strip() or e,
            ) from None
        return target

    async def mount_fuse(self, device: BlockDevice, target: Path, driver: str) -> Path:
        if device.node is None:
            raise MountError.of(N_("{device}: has no device node"), device=device.name)
        if driver == "fuseiso":
            argv = [driver, device.node, str(target), "-o", "ro"]
        else:
            argv = [driver, "-o", "ro", device.node, str(target)]
        try:
            await self.runner.run(argv, timeout=60)
        except CommandError as e:
            raise MountError.of(
                N_("{device}: {driver} could not mount it: {error}"),
                device=device.name,
                driver=driver,
                error=e.stderr.strip() or e,
            ) from None
        return target

    async def umount(self, target: Path, *, lazy: bool = False) -> None:
        argv = ["umount", "-l", str(target)] if lazy else ["umount", str(target)]
        try:
            await self.runner.run(argv, timeout=60)
        except CommandError as e:
            raise MountError.of(
                N_("cannot unmount {target}: {error}"), target=target, error=e.stderr.strip() or e
            ) from None

    async def btrfs_default_subvolume(self, top: Path) -> str | None:
        if shutil.which("btrfs") is None:
            return None
        try:
            res = await self.runner.run(["btrfs", "subvolume", "get-default", str(top)], check=False, timeout=30)
        except BootdError as e:
            log.info("btrfs subvolume get-default %s: %s", top, e)
            return None
        return parse_get_default(res.stdout) if res.returncode == 0 else None

    def make_mountpoint(self, target: Path) -> None:
        target.mkdir(parents=True, exist_ok=True, mode=0o700)

    def remove_mountpoint(self, target: Path) -> None:
        try:
            target.rmdir()
        except FileNotFoundError:
            pass
        except OSError as e:
            log.warning("could not remove mount point %s: %s", target, e.strerror)


def parse_get_default(text: str) -> str | None:
    """The path in ``btrfs subvolume get-default``'s answer (``ID 258 gen 9 top
    level 257 path @/.snapshots/1/snapshot``); None for the top level (``ID 5 (FS_TREE)``)."""
    m = re.match(r"ID (\d+) .*? path (.+)$", text.strip())
    if m is None or m.group(1) == "5":
        return None
    return m.group(2)
