"""The IPMI guest: an x86-64 qemu ``q35`` machine whose BMC is OpenIPMI's
``ipmi_sim`` on the host, reached in-band through a KCS interface
(``-device ipmi-bmc-extern`` + ``isa-ipmi-kcs``), built from Debian packages.

The guest loads Debian's ``ipmi_msghandler``, ``ipmi_devintf`` and ``ipmi_si``
(from the kernel package), so it has ``/dev/ipmi0`` as a real server's host
has; it runs a D-Bus system bus (Debian's dbus-daemon with bootd's bus policy)
and ``bootd serve`` on a sandbox machine whose only real part is the BMC
(``[ipmi] interface = "open"``: Debian's ipmitool over /dev/ipmi0).  The
sandbox has a disk, a CD, a USB stick and a NIC with a PXE tree; the settings
prefer the stick, so which one autoboots says which device the BMC asked for.
The sandbox records kexec instead of running it.

The init script (``guest/ipmi-init.sh``) runs one daemon per phase named on the
command line (``ipmi.phases=…``).  Before each it prints ``IPMI-WANT PHASE`` and
waits until the BMC holds that device: the test, reading the serial line, sets
it from outside (ipmitool lanplus to ipmi_sim on loopback), as an admin would.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import dbus_fast
import tomlkit

from tests.e2e.debian import Apt, unpack
from tests.e2e.guest import CACHE, HERE, ROOT, locked
from tests.e2e.initramfs import Closure, Image
from tests.e2e.tpm_guest import KERNEL_META, QEMU, unpacked, with_bootd, with_busybox
from tests.integration.daemon.helpers import SYSTEM_LIKE

CONSOLE = "ttyS0"
MODULES = ("ipmi_msghandler", "ipmi_devintf", "ipmi_si")
"""Loaded in this order (busybox insmod does not read modules.dep)."""
BUS_SOCKET = "/run/bootd-bus"
BUS_CONF = SYSTEM_LIKE.format(socket=BUS_SOCKET, policy="/etc/dbus-1/org.bootd.conf", max_replies=128)
"""The daemon tests' system-like bus, with bootd's own bus policy."""
SETTINGS = 'timeout = 0\nboot_order = ["usb"]\n'
"""Without the BMC the USB stick autoboots, at once."""

MACHINE = """[machine]
arch = "x86_64"
firmware = "pc"
description = "a server whose BMC is the test's ipmi_sim, reached in-band"

[[console]]
name = "ttyS0"
kind = "serial"

[ipmi]
interface = "open"
valid_bit = false    # ipmi_sim keeps only the device selector

[[device]]
id = "sda1"
type = "disk"
node = "/dev/sda1"
fstype = "ext4"

[[device]]
id = "sr0"
type = "optical"
node = "/dev/sr0"
fstype = "iso9660"

[[device]]
id = "sdb1"
type = "usb"
node = "/dev/sdb1"
fstype = "vfat"

[[interface]]
name = "eth0"
mac = "52:54:00:12:34:56"
lease_after = 0.5

[interface.lease]
ip = "10.0.2.15"
subnet = "255.255.255.0"
serverid = "10.0.2.2"
siaddr = "10.0.2.2"
pxepathprefix = "file://{machine}/tftp/"
"""
ENTRIES = {"sda1": "Disk Linux", "sr0": "CD Linux", "sdb1": "USB Linux"}
"""Each device's one (default) BLS entry; its kernel is ``vmlinuz-<device>``."""
PXE = "DEFAULT netboot\nLABEL netboot\n  MENU LABEL Network Linux\n  KERNEL vmlinuz-net\n  APPEND netboot=1\n"


@dataclass(frozen=True)
class IpmiGuest:
    kernel: Path
    initrd: Path


