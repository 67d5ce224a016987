"""Read-only mounts of the devices discovery finds.

Every mount goes through the platform, which only mounts read-only.  On top
of that this module picks options that keep journals from being replayed
(``noload`` for ext3/ext4, ``norecovery`` for xfs, ``nologreplay`` for btrfs),
falls back to a FUSE driver where the kernel lacks a filesystem, reuses a
mount that already exists, and unmounts (lazily if busy) what it mounted.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from bootd.errors import BootdError, MountError
from bootd.model import N_
from bootd.platform.block import BlockDevice, BlockPlatform

log = logging.getLogger(__name__)

DEFAULT_MOUNT_ROOT = Path("/run/bootd/mnt")

# Options per filesystem that keep the kernel from writing anything.
MOUNT_OPTIONS: dict[str, tuple[str, ...]] = {
    "ext3": ("noload",),
    "ext4": ("noload",),
    "xfs": ("norecovery",),
    "btrfs": ("subvolid=5", "rescue=nologreplay"),
    "vfat": ("utf8",),
    "iso9660": (),
    "udf": (),
    "squashfs": (),
    "erofs": (),
    "ext2": (),
    "f2fs": ("norecovery",),
}

NOT_MOUNTABLE = frozenset({"swap", "crypto_LUKS", "LVM2_member", "linux_raid_member", "zfs_member", "bcache"})

# Where a boot configuration lives at the top of a filesystem.
_BOOT_MARKERS = ("boot", "loader", "EFI", "efi", "grub", "grub2", "syslinux", "isolinux", "extlinux", "etc")


def mount_options(fstype: str) -> tuple[str, ...]:
    return MOUNT_OPTIONS.get(fstype, ())


def mountpoint_name(device_name: str) -> str:
    """A directory name for a device: its kernel name, with nothing that could climb."""
    cleaned = re.sub(r"[^A-Za-z0-9._:@+-]", "_", device_name).lstrip(".")
    return cleaned or "device"


def has_boot_files(path: Path) -> bool:
    """Whether a directory holds a boot configuration's usual top directory."""
    try:
        return path.is_dir() and not path.is_symlink() and any((path / m).is_dir() for m in _BOOT_MARKERS)
    except OSError:
        return False


def btrfs_view_root(mountpoint: Path) -> Path:
    """Where boot files of a btrfs top level are: the ``@`` subvolume when the
    top level holds no boot files itself (``@/boot`` is found inside it)."""
    try:
        if any((mountpoint / m).is_dir() for m in _BOOT_MARKERS):
            return mountpoint
        sub = mountpoint / "@"
        if sub.is_dir():
            return sub
    except OSError:
        pass
    return mountpoint


@dataclass(frozen=True)
class Mounted:
    device: BlockDevice
    mountpoint: Path
    """Where the filesystem is mounted."""
    root: Path
    """Where its boot files are (a btrfs subvolume, or the mount point)."""
    owned: bool
    """Whether this process mounted it (and so unmounts it)."""
    fuse: bool = False
    nested: tuple[Path, ...] = ()
    """Mounts this process made inside the view (unmounted first)."""


