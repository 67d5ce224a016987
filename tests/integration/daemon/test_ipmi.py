"""The BMC's boot-device override (``ipmitool chassis bootdev``) decides the
autoboot, as Petitboot honours it: OpenIPMI's ipmi_sim as the BMC, over
lanplus on loopback, read and cleared by the daemon with the real ipmitool."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.daemon.conftest import set_config
from tests.integration.daemon.helpers import DaemonProcess, Entry, MachineDevice, PrivateBus, make_machine
from tests.integration.daemon.test_serve import kexec_log, wait_for

pytestmark = pytest.mark.skipif(
    not (shutil.which("ipmi_sim") and shutil.which("ipmitool")), reason="needs ipmi_sim (openipmi) and ipmitool"
)

LAN_CONF = """name "bootd"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 {port}
    priv_limit admin
    allowed_auths_callback md5
    allowed_auths_user md5
    allowed_auths_operator md5
    allowed_auths_admin md5
    guid a123456789abcdefa123456789abcdef
  endlan
  chassis_control "{control}"
  user 2 true "admin" "{password}" admin 10 md5
"""
EMU = "mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\nmc_enable 0x20\n"
# ipmi_sim hands the chassis (power, boot device) to a program: this one keeps the boot device in a file.
CONTROL = """#!/bin/sh
state="$(dirname "$0")/bootdev"
if [ "$1" = get ]; then shift
  for p; do if [ "$p" = boot ]; then echo "boot:$(cat "$state" 2>/dev/null || echo none)"; else echo "$p:0"; fi; done
elif [ "$1" = set ] && [ "$2" = boot ]; then echo "$3" > "$state"; fi
exit 0
"""
PASSWORD = "bmc-secret"


class Bmc:
    def __init__(self, port: int) -> None:
        self.port = port

    def ipmitool(self, *args: str) -> str:
        argv = ["ipmitool", "-I", "lanplus", "-C", "3", "-H", "127.0.0.1", "-p", str(self.port), "-U", "admin"]
        argv += ["-P", PASSWORD]
        r = subprocess.run([*argv, *args], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        return r.stdout

    def boot_data(self) -> str:
        out = self.ipmitool("chassis", "bootparam", "get", "5")
        return next(line.split(":")[1].strip() for line in out.splitlines() if "Boot parameter data" in line)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def bmc(tmp_path: Path) -> Iterator[Bmc]:
    d = tmp_path / "bmc"
    (d / "state").mkdir(parents=True)
    control = d / "chassis"
    control.write_text(CONTROL)
    control.chmod(0o755)
    port = free_udp_port()
    (d / "lan.conf").write_text(LAN_CONF.format(port=port, control=control, password=PASSWORD))
    (d / "sim.emu").write_text(EMU)
    argv = ["ipmi_sim", "-c", str(d / "lan.conf"), "-f", str(d / "sim.emu"), "-s", str(d / "state"), "-n"]
    sim = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        b = Bmc(port)
        deadline = time.monotonic() + 15
        while True:
            try:
                b.ipmitool("chassis", "status")
                break
            except AssertionError:
                if time.monotonic() > deadline or sim.poll() is not None:
                    raise
                time.sleep(0.2)
        yield b
    finally:
        sim.terminate()
        sim.wait(10)


def machine_with_bmc(root: Path, bmc: Bmc) -> Path:
    m = make_machine(
        root,
        [
            MachineDevice("sda1", entries=[Entry("6.1", "Debian 6.1")]),
            MachineDevice("sdb1", type="usb", entries=[Entry("rescue", "Rescue stick")], label="STICK"),
        ],
    )
    with (m.root / "machine.toml").open("a") as f:
        f.write(f'\n[ipmi]\nhost = "127.0.0.1"\nport = {bmc.port}\nuser = "admin"\npassword = "{PASSWORD}"\n')
        f.write("valid_bit = false\n")
    return m.root


def test_a_one_shot_bootdev_wins_the_autoboot_and_is_cleared(
    bmc: Bmc, system_bus: PrivateBus, tmp_path: Path, config_root: Path
) -> None:
    machine = machine_with_bmc(tmp_path / "machine", bmc)
    bmc.ipmitool("chassis", "bootdev", "disk")
    assert bmc.boot_data() == "0008000000", "the BMC holds 'force boot from disk'"
    set_config(config_root, 'timeout = 1\nboot_order = ["usb", "disk"]\n')  # without the BMC: the stick
    state = tmp_path / "state"
    d = DaemonProcess(system_bus, machine, state, config_root=config_root)
    try:
        d.wait_ready()
        wait_for(lambda: kexec_log(d, state) != [], timeout=30)
        assert "devices/sda1/vmlinuz-6.1" in kexec_log(d, state)[0][2], "the BMC's disk beats boot_order's usb"
        wait_for(lambda: "Cleared the BMC's one-shot boot override (disk)" in d.output())
        assert "The BMC asks to boot from disk (next boot only)" in d.output()
        assert "bmc-secret" not in d.output(), "the BMC password never reaches the log"
    finally:
        assert d.stop() == 0
    assert bmc.boot_data() == "0000000000", "a one-shot override is cleared once used"
    (state / "kexec.log").unlink()
    d = DaemonProcess(system_bus, machine, state, config_root=config_root)
    try:
        d.wait_ready()
        wait_for(lambda: kexec_log(d, state) != [], timeout=30)
        assert "devices/sdb1/vmlinuz-rescue" in kexec_log(d, state)[0][2], "the next start follows boot_order again"
    finally:
        assert d.stop() == 0


def test_bios_setup_stops_the_autoboot(bmc: Bmc, system_bus: PrivateBus, tmp_path: Path, config_root: Path) -> None:
    machine = machine_with_bmc(tmp_path / "machine", bmc)
    bmc.ipmitool("chassis", "bootdev", "bios")
    set_config(config_root, "timeout = 1\n")
    state = tmp_path / "state"
    d = DaemonProcess(system_bus, machine, state, config_root=config_root)
    try:
        d.wait_ready()
        wait_for(lambda: "The BMC asks for bios (next boot only): no autoboot" in d.output())
        time.sleep(2.5)  # longer than the timeout
        assert kexec_log(d, state) == []
    finally:
        assert d.stop() == 0


def test_ipmi_off_leaves_the_bmc_alone(bmc: Bmc, system_bus: PrivateBus, tmp_path: Path, config_root: Path) -> None:
    """``ipmi = "off"`` (a settings-table setting): the flags are neither read nor cleared."""
    machine = machine_with_bmc(tmp_path / "machine", bmc)
    bmc.ipmitool("chassis", "bootdev", "disk")
    set_config(config_root, 'timeout = 1\nboot_order = ["usb", "disk"]\nipmi = "off"\n')
    state = tmp_path / "state"
    d = DaemonProcess(system_bus, machine, state, config_root=config_root)
    try:
        d.wait_ready()
        wait_for(lambda: kexec_log(d, state) != [], timeout=30)
        assert "devices/sdb1/vmlinuz-rescue" in kexec_log(d, state)[0][2], "boot_order decides, not the BMC"
        assert "The BMC asks" not in d.output()
        assert "unknown setting" not in d.output()
    finally:
        assert d.stop() == 0
    assert bmc.boot_data() == "0008000000", "the override is still there for whoever reads it"
