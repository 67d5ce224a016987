"""Power-on to the next kernel: the firmware image under real systemd finds the
second disk's Debian GRUB config, shows the menu on the serial console, and
with nobody there autoboots the default entry through kexec - also when the
machine's settings file is corrupt: the daemon says why in the journal and
boots on the shipped defaults."""

from __future__ import annotations

import re

import pytest

from tests.e2e.firmware.conftest import Boot

pytestmark = [pytest.mark.slow, pytest.mark.root, pytest.mark.timeout(900)]  # a TCG boot is minutes

TIMEOUT = 420
MENU = r"Booting \"Debian GNU/Linux\" in (\d+) s"
CORRUPT = '# an interrupted edit\ntimeout = 2\nboot_order = ["usb"\n'
"""Unparseable TOML: read leniently it would autoboot nothing (no usb device) after 2 s."""


def autoboots(boot: Boot, name: str, serial: str) -> None:
    fw = boot(name, settings=CORRUPT)
    con = fw.serial
    first = int(con.wait(MENU, TIMEOUT).group(1))
    # the corrupt /etc/bootd/bootd.toml is ignored whole: the shipped 10 s countdown on the default entry
    assert first > 2, con.text()[-2000:]
    con.wait(r"PROOF-DONE", TIMEOUT)
    text = con.text()
    menu = text[: text.index("PROOF-STAGE2")]
    assert "Debian GNU/Linux" in menu and "Enter=boot" in menu
    cmdline = con.wait(r"PROOF-CMDLINE (.*)", 5).group(1)
    assert "proof=autoboot" in cmdline and "root=UUID=" in cmdline
    assert serial in con.wait(r"PROOF-CONSOLE (.*)", 5).group(1).split()
    # systemd started the daemon and the menu; no login prompt anywhere on the way
    assert "Started bootd.service" in menu and f"bootd-menu@{serial}" in menu
    # no display on this machine: no second menu on a virtual terminal nobody sees
    assert "bootd-menu@tty1" not in menu
    assert "login:" not in text
    # the daemon said why, in the journal, before it booted
    journal = fw.journal.text()
    why = re.search(r"bootd\[\d+\]: .*settings file /etc/bootd/bootd.toml is unreadable \((.*)\)", journal)
    assert why is not None, journal[-3000:]
    assert "using the other layers and the defaults" in journal
    print(f"power-on to menu {con.seen_at(MENU):.1f} s, to the next kernel {con.seen_at('PROOF-STAGE2'):.1f} s")


def test_arm64_autoboots_the_default_entry_into_the_next_kernel(boot_arm64: Boot) -> None:
    autoboots(boot_arm64, "autoboot", "ttyAMA0")


def test_ppc64el_autoboots_the_default_entry_into_the_next_kernel(boot_ppc64el: Boot) -> None:
    # pseries under SLOF: the console is the PAPR vty hvc0; kexec-tools' ppc64 rules apply
    autoboots(boot_ppc64el, "autoboot-ppc64el", "hvc0")
