"""``make image ARCH=arm64|ppc64el``: a firmware-style boot image, Debian packages plus bootd's.

The result is a kernel and one initramfs that is the whole system: systemd as
PID 1 (``/init``), udev, the D-Bus system bus, kexec-tools, Python and bootd,
installed from Debian 12's packages of the target architecture and bootd's own
``.deb``.  Nothing runs on the target's architecture while building: packages
are unpacked (with a private apt state, as the qemu proofs do), and what their
maintainer scripts would do is done here with the host's own tools on the tree:
``systemd-sysusers --root`` creates the users, ``systemctl --root`` enables
bootd.service, ``depmod -b`` indexes the few kernel modules kept, the Python
modules are byte-compiled by the host's python3.11.  The image has no first
boot work left but the machine id.

systemd starts udev, dbus, journald, bootd.service and one bootd-menu@ per
kernel console (the package's generator); no login prompt (getty units and
systemd's getty generator are masked) and no network configuration.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.e2e.debian import Apt, unpack  # noqa: E402
from tests.e2e.guest import ARCHES, Arch, locked  # noqa: E402
from tests.e2e.initramfs import Image  # noqa: E402

log = logging.getLogger(__name__)

CACHE = ROOT / "tests" / ".cache" / "e2e"
"""The private apt states and downloads, shared with the qemu proofs."""
OUT = ROOT / "build" / "image"

PACKAGES = (
    "base-files", "base-passwd", "dash", "coreutils", "mount", "util-linux", "kmod",
    "systemd", "udev", "dbus", "kexec-tools", "e2fsprogs",
)  # fmt: skip
"""What the image is, besides bootd's package and its dependencies."""
RECOMMENDS = ("gpgv", "tpm2-tools")
"""bootd's recommended packages the firmware carries: signed boot (gpgv) and measured boot
(tpm2-tools) are off by default, but a firmware image is where they are switched on."""
SKIP = (
    "debconf", "perl-base", "perl", "perl-modules-5.36", "libperl5.36", "adduser", "libc-bin", "usrmerge",
    "dpkg", "install-info", "tar", "libfile-find-rule-perl", "libnumber-compare-perl", "libtext-glob-perl",
    "init-system-helpers", "debianutils", "sensible-utils", "logsave",
)  # fmt: skip
"""Packages other packages name that the image does not need: package management and
maintainer-script helpers (debconf, dpkg, adduser, init-system-helpers, usrmerge: the
merged /usr layout is made here), perl (only those helpers use it), ldconfig (the
dynamic linker finds Debian's multiarch directories on its own)."""

MODULES = {
    "arm64": ("virtio_mmio", "virtio_pci", "virtio_blk", "virtio_console", "virtio_scsi", "sd_mod"),
    "ppc64el": ("virtio_pci", "virtio_blk", "virtio_console", "virtio_scsi", "sd_mod", "ibmvscsi"),
}
COMMON_MODULES = (
    "ext4", "crc32c_generic", "libcrc32c", "vfat", "nls_cp437", "nls_ascii", "nls_utf8", "isofs", "squashfs",
    "loop", "fuse",
)  # fmt: skip
"""Kernel modules kept (with what they depend on): the disks and filesystems bootd reads."""

DROP = (
    "usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale", "usr/share/lintian",
    "usr/share/bug", "usr/share/zsh", "usr/share/bash-completion", "usr/share/i18n", "usr/share/common-licenses",
    "usr/share/pixmaps", "usr/share/menu", "usr/share/polkit-1", "usr/share/doc-base",
    "usr/lib/python3.11/test", "usr/lib/python3.11/idlelib", "usr/lib/python3.11/tkinter",
    "usr/lib/python3.11/ensurepip", "usr/lib/python3.11/turtledemo", "usr/lib/python3.11/pydoc_data",
    "usr/lib/python3/dist-packages/lib2to3", "usr/lib/python3.11/lib2to3",
    "usr/lib/python3/dist-packages/bootd/demo_machine",
    "usr/include", "etc/init.d", "etc/rc0.d", "etc/rc1.d", "etc/rc2.d", "etc/rc3.d", "etc/rc4.d",
    "etc/rc5.d", "etc/rc6.d", "etc/rcS.d", "var/cache/debconf", "var/lib/dpkg",
)  # fmt: skip
"""What a firmware image does without (documentation, translations, test suites, SysV scripts;
the sandbox demo machine)."""

