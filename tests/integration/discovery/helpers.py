"""Real filesystem images and loop devices for discovery tests (reusable by
other areas: ``from tests.integration.discovery.helpers import ...``).

Loop devices are created by number (64 and up) through LOOP_CTL_ADD and only
those are ever detached or removed; images are built in a temporary directory.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bootd.platform.linux_block import parse_mountinfo
from bootd.platform.linux_loop import loop_add, loop_remove

MiB = 1024 * 1024


def sh(*argv: str | Path, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    r = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=timeout, check=False)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, argv))} failed ({r.returncode}): {r.stderr.strip()}")
    return r


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def bls_entry(title: str, kernel: str = "/vmlinuz", initrd: str = "/initrd.img", args: str = "quiet") -> str:
    return f"title {title}\nlinux {kernel}\ninitrd {initrd}\noptions {args}\n"


def write_tree(root: Path, files: Mapping[str, str | bytes]) -> None:
    for rel, content in files.items():
        p = root / rel.lstrip("/")
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content)


def boot_tree(title: str) -> dict[str, str | bytes]:
    """A minimal bootable-looking tree: one BLS entry, a kernel and an initrd."""
    return {
        "loader/entries/entry.conf": bls_entry(title),
        "vmlinuz": b"kernel:" + title.encode(),
        "initrd.img": b"initrd:" + title.encode(),
    }


# -- loop devices --------------------------------------------------------------
@dataclass
class Loop:
    number: int
    image: Path | None = None

    @property
    def name(self) -> str:
        return f"loop{self.number}"

    @property
    def node(self) -> str:
        return f"/dev/loop{self.number}"

    def partitions(self) -> list[str]:
        base = Path("/sys/block") / self.name
        try:
            return sorted(p.name for p in base.iterdir() if (p / "partition").exists())
        except OSError:
            return []


@dataclass
class LoopFactory:
    """Creates loop devices numbered 64 and up and removes exactly those."""

    created: list[Loop] = field(default_factory=list)

    def new(self) -> Loop:
        loop = Loop(loop_add())
        self.created.append(loop)
        return loop

    def attach(self, image: Path, loop: Loop | None = None, *, read_only: bool = True) -> Loop:
        loop = loop or self.new()
        argv: list[str | Path] = ["losetup", *(["-r"] if read_only else []), loop.node, image]
        # A slot detached while bootd still had it mounted is released by the
        # kernel only after the last close (bootd's unmount, udev's probe of the
        # change): until then the node answers "busy".  Wait for that, briefly.
        for attempt in range(100):
            r = sh(*argv, check=False)
            if r.returncode == 0:
                break
            if "busy" not in r.stderr.lower() or attempt == 99:
                raise AssertionError(f"{' '.join(map(str, argv))} failed ({r.returncode}): {r.stderr.strip()}")
            time.sleep(0.1)
        loop.image = image
        sh("partx", "-a", loop.node, check=False)
        return loop

    def detach(self, loop: Loop) -> None:
        if loop.partitions():
            sh("partx", "-d", loop.node, check=False)
        sh("losetup", "-d", loop.node, check=False)
        loop.image = None

    def remove(self, loop: Loop) -> None:
        if loop.image is not None:
            self.detach(loop)
        try:
            loop_remove(loop.number)
        except OSError:
            time.sleep(0.5)
            loop_remove(loop.number)
        if loop in self.created:
            self.created.remove(loop)

    def cleanup(self) -> None:
        for loop in list(self.created):
            try:
                self.remove(loop)
            except OSError:
                pass


# -- mounts --------------------------------------------------------------------
def mounts_under(root: Path) -> list[Path]:
    entries = parse_mountinfo(Path("/proc/self/mountinfo").read_text())
    return [e.target for e in entries if e.target.is_relative_to(root)]


def force_unmount_under(root: Path) -> None:
    for target in sorted(mounts_under(root), reverse=True):
        sh("umount", "-l", target, check=False)


# -- images ----------------------------------------------------------------------
def _populate_rw(image: Path, loops: LoopFactory, fill: Callable[[Path], None], fstype: str) -> None:
    """Mount ``image`` read-write on a test loop device, let ``fill`` write it, unmount."""
    mnt = Path(str(image) + ".mnt")
    mnt.mkdir(exist_ok=True)
    loop = loops.attach(image, read_only=False)
    try:
        sh("mount", "-t", fstype, loop.node, mnt)
        try:
            fill(mnt)
        finally:
            sh("umount", mnt)
    finally:
        loops.remove(loop)
        mnt.rmdir()


def make_ext4(path: Path, tree: Mapping[str, str | bytes], *, label: str, size_mb: int = 32) -> Path:
    src = Path(str(path) + ".src")
    write_tree(src, tree)
    make_ext4_from(path, src, label=label, size_mb=size_mb)
    shutil.rmtree(src)
    return path


def make_ext4_from(path: Path, src: Path, *, label: str, size_mb: int = 32) -> Path:
    with path.open("wb") as f:
        f.truncate(size_mb * MiB)
    sh("mkfs.ext4", "-q", "-F", "-L", label, "-d", src, path)
    return path


def make_dirty_ext4(path: Path, tree: Mapping[str, str | bytes], *, label: str, loops: LoopFactory) -> Path:
    """An ext4 image whose journal needs recovery (written, then shut down without checkpoint)."""
    make_ext4(path, tree, label=label)

    def fill(mnt: Path) -> None:
        (mnt / "journalled").mkdir()
        for i in range(20):
            (mnt / "journalled" / f"f{i}").write_text("x" * 4096)
        os.sync()
        sh("xfs_io", "-x", "-c", "shutdown", mnt)

    _populate_rw(path, loops, fill, "ext4")
    features = sh("dumpe2fs", "-h", path).stdout
    assert "needs_recovery" in features, "the image's journal is not dirty"
    return path


def make_btrfs_subvol(path: Path, tree: Mapping[str, str | bytes], *, label: str, loops: LoopFactory) -> Path:
    """btrfs whose boot files are in the ``@`` subvolume, under ``/boot`` (a nested ``@/boot`` subvolume)."""
    with path.open("wb") as f:
        f.truncate(160 * MiB)
    sh("mkfs.btrfs", "-q", "-f", "-L", label, path)

    def fill(mnt: Path) -> None:
        sh("btrfs", "subvolume", "create", mnt / "@")
        sh("btrfs", "subvolume", "create", mnt / "@" / "boot")
        write_tree(mnt / "@" / "boot", tree)

    _populate_rw(path, loops, fill, "btrfs")
    return path


def make_xfs(path: Path, tree: Mapping[str, str | bytes], *, label: str, loops: LoopFactory) -> Path:
    with path.open("wb") as f:
        f.truncate(320 * MiB)
    sh("mkfs.xfs", "-q", "-f", "-L", label, path)
    _populate_rw(path, loops, lambda mnt: write_tree(mnt, tree), "xfs")
    return path


def make_squashfs(path: Path, tree: Mapping[str, str | bytes]) -> Path:
    src = Path(str(path) + ".src")
    write_tree(src, tree)
    sh("mksquashfs", src, path, "-quiet", "-noappend", "-no-progress")
    shutil.rmtree(src)
    return path


def make_vfat(path: Path, tree: Mapping[str, str | bytes], *, label: str) -> Path:
    src = Path(str(path) + ".src")
    write_tree(src, tree)
    with path.open("wb") as f:
        f.truncate(32 * MiB)
    sh("mkfs.vfat", "-n", label, path)
    for child in sorted(src.iterdir()):
        sh("mcopy", "-s", "-i", path, child, "::/")
    shutil.rmtree(src)
    return path


def make_iso(path: Path, tree: Mapping[str, str | bytes], *, label: str) -> Path:
    src = Path(str(path) + ".src")
    write_tree(src, tree)
    sh("genisoimage", "-quiet", "-R", "-J", "-V", label, "-o", path, src)
    shutil.rmtree(src)
    return path


def make_luks_header(path: Path, uuid: str) -> Path:
    """A LUKS1 container header (what blkid recognises; no key material): stands in
    for an encrypted disk where cryptsetup is not installed."""
    header = bytearray(MiB)
    header[0:6] = b"LUKS\xba\xbe"
    header[6:8] = (1).to_bytes(2, "big")
    header[8:11] = b"aes"
    header[40:51] = b"xts-plain64"
    header[72:78] = b"sha256"
    header[104:108] = (4096).to_bytes(4, "big")
    header[108:112] = (64).to_bytes(4, "big")
    header[168 : 168 + len(uuid)] = uuid.encode()
    path.write_bytes(bytes(header))
    return path


def make_partitioned(path: Path, parts: list[Path]) -> Path:
    """A DOS-partitioned disk image holding ``parts`` (filesystem images) in order."""
    sizes = [(p.stat().st_size + MiB - 1) // MiB for p in parts]
    with path.open("wb") as f:
        f.truncate((sum(sizes) + 2) * MiB)
    table = "label: dos\n" + "".join(
        f"start={1 + sum(sizes[:i])}MiB,size={s}MiB,type=83\n" for i, s in enumerate(sizes)
    )
    r = subprocess.run(["sfdisk", "-q", str(path)], input=table, text=True, capture_output=True, check=False)
    assert r.returncode == 0, r.stderr
    for i, part in enumerate(parts):
        sh(
            "dd",
            f"if={part}",
            f"of={path}",
            "bs=1M",
            f"seek={1 + sum(sizes[:i])}",
            "conv=notrunc,sparse",
            "status=none",
        )
    return path


def udev_running() -> bool:
    return shutil.which("udevadm") is not None and sh("udevadm", "control", "--ping", check=False).returncode == 0


def ensure_udev() -> bool:
    """Start systemd-udevd when it is not answering; True when it runs."""
    if udev_running():
        return True
    for prog in ("/lib/systemd/systemd-udevd", "/usr/lib/systemd/systemd-udevd"):
        if Path(prog).exists():
            sh(prog, "--daemon", check=False)
            for _ in range(50):
                if udev_running():
                    # let the new udevd record the block devices already present
                    sh("udevadm", "trigger", "--action=add", "--subsystem-match=block", check=False)
                    settle()
                    return True
                time.sleep(0.1)
    return False


def settle() -> None:
    sh("udevadm", "settle", "--timeout=30", check=False)
