"""The menu's other screens and its errors in German and Simplified Chinese, at
80x24 in tmux with a real ``bootd serve --sandbox`` on a private bus: the system
information screen's labels, an editor path error, the boot summary's labels,
and a daemon's D-Bus error reply (a wrong password) translated from the template the reply carries; ``bootd`` prints the
same reply in its language.  Each screen's key legend is whole on its line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TypedDict

import pytest

from tests.integration.daemon.helpers import ROOT
from tests.integration.ui.conftest import Stack, needs_tools
from tests.integration.ui.test_languages import LEGENDS
from tests.integration.ui.tmux import Tmux, menu_argv
from tests.unit.ui.test_translations import catalogue

pytestmark = needs_tools


class Words(TypedDict):
    info: tuple[str, ...]
    path: str
    prompt: str
    wrong: str


WORDS: dict[str, Words] = {
    "de_DE.UTF-8": {
        "info": ("bootd-Version", "Plattform", "Lockdown", "eingehängt unter", "Typ disk"),
        "path": "'vmlinuz-x': ein Pfad auf dem Gerät beginnt mit /",
        "prompt": "Passwort erforderlich",
        "wrong": "falsches Passwort",
    },
    "zh_CN.UTF-8": {
        "info": ("bootd 版本", "平台", "锁定模式", "挂载于", "类型 disk"),
        "path": "'vmlinuz-x'：设备上的路径以 / 开头",
        "prompt": "需要密码",
        "wrong": "密码错误",
    },
}
STATUS = {"de_DE.UTF-8": ("Taste hält an", "Autostart abgebrochen"), "zh_CN.UTF-8": ("按任意键停止", "自动启动已取消")}
ENGLISH = ("bootd version", "platform", "mounted on", "type disk", "Autoboot now boots", "a path on the device")


def legend(lang: str, hints: str) -> str:
    return catalogue(lang.split(".")[0].removesuffix("_DE"))[hints]


def env_for(lang: str, locale_dir: Path) -> dict[str, str]:
    return {"LANG": lang, "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": "", "BOOTD_LOCALEDIR": str(locale_dir)}


def bootd(stack: Stack, *args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "BOOTD_PASSWORD")}
    full.update(env, BOOTD_BUS=stack.bus.address)
    return subprocess.run(
        [sys.executable, "-m", "bootd", *args],
        capture_output=True,
        text=True,
        env=full,
        cwd=ROOT,
        input=stdin,
        timeout=60,
    )


@pytest.mark.parametrize("lang", sorted(WORDS))
def test_system_information_editor_errors_and_daemon_errors_in_the_menus_language(
    stack: Stack, tmux: Tmux, locale_dir: Path, lang: str
) -> None:
    words = WORDS[lang]
    pane = tmux.start(menu_argv(stack.bus.address), env=env_for(lang, locale_dir))
    tmux.wait(pane, STATUS[lang][0])
    tmux.keys(pane, "Down")  # stops the countdown
    tmux.wait(pane, STATUS[lang][1])

    tmux.keys(pane, "i")
    text = tmux.wait(pane, words["info"][0])
    text = tmux.wait(pane, lambda t: all(w in t for w in words["info"]) or "Up/Down" in t)
    for w in words["info"]:
        assert w in text, (w, text)
    assert not any(e in text for e in ENGLISH), text
    assert text.splitlines()[-1].rstrip() == legend(lang, "Up/Down/PgUp/PgDn=scroll  Esc=back  h=help")
    tmux.keys(pane, "Escape")
    tmux.wait(pane, lambda t: t.splitlines()[-1].rstrip() == LEGENDS[lang][0])

    tmux.keys(
        pane, "Home", "e"
    )  # the editor of the first entry; its focus is on the arguments, three fields below the kernel
    tmux.wait(pane, lambda t: t.splitlines()[-1].rstrip() == legend(lang, EDITOR_HINTS))
    tmux.keys(pane, "Up", "Up", "Up", "C-u")
    tmux.type(pane, "vmlinuz-x")
    tmux.keys(pane, "Tab", "Tab", "Tab", "Tab", "Enter")  # OK
    text = tmux.wait(pane, words["path"])
    assert "a path on the device" not in text
    assert text.splitlines()[-1].rstrip() == legend(lang, EDITOR_HINTS), "the editor stays, its legend whole"
    tmux.keys(pane, "Escape")
    tmux.wait(pane, lambda t: t.splitlines()[-1].rstrip() == LEGENDS[lang][0])

    r = bootd(stack, "settings", "set", "restrict", "all", env={"LANG": "C"})  # every boot needs the password
    assert r.returncode == 0, r.stderr
    r = bootd(stack, "settings", "set", "password", "-", env={"LANG": "C"}, stdin="hunter2\n")
    assert r.returncode == 0, r.stderr
    tmux.keys(pane, "Enter")  # boot the selected entry: the daemon wants the password
    tmux.wait(pane, words["prompt"])
    tmux.type(pane, "wrong")
    tmux.keys(pane, "Enter")
    text = tmux.wait(pane, words["wrong"])  # the prompt again, with the daemon's refusal translated
    assert "wrong password" not in text
    assert text.splitlines()[-1].rstrip() == legend(lang, "Enter=OK  Esc=cancel  F1=help")

    r = bootd(stack, "boot", "Fedora Linux 39", "--next", env={**env_for(lang, locale_dir), "BOOTD_PASSWORD": "wrong"})
    assert r.returncode == 1
    assert r.stderr.strip() == f"bootd boot: {words['wrong']}", r.stderr


EDITOR_HINTS = "Up/Down/Tab=move  OK=put in the menu  Esc=cancel  h=help"