MASK = (
    "getty@.service", "serial-getty@.service", "console-getty.service", "container-getty@.service",
    "systemd-firstboot.service", "apt-daily.timer", "apt-daily-upgrade.timer", "e2scrub_all.timer",
    "e2scrub_reap.service", "fstrim.timer", "systemd-networkd.service", "systemd-timesyncd.service",
    "systemd-network-generator.service", "systemd-logind.service", "systemd-pstore.service",
    "dev-hugepages.mount", "dev-mqueue.mount", "sys-kernel-debug.mount", "sys-kernel-tracing.mount",
    "sys-fs-fuse-connections.mount", "sys-kernel-config.mount", "modprobe@configfs.service",
    "modprobe@dm_mod.service", "systemd-journal-flush.service",
)  # fmt: skip
"""Units that must not run on the firmware: login prompts (the menu is on the console),
first-boot prompts, periodic maintenance, network configuration; and what a boot menu
has no use for but costs seconds of a TCG boot: logind (no logins, no seats; systemctl
kexec falls back to starting kexec.target itself), pstore archiving (no disk of our own),
file systems and modules nobody here uses (huge pages, POSIX message queues, debugfs,
tracefs, configfs, fuse's control file system, device-mapper: no LVM tools in the image),
the journal flush (the journal stays in RAM).  Each ran beside udev's coldplug, which
holds up sysinit.target and so dbus and bootd, on a CPU that TCG makes small."""


GENERATORS_OFF = (
    "systemd-getty-generator", "systemd-fstab-generator", "systemd-gpt-auto-generator",
    "systemd-cryptsetup-generator", "systemd-veritysetup-generator", "systemd-integritysetup-generator",
    "systemd-hibernate-resume-generator", "systemd-rc-local-generator", "systemd-run-generator",
    "systemd-system-update-generator", "systemd-sysv-generator",
)  # fmt: skip
"""systemd's generators the firmware turns off: the getty one (the menu is on the consoles),
and those with nothing to find here (no fstab, no encrypted, verity or swap volumes, no
rc.local or SysV scripts, no offline update); each one not run saves its start, about half
a second under TCG.  The debug generator stays: systemd.mask=, systemd.wants= and
systemd.debug_shell on the kernel command line are how a firmware is debugged."""


_SELF = Path(__file__).read_bytes()
"""This module's text as imported: the image's cache key is the code that builds it
(read later, an edit made while a build runs would be keyed with the old code's output)."""


@dataclass(frozen=True)
class Built:
    arch: Arch
    kernel: Path
    initramfs: Path
    manifest: dict[str, object]


def _run(argv: list[str], **kw: object) -> str:
    r = subprocess.run(argv, capture_output=True, text=True, check=False, **kw)  # type: ignore[call-overload]
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({r.returncode}): {r.stderr.strip()}")
    out: str = r.stdout
    return out


def deb_depends(deb: Path) -> list[str]:
    """The package names a ``.deb`` depends on (first alternative, no versions)."""
    field = _run(["dpkg-deb", "-f", str(deb), "Depends", "Pre-Depends"])
    names = []
    for line in field.splitlines():
        _, _, value = line.partition(": ")
        for dep in value.split(","):
            name = dep.split("|")[0].split("(")[0].strip().split(":")[0]
            if name and name != "python3":
                names.append(name)
    return names + ["python3"]


def deb_recommends(deb: Path) -> list[str]:
    """The package names a ``.deb`` recommends (first alternative, no versions)."""
    value = _run(["dpkg-deb", "-f", str(deb), "Recommends"])  # one field: its value alone
    return [d.split("|")[0].split("(")[0].strip() for d in value.replace("\n", " ").split(",") if d.strip()]


def _closure(apt: Apt, roots: list[str], cache: Path) -> list[str]:
    key = hashlib.sha256(json.dumps([roots, SKIP]).encode()).hexdigest()[:16]
    lists = sorted(p.stat().st_mtime for p in apt.lists.glob("*_Packages*"))
    note = cache / f"closure-{key}.json"
    if note.exists():
        saved = json.loads(note.read_text())
        if saved["lists"] == lists:
            return list(saved["packages"])
    apt.update()
    packages = apt.closure(roots, skip=SKIP)
    note.write_text(json.dumps({"lists": lists, "packages": packages}))
    return packages


def _layout(root: Path) -> None:
    """Merged /usr (as Debian 12's installers make it) and /var/run, /var/lock in /run.

    Made before unpacking, so that packages shipping ``/var/run/...`` (dbus) fill
    /run instead of turning /var/run into a directory of its own.
    """
    for d in ("bin", "sbin", "lib"):
        (root / "usr" / d).mkdir(parents=True, exist_ok=True)
        (root / d).symlink_to(f"usr/{d}")
    (root / "run/lock").mkdir(parents=True)
    (root / "var").mkdir()
    (root / "var/run").symlink_to("../run")  # relative: unpacking follows it inside the tree
    (root / "var/lock").symlink_to("../run/lock")


