"""The firmware image under qemu: bootd's .deb and the image built once per run
(cached under build/ and tests/.cache), and one machine per settings file.

Every test machine has a console that receives the guest's journal (journald's
ForwardToConsole, from the machine's overlay) into a file on the host: a virtio
console on arm64 (hvc0), a second PAPR vty on pseries (hvc1, hvc0 being the
serial console).  ``shell=True`` adds one more with a root shell on it (arm64:
a second virtio console, hvc1; pseries: a third vty, hvc2), and
``framebuffer=True`` boots with the board's tree plus a firmware framebuffer
(as U-Boot hands one to Linux), so the screen is a console too.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from image.build import CACHE, Built, build
from tests.conftest import is_root
from tests.e2e.debian import Apt
from tests.e2e.firmware.console import Console, Shell
from tests.e2e.firmware.machine import machine
from tests.e2e.firmware.package import debian_package
from tests.e2e.guest import ARM64, PPC64EL, Arch, board_dtb

WORK = Path(__file__).resolve().parents[3] / "build" / "image"


def _image(arch: Arch) -> Built:
    if not is_root():
        pytest.skip("the image is built with a private apt state, as root")
    for tool in (arch.qemu[0], "dpkg-buildpackage", "zstd", "depmod", "mkfs.ext4", "sfdisk", "systemctl"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (make test installs it)")
    return build(arch, debian_package().deb)


@pytest.fixture(scope="session")
def arm64_image() -> Built:
    return _image(ARM64)


@pytest.fixture(scope="session")
def ppc64el_image() -> Built:
    return _image(PPC64EL)


JOURNAL_TTY = {"arm64": "hvc0", "ppc64el": "hvc1"}
"""Where the journal goes: arm64's first virtio console; pseries' second vty (hvc0 is the serial console)."""
JOURNAL_CONF = "[Journal]\nForwardToConsole=yes\nTTYPath=/dev/{tty}\nMaxLevelConsole=info\n"
"""The test machine's journald drop-in: every journal line also goes to a console that is a file on the host."""
SECOND_VTY = 0x71000010
THIRD_VTY = 0x71000020
SHELL_TTY = {"arm64": "hvc1", "ppc64el": "hvc2"}
"""Where the test machine's root shell is: arm64's second virtio console; pseries' third vty."""
SHELL_UNIT = """\
[Unit]
Description=Root shell on {tty} (the test machine only)
BindsTo=dev-{tty}.device
After=dev-{tty}.device

[Service]
ExecStart=/bin/sh -i
Environment=PS1=
StandardInput=tty-force
StandardOutput=tty
StandardError=tty
TTYPath=/dev/{tty}
Restart=always
# an interactive shell ignores SIGTERM: without these the kexec waits 90 s for it to stop
KillSignal=SIGHUP
TimeoutStopSec=2
"""
SHELL_WANTS = "etc/systemd/system/multi-user.target.wants/test-shell.service"


class Journal:
    """The guest's journal as journald forwarded it to hvc0 (a file qemu writes)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def text(self) -> str:
        try:
            return self.path.read_bytes().decode(errors="replace").replace("\r", "")
        except FileNotFoundError:
            return ""

    def wait(self, pattern: str, timeout: float) -> re.Match[str]:
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while not (m := rx.search(self.text())):
            if time.monotonic() > deadline:
                raise AssertionError(f"no {pattern!r} in the journal within {timeout:.0f}s ({self.path})")
            time.sleep(0.5)
        return m


@dataclass
class Firmware:
    """One running test machine: its serial console, its journal and (when asked for) a root shell."""

    serial: Console
    journal: Journal
    shell: Shell | None = None


Boot = Callable[..., Firmware]


def _booter(built: Built) -> Iterator[Boot]:
    apt = Apt(built.arch.debian, (CACHE / built.arch.debian / "apt").resolve())
    out = WORK / built.arch.debian / "machines"
    out.mkdir(parents=True, exist_ok=True)
    running: list[Firmware] = []

    def boot(
        name: str,
        settings: str | None = None,
        append: str = "",
        files: dict[str, str] | None = None,
        links: dict[str, str] | None = None,
        *,
        shell: bool = False,
        framebuffer: bool = False,
    ) -> Firmware:
        conf = JOURNAL_CONF.format(tty=JOURNAL_TTY[built.arch.debian])
        files = {**(files or {}), "etc/systemd/journald.conf.d/test-console.conf": conf}
        links = dict(links or {})
        if shell:
            files["etc/systemd/system/test-shell.service"] = SHELL_UNIT.format(tty=SHELL_TTY[built.arch.debian])
            links[SHELL_WANTS] = "/etc/systemd/system/test-shell.service"
        m = machine(built, apt, out, settings, name, files=files, links=links)
        logs = WORK / built.arch.debian / "logs"
        logs.mkdir(exist_ok=True)
        journal = logs / f"{name}.journal"
        journal.unlink(missing_ok=True)
        extra = ["-chardev", f"file,id=journal,path={journal}"]
        if built.arch.debian == "arm64":
            extra += ["-device", "virtio-serial-device", "-device", "virtconsole,chardev=journal"]
        else:
            extra += ["-device", f"spapr-vty,chardev=journal,reg=0x{SECOND_VTY:x}"]
        sh = None
        if shell:
            sock = Path(tempfile.mkdtemp(prefix="bootd-fw-")) / "shell.sock"  # a socket path has at most 107 bytes
            extra += ["-chardev", f"socket,id=shell,path={sock},server=on,wait=off"]
            if built.arch.debian == "arm64":
                extra += ["-device", "virtconsole,chardev=shell"]
            else:  # hvc_vio (built in) numbers the vtys in the tree's order, after the stdout one
                extra += ["-device", f"spapr-vty,chardev=shell,reg=0x{THIRD_VTY:x}"]
            sh = Shell(sock, logs / f"{name}.shell.log")
            sh.log.unlink(missing_ok=True)
        if framebuffer:
            extra += ["-dtb", str(board_dtb(built.arch, out))]
        fw = Firmware(Console(m.qemu_argv(append, extra), logs / f"{name}.log"), Journal(journal), sh)
        running.append(fw)
        return fw

    try:
        yield boot
    finally:
        for fw in running:
            fw.serial.close()
            if fw.shell is not None:
                fw.shell.close()
                shutil.rmtree(fw.shell.path.parent, ignore_errors=True)


@pytest.fixture
def boot_arm64(arm64_image: Built) -> Iterator[Boot]:
    yield from _booter(arm64_image)


@pytest.fixture
def boot_ppc64el(ppc64el_image: Built) -> Iterator[Boot]:
    yield from _booter(ppc64el_image)
