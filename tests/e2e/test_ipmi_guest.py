"""The BMC's boot-device override read in-band, as on a real server's host:
a qemu x86-64 guest with a KCS interface (``ipmi-bmc-extern`` + ``isa-ipmi-kcs``)
whose BMC is OpenIPMI's ``ipmi_sim`` on the host; in the guest Debian's IPMI
modules give ``/dev/ipmi0`` and ``bootd serve`` (sandbox machine, real BMC,
``ipmitool -I open``) autoboots.  The test sets each boot device from outside,
over lanplus on loopback, when the guest asks for it (see ``ipmi_guest``), and
reads the flags back from outside after the run.

ipmi_sim keeps only the device selector (no valid or persistent bit), so here
every device is a one-shot override: persistent overrides are proved against
parameter 5 as real BMCs report it in ``tests/unit/daemon/test_bmc.py``.  One
guest boot (TCG), about a minute once the packages are cached under
tests/.cache/e2e/amd64.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import is_root
from tests.e2e import qemu
from tests.e2e.ipmi_guest import build, qemu_argv
from tests.integration.daemon.test_ipmi import CONTROL, EMU, LAN_CONF, PASSWORD, Bmc, free_udp_port

pytestmark = [pytest.mark.slow, pytest.mark.root, pytest.mark.timeout(900)]
TIMEOUT = 600
PHASES = ["bios", "pxe", "disk", "cdrom", "none"]
"""bios first: nothing boots, so its flags stay for the next phase to replace.  (ipmi_sim
refuses to store "safe", selector 3: safe stops the autoboot as bios does, unit-tested.)"""


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Sim:
    bmc: Bmc
    serial_port: int


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[Sim]:
    """ipmi_sim on loopback: lanplus for the test, the VM serial codec for qemu's KCS."""
    if shutil.which("ipmi_sim") is None or shutil.which("ipmitool") is None:
        pytest.skip("needs ipmi_sim (openipmi) and ipmitool")
    d = tmp_path / "bmc"
    (d / "state").mkdir(parents=True)
    control = d / "chassis"
    control.write_text(CONTROL)
    control.chmod(0o755)
    lan, serial = free_udp_port(), free_tcp_port()
    conf = LAN_CONF.format(port=lan, control=control, password=PASSWORD)
    conf = conf.replace("  chassis_control", f"  serial kcs 127.0.0.1 {serial} codec VM\n  chassis_control")
    (d / "lan.conf").write_text(conf)
    (d / "sim.emu").write_text(EMU)
    argv = ["ipmi_sim", "-c", str(d / "lan.conf"), "-f", str(d / "sim.emu"), "-s", str(d / "state"), "-n"]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        bmc = Bmc(lan)
        deadline = time.monotonic() + 15
        while True:
            try:
                bmc.ipmitool("chassis", "status")
                break
            except AssertionError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        yield Sim(bmc, serial)
    finally:
        proc.terminate()
        proc.wait(10)


@dataclass(frozen=True)
class Phase:
    before: str
    after: str
    exit: str
    bootd: list[str]
    kexec: list[list[str]]


@dataclass(frozen=True)
class GuestRun:
    run: qemu.Run
    log: Path
    asked: list[str]
    """What the test set over lanplus, in order."""
    final: str
    """Parameter 5's data read over lanplus after the guest powered off."""

    def phase(self, name: str) -> Phase:
        def one(prefix: str) -> str:
            return self.run.first(f"IPMI-{prefix} {name} ") or ""

        kexec = [json.loads(line)["argv"] for line in self.run.starting(f"IPMI-KEXEC {name} ")]
        return Phase(one("BEFORE"), one("AFTER"), one("EXIT"), self.run.starting(f"IPMI-BOOTD {name} "), kexec)

    def context(self) -> str:
        return f"serial log {self.log}:\n{self.run.tail(80)}"


@pytest.fixture
def guest_run(sim: Sim, tmp_path: Path) -> GuestRun:
    if not is_root():
        pytest.skip("the IPMI guest downloads packages with a private apt state and runs as root")
    for tool in ("qemu-system-x86_64", "dpkg-deb", "readelf", "apt-get"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (make test installs it)")
    guest = build(tmp_path / "guest")
    asked: list[str] = []

    def on_line(line: str) -> None:
        if line.startswith("IPMI-WANT "):
            device = line.split()[1]
            if device != "none":  # none: whatever bootd left (a used one-shot is cleared)
                out = sim.bmc.ipmitool("chassis", "bootdev", device)
                assert f"Set Boot Device to {device}" in out, out  # ipmitool exits 0 when the BMC refuses
                asked.append(device)

    log = tmp_path / "serial.log"
    run = qemu.run(
        qemu_argv(guest, sim.serial_port, PHASES), log=log, timeout=TIMEOUT, stop_at="IPMI-DONE", on_line=on_line
    )
    return GuestRun(run, log, asked, sim.bmc.boot_data())


def booted(phase: Phase) -> list[str]:
    """The command line of each kernel a recorded ``kexec -l``/``-s`` loaded (each entry's own)."""
    return [next(a for a in argv if a.startswith("--append=")) for argv in phase.kexec if "-e" not in argv]


def test_autoboot_follows_the_bmc_in_band_and_clears_one_shots(guest_run: GuestRun) -> None:
    run = guest_run
    assert not run.run.timed_out and run.run.first("IPMI-DONE") is not None, run.context()
    assert "/dev/ipmi0" in (run.run.first("IPMI-DEVICE ") or ""), f"no in-band IPMI device; {run.context()}"
    assert run.asked == ["bios", "pxe", "disk", "cdrom"]

    bios = run.phase("bios")
    assert bios.before == "0018000000", f"the guest reads the test's 'bootdev bios' in-band; {run.context()}"
    assert any("The BMC asks for bios (next boot only): no autoboot" in line for line in bios.bootd), run.context()
    assert bios.exit == "0" and bios.kexec == [], "firmware setup asked: nothing autoboots"
    assert bios.after == "0018000000", "an override bootd did not act on stays on the BMC"

    expected = {"pxe": "--append=netboot=1", "disk": "--append=root=/dev/sda1", "cdrom": "--append=root=/dev/sr0"}
    for name, append in expected.items():
        phase = run.phase(name)
        assert phase.exit == "0", f"{name}: bootd serve exit status {phase.exit}; {run.context()}"
        got = booted(phase)
        assert got == [append], f"{name}: the BMC's device beats boot_order; {got}"
        log = " ".join(phase.bootd)
        assert f"The BMC asks to boot from {name} (next boot only)" in log, run.context()
        assert f"Cleared the BMC's one-shot boot override ({name})" in log, run.context()
        assert phase.after == "0000000000", f"{name}: the one-shot is cleared on the BMC once used"

    none = run.phase("none")
    assert none.before == "0000000000"
    got = booted(none)
    assert got == ["--append=root=/dev/sdb1"], f"no override: boot_order's USB stick; {got}"
    assert not any("The BMC asks" in line for line in none.bootd)
    assert run.final == "0000000000", "seen from outside too, the BMC holds no override after the run"
