"""The measured-boot guest: an x86-64 qemu ``q35`` machine with a TPM 2.0
(``tpm-tis``) backed by a swtpm the test starts, built from Debian packages.

Debian's arm64 kernel has no driver for qemu's ``tpm-tis-device`` (its
``CONFIG_TCG_TIS`` is off), its amd64 kernel has it built in; so this proof
runs on x86-64 (under TCG).

Stage 1 reads the PCRs (``STAGE1-PCRREAD`` lines: SeaBIOS measures itself
and its boot into PCRs 0-7 first), then runs ``python3 -m bootd boot --scan
/stage2,… --measured-boot device:/dev/tpmrm0``; bootd extends the PCRs and
kexecs stage 2, which prints the PCR values it reads (sysfs
``/sys/class/tpm/tpm0/pcr-sha256/N`` and ``tpm2_pcrread``) and its
``/proc/cmdline``, then powers off.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.debian import Apt
from tests.e2e.guest import CACHE, HERE, PYTHON, ROOT, STAGE2_UUID, STDLIB_SKIP, _compile, _unpacked, locked
from tests.e2e.initramfs import Closure, Image, MissingLibrary

ENTRY_TITLE = "bootd measured boot proof"
ENTRY_ARGS = "stage=2 proof=tpm"
CONSOLE = "ttyS0"
KERNEL_META = "linux-image-amd64"
ROOTS = [
    "busybox-static", "kexec-tools", "tpm2-tools", "libtss2-tcti-device0", "python3-libfdt", "python3-pefile", "gpgv",
    "ipmitool", "dbus-daemon",
]  # fmt: skip
"""Every x86-64 guest's packages (the signed-boot guest's gpgv, the IPMI guest's ipmitool and
dbus-daemon too): one download and one unpacked tree."""
SKIP = (
    "debconf", "perl-base", "dpkg", "adduser", "libc-bin", "usrmerge", "init-system-helpers", "debianutils",
    "python3", "python3-minimal", "python3.11", "libpython3-stdlib", "media-types", "tzdata", "readline-common",
)  # fmt: skip
"""What the packages name that an initramfs running two programs does not need."""
TOOLS = ("tpm2_pcrread", "tpm2_pcrextend")
TCTI_LIB = "usr/lib/x86_64-linux-gnu/libtss2-tcti-device.so.0"
"""tpm2-tools' TCTI loader opens the device TCTI by name at run time (no ELF dependency names it)."""


@dataclass(frozen=True)
class TpmGuest:
    kernel: Path
    stage1: Path
    stage2: Path
    """The BLS entry's initrd (measured into PCR 9)."""


QEMU = ("qemu-system-x86_64", "-M", "q35", "-accel", "tcg", "-cpu", "max", "-m", "1024", "-smp", "1", "-nic", "none")
"""TCG: a boot of either stage takes some 20 s; KVM, where a machine offers it nested, is not relied on."""


def _packages(apt: Apt, cache: Path) -> list[str]:
    """The kernel and the closure of :data:`ROOTS`, resolved once per package lists."""
    kpkg = apt.cached(KERNEL_META)
    if kpkg is None:
        apt.update()
        kpkg = apt.depends(KERNEL_META, "linux-image-")
        apt.remember(KERNEL_META, kpkg)
    roots = [*ROOTS, *PYTHON]
    key = hashlib.sha256(json.dumps([roots, SKIP]).encode()).hexdigest()[:16]
    note = cache / f"closure-tpm-{key}.json"
    if note.exists():
        return [kpkg, *json.loads(note.read_text())]
    apt.update()
    packages = apt.closure(roots, skip=SKIP)
    note.write_text(json.dumps(packages))
    return [kpkg, *packages]


def _with_tools(image: Image, closure: Closure, x: Path) -> None:
    """busybox, tpm2-tools (``tpm2`` runs as the tool it is called by) and its device TCTI."""
    with_busybox(image, x)
    closure.add_to(image, ["usr/bin/tpm2", TCTI_LIB])
    for tool in TOOLS:
        image.symlink(f"usr/bin/{tool}", "tpm2")


