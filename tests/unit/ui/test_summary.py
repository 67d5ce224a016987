"""The text a boot leaves on the screen at the end of the demo."""

from __future__ import annotations

from bootd.model import BootRecord
from ui.dbus_backend import boot_summary


def test_summary_without_a_console_does_not_claim_the_tree_is_unchanged() -> None:
    rec = BootRecord(
        option="sda2/ubuntu",
        name="Ubuntu",
        args="quiet",
        kexec_load=("kexec", "-l", "/k", "--dtb=/t.dtb"),
        kexec_exec=("kexec", "-e"),
        dtb_changes=('~ /chosen/bootargs: "" -> "quiet"',),
    )
    text = "\n".join(boot_summary(rec))
    assert "stdout-path:   (not changed: no console was chosen)" in text
    assert "device tree not changed" not in text
    assert 'Device tree changes:\n  ~ /chosen/bootargs: "" -> "quiet"' in text
    assert "kexec load:    kexec -l /k --dtb=/t.dtb" in text
    assert "Console:" not in text


def test_summary_with_a_console_names_its_device_tree_path() -> None:
    rec = BootRecord(option="o", name="O", console="hvc0", dt_console_path="/ibm,opal/consoles/serial@0")
    lines = boot_summary(rec)
    assert lines[:3] == ("Booted:        O", "Console:       hvc0", "stdout-path:   /ibm,opal/consoles/serial@0")
