"""Power-on to the next kernel: the firmware image under real systemd finds the
second disk's Debian GRUB config, shows the menu on the serial console, and
with nobody there autoboots the default entry through kexec."""

from __future__ import annotations

import pytest

from tests.e2e.firmware.conftest import Boot

pytestmark = [pytest.mark.slow, pytest.mark.root, pytest.mark.timeout(900)]  # a TCG boot is minutes

TIMEOUT = 420
MENU = r"Booting \"Debian GNU/Linux\" in \d+ s"


def test_arm64_autoboots_the_default_entry_into_the_next_kernel(boot_arm64: Boot) -> None:
    # The shipped settings (/usr/lib/bootd/bootd.toml): a 10 s countdown on the default entry.
    con = boot_arm64("autoboot")
    con.wait(MENU, TIMEOUT)
    con.wait(r"PROOF-DONE", TIMEOUT)
    text = con.text()
    menu = text[: text.index("PROOF-STAGE2")]
    assert "Debian GNU/Linux" in menu and "Enter=boot" in menu
    cmdline = con.wait(r"PROOF-CMDLINE (.*)", 5).group(1)
    assert "proof=autoboot" in cmdline and "root=UUID=" in cmdline
    assert "ttyAMA0" in con.wait(r"PROOF-CONSOLE (.*)", 5).group(1)
    # systemd started the daemon and the menu; no login prompt anywhere on the way
    assert "Started bootd.service" in menu and "bootd-menu@ttyAMA0" in menu
    assert "login:" not in text
    print(f"power-on to menu {con.seen_at(MENU):.1f} s, to the next kernel {con.seen_at('PROOF-STAGE2'):.1f} s")
