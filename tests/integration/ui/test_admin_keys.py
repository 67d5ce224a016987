"""What a Petitboot admin expects of the menu (tmux, 80x24): Petitboot's keys,
Ctrl-L, ASCII on a plain console, whole status messages, and another client's
mistakes not shown as this console's boot failing."""

from __future__ import annotations

import asyncio
import sys

from bootd.dbus.client import BootdClient
from bootd.errors import BootdError
from tests.integration.ui.conftest import Stack, needs_tools
from tests.integration.ui.tmux import Tmux, menu_argv

pytestmark = needs_tools


async def add_url_elsewhere(stack: Stack, url: str) -> str:
    client = await BootdClient.connect(stack.bus.address)
    try:
        await client.add_url(url)
    except BootdError as e:
        return str(e)
    finally:
        client.close()
    return ""


def test_another_clients_failed_add_url_is_a_whole_status_line_not_a_boot_failure(stack: Stack, tmux: Tmux) -> None:
    pane = tmux.start(menu_argv(stack.bus.address))
    tmux.wait(pane, "Fedora Linux 40")
    tmux.keys(pane, "Down")
    url = "http://127.0.0.1:9/" + "/".join(["install"] * 8) + "/pxelinux.cfg/default"
    assert asyncio.run(add_url_elsewhere(stack, url))
    text = tmux.wait(pane, "connection refused")  # the end of the message, past column 80
    assert "boot failed" not in text.lower()
    assert text.splitlines()[-1].startswith("Enter=boot"), "the key legend stays"


def test_linux_console_in_the_c_locale_draws_ascii(stack: Stack, tmux: Tmux) -> None:
    argv = ["env", "-u", "LC_ALL", "-u", "LC_CTYPE", "TERM=linux", "LANG=C", *menu_argv(stack.bus.address)]
    pane = tmux.start(argv)
    text = tmux.wait(pane, "press any key to stop")
    assert text.isascii(), sorted({ch for ch in text if not ch.isascii()})
    assert "-" * 80 in text


def test_petitboot_keys(stack: Stack, tmux: Tmux) -> None:
    pane = tmux.start(menu_argv(stack.bus.address))
    tmux.wait(pane, "Fedora Linux 40")
    legend = tmux.screen(pane).splitlines()[-1]
    assert legend.rstrip() == "Enter=boot e=edit n=new c=config g=log i=info l=language x=exit h=help"
    tmux.keys(pane, "h")
    tmux.wait(pane, "Ctrl-L  redraw the screen")
    tmux.keys(pane, "End")
    tmux.wait(pane, "The keys are Petitboot's")
    for key, screen in (("g", "info    Autoboot cancelled"), ("c", "Timeout"), ("t", "Console for the booted system")):
        back_to_menu(tmux, pane)
        tmux.keys(pane, key)
        tmux.wait(pane, screen)


def back_to_menu(tmux: Tmux, pane: str) -> None:
    tmux.keys(pane, "Escape")
    tmux.wait(pane, lambda t: t.splitlines()[-1].startswith("Enter=boot"))
    tmux.keys(pane, "Down", "Up")  # an Escape followed at once by a letter reads as Alt+letter


def test_ctrl_l_paints_the_whole_screen_again(stack: Stack, tmux: Tmux) -> None:
    """A serial-over-LAN console that re-attaches shows whatever was there: Ctrl-L repaints it."""
    pane = tmux.start(menu_argv(stack.bus.address))
    tmux.wait(pane, "Fedora Linux 40")
    tmux.keys(pane, "Down")
    tty = tmux("display-message", "-p", "-t", pane, "#{pane_tty}").strip()
    with open(tty, "w") as t:  # what the terminal shows, behind the menu's back
        t.write("\x1b[H\x1b[2J\x1b[5;3HLINE NOISE FROM THE BMC\x1b[12;3HMORE NOISE")
    tmux.wait(pane, lambda t: "LINE NOISE" in t and "Fedora" not in t)
    tmux.keys(pane, "C-l")
    text = tmux.wait(pane, lambda t: "NOISE" not in t)
    assert "Fedora Linux 40" in text and "System information" in text
    assert sys.platform.startswith("linux")


def test_the_editor_boots_nothing_by_accident(stack: Stack, tmux: Tmux) -> None:
    """Enter on a field moves on, Space on OK puts the copy in the menu; only Enter there boots."""
    pane = tmux.start(menu_argv(stack.bus.address, "--exit-on-boot"))
    tmux.wait(pane, "Fedora Linux 40")
    tmux.keys(pane, "e")
    text = tmux.wait(pane, "Specify paths/URLs manually")
    assert "(X) sda2" in text and "< OK >" in text
    tmux.keys(pane, "End")
    tmux.type(pane, " petitboot=habits")
    tmux.keys(pane, "Up", "Up", "Down", "Down", "Enter")  # Arguments -> Initrds -> Arguments -> the buttons
    tmux.keys(pane, "Space")
    text = tmux.wait(pane, "(edited): press Enter to boot it")
    assert "Fedora Linux 40 (edited)" in text and "Booted" not in text
    assert asyncio.run(state(stack)) != "booted"
    tmux.keys(pane, "Enter")
    tmux.wait(pane, "MENU-EXIT=0", timeout=30)
    assert "petitboot=habits" in tmux.history(pane)


async def state(stack: Stack) -> str:
    client = await BootdClient.connect(stack.bus.address)
    try:
        return (await client.get_state()).state
    finally:
        client.close()