def _kernel_modules(root: Path, release: str, wanted: tuple[str, ...]) -> None:
    """Keep ``wanted`` modules and their dependencies; index them with the host's depmod."""
    moddir = root / "lib" / "modules" / release
    _run(["depmod", "-b", str(root), release])
    deps: dict[str, list[str]] = {}
    for line in (moddir / "modules.dep").read_text().splitlines():
        mod, _, rest = line.partition(":")
        deps[Path(mod).name.split(".ko")[0].replace("-", "_")] = [mod, *rest.split()]
    keep: set[str] = set()
    todo = [m for m in wanted if m in deps]  # built-in ones are not in modules.dep
    while todo:
        name = todo.pop()
        files = deps[name]
        for f in files:
            if f not in keep:
                keep.add(f)
                todo.append(Path(f).name.split(".ko")[0].replace("-", "_"))
    for ko in moddir.rglob("*.ko*"):
        if str(ko.relative_to(moddir)) not in keep:
            ko.unlink()
    _run(["depmod", "-b", str(root), release])


def _users(root: Path) -> None:
    share = root / "usr/share/base-passwd"
    shutil.copyfile(share / "passwd.master", root / "etc/passwd")
    shutil.copyfile(share / "group.master", root / "etc/group")
    users = [line.split(":")[0] for line in (root / "etc/passwd").read_text().splitlines()]
    (root / "etc/shadow").write_text("".join(f"{u}:*:19000:0:99999:7:::\n" for u in users))
    os.chmod(root / "etc/shadow", 0o640)
    _run(["systemd-sysusers", f"--root={root}"])


def _systemd(root: Path) -> None:
    etc = root / "etc/systemd/system"
    etc.mkdir(parents=True, exist_ok=True)
    for unit in MASK:
        link = etc / unit
        if link.exists() or link.is_symlink():
            link.unlink()
        link.symlink_to("/dev/null")
    gens = root / "etc/systemd/system-generators"
    gens.mkdir(parents=True, exist_ok=True)
    for gen in GENERATORS_OFF:
        (gens / gen).symlink_to("/dev/null")
    _run(["systemctl", f"--root={root}", "set-default", "multi-user.target"])
    # What systemd would do at a first boot (a missing /etc/machine-id): enable the units
    # the packages' presets name (their maintainer scripts never ran).  Done here, it costs
    # no boot time (8 s under TCG on arm64); the empty machine-id below makes every boot a
    # normal one that generates its own id.
    _run(["systemctl", f"--root={root}", "preset-all"])
    # ...but not bootd-menu@.service's DefaultInstance (a menu on tty1 whether or not there
    # is a display): the package's generator and udev rule decide which consoles get one.
    _run(["systemctl", f"--root={root}", "disable", "bootd-menu@.service"])
    stray = root / "etc/systemd/system/getty.target.wants/bootd-menu@tty1.service"
    if stray.is_symlink():
        raise RuntimeError(f"{stray} is still there after systemctl disable")
    _run(["systemctl", f"--root={root}", "enable", "bootd.service"])
    # The journal stays in RAM (there is no disk of our own) and also goes to the kernel log.
    conf = root / "etc/systemd/journald.conf.d"
    conf.mkdir(parents=True, exist_ok=True)
    (conf / "firmware.conf").write_text("[Journal]\nStorage=volatile\n")
    (root / "etc/hostname").write_text("bootd\n")
    (root / "etc/fstab").write_text("# the initramfs is the root filesystem; nothing to mount\n")
    # Empty: systemd makes one at each boot, per machine, without first-boot work
    # (a missing file would mean a first boot: presets, 8 s under TCG, on every power-on).
    (root / "etc/machine-id").write_text("")


def _compile(root: Path) -> None:
    """Byte-compile every Python module with the host's python3.11 (same bytecode on every arch)."""
    py = shutil.which("python3.11", path="/usr/bin") or "/usr/bin/python3.11"
    dirs = [str(root / "usr/lib/python3.11"), str(root / "usr/lib/python3/dist-packages")]
    subprocess.run(
        [py, "-m", "compileall", "-q", "-j0", "--invalidation-mode", "unchecked-hash", *dirs],
        check=False, capture_output=True,
    )  # fmt: skip


