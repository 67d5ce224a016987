"""The client commands and the menu as a person starts them on a terminal
(tmux, 80x24): the bus from ``$BOOTD_BUS``, the password asked for."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.integration.daemon.helpers import ROOT
from tests.integration.ui.conftest import Stack, needs_tools
from tests.integration.ui.tmux import Tmux

pytestmark = needs_tools


def bootd(stack: Stack, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, BOOTD_BUS=stack.bus.address)
    env.pop("BOOTD_PASSWORD", None)
    return subprocess.run(
        [sys.executable, "-m", "bootd", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        input=stdin,
        timeout=60,
    )


def test_the_menu_finds_the_daemon_on_bootd_bus(stack: Stack, tmux: Tmux) -> None:
    pane = tmux.start([sys.executable, "-m", "ui"], env={"BOOTD_BUS": stack.bus.address, "BOOTD_PASSWORD": ""})
    text = tmux.wait(pane, "Fedora Linux 40")
    assert "[Disk: sda2]" in text


def test_a_command_on_a_terminal_asks_for_the_password(stack: Stack, tmux: Tmux) -> None:
    assert bootd(stack, "cancel").returncode == 0
    r = bootd(stack, "settings", "set", "password", "-", stdin="hunter2\n")
    assert r.returncode == 0, r.stderr
    r = bootd(stack, "boot", "Fedora Linux 39", "--next")
    assert r.returncode == 1 and "$BOOTD_PASSWORD" in r.stderr, "without a terminal: the clear error, no prompt"
    pane = tmux.start(
        [sys.executable, "-m", "bootd", "boot", "Fedora Linux 39", "--next"], env={"BOOTD_BUS": stack.bus.address}
    )
    tmux.wait(pane, "bootd password:")
    tmux.type(pane, "wrong")
    tmux.keys(pane, "Enter")
    text = tmux.wait(pane, "MENU-EXIT=1")
    assert "wrong password" in text and "wrong" not in text.split("bootd password:")[1].splitlines()[0]
    pane = tmux.start(
        [sys.executable, "-m", "bootd", "boot", "Fedora Linux 39", "--next"],
        env={"BOOTD_BUS": stack.bus.address},
        name="again",
    )
    tmux.wait(pane, "bootd password:")
    tmux.type(pane, "hunter2")
    tmux.keys(pane, "Enter")
    text = tmux.wait(pane, "MENU-EXIT=0")
    assert "will boot next time" in text
    assert "next boot:" in bootd(stack, "status").stdout


def test_the_client_commands_speak_german(stack: Stack, locale_dir: Path) -> None:
    env = dict(os.environ, BOOTD_BUS=stack.bus.address, LANG="de_DE.UTF-8", BOOTD_LOCALEDIR=str(locale_dir))
    for key in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "BOOTD_PASSWORD"):
        env.pop(key, None)
    r = subprocess.run(
        [sys.executable, "-m", "bootd", "cancel"], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60
    )
    assert r.returncode == 0 and r.stdout.strip() == "Autostart abgebrochen", r.stderr
    r = subprocess.run(
        [sys.executable, "-m", "bootd", "status"], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60
    )
    assert r.stdout.startswith("state: "), "lines that scripts read stay as they are"
