"""An x86_64 guest for the discovery proof, and the media it is given.

The guest boots Debian's amd64 kernel (its modules come from the same package)
with a small busybox initramfs that mounts the host's root filesystem
read-only over virtio-9p and runs ``run.sh`` in it: systemd-udevd, then the
project's own ``bootd watch --json`` with the interpreter the tests run with.
So the guest runs exactly this tree's code, with device-mapper and an optical
drive that the host's kernel does not have.

The media are built on the host as plain files: a disk holding an LVM volume
group whose logical volume carries an ext4 filesystem (see lvm.py; the
filesystem is written at the volume's offset), and ISO 9660 images for the
CD drive.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.debian import Apt, unpack
from tests.e2e.discovery.lvm import write_physical_volume
from tests.e2e.guest import CACHE, locked
from tests.e2e.initramfs import Image

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
AMD64_CACHE = CACHE / "amd64"

MODULES = (
    "virtio_pci", "9pnet_virtio", "9p",  # the host's root filesystem
    "virtio_blk", "dm-mod",  # the LVM disk and its logical volumes
    "ahci", "sr_mod", "isofs",  # the CD drive and its media
    "crc32c_generic", "ext4",  # the logical volume's filesystem
)  # fmt: skip
"""Modules loaded by the initramfs (with their dependencies, in order)."""

QEMU = ("qemu-system-x86_64", "-M", "q35", "-accel", "tcg", "-cpu", "max", "-m", "1024", "-smp", "1")
VG = "bootdproofvg"
LV = "bootlv"


@dataclass(frozen=True)
class Kernel:
    vmlinuz: Path
    initramfs: Path
    release: str


def _sh(*argv: str | Path, timeout: float = 120) -> str:
    proc = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def _unpacked(debs: Sequence[Path], cache: Path) -> Path:
    """The kernel, busybox and the modules the guest loads (in load order, ``modules/``), cached
    by package file names: the whole module tree is unpacked only to pick them out."""
    key = "\n".join([*sorted(d.name for d in debs), *MODULES])
    x = cache / "unpacked"
    stamp = x / ".complete"
    if stamp.exists() and stamp.read_text() == key:
        return x
    shutil.rmtree(x, ignore_errors=True)
    x.mkdir(parents=True)
    full = cache / "unpacked-modules"
    shutil.rmtree(full, ignore_errors=True)
    try:
        for deb in debs:
            if deb.name.startswith("linux-image-"):
                unpack(deb, x, ("boot/vmlinuz",))
                unpack(deb, full, ("lib/modules/",))
            else:
                unpack(deb, x, ("bin/busybox",))
        (x / "modules").mkdir()
        names = []
        for path in _module_order(next((full / "lib/modules").iterdir()), MODULES):
            shutil.copyfile(path, x / "modules" / path.name)
            names.append(path.name.removesuffix(".ko"))
        (x / "modules" / "order").write_text("\n".join(names) + "\n")
    finally:
        shutil.rmtree(full, ignore_errors=True)
    stamp.write_text(key)
    return x


def _module_order(moddir: Path, names: Sequence[str]) -> list[Path]:
    """``names`` with every dependency (``depends`` and ``softdep pre``) before its user."""
    index = {p.name.removesuffix(".ko").replace("-", "_"): p for p in (moddir / "kernel").rglob("*.ko")}
    order: list[Path] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        key = name.replace("-", "_")
        if key in seen:
            return
        seen.add(key)
        path = index.get(key)
        if path is None:
            return  # built into the kernel
        info = _sh("modinfo", "-F", "depends", path) + " " + _sh("modinfo", "-F", "softdep", path)
        words = info.replace(",", " ").split()
        for dep in (w for w in words if w not in ("pre:", "post:")):
            visit(dep)
        order.append(path)

    for n in names:
        visit(n)
    return order


def build_kernel(out: Path) -> Kernel:
    """The amd64 kernel and the initramfs that runs ``run.sh`` in the host's root filesystem."""
    AMD64_CACHE.mkdir(parents=True, exist_ok=True)
    with locked(AMD64_CACHE / ".lock"):
        apt = Apt("amd64", AMD64_CACHE / "apt")
        kpkg = apt.cached("linux-image-amd64")
        if kpkg is None:
            apt.update()
            kpkg = apt.depends("linux-image-amd64", "linux-image-")
            apt.remember("linux-image-amd64", kpkg)
        x = _unpacked(apt.download([kpkg, "busybox-static"]), AMD64_CACHE)
    vmlinuz = next((x / "boot").glob("vmlinuz-*"))
    release = vmlinuz.name.removeprefix("vmlinuz-")
    image = Image()
    image.add("init", (HERE / "init.sh").read_bytes(), 0o755)
    image.add("bin/busybox", x / "bin/busybox", 0o755)
    for d in ("proc", "sys", "dev", "tmp"):
        image.add_dir(d)
    names = (x / "modules" / "order").read_text().split()
    for name in names:
        image.add(f"modules/{name}.ko", x / "modules" / f"{name}.ko")
    image.add("modules.list", ("\n".join(names) + "\n").encode())
    out.mkdir(parents=True, exist_ok=True)
    initramfs = out / "initramfs.cpio.gz"
    image.write(initramfs)
    return Kernel(vmlinuz, initramfs, release)


