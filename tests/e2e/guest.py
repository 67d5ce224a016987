"""The two-stage guest of the kexec proof, built from Debian packages at test time.

Stage 1 is the boot-menu environment: busybox, kexec-tools, python3.11 with
the standard library and python3-libfdt (all of the guest's architecture),
and bootd's own ``bootd`` package.  Its ``/stage2`` directory holds a BLS
entry naming a kernel and the stage-2 initramfs; stage 1's init runs
``python3 -m bootd boot --scan /stage2,… --name … --console …`` on it.
Stage 2 is busybox plus an init that reports what the kexec'd kernel got
(``PROOF-*`` lines on the serial port) and powers off.
"""

from __future__ import annotations

import compileall
import fcntl
import hashlib
import py_compile
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.debian import Apt, unpack
from tests.e2e.initramfs import Closure, Image, MissingLibrary

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CACHE = ROOT / "tests" / ".cache" / "e2e"
"""Downloaded packages and unpacked trees, per architecture (git-ignored)."""

ENTRY_TITLE = "bootd kexec proof"
ENTRY_ARGS = "stage=2 proof=bootd"
ENTRY_DTB_ID = "proof-dtb"
"""The arm64 entry that names its own device tree (BLS ``devicetree``)."""
ENTRY_DTB_TITLE = "bootd kexec proof with the entry's own tree"
ENTRY_DTB = "board.dtb"
UKI_ID = "bootd-uki"
"""The arm64 Unified Kernel Image in ``/stage2/EFI/Linux/`` (its file stem)."""
UKI_TITLE = "bootd UKI proof 1"
UKI_ARGS = "stage=2 proof=bootd uki=embedded"
STAGE2_UUID = "6b1d5e4e-0e2a-4c55-9a3e-2f6f3c1d7b10"
STAGE2_LABEL = "PROOF"

PYTHON = (
    "python3.11-minimal libpython3.11-minimal libpython3.11-stdlib libexpat1 libssl3 libbz2-1.0 "
    "libcrypt1 libffi8 liblzma5 libuuid1"
).split()
XEN = (
    "libxenmisc4.17 libxencall1 libxendevicemodel1 libxenevtchn1 libxenforeignmemory1 libxengnttab1 "
    "libxenhypfs1 libxenstore4 libxentoollog1 libxentoolcore1 libyajl2 libzstd1 libext2fs2 libcom-err2"
).split()

STDLIB_SKIP = (
    "test", "idlelib", "tkinter", "ensurepip", "lib2to3", "turtledemo", "pydoc_data", "__pycache__",
    "config-3.11-aarch64-linux-gnu", "config-3.11-powerpc64le-linux-gnu", "site-packages",
    "distutils", "unittest", "sqlite3", "curses", "dbm", "venv", "xmlrpc", "wsgiref", "msilib",
)  # fmt: skip


@dataclass(frozen=True)
class Arch:
    """One guest architecture."""

    debian: str
    """Debian architecture name."""
    machine: str
    """``uname -m`` in the guest."""
    kernel_meta: str
    kernel_glob: str
    serial: str
    """The serial console's tty."""
    qemu: tuple[str, ...]
    extra: tuple[str, ...] = ()
    """More Debian packages (kexec-tools' library closure)."""

    @property
    def kernel_name(self) -> str:
        return "vmlinux" if self.kernel_glob.startswith("vmlinux") else "vmlinuz"


ARM64 = Arch(
    debian="arm64",
    machine="aarch64",
    kernel_meta="linux-image-arm64",
    kernel_glob="vmlinuz-*",
    serial="ttyAMA0",
    qemu=("qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a57", "-m", "1024", "-smp", "1", "-nic", "none"),
    extra=tuple(XEN),
)
PPC64EL = Arch(
    debian="ppc64el",
    machine="ppc64le",
    kernel_meta="linux-image-powerpc64le",
    kernel_glob="vmlinux-*",
    serial="hvc0",
    qemu=(
        "qemu-system-ppc64",
        "-M",
        "pseries,cap-cfpc=broken,cap-sbbc=broken,cap-ibs=broken,cap-ccf-assist=off",
        "-cpu",
        "power9",
        "-m",
        "1024",
        "-smp",
        "1",
        "-nic",
        "none",
    ),  # fmt: skip
)
ARCHES = {a.debian: a for a in (ARM64, PPC64EL)}