def _modules(cache: Path) -> tuple[Path, str]:
    """Debian's IPMI modules, unpacked (once) from the kernel package already downloaded."""
    apt = Apt("amd64", cache / "apt")
    kpkg = apt.cached(KERNEL_META)
    assert kpkg is not None, "tpm_guest.unpacked resolves the kernel package first"
    release = kpkg.removeprefix("linux-image-")
    dest = cache / f"ipmi-modules-{release}"
    with locked(cache / ".lock"):
        if not (dest / ".complete").exists():
            shutil.rmtree(dest, ignore_errors=True)
            deb = apt.download([kpkg])[0]
            unpack(deb, dest, (f"lib/modules/{release}/kernel/drivers/char/ipmi/ipmi_",))
            (dest / ".complete").touch()
    return dest / "lib/modules" / release / "kernel/drivers/char/ipmi", release


def _machine(image: Image) -> None:
    image.add("machine/machine.toml", MACHINE.encode())
    for device, title in ENTRIES.items():
        d = f"machine/devices/{device}"
        image.add(f"{d}/vmlinuz-{device}", b"MZ" + bytes(62) + device.encode())
        entry = f"title {title}\nversion 1\nlinux /vmlinuz-{device}\noptions root=/dev/{device}\n"
        image.add(f"{d}/loader/entries/{device}.conf", entry.encode())
    image.add("machine/tftp/pxelinux.cfg/default", PXE.encode())
    image.add("machine/tftp/vmlinuz-net", b"MZ" + bytes(62) + b"net")
    image.add("cfg/etc/bootd/bootd.toml", SETTINGS.encode())


def build(out: Path, cache: Path = CACHE / "amd64", *, bootd_src: Path = ROOT / "bootd") -> IpmiGuest:
    """Build the guest into ``out``; packages are downloaded (once) into ``cache``."""
    out.mkdir(parents=True, exist_ok=True)
    x, kernel = unpacked(out, cache)
    modules, release = _modules(cache)
    closure = Closure(x)
    image = Image()
    image.add("init", (HERE / "guest" / "ipmi-init.sh").read_bytes(), 0o755)
    with_busybox(image, x)
    for name in MODULES:
        image.add(f"lib/modules/{release}/{name}.ko", modules / f"{name}.ko")
    # dbus-fast's compiled modules need libpthread (libc6's) beside libc
    pthread = str(closure.index["libpthread.so.0"].relative_to(x))
    closure.add_to(image, ["usr/bin/ipmitool", "usr/bin/dbus-daemon", pthread])
    image.add("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
    image.add("etc/group", b"root:x:0:\n")
    image.add("etc/dbus-1/bus.conf", BUS_CONF.encode())
    image.add("etc/dbus-1/org.bootd.conf", (ROOT / "config/dbus-1/org.bootd.conf").read_bytes())
    with_bootd(image, closure, x, out, bootd_src)
    for package in (dbus_fast, tomlkit):  # bootd's own dependencies, as installed for the tests (x86-64, 3.11)
        src = Path(package.__file__ or "").parent
        image.add_tree(src, f"opt/bootd/{src.name}", skip=("__pycache__",), suffixes_skip=(".pyx", ".pxd", ".c"))
    _machine(image)
    initrd = out / "ipmi.cpio.gz"
    image.write(initrd)
    return IpmiGuest(kernel, initrd)


def qemu_argv(guest: IpmiGuest, bmc_port: int, phases: list[str]) -> list[str]:
    """The guest, its KCS interface connected to ipmi_sim's serial (VM codec) port ``bmc_port``."""
    append = f"console={CONSOLE} panic=5 ipmi.phases={','.join(phases)}"
    bmc = [
        "-chardev", f"socket,id=ipmi0,host=127.0.0.1,port={bmc_port},reconnect=2",
        "-device", "ipmi-bmc-extern,id=bmc0,chardev=ipmi0",
        "-device", "isa-ipmi-kcs,bmc=bmc0",
    ]  # fmt: skip
    return [
        *QEMU, "-nographic", "-no-reboot", "-kernel", str(guest.kernel), "-initrd", str(guest.initrd),
        *bmc, "-append", append,
    ]  # fmt: skip