class Mounter:
    """Mounts devices read-only under ``root`` and remembers what it mounted."""

    def __init__(self, block: BlockPlatform, root: Path = DEFAULT_MOUNT_ROOT) -> None:
        self.block = block
        self.root = root
        self._mounted: dict[str, Mounted] = {}
        self._created: set[Path] = set()
        """Mount points this process made and has not removed yet."""
        self._seqs: dict[str, int] = {}
        """Per device being mounted or mounted, the disk's sequence number read before its mount."""

    def mounted(self) -> dict[str, Mounted]:
        return dict(self._mounted)

    def diskseq(self, name: str) -> int | None:
        """The disk's sequence number read before device ``name`` was mounted, or
        before its mount that is under way (None: not mounted, or no number)."""
        return self._seqs.get(name)

    def target_for(self, device: BlockDevice) -> Path:
        return self.root / mountpoint_name(device.name)

    def _existing(self, device: BlockDevice) -> Path | None:
        if device.node is None:
            return None
        devno = self.block.devno(device.node)
        for entry in self.block.mounts():
            if entry.target.is_relative_to(self.root):
                continue
            if entry.source == device.node or (devno is not None and entry.devno == devno):
                return entry.target
        return None

    async def mount(self, device: BlockDevice) -> Mounted:
        """Mount ``device`` read-only (or reuse its mount); MountError says why not."""
        if device.name in self._mounted:
            return self._mounted[device.name]
        fstype = device.fstype
        if not fstype:
            raise MountError.of(N_("{device}: no filesystem found"), device=device.name)
        if fstype in NOT_MOUNTABLE:
            raise MountError.of(
                N_("{device}: {fstype} is not a filesystem bootd can read"), device=device.name, fstype=fstype
            )
        seq = self.block.diskseq(device)
        if seq is not None:
            self._seqs[device.name] = seq
        try:
            return await self._mount(device, fstype)
        except BaseException:
            self._seqs.pop(device.name, None)
            raise

    async def _mount(self, device: BlockDevice, fstype: str) -> Mounted:
        existing = self._existing(device)
        if existing is not None:
            log.info("%s: reusing its mount on %s", device.name, existing)
            root = btrfs_view_root(existing) if fstype == "btrfs" else existing
            m = Mounted(device, existing, root, owned=False)
            self._mounted[device.name] = m
            return m
        target = self.target_for(device)
        await self._release(target)
        self.block.make_mountpoint(target)
        self._created.add(target)
        fuse = False
        try:
            driver = None if fstype in self.block.kernel_filesystems() else self.block.fuse_driver(fstype)
            if driver is not None:
                where = await self.block.mount_fuse(device, target, driver)
                fuse = True
            else:
                where = await self.block.mount(device, target, fstype, mount_options(fstype))
        except BaseException as e:
            await self._release(target)
            if isinstance(e, MountError) and fstype not in self.block.kernel_filesystems() and not fuse:
                raise MountError.of(
                    N_("{device}: this kernel cannot mount {fstype} and no FUSE driver for it is installed"),
                    device=device.name,
                    fstype=fstype,
                ) from None
            raise
        root = await self._btrfs_root(where) if fstype == "btrfs" and not fuse else where
        nested: tuple[Path, ...] = ()
        if root != btrfs_view_root(where) and where == target:
            nested = await self._mount_snapshots(device, where, root)
        m = Mounted(device, where, root, owned=where == target, fuse=fuse, nested=nested)
        self._mounted[device.name] = m
        log.info("%s: mounted %s read-only on %s", device.name, fstype, where)
        return m

    async def _btrfs_root(self, top: Path) -> Path:
        """The default subvolume when the boot files are there (SUSE boots the
        snapshot ``set-default`` names, and its GRUB reads paths from it), else
        :func:`btrfs_view_root` of the top level."""
        default = await self.block.btrfs_default_subvolume(top)
        if default:
            parts = PurePosixPath(default).parts
            if parts and ".." not in parts and not PurePosixPath(default).is_absolute():
                candidate = top.joinpath(*parts)
                if has_boot_files(candidate):
                    return candidate
        return btrfs_view_root(top)

    async def _mount_snapshots(self, device: BlockDevice, top: Path, root: Path) -> tuple[Path, ...]:
        """Snapper's layout: the default subvolume is ``X/.snapshots/N/snapshot``
        and the other snapshots are in the subvolume ``X/.snapshots``, which the
        running system (fstab) and SUSE's GRUB (``btrfs-mount-subvol ($root)
        /.snapshots X/.snapshots``) put on the snapshot's empty ``/.snapshots``.
        bootd mounts it there too, read-only, so the snapshot entries' files are
        found.  Returns what was mounted."""
        rel = root.relative_to(top).parts
        if len(rel) < 3 or rel[-3] != ".snapshots" or rel[-1] != "snapshot":
            return ()
        subvol = "/".join(rel[:-2])
        if "," in subvol or "=" in subvol:
            return ()
        here = root / ".snapshots"
        try:
            if not (top / subvol).is_dir() or not here.is_dir() or any(here.iterdir()):
                return ()
        except OSError:
            return ()
        try:
            await self.block.mount(device, here, "btrfs", (f"subvol={subvol}", "rescue=nologreplay"))
        except BootdError as e:
            log.info("%s: %s not mounted on /.snapshots: %s", device.name, subvol, e)
            return ()
        return (here,)

    async def unmount(self, name: str) -> None:
        """Unmount what was mounted for device ``name``; never raises."""
        m = self._mounted.pop(name, None)
        self._seqs.pop(name, None)
        if m is not None and not m.owned:
            return
        for inner in reversed(m.nested if m is not None else ()):
            try:
                await self.block.umount(inner)
            except BootdError as e:
                log.warning("could not unmount %s: %s", inner, e)
        target = m.mountpoint if m is not None else self.root / mountpoint_name(name)
        await self._release(target)

    async def unmount_all(self) -> None:
        for name in list(self._mounted):
            await self.unmount(name)
        for target in sorted(self._created, reverse=True):
            await self._release(target)

    async def cleanup_stale(self) -> None:
        """Unmount and remove what a previous run left under the mount root."""
        for target in self._targets_under_root():
            log.warning("unmounting %s, left behind by an earlier run", target)
            await self._release(target)
        try:
            children = list(self.root.iterdir())
        except OSError:
            return
        for child in children:
            if child.is_dir() and not os.path.ismount(child):
                self.block.remove_mountpoint(child)

    def _targets_under_root(self) -> list[Path]:
        return sorted(
            {e.target for e in self.block.mounts() if e.target.is_relative_to(self.root) and e.target != self.root},
            reverse=True,
        )

    def _is_mounted(self, target: Path) -> bool:
        return any(e.target == target for e in self.block.mounts())

    async def _release(self, target: Path) -> None:
        """Unmount everything on ``target`` (lazily when busy) and remove the directory."""
        if not target.is_relative_to(self.root):
            return
        for _ in range(8):
            if not self._is_mounted(target):
                break
            try:
                await self.block.umount(target)
            except BootdError as e:
                log.info("%s is busy (%s); detaching it lazily", target, e)
                try:
                    await self.block.umount(target, lazy=True)
                except BootdError as e2:
                    log.warning("could not unmount %s: %s", target, e2)
                    return
        self.block.remove_mountpoint(target)
        self._created.discard(target)