def _tree_size(root: Path) -> int:
    return sum(p.lstat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def build(arch: Arch, deb: Path, out: Path = OUT, *, level: int = 12) -> Built:
    """Build (or reuse, when nothing changed) the image for ``arch`` into ``out/<arch>``."""
    (out / arch.debian).mkdir(parents=True, exist_ok=True)
    with locked(out / arch.debian / ".lock"):
        return _build(arch, deb, out, level)


def _build(arch: Arch, deb: Path, out: Path, level: int) -> Built:
    t0 = time.monotonic()
    cache = CACHE / arch.debian
    cache.mkdir(parents=True, exist_ok=True)
    apt = Apt(arch.debian, (cache / "apt").resolve())
    kpkg = apt.cached(arch.kernel_meta)
    if kpkg is None:
        apt.update()
        kpkg = apt.depends(arch.kernel_meta, "linux-image-")
        apt.remember(arch.kernel_meta, kpkg)
    recommended = deb_recommends(deb)
    missing = [p for p in RECOMMENDS if p not in recommended]
    if missing:
        raise RuntimeError(f"{deb.name} does not recommend {', '.join(missing)} (debian/control)")
    roots = [*PACKAGES, *deb_depends(deb), *RECOMMENDS]
    packages = _closure(apt, roots, cache)
    debs = apt.download([kpkg, *packages])
    me = hashlib.sha256(_SELF)
    for d in (*debs, deb):
        me.update(d.name.encode())
    me.update(hashlib.sha256(deb.read_bytes()).digest())
    key = me.hexdigest()[:16]
    dest = out / arch.debian
    manifest_path = dest / "manifest.json"
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("key") == key:
            return Built(arch, dest / arch.kernel_name, dest / "initramfs.cpio.zst", manifest)
    dest.mkdir(parents=True, exist_ok=True)
    root = dest / "root"
    if root.exists():
        shutil.rmtree(root)  # an interrupted build
    root.mkdir()
    _layout(root)
    for d in debs:
        if d.name.startswith("linux-image-"):
            unpack(d, root, ("boot/vmlinu", "lib/modules/"))
        else:
            unpack(d, root)
    unpack(deb, root)
    kernel = dest / arch.kernel_name
    shutil.move(next((root / "boot").glob(arch.kernel_glob)), kernel)
    shutil.rmtree(root / "boot")
    release = next((root / "lib/modules").iterdir()).name
    _kernel_modules(root, release, MODULES[arch.debian] + COMMON_MODULES)
    for rel in DROP:
        target = root / rel
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
    _users(root)
    _systemd(root)
    _compile(root)
    (root / "init").symlink_to("/lib/systemd/systemd")
    for name in ("proc", "sys", "dev", "run", "tmp", "var/tmp", "var/log", "root"):
        (root / name).mkdir(parents=True, exist_ok=True)
    size = _tree_size(root)
    image = Image()
    image.add_tree(root, "")
    cpio = dest / "initramfs.cpio"
    image.write(cpio, compress=False)
    _run(["zstd", "-q", "-f", f"-{level}", "-T0", "--rm", str(cpio), "-o", str(dest / "initramfs.cpio.zst")])
    shutil.rmtree(root)
    manifest = {
        "key": key,
        "arch": arch.debian,
        "kernel": kernel.name,
        "kernel_package": kpkg,
        "packages": sorted(p.name.split("_")[0] for p in debs) + ["bootd"],
        "tree_bytes": size,
        "initramfs_bytes": (dest / "initramfs.cpio.zst").stat().st_size,
        "kernel_bytes": kernel.stat().st_size,
        "build_seconds": round(time.monotonic() - t0, 1),
    }
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
    return Built(arch, kernel, dest / "initramfs.cpio.zst", manifest)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="make image", description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", choices=sorted(ARCHES), default="arm64")
    ap.add_argument("--deb", type=Path, required=True, help="bootd's .deb (make deb)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    built = build(ARCHES[args.arch], args.deb, args.out)
    m = built.manifest
    mb = {k: float(m[k]) / 1e6 for k in ("kernel_bytes", "initramfs_bytes", "tree_bytes")}  # type: ignore[arg-type]
    print(
        f"{built.kernel} ({mb['kernel_bytes']:.1f} MB) + {built.initramfs} "
        f"({mb['initramfs_bytes']:.1f} MB zstd, {mb['tree_bytes']:.1f} MB unpacked, "
        f"{len(m['packages'])} packages)"  # type: ignore[arg-type]
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
