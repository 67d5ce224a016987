"""The menu end to end: ``bootd-menu`` in tmux (80x24) on a private bus with
``bootd serve --sandbox``; keys in, screen out, kexec recorded by the sandbox."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from bootd.dbus.client import BootdClient
from tests.integration.daemon.helpers import DaemonProcess, PrivateBus
from tests.integration.ui.conftest import Stack, needs_tools
from tests.integration.ui.tmux import Tmux, countdown, menu_argv

pytestmark = needs_tools

OPAL0 = "/ibm,opal/consoles/serial@0"


def all_disk_entries(text: str) -> bool:
    return all(name in text for name in ("Fedora Linux 40", "Fedora Linux 39", "(rescue)"))


def wait_menu(tmux: Tmux, pane: str) -> str:
    """Until the disk's three entries and the countdown are on screen."""
    return tmux.wait(pane, lambda t: all_disk_entries(t) and "press any key to stop" in t)


async def last_boot(stack: Stack) -> object:
    client = await BootdClient.connect(stack.bus.address)
    try:
        return (await client.get_state()).last_boot
    finally:
        client.close()


async def daemon_state(stack: Stack) -> str:
    client = await BootdClient.connect(stack.bus.address)
    try:
        return (await client.get_state()).state
    finally:
        client.close()


def test_menu_shows_entries_and_countdown_and_a_key_stops_it(stack: Stack, tmux: Tmux) -> None:
    pane = tmux.start(menu_argv(stack.bus.address))
    text = wait_menu(tmux, pane)
    lines = text.splitlines()
    assert countdown(lines[0]) is not None and 'Booting "Fedora Linux 40' in lines[0]
    assert "[Disk: sda2]" in text
    assert any(re.match(r"\s+\* Fedora Linux 40", ln) for ln in lines), text
    assert "Fedora Linux 39" in text and "(rescue)" in text
    first = countdown(lines[0])
    text = tmux.wait(pane, lambda t: (countdown(t) or 99) < (first or 0))
    tmux.keys(pane, "Down")
    text = tmux.wait(pane, lambda t: "press any key" not in t and "boot menu" in t)
    assert "Autoboot" in text.splitlines()[-2] or "cancel" in text.lower()
    assert asyncio.run(daemon_state(stack)) == "idle"


def test_edit_arguments_pick_hvc0_and_boot(stack: Stack, tmux: Tmux) -> None:
    pane = tmux.start(menu_argv(stack.bus.address, "--exit-on-boot"))
    wait_menu(tmux, pane)
    tmux.keys(pane, "t")
    text = tmux.wait(pane, "Console for the booted system")
    assert OPAL0 in text and "tty1" in text
    tmux.keys(pane, "Home", "Enter")
    tmux.wait(pane, "will use console hvc0")
    tmux.keys(pane, "e")
    tmux.wait(pane, "Arguments:")
    tmux.keys(pane, "End")
    tmux.type(pane, " debug=menu-test")
    tmux.keys(pane, "Tab", "Enter")  # OK: the changed copy goes in the menu, selected; Enter boots it
    tmux.wait(pane, "(edited)")
    tmux.keys(pane, "Enter")
    tmux.wait(pane, "MENU-EXIT=0", timeout=30)
    text = tmux.history(pane)
    assert f"stdout-path:   {OPAL0}" in text
    assert "debug=menu-test" in text and "kexec -l" in text
    rec = asyncio.run(last_boot(stack))
    assert rec.dt_console_path == OPAL0  # type: ignore[attr-defined]
    assert rec.args.endswith("quiet debug=menu-test")  # type: ignore[attr-defined]
    assert rec.console == "hvc0"  # type: ignore[attr-defined]
    assert rec.kexec_load[:2] == ("kexec", "-l")  # type: ignore[attr-defined]


@pytest.mark.parametrize("plug_after", [8.0])
def test_hotplugged_stick_appears_without_moving_the_cursor(stack: Stack, tmux: Tmux) -> None:
    pane = tmux.start(menu_argv(stack.bus.address))
    text = tmux.wait(pane, all_disk_entries)
    assert "STICK" not in text, "the stick is plugged in only after a few seconds"
    tmux.keys(pane, "Up")  # off the default entry, onto its neighbour
    text = tmux.wait(pane, "[USB: STICK (sdb1)]", timeout=20)
    assert "Live system from USB" in text
    tmux.keys(pane, "e")  # the editor names the entry under the cursor
    text = tmux.wait(pane, "Entry:")
    assert "Entry: Fedora Linux 39" in text


def test_two_menus_stay_in_step(stack: Stack, tmux: Tmux) -> None:
    left = tmux.start(menu_argv(stack.bus.address))
    right = tmux.split(menu_argv(stack.bus.address), target=left)
    wait_menu(tmux, left)
    wait_menu(tmux, right)
    tmux.keys(left, "Up")
    tmux.wait(right, lambda t: "press any key" not in t and "boot menu" in t)
    tmux.keys(left, "t")
    tmux.wait(left, "Console for the booted system")
    tmux.keys(left, "Home", "Enter")
    tmux.wait(left, "will use console hvc0")
    tmux.keys(left, "Enter")
    text = tmux.wait(right, "Booted:", timeout=30)
    assert "Booted:        Fedora Linux 39" in text and "kexec" in text


