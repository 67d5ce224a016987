"""The daemon's status messages in the client's language: a real ``bootd serve
--sandbox`` on a private bus sends them in English with their template and
arguments; the menu (tmux, 80x24) and ``bootd status --follow`` translate them
with their catalogues, in German and Simplified Chinese."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.integration.daemon.helpers import ROOT
from tests.integration.ui.conftest import Stack, needs_tools
from tests.integration.ui.test_languages import LEGENDS
from tests.integration.ui.tmux import Tmux, menu_argv

pytestmark = needs_tools

WORDS = {
    "de_DE.UTF-8": {
        "countdown": "Taste hält an",
        "cancelled": "Autostart abgebrochen",
        "booting": "Broken kernel wird gestartet",
        "failed": "Start von Broken kernel fehlgeschlagen: ",
        "screen": "Der Start ist fehlgeschlagen:",
        "step": "wird geladen",
    },
    "zh_CN.UTF-8": {
        "countdown": "按任意键停止",
        "cancelled": "自动启动已取消",
        "booting": "正在启动 Broken kernel",
        "failed": "启动 Broken kernel 失败：",
        "screen": "启动失败：",
        "step": "正在加载内核",
    },
}


def env_for(lang: str, locale_dir: Path) -> dict[str, str]:
    return {"LANG": lang, "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": "", "BOOTD_LOCALEDIR": str(locale_dir)}


def boot_broken(stack: Stack) -> subprocess.CompletedProcess[str]:
    """``bootd boot "Broken kernel"`` (the stick's entry whose kernel is no ELF image): the daemon's boot fails."""
    deadline = time.monotonic() + 30
    while True:
        r = subprocess.run(
            [sys.executable, "-m", "bootd", "boot", "Broken kernel", "--bus", stack.bus.address],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
            env={**os.environ, "LANG": "C"},
        )
        if "no boot option" not in r.stderr.lower() or time.monotonic() > deadline:
            return r
        time.sleep(0.5)  # the stick is plugged in a few seconds after the daemon starts


@pytest.mark.parametrize("lang", sorted(WORDS))
def test_the_menu_shows_the_daemons_status_in_its_language(
    stack: Stack, tmux: Tmux, locale_dir: Path, lang: str
) -> None:
    words = WORDS[lang]
    pane = tmux.start(menu_argv(stack.bus.address), env=env_for(lang, locale_dir))
    tmux.wait(pane, words["countdown"])
    tmux.keys(pane, "Down")  # stops the countdown: the daemon says so
    text = tmux.wait(pane, words["cancelled"])
    lines = text.splitlines()
    assert words["cancelled"] in lines[-2], "on the status line"
    assert lines[-1].rstrip() == LEGENDS[lang][0], "the key legend is whole"
    assert "Autoboot cancelled" not in text

    r = boot_broken(stack)
    assert r.returncode != 0, r.stdout
    text = tmux.wait(pane, words["screen"], timeout=30)  # the menu follows a boot another client started
    text = tmux.wait(pane, words["failed"])
    assert "Boot of Broken kernel failed" not in text and "The boot failed" not in text, text
    tmux.keys(pane, "Escape")
    tmux.wait(pane, lambda t: t.splitlines()[-1].rstrip() == LEGENDS[lang][0])
    tmux.keys(pane, "g")
    text = tmux.wait(pane, words["booting"])  # the status log, translated as it is shown
    assert words["cancelled"] in text and words["failed"] in text, text
    assert "Booting Broken kernel" not in text and "Autoboot cancelled" not in text, text


def follow(argv: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[str], queue.Queue[str], threading.Thread]:
    """``argv`` running, its output lines arriving in a queue."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT)
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line.rstrip("\n"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return proc, lines, reader


def wait_line(lines: queue.Queue[str], want: str, seen: list[str], timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            break
        seen.append(line)
        if want in line:
            return line
    raise AssertionError(f"no line with {want!r} in {seen}")


@pytest.mark.parametrize("lang", sorted(WORDS))
def test_bootd_status_follow_shows_the_daemons_status_in_its_language(
    stack: Stack, locale_dir: Path, lang: str
) -> None:
    words = WORDS[lang]
    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "BOOTD_PASSWORD")}
    env.update(LANG=lang, BOOTD_LOCALEDIR=str(locale_dir), BOOTD_BUS=stack.bus.address, PYTHONUNBUFFERED="1")
    proc, lines, reader = follow([sys.executable, "-m", "bootd", "status", "--follow"], env)
    try:
        seen: list[str] = []
        wait_line(lines, "state: ", seen)
        subprocess.run([sys.executable, "-m", "bootd", "cancel"], env=env, cwd=ROOT, timeout=60, capture_output=True)
        assert wait_line(lines, words["cancelled"], seen) == f"info: {words['cancelled']}", "the level stays as it is"
        r = boot_broken(stack)
        assert r.returncode != 0, r.stdout
        assert wait_line(lines, words["booting"], seen) == f"info: {words['booting']}"
        assert wait_line(lines, words["failed"], seen).startswith(f"error: {words['failed']}")
        assert any(words["step"] in line and line.startswith("[") for line in seen), "the boot's steps"
        assert not any("Booting" in line or "Autoboot cancelled" in line or "Loading" in line for line in seen), seen
    finally:
        proc.kill()
        proc.wait(timeout=10)
        reader.join(timeout=10)
        assert proc.stdout is not None
        proc.stdout.close()
