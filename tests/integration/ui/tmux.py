"""A private tmux server for end-to-end tests of the menu: 80x24 panes,
keys in, screen text out."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


class Tmux:
    def __init__(self, socket: Path) -> None:
        self.socket = socket

    def __call__(self, *args: str, check: bool = True) -> str:
        r = subprocess.run(["tmux", "-S", str(self.socket), *args], capture_output=True, text=True, timeout=30)
        if check and r.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)}: {r.stderr}")
        return r.stdout

    def start(self, argv: Sequence[str], *, env: Mapping[str, str] | None = None, name: str = "menu") -> str:
        """A new 80x24 session running ``argv``; returns its pane id."""
        cmd = " ".join(f"{k}={shlex.quote(v)}" for k, v in (env or {}).items())
        cmd = f"cd {shlex.quote(str(ROOT))} && env {cmd} {shlex.join(argv)}; echo MENU-EXIT=$?; sleep 60"
        return self("new-session", "-d", "-x", "80", "-y", "24", "-s", name, "-P", "-F", "#{pane_id}", cmd).strip()

    def split(self, argv: Sequence[str], *, target: str, env: Mapping[str, str] | None = None) -> str:
        cmd = " ".join(f"{k}={shlex.quote(v)}" for k, v in (env or {}).items())
        cmd = f"cd {shlex.quote(str(ROOT))} && env {cmd} {shlex.join(argv)}; echo MENU-EXIT=$?; sleep 60"
        return self("split-window", "-v", "-t", target, "-P", "-F", "#{pane_id}", cmd).strip()

    def keys(self, pane: str, *keys: str) -> None:
        for key in keys:
            self("send-keys", "-t", pane, key)
            time.sleep(0.05)

    def type(self, pane: str, text: str) -> None:
        self("send-keys", "-t", pane, "-l", text)

    def screen(self, pane: str) -> str:
        return self("capture-pane", "-p", "-t", pane)

    def history(self, pane: str) -> str:
        """The screen and what scrolled off it, lines re-joined."""
        return self("capture-pane", "-p", "-J", "-S", "-500", "-t", pane)

    def wait(self, pane: str, want: str | Callable[[str], bool], timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.screen(pane)
            if (want in text) if isinstance(want, str) else want(text):
                return text
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {want!r}; the screen shows:\n{text}")

    def kill(self) -> None:
        self("kill-server", check=False)


def menu_argv(address: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "ui", "--bus", address, *extra]


def countdown(text: str) -> int | None:
    m = re.search(r"Booting \"[^\"]+\" in (\d+) s", text)
    return int(m.group(1)) if m else None