@dataclass(frozen=True)
class Guest:
    arch: Arch
    kernel: Path
    """The kernel qemu boots (stage 1); stage 2 boots the same kernel."""
    stage1: Path
    """Stage 1's initramfs (gzip'd newc cpio)."""
    stage2: Path
    """Stage 2's initramfs, the BLS entry's initrd."""


def _compile(tree: Path, *, legacy: bool) -> None:
    """Byte-compile ``tree`` for the guest's python3.11, so nothing compiles under TCG.

    ``legacy`` writes ``module.pyc`` beside each module (the sources can then
    be left out); otherwise ``__pycache__`` entries that never check the source.
    """
    if sys.version_info[:2] == (3, 11):
        mode = py_compile.PycInvalidationMode.UNCHECKED_HASH
        compileall.compile_dir(tree, quiet=2, legacy=legacy, invalidation_mode=mode)
    elif shutil.which("python3.11"):
        argv = ["python3.11", "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash", str(tree)]
        subprocess.run(argv + (["-b"] if legacy else []), check=False, capture_output=True)


def _stage2(arch: Arch, x: Path, dest: Path) -> None:
    image = Image()
    image.add("bin/busybox", x / "bin/busybox", 0o755)
    image.add("init", (HERE / "guest" / "stage2-init.sh").read_bytes(), 0o755)
    for d in ("proc", "sys", "dev", "tmp"):
        image.add_dir(d)
    image.write(dest)


def _bls_entry(arch: Arch, title: str = ENTRY_TITLE, devicetree: str | None = None) -> bytes:
    tree = f"devicetree {devicetree}\n" if devicetree else ""
    return (f"title {title}\nlinux /{arch.kernel_name}\ninitrd /initrd.img\n{tree}options {ENTRY_ARGS}\n").encode()


