"""Signed boot in the menu (tmux, 80x24) over a running daemon with
signed_boot = enforce: each entry's row carries its trust mark, the entry's
screen the reason, and booting an entry with an edited command line is
refused with the reason while the menu stays."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.daemon.helpers import DaemonProcess, PrivateBus, make_machine
from tests.integration.daemon.test_trust_daemon import DISK, signed_disk
from tests.integration.loader.test_signed_boot import Keys, keys
from tests.integration.ui.conftest import needs_tools
from tests.integration.ui.tmux import Tmux, menu_argv

__all__ = ["keys"]
pytestmark = [needs_tools, pytest.mark.skipif(shutil.which("gpgv") is None, reason="needs gpgv")]


@pytest.fixture
def enforcing(tmp_path: Path, short_dir: Path, keys: Keys) -> Iterator[PrivateBus]:
    machine = make_machine(tmp_path / "machine", DISK).root
    signed_disk(machine, keys)
    config = tmp_path / "root"
    (config / "etc/bootd").mkdir(parents=True)
    (config / "etc/bootd/bootd.toml").write_text(
        f'autoboot = false\nsigned_boot = "enforce"\nsigned_boot_keyring = "{keys.keyring}"\n'
    )
    bus = PrivateBus.start(short_dir / "bus", system_like=False)
    try:
        daemon = DaemonProcess(bus, machine, tmp_path / "state", config_root=config)
        try:
            daemon.wait_ready()
            yield bus
        finally:
            daemon.stop()
    finally:
        bus.stop()


def test_marks_reasons_and_an_edit_refused(enforcing: PrivateBus, tmux: Tmux) -> None:
    pane = tmux.start(menu_argv(enforcing.address))
    text = tmux.wait(pane, lambda t: "[TAMPERED]" in t and "[unsigned]" in t and "[verified]" in t, timeout=30)
    assert "Signed  [verified]" in text and "Tampered  [TAMPERED]" in text and "Unsigned  [unsigned]" in text
    tmux.keys(pane, "e")  # the first entry: Signed (version order)
    text = tmux.wait(pane, "Specify paths/URLs manually")
    assert "Signature: [verified] signed by" in text
    tmux.keys(pane, "End")
    tmux.type(pane, " init=/bin/sh")
    tmux.keys(pane, "Down", "Down", "Space")  # Arguments -> the buttons -> OK
    text = tmux.wait(pane, "(edited): press Enter to boot it")
    assert "Signed (edited)\n" in text, "an edited copy carries no trust mark"
    tmux.keys(pane, "Enter")
    text = tmux.wait(pane, "Boot of Signed failed", timeout=30)
    assert "the command line of Signed cannot be edited (it is signed)" in " ".join(text.split())
    assert "Booted" not in text
