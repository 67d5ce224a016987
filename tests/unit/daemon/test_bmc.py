"""Reading the BMC's boot flags as ipmitool prints them (IPMI 2.0 parameter 5)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from bootd.errors import ConfigError
from bootd.platform.bmc import Bmc, BmcDevice, BmcTarget, BootFlags, parse_boot_flags
from bootd.platform.machine import MachineSpec, load_machine
from bootd.platform.run import RecordingRunner
from bootd.settings_table import TABLE

OUTPUT = """Boot parameter version: 1
Boot parameter 5 is valid/unlocked
Boot parameter data: {data}
 Boot Flags :
"""


@pytest.mark.parametrize(
    ("data", "flags"),
    [
        ("8004000000", BootFlags(BmcDevice.PXE, persistent=False)),  # ipmitool chassis bootdev pxe
        ("c008000000", BootFlags(BmcDevice.DISK, persistent=True)),  # ... disk options=persistent
        ("800c000000", BootFlags(BmcDevice.SAFE, persistent=False)),
        ("8014000000", BootFlags(BmcDevice.CDROM, persistent=False)),
        ("8018000000", BootFlags(BmcDevice.BIOS, persistent=False)),
        ("0004000000", None),  # not valid: firmware must ignore it
        ("8000000000", None),  # valid, but no device
        ("803c000000", None),  # a selector bootd does not know (floppy/removable)
    ],
)
def test_boot_flags(data: str, flags: BootFlags | None) -> None:
    assert parse_boot_flags(OUTPUT.format(data=data)) == flags


def test_a_bmc_without_the_valid_bit_counts_a_device_as_a_one_shot() -> None:
    assert parse_boot_flags(OUTPUT.format(data="0004000000"), valid_bit=False) == BootFlags(BmcDevice.PXE, False)


def test_garbage_is_no_override() -> None:
    assert parse_boot_flags("Error: Unable to establish IPMI v2 / RMCP+ session") is None
    assert parse_boot_flags("Boot parameter data: zz") is None


MACHINE = '[machine]\narch = "x86_64"\n\n[ipmi]\n{ipmi}\n'


def _machine(tmp_path: Path, ipmi: str) -> MachineSpec:
    (tmp_path / "machine.toml").write_text(MACHINE.format(ipmi=ipmi))
    return load_machine(tmp_path)


def test_a_sandbox_bmc_in_band_is_asked_through_the_local_interface(tmp_path: Path) -> None:
    """``[ipmi] interface = "open"``: ipmitool -I open (/dev/ipmi0), no host, no password."""
    spec = _machine(tmp_path, 'interface = "open"\nvalid_bit = false')
    assert spec.ipmi == BmcTarget(interface="open", valid_bit=False)
    runner = RecordingRunner()
    bmc = Bmc(runner, spec.ipmi)
    asyncio.run(bmc.boot_flags())
    asyncio.run(bmc.clear_boot_flags())
    assert runner.calls[0] == ("ipmitool", "-I", "open", "chassis", "bootparam", "get", "5")
    assert runner.calls[1][:6] == ("ipmitool", "-I", "open", "raw", "0x00", "0x08")


def test_lanplus_stays_the_sandbox_default_and_loopback_only(tmp_path: Path) -> None:
    assert _machine(tmp_path, "port = 9001").ipmi == BmcTarget(interface="lanplus", host="127.0.0.1", port=9001)
    with pytest.raises(ConfigError, match="loopback"):
        _machine(tmp_path, 'host = "10.0.0.1"')


@pytest.mark.parametrize(
    ("ipmi", "message"),
    [
        ('interface = "open"\nhost = "127.0.0.1"', 'interface = "open" takes no host'),
        ('interface = "serial"', "interface must be open or lanplus, not 'serial'"),
    ],
)
def test_an_in_band_bmc_takes_no_network_keys(tmp_path: Path, ipmi: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        _machine(tmp_path, ipmi)


def test_the_ipmi_setting_is_in_the_settings_table() -> None:
    """One place: "auto" (the local BMC in-band where the kernel has an IPMI device) or "off"."""
    assert TABLE.defaults().ipmi == "auto"
    assert TABLE.validate("ipmi", "off") == "off"
    with pytest.raises(ConfigError, match="ipmi must be one of auto, off"):
        TABLE.validate("ipmi", "lanplus")