def with_busybox(image: Image, x: Path) -> None:
    image.add("bin/busybox", x / "bin/busybox", 0o755)
    for d in ("proc", "sys", "dev", "tmp", "run", "var/tmp"):
        image.add_dir(d)


def unpacked(out: Path, cache: Path) -> tuple[Path, Path]:
    """(the unpacked packages, the kernel copied into ``out``); downloaded (once) into ``cache``."""
    cache.mkdir(parents=True, exist_ok=True)
    with locked(cache / ".lock"):
        apt = Apt("amd64", cache / "apt")
        debs = apt.download(_packages(apt, cache))
        x = _unpacked(debs, cache)
    kernel = out / "vmlinuz"
    shutil.copyfile(next((x / "boot").glob("vmlinuz-*")), kernel)
    return x, kernel


def build(out: Path, cache: Path = CACHE / "amd64", *, bootd_src: Path = ROOT / "bootd") -> TpmGuest:
    """Build the guest into ``out``; packages are downloaded (once) into ``cache``."""
    x, kernel = unpacked(out, cache)
    closure = Closure(x)

    stage2 = out / "stage2.cpio.gz"
    image = Image()
    image.add("init", (HERE / "guest" / "tpm-stage2-init.sh").read_bytes(), 0o755)
    _with_tools(image, closure, x)
    image.write(stage2)

    image = Image()
    image.add("init", (HERE / "guest" / "tpm-stage1-init.sh").read_bytes(), 0o755)
    _with_tools(image, closure, x)
    with_bootd(image, closure, x, out, bootd_src)
    image.add("stage2/vmlinuz", kernel)
    image.add("stage2/initrd.img", stage2)
    entry = f"title {ENTRY_TITLE}\nlinux /vmlinuz\ninitrd /initrd.img\noptions {ENTRY_ARGS}\n"
    image.add("stage2/loader/entries/tpm-proof.conf", entry.encode())
    stage1 = out / "stage1.cpio.gz"
    image.write(stage1)
    return TpmGuest(kernel, stage1, stage2)


def with_bootd(image: Image, closure: Closure, x: Path, out: Path, bootd_src: Path) -> None:
    """kexec-tools, python3.11 with its standard library, libfdt and pefile, and bootd (compiled)."""
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
            if f.suffix == ".so":
                closure.add_to(image, [str(f.relative_to(x))])
            else:
                image.add(str(f.relative_to(x)), f)
        elif f.is_dir() and f.name == "ordlookup":
            image.add_tree(f, str(f.relative_to(x)), skip=("__pycache__",), suffixes_skip=())
    src = out / "build" / "bootd-src"
    shutil.copytree(bootd_src, src / "bootd", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    _compile(src, legacy=False)
    image.add_tree(src / "bootd", "opt/bootd/bootd")


def qemu_argv(guest: TpmGuest, tpm_socket: Path, *, lockdown: str | None = None) -> list[str]:
    """The qemu command; ``lockdown`` boots stage 1 locked down (``lockdown=``)."""
    append = f"console={CONSOLE} panic=5 proof.console={CONSOLE} proof.uuid={STAGE2_UUID}"
    if lockdown is not None:
        append += f" lockdown={lockdown}"
    tpm = ["-chardev", f"socket,id=chrtpm,path={tpm_socket}", "-tpmdev", "emulator,id=tpm0,chardev=chrtpm"]
    return [
        *QEMU, "-nographic", "-no-reboot", "-kernel", str(guest.kernel), "-initrd", str(guest.stage1),
        *tpm, "-device", "tpm-tis,tpmdev=tpm0", "-append", append,
    ]  # fmt: skip


def swtpm(state: Path) -> tuple[subprocess.Popen[bytes], Path]:
    """A fresh TPM 2.0 for one guest; qemu initialises it (its control channel on a UNIX socket)."""
    state.mkdir(parents=True, exist_ok=True)
    sock = state / "swtpm.sock"
    argv = ["swtpm", "socket", "--tpm2", "--tpmstate", f"dir={state}", "--ctrl", f"type=unixio,path={sock}",
            "--log", f"file={state / 'swtpm.log'},level=1", "--terminate"]  # fmt: skip
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, sock