def kernel_args(*, python: str = sys.executable) -> str:
    """The guest's command line: where the project and its interpreter are in the shared root."""
    for p in (str(ROOT), python):
        if any(c.isspace() for c in p):
            raise RuntimeError(f"the guest cannot be told a path with spaces: {p!r}")
    script = HERE / "run.sh"
    return f"console=ttyS0 loglevel=3 panic=-1 guest.script={script} guest.root={ROOT} guest.python={python}"


def qemu_argv(
    kernel: Kernel,
    *,
    qmp: Path,
    control: Path,
    disks: Sequence[Path] = (),
    hotplug_slots: int = 2,
    extra: Sequence[str] = (),
) -> list[str]:
    """qemu with the host's root over 9p, ``disks`` as virtio disks (writable, so that a write would
    show in the image's hash), an empty CD drive ``cddrive`` and free PCIe slots ``hotplug0``…"""
    argv = [
        *QEMU, "-display", "none", "-monitor", "none", "-no-reboot", "-nic", "none",
        "-kernel", str(kernel.vmlinuz), "-initrd", str(kernel.initramfs), "-append", kernel_args(),
        "-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
        "-qmp", f"unix:{qmp},server=on,wait=off",
        "-chardev", f"socket,id=control,path={control},server=on,wait=off", "-serial", "stdio",
        "-serial", "chardev:control",
        "-drive", "if=none,id=cd,media=cdrom", "-device", "ide-cd,drive=cd,bus=ide.0,id=cddrive",
    ]  # fmt: skip
    for i in range(hotplug_slots):
        argv += ["-device", f"pcie-root-port,id=hotplug{i},chassis={i + 1},slot={i + 1}"]
    for i, disk in enumerate(disks):
        argv += ["-drive", f"if=none,id=disk{i},file={disk},format=raw"]
        argv += ["-device", f"virtio-blk-pci,drive=disk{i},serial=bootd-proof-{i}"]
    return [*argv, *extra]


# -- media ---------------------------------------------------------------------------
def _write_tree(root: Path, files: Mapping[str, str | bytes]) -> None:
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content)


def make_lvm_disk(
    path: Path, files: Mapping[str, str | bytes], *, label: str, vg: str = VG, lv: str = LV, lv_mb: int = 32
) -> Path:
    """A disk that is one LVM physical volume of volume group ``vg`` with one linear logical volume ``lv``
    holding an ext4 filesystem with ``files`` (written at the volume's offset: nothing is attached)."""
    layout = write_physical_volume(path, vg=vg, lv=lv, disk_mb=lv_mb + 16, lv_mb=lv_mb)
    src = Path(str(path) + ".src")
    _write_tree(src, files)
    try:
        offset = f"offset={layout.offset}"
        _sh("mkfs.ext4", "-q", "-F", "-L", label, "-d", src, "-E", offset, path, f"{layout.size // 1024}k")
    finally:
        shutil.rmtree(src)
    return path


def make_iso(path: Path, files: Mapping[str, str | bytes], *, label: str) -> Path:
    src = Path(str(path) + ".src")
    _write_tree(src, files)
    try:
        _sh("genisoimage", "-quiet", "-R", "-J", "-V", label, "-o", path, src)
    finally:
        shutil.rmtree(src)
    return path