def _unpacked(debs: list[Path], cache: Path) -> Path:
    """The packages unpacked (kernel: ``/boot`` only) and the stdlib compiled, cached by deb names."""
    key = hashlib.sha256("\n".join(sorted(d.name for d in debs)).encode()).hexdigest()[:16]
    x = cache / f"x-{key}"
    if (x / ".complete").exists():
        return x
    for old in cache.glob("x-*"):
        shutil.rmtree(old)
    x.mkdir(parents=True)
    for deb in debs:
        unpack(deb, x, ("boot/vmlinu",) if deb.name.startswith("linux-image-") else ())
    _compile(x / "usr/lib/python3.11", legacy=True)
    if not (x / "usr/lib/python3.11/os.pyc").exists():
        (x / ".sources").touch()  # no python3.11 here to compile with: the guest gets the sources
    (x / ".complete").touch()
    return x


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Serialise builds that share a download cache (several test runs at once)."""
    with path.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def build(arch: Arch, cache: Path, out: Path, *, bootd_src: Path = ROOT / "bootd") -> Guest:
    """Build the guest for ``arch`` into ``out``; packages are downloaded (once) into ``cache``."""
    with locked(cache / ".lock"):
        return _build(arch, cache, out, bootd_src)


def _build(arch: Arch, cache: Path, out: Path, bootd_src: Path) -> Guest:
    apt = Apt(arch.debian, cache / "apt")
    kpkg = apt.cached(arch.kernel_meta)
    if kpkg is None:
        apt.update()
        kpkg = apt.depends(arch.kernel_meta, "linux-image-")
        apt.remember(arch.kernel_meta, kpkg)
    debs = apt.download(
        [
            kpkg,
            "busybox-static",
            "kexec-tools",
            "libc6",
            "zlib1g",
            "python3-libfdt",
            "python3-pefile",
            *PYTHON,
            *arch.extra,
        ]  # fmt: skip
    )
    x = _unpacked(debs, cache)
    work = out / "build"
    work.mkdir(parents=True)
    kernel = out / arch.kernel_name
    shutil.copyfile(next((x / "boot").glob(arch.kernel_glob)), kernel)

    stage2 = out / "stage2.cpio.gz"
    _stage2(arch, x, stage2)

    image = Image()
    image.add("init", (HERE / "guest" / "stage1-init.sh").read_bytes(), 0o755)
    image.add("bin/busybox", x / "bin/busybox", 0o755)
    for d in ("proc", "sys", "dev", "tmp", "run", "var/tmp"):
        image.add_dir(d)
    closure = Closure(x)
    closure.add_to(image, ["sbin/kexec", "usr/bin/python3.11"])
    image.symlink("usr/bin/python3", "python3.11")

    stdlib = x / "usr/lib/python3.11"
    for so in sorted((stdlib / "lib-dynload").glob("*.so")):
        try:
            closure.add_to(image, [str(so.relative_to(x))])
        except MissingLibrary:
            pass  # an extension whose library is not shipped (never imported by bootd)
    sourceless = () if (x / ".sources").exists() else (".py",)
    image.add_tree(stdlib, "usr/lib/python3.11", skip=(*STDLIB_SKIP, "lib-dynload"), suffixes_skip=sourceless)
    dist = x / "usr/lib/python3/dist-packages"
    for f in dist.iterdir():
        if f.is_file() and f.name.startswith(("libfdt", "_libfdt", "pefile", "peutils")):
            image.add(str(f.relative_to(x)), f)
        elif f.is_dir() and f.name == "ordlookup":  # pefile's own package
            image.add_tree(f, str(f.relative_to(x)), skip=("__pycache__",), suffixes_skip=())

    src = work / "bootd-src"
    shutil.copytree(bootd_src, src / "bootd", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    _compile(src, legacy=False)
    image.add_tree(src / "bootd", "opt/bootd/bootd")

    image.add(f"stage2/{arch.kernel_name}", kernel)
    image.add("stage2/initrd.img", stage2)
    image.add("stage2/loader/entries/proof.conf", _bls_entry(arch))
    if arch is ARM64:
        # A second entry that brings its own tree: qemu's board as dumped, with no framebuffer node.
        image.add(f"stage2/{ENTRY_DTB}", dump_board(arch, out / "board.dtb"))
        image.add(f"stage2/loader/entries/{ENTRY_DTB_ID}.conf", _bls_entry(arch, ENTRY_DTB_TITLE, f"/{ENTRY_DTB}"))
        # A Unified Kernel Image of the same kernel and initrd, made the way systemd
        # documents for systems without ukify (objcopy onto systemd's stub).
        from tests.ukibuild import build_uki

        osrel = f'ID=bootdproof\nPRETTY_NAME="{UKI_TITLE}"\nVERSION_ID=1\n'
        uki = build_uki(
            work / f"{UKI_ID}.efi",
            [(".osrel", osrel.encode()), (".cmdline", UKI_ARGS.encode()), (".linux", kernel.read_bytes()),
             (".initrd", stage2.read_bytes())],
        )  # fmt: skip
        image.add(f"stage2/EFI/Linux/{UKI_ID}.efi", uki)
    stage1 = out / "stage1.cpio.gz"
    image.write(stage1)
    return Guest(arch, kernel, stage1, stage2)


FB_BASE = 0x7FC00000
"""Stage 1's framebuffer: the top 4 MiB of the arm64 guest's 1 GiB of RAM."""
FB_WIDTH, FB_HEIGHT, FB_STRIDE = 1024, 768, 4096
FB_NODE = f"/chosen/framebuffer@{FB_BASE:x}"


def _cells(*values: int) -> bytes:
    return b"".join(v.to_bytes(4, "big") for v in values)


def with_framebuffer(blob: bytes) -> bytes:
    """A board tree plus the ``simple-framebuffer`` firmware hands to Linux (as U-Boot does)."""
    import libfdt

    fdt = libfdt.Fdt(bytearray(blob))
    fdt.resize(len(blob) + 4096)

    def node(path: str) -> int:
        off = 0
        for part in path.strip("/").split("/"):
            found = fdt.subnode_offset(off, part, [libfdt.FDT_ERR_NOTFOUND])
            off = found if found >= 0 else fdt.add_subnode(off, part)
        return off

    for parent in ("/chosen", "/reserved-memory"):
        fdt.setprop(node(parent), "#address-cells", _cells(2))
        fdt.setprop(node(parent), "#size-cells", _cells(2))
        fdt.setprop(node(parent), "ranges", b"")
    res = node(f"/reserved-memory/framebuffer@{FB_BASE:x}")
    fdt.setprop(res, "reg", _cells(0, FB_BASE, 0, 0x400000))
    fdt.setprop(res, "no-map", b"")
    fb = node(FB_NODE)
    fdt.setprop_str(fb, "compatible", "simple-framebuffer")
    fdt.setprop(fb, "reg", _cells(0, FB_BASE, 0, FB_STRIDE * FB_HEIGHT))
    fdt.setprop_u32(fb, "width", FB_WIDTH)
    fdt.setprop_u32(fb, "height", FB_HEIGHT)
    fdt.setprop_u32(fb, "stride", FB_STRIDE)
    fdt.setprop_str(fb, "format", "a8r8g8b8")
    fdt.setprop_str(fb, "status", "okay")
    fdt.pack()
    return bytes(fdt.as_bytearray())


def dump_board(arch: Arch, raw: Path) -> Path:
    """qemu's own tree for the board, as qemu hands it over (for arm64: no framebuffer node)."""
    subprocess.run([*arch.qemu, "-machine", f"dumpdtb={raw}", "-display", "none"], check=True, capture_output=True)
    return raw


