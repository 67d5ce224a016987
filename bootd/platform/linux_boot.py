"""The loader's side of the real machine: /proc/device-tree, /sys/class/tty,
/sys/class/graphics + framebuffer ioctls, lockdown, kexec-tools."""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import re
import struct
from collections.abc import Mapping, Sequence
from pathlib import Path

from bootd.errors import DtbError
from bootd.model import N_, Console, ConsoleKind, Framebuffer
from bootd.platform.run import Result, Runner

log = logging.getLogger(__name__)

FBIOGET_VSCREENINFO = 0x4600
FBIOGET_FSCREENINFO = 0x4602
_VAR = struct.Struct("=8I12I")  # the first 20 fields of fb_var_screeninfo (of 40)
_VAR_SIZE = 160
_FIX = struct.Struct("@16sLIIIIHHHIL")  # id .. line_length, mmio_start
_FIX_SIZE = 80 if struct.calcsize("@L") == 8 else 68
_MAX_PROP = 1024 * 1024


def tree_to_blob(base: Path, fdt_file: Path | None = None) -> bytes:
    """Flatten the device-tree directory ``base`` (``/proc/device-tree``) into a
    version-17 blob; the reserve map and boot CPU come from ``fdt_file``
    (``/sys/firmware/fdt``) when it is readable."""
    import libfdt

    rsv: list[tuple[int, int]] = []
    boot_cpu = 0
    if fdt_file is not None:
        try:
            firmware = libfdt.FdtRo(fdt_file.read_bytes())
            rsv = [tuple(firmware.get_mem_rsv(i)) for i in range(firmware.num_mem_rsv())]
            boot_cpu = firmware.boot_cpuid_phys()
        except (OSError, libfdt.FdtException) as e:
            log.debug("%s: no reserve map from it: %s", fdt_file, e)
    sw = libfdt.FdtSw()
    for addr, size in rsv:
        sw.add_reservemap_entry(addr, size)
    sw.finish_reservemap()

    def node(path: Path, name: str) -> None:
        sw.begin_node(name)
        subdirs = []
        for entry in sorted(os.scandir(path), key=lambda e: e.name):
            if entry.is_dir(follow_symlinks=False):
                subdirs.append(entry)
            elif entry.is_file(follow_symlinks=False):
                with open(entry.path, "rb") as f:
                    sw.property(entry.name, f.read(_MAX_PROP))
        for d in subdirs:
            node(Path(d.path), d.name)
        sw.end_node()

    try:
        node(base, "")
        fdt = sw.as_fdt()
        data = fdt.as_bytearray()
        libfdt.fdt_set_boot_cpuid_phys(data, boot_cpu)
        return bytes(data)
    except (OSError, libfdt.FdtException) as e:
        raise DtbError.of(N_("could not read the live device tree from {base}: {error}"), base=base, error=e) from None


def _dt_path(of_node: Path, dt_base: Path) -> str | None:
    try:
        real = of_node.resolve(strict=True)
        rel = real.relative_to(dt_base.resolve(strict=True))
    except (OSError, ValueError):
        return None
    return "/" + str(rel) if str(rel) != "." else "/"


def _fb_format(bpp: int, fields: Sequence[int]) -> str:
    """simple-framebuffer's format name from fb_var_screeninfo's bitfields."""
    names = ("r", "g", "b", "a")
    comps = [(fields[3 * i], fields[3 * i + 1], names[i]) for i in range(4) if fields[3 * i + 1]]
    used = sum(length for _, length, _ in comps)
    if bpp > used and not any(n == "a" for *_, n in comps):
        top = max((off + length for off, length, _ in comps), default=0)
        comps.append((top, bpp - used, "x"))
    return "".join(f"{n}{length}" for _, length, n in sorted(comps, reverse=True))