def test_daemon_restart_is_shown_and_survived(stack: Stack, tmux: Tmux) -> None:
    pane = tmux.start(menu_argv(stack.bus.address))
    tmux.wait(pane, "[Disk: sda2]")
    stack.daemon.stop()
    text = tmux.wait(pane, "Lost the connection to the boot daemon")
    assert "connecting to the boot daemon" in text.splitlines()[0]
    stack.restart()
    text = tmux.wait(pane, "Connected to the boot daemon again", timeout=20)
    text = tmux.wait(pane, "[Disk: sda2]")
    assert "Fedora Linux 40" in text
    tmux.keys(pane, "i")
    tmux.wait(pane, "ppc64le")


def test_vt100_without_utf8_is_plain_ascii(stack: Stack, tmux: Tmux) -> None:
    pane = tmux.start(menu_argv(stack.bus.address), env={"TERM": "vt100", "LANG": "C", "LC_ALL": "C"})
    text = tmux.wait(pane, "press any key to stop")
    assert text.isascii(), [ch for ch in text if not ch.isascii()]
    assert "- press any key" in text and "-" * 80 in text
    assert "* Fedora Linux 40" in text


def sgr_params(text: str) -> set[int]:
    params: set[int] = set()
    for m in re.finditer(r"\x1b\[([0-9;]*)m", text):
        params.update(int(p) for p in m.group(1).split(";") if p)
    return params


def is_colour(p: int) -> bool:
    return 30 <= p <= 37 or 40 <= p <= 47 or 90 <= p <= 107 or p in (38, 48)


def test_monochrome_uses_no_colours_but_still_marks_the_cursor(stack: Stack, tmux: Tmux) -> None:
    pane = tmux.start(menu_argv(stack.bus.address, "--mono"))
    wait_menu(tmux, pane)
    styled = tmux("capture-pane", "-p", "-e", "-t", pane)
    params = sgr_params(styled)
    assert not {p for p in params if is_colour(p)}, params
    assert 7 in params, "the cursor bar and header are in reverse video"
    colour = tmux.start(menu_argv(stack.bus.address), name="colour")
    tmux.wait(colour, "[Disk: sda2]")
    assert any(is_colour(p) for p in sgr_params(tmux("capture-pane", "-p", "-e", "-t", colour)))


def test_menu_on_another_terminal_with_tty(stack: Stack, tmux: Tmux) -> None:
    """``--tty DEV``: the menu draws on and reads from DEV, not where it was started."""
    target = tmux.start(["sleep", "600"], name="console")
    tty = tmux("display-message", "-p", "-t", target, "#{pane_tty}").strip()
    tmux.start(menu_argv(stack.bus.address, "--tty", tty), name="launcher")
    text = tmux.wait(target, "press any key to stop")
    assert "[Disk: sda2]" in text
    tmux.keys(target, "i")
    tmux.wait(target, "ppc64le")
    assert "[Disk: sda2]" not in tmux.screen("launcher")


def test_menu_started_before_the_daemon_waits_for_it(tmux: Tmux, short_dir: Path, machine: Path) -> None:
    bus_dir = short_dir / "late"
    pane = tmux.start(menu_argv(f"unix:path={bus_dir / 'bus'}"))
    text = tmux.wait(pane, "Cannot reach the boot daemon")
    assert "connecting to the boot daemon" in text.splitlines()[0]
    bus = PrivateBus.start(bus_dir, system_like=False)
    daemon = DaemonProcess(bus, machine, short_dir / "late-state")
    try:
        daemon.wait_ready()
        text = tmux.wait(pane, "[Disk: sda2]", timeout=30)
        assert "Fedora Linux 40" in text
    finally:
        daemon.stop()
        bus.stop()


def test_exit_to_shell_runs_the_shell_on_the_menu_terminal(stack: Stack, tmux: Tmux) -> None:
    pane = tmux.start(menu_argv(stack.bus.address, "--shell", "sh"), env={"PS1": "rescue$ "})
    wait_menu(tmux, pane)
    tmux.keys(pane, "x")
    tmux.wait(pane, "exit the shell to return")
    tmux.type(pane, "echo from-the-$((6*7))-shell")
    tmux.keys(pane, "Enter")
    tmux.wait(pane, "from-the-42-shell")
    tmux.type(pane, "exit")
    tmux.keys(pane, "Enter")
    tmux.wait(pane, "MENU-EXIT=0")


async def settings_of(stack: Stack) -> object:
    client = await BootdClient.connect(stack.bus.address)
    try:
        return await client.get_settings()
    finally:
        client.close()


def test_settings_by_keyboard(stack: Stack, tmux: Tmux) -> None:
    pane = tmux.start(menu_argv(stack.bus.address))
    wait_menu(tmux, pane)
    tmux.keys(pane, "s")
    tmux.wait(pane, "Timeout (s):")
    tmux.keys(pane, "Down", "BSpace", "BSpace")
    tmux.type(pane, "45")
    tmux.wait(pane, "Timeout (s):     45")
    tmux.keys(pane, *["Tab"] * 10, "Enter")
    tmux.wait(pane, "Settings saved")
    assert asyncio.run(settings_of(stack)).timeout == 45  # type: ignore[attr-defined]