def board_dtb(arch: Arch, out: Path) -> Path:
    """qemu's own tree for the arm64 board, plus a firmware framebuffer."""
    raw = dump_board(arch, out / "board.dtb")
    patched = out / "board-fb.dtb"
    patched.write_bytes(with_framebuffer(raw.read_bytes()))
    return patched


PSERIES_SCREEN = ("-vga", "std", "-prom-env", "output-device=screen")
"""A pseries guest with a screen: qemu's standard VGA, and SLOF told to make it its
console.  SLOF sets the display's mode and describes it (``width``, ``height``,
``depth``, ``linebytes``); the kernel's prom_init opens it and marks it
``linux,opened`` and, being firmware's stdout, ``linux,boot-display``; offb binds
only to such a node, so stage 1 gets an fb0 (800x600x32) in the mode firmware set.
With the vty as firmware's console (SLOF's default) the node is never the boot
display and the kernel makes no fb0."""


def qemu_argv(
    guest: Guest,
    *,
    console: str,
    dtb: Path | None = None,
    extra: Sequence[str] = (),
    entry: str | None = None,
    screen: bool = False,
) -> list[str]:
    """The qemu command for one case: stage 1 boots, bootd is told to use ``console`` (and to boot
    the BLS entry ``entry``, by its file stem, instead of the one titled ``ENTRY_TITLE``).
    ``screen``: ppc64el gets a display (:data:`PSERIES_SCREEN`) instead of none."""
    append = f"console={guest.arch.serial} panic=5 proof.console={console} proof.uuid={STAGE2_UUID}"
    if entry is not None:
        append += f" proof.entry={entry}"
    argv = [*guest.arch.qemu, "-nographic", "-no-reboot", "-kernel", str(guest.kernel), "-initrd", str(guest.stage1)]
    if dtb is not None:
        argv += ["-dtb", str(dtb)]
    if guest.arch is PPC64EL:
        argv += PSERIES_SCREEN if screen else ("-vga", "none")
    elif screen:
        raise ValueError("the arm64 guest's screen is the simple-framebuffer of its tree (board_dtb)")
    return [*argv, *extra, "-append", append]