class LinuxBoot:
    def __init__(self, runner: Runner, root: Path = Path("/")) -> None:
        self.runner = runner
        self.root = root

    def _p(self, path: str) -> Path:
        return self.root / path.lstrip("/")

    def live_dtb(self) -> bytes | None:
        base = self._p("/proc/device-tree")
        fdt_file = self._p("/sys/firmware/fdt")
        if base.is_dir():
            try:
                return tree_to_blob(base, fdt_file)
            except DtbError as e:
                log.warning("%s; using %s", e, fdt_file)
        try:
            return fdt_file.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise DtbError.of(N_("could not read {file}: {error}"), file=fdt_file, error=e.strerror) from None

    def _dt_base(self) -> Path:
        return self._p("/sys/firmware/devicetree/base")

    def consoles(self) -> list[Console]:
        out: list[Console] = []
        active = self._active_consoles()
        cls = self._p("/sys/class/tty")
        names = sorted(os.listdir(cls)) if cls.is_dir() else []
        for name in names:
            dev = cls / name / "device"
            of_node = _dt_path(dev / "of_node", self._dt_base()) if dev.exists() else None
            if name.startswith("hvc"):
                if not (cls / name / "dev").exists() or self._hvc_without_backend(name):
                    continue
                kind = ConsoleKind.HVC
                if of_node is None:
                    opal = f"/ibm,opal/consoles/serial@{name[3:]}"
                    if (self._dt_base() / opal.lstrip("/")).exists():
                        of_node = opal
                if of_node is None:
                    of_node = self._papr_vty(int(name[3:]) if name[3:].isdigit() else -1)
            elif dev.exists() and name.startswith("tty") and not re.fullmatch(r"tty\d*|ttyprintk", name):
                port_type = cls / name / "type"
                if port_type.exists() and port_type.read_text().strip() == "0":
                    continue  # an 8250 slot with no UART behind it
                kind = ConsoleKind.SERIAL
            elif name == "tty1" and self._p("/sys/class/graphics/fb0").exists():
                kind = ConsoleKind.VGA
                of_node = self.display_node("fb0")
            else:
                continue
            desc = "active console" if name in active else ""
            out.append(Console(name=name, kind=kind, dt_path=of_node, description=desc))
        return out

    def _hvc_without_backend(self, name: str) -> bool:
        """hvc's tty driver makes hvc0..hvc7 whether or not a backend (a virtio console,
        a PAPR vty, an OPAL console) stands behind each one; opening one without fails
        with ENODEV (a missing node: cannot tell, keep it)."""
        try:
            fd = os.open(self._p(f"/dev/{name}"), os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK | os.O_CLOEXEC)
        except FileNotFoundError:
            return False
        except OSError as e:
            return e.errno == errno.ENODEV
        os.close(fd)
        return False

    def _papr_vty(self, index: int) -> str | None:
        """PAPR (pseries) hvcN's node: hvc_vio makes the firmware's stdout vty
        hvc0 and numbers the other ``hvterm`` vtys under /vdevice after it."""
        vdevice = self._dt_base() / "vdevice"
        try:
            vtys = sorted(
                n.name
                for n in vdevice.iterdir()
                if n.name.startswith("vty@") and b"hvterm" in (n / "compatible").read_bytes()[:_MAX_PROP]
            )
            chosen = self._dt_base() / "chosen"
            stdout = next(
                (chosen / p).read_bytes().split(b"\0")[0].decode(errors="replace")
                for p in ("linux,stdout-path", "stdout-path")
                if (chosen / p).exists()
            )
        except StopIteration:
            stdout = ""
        except OSError:
            return None
        first = stdout.split(":")[0].removeprefix("/vdevice/")
        if first in vtys:
            vtys.remove(first)
            vtys.insert(0, first)
        return f"/vdevice/{vtys[index]}" if 0 <= index < len(vtys) else None

    def _active_consoles(self) -> set[str]:
        try:
            text = self._p("/proc/consoles").read_text()
        except OSError:
            return set()
        return {line.split()[0] for line in text.splitlines() if line.split()}

    def framebuffers(self) -> list[Framebuffer]:
        graphics = self._p("/sys/class/graphics")
        names = sorted(n for n in os.listdir(graphics) if re.fullmatch(r"fb\d+", n)) if graphics.is_dir() else []
        out = []
        for name in names:
            try:
                out.append(self._framebuffer(name))
            except OSError as e:
                log.info("%s: no framebuffer facts: %s", name, e.strerror)
        return out

    def _framebuffer(self, name: str) -> Framebuffer:
        fd = os.open(self._p(f"/dev/{name}"), os.O_RDONLY | os.O_CLOEXEC)
        try:
            var = fcntl.ioctl(fd, FBIOGET_VSCREENINFO, bytes(_VAR_SIZE))
            fix = fcntl.ioctl(fd, FBIOGET_FSCREENINFO, bytes(_FIX_SIZE))
        finally:
            os.close(fd)
        v = _VAR.unpack_from(var)
        f = _FIX.unpack_from(fix)
        xres, yres, bpp = v[0], v[1], v[6]
        return Framebuffer(
            name=name,
            width=xres,
            height=yres,
            depth=bpp,
            stride=f[9],
            address=f[1],
            size=f[2],
            format=_fb_format(bpp, v[8:20]),
        )

    def display_node(self, fb: str) -> str | None:
        return _dt_path(self._p(f"/sys/class/graphics/{fb}/device/of_node"), self._dt_base())

    def random_bytes(self, count: int) -> bytes:
        return os.urandom(count)  # getrandom(2): the kernel's RNG, blocking only until it is seeded

    def lockdown(self) -> str:
        """The lockdown mode securityfs shows; where it is not mounted (a minimal
        initramfs), the ``lockdown=`` the kernel was booted with."""
        try:
            text = self._p("/sys/kernel/security/lockdown").read_text()
        except OSError:
            try:
                cmdline = self._p("/proc/cmdline").read_text()
            except OSError:
                return "none"
            m = re.search(r"(?:^|\s)lockdown=(integrity|confidentiality)(?:\s|$)", cmdline)
            return m.group(1) if m else "none"
        m = re.search(r"\[(\w+)\]", text)
        return m.group(1) if m else "none"

    def under_systemd(self) -> bool:
        return self._p("/run/systemd/system").is_dir()

    async def run_hook(self, path: Path, env: Mapping[str, str], *, timeout: float) -> Result:
        return await self.runner.run([str(path)], check=False, env=env, timeout=timeout)

    async def kexec(self, argv: Sequence[str]) -> Result:
        return await self.runner.run(argv, check=False, timeout=120.0)
