"""Reading the BMC's boot flags as ipmitool prints them (IPMI 2.0 parameter 5)."""

from __future__ import annotations

import pytest

from bootd.platform.bmc import BmcDevice, BootFlags, parse_boot_flags

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
