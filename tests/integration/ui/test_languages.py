"""The menu in German and Simplified Chinese (gettext), at 80x24 in tmux: chosen
by LANG or with ``l``, the key legend whole on its line."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.ui.conftest import Stack, needs_tools
from tests.integration.ui.tmux import Tmux, menu_argv

pytestmark = needs_tools

LEGENDS = {
    "de_DE.UTF-8": ("Enter=Start e=Bearb. n=Neu c=Konfig g=Log i=Info l=Sprache x=Ende h=Hilfe", "Systeminformationen"),
    "zh_CN.UTF-8": ("Enter=启动 e=编辑 n=新建 c=配置 g=日志 i=信息 l=语言 x=退出 h=帮助", "系统信息"),
}


@pytest.mark.parametrize("lang", sorted(LEGENDS))
def test_the_menu_speaks_the_language_of_lang(stack: Stack, tmux: Tmux, locale_dir: Path, lang: str) -> None:
    legend, action = LEGENDS[lang]
    env = {"LANG": lang, "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": "", "BOOTD_LOCALEDIR": str(locale_dir)}
    pane = tmux.start(menu_argv(stack.bus.address), env=env)
    text = tmux.wait(pane, action)
    assert text.splitlines()[-1].rstrip() == legend, "the key legend is whole"
    tmux.keys(pane, "Down", "h")
    tmux.wait(pane, "diese Hilfe; Esc" if lang.startswith("de") else "本帮助；Esc 关闭")


def test_l_switches_the_language_while_the_menu_runs(stack: Stack, tmux: Tmux, locale_dir: Path) -> None:
    env = {"LANG": "C.UTF-8", "LANGUAGE": "", "LC_ALL": "", "BOOTD_LOCALEDIR": str(locale_dir)}
    pane = tmux.start(menu_argv(stack.bus.address), env=env)
    tmux.wait(pane, "System information")
    tmux.keys(pane, "Down", "l")
    text = tmux.wait(pane, "Language of this menu:")
    assert "Deutsch" in text and "简体中文" in text
    tmux.keys(pane, "Down", "Enter")
    text = tmux.wait(pane, "Systeminformationen")
    assert text.splitlines()[-1].rstrip() == LEGENDS["de_DE.UTF-8"][0]
    assert "Fedora Linux 40" in text, "entry titles stay as their configs wrote them"


def _bootd(stack: Stack, *args: str) -> None:
    argv = [sys.executable, "-m", "bootd", *args, "--bus", stack.bus.address]
    subprocess.run(argv, check=True, capture_output=True, text=True, timeout=60, env={**os.environ, "LANG": "C"})


def test_the_language_setting_beats_lang_c(stack: Stack, tmux: Tmux, locale_dir: Path) -> None:
    _bootd(stack, "settings", "set", "language", "de")
    env = {"LANG": "C", "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": "", "BOOTD_LOCALEDIR": str(locale_dir)}
    pane = tmux.start(menu_argv(stack.bus.address, "--ascii"), env=env)
    text = tmux.wait(pane, "Systeminformationen")
    assert text.splitlines()[-1].rstrip() == LEGENDS["de_DE.UTF-8"][0], "the key legend is whole"


def test_a_changed_setting_switches_a_running_menu_until_l_is_pressed(
    stack: Stack, tmux: Tmux, locale_dir: Path
) -> None:
    env = {"LANG": "C.UTF-8", "LANGUAGE": "", "LC_ALL": "", "BOOTD_LOCALEDIR": str(locale_dir)}
    pane = tmux.start(menu_argv(stack.bus.address), env=env)
    tmux.wait(pane, "System information")
    _bootd(stack, "settings", "set", "language", "de")
    tmux.wait(pane, "Systeminformationen")  # the daemon's PropertiesChanged
    tmux.keys(pane, "Down", "l")
    tmux.wait(pane, "English")
    tmux.keys(pane, "Up", "Enter")  # English, above the current Deutsch
    tmux.wait(pane, "System information")
    _bootd(stack, "settings", "set", "language", "zh_CN")
    time.sleep(1.0)  # the change reached the menu well within this (German came within 1 s above)
    tmux.keys(pane, "Down")
    text = tmux.wait(pane, "System information")
    assert "系统信息" not in text, "l on this console beats the setting"


SCREENS = {
    "de_DE.UTF-8": (
        ("Wartezeit (s):", "Startreihenfolge (+/- verschieben, Entf entfernen):", "< Netzwerk-Einstellungen >"),
        "Tab=weiter  +/-=Reihenfolge ändern  Speichern  Esc=zurück  F1=Hilfe",
        ("Schnittstellen:", "DNS-Server:", "HTTP-Proxy:", "HTTPS-Proxy:", "< Speichern >  < Abbrechen >"),
        "Tab=weiter  Leertaste=wählen  Speichern  Esc=zurück  F1=Hilfe",
    ),
    "zh_CN.UTF-8": (
        ("超时（秒）：", "启动顺序（+/- 移动，Del 删除）：", "< 网络设置 >"),
        "Tab=下一项  +/-=移动启动顺序项  保存  Esc=返回  F1=帮助",
        ("接口：", "DNS 服务器：", "HTTP 代理：", "HTTPS 代理：", "< 保存 >  < 取消 >"),
        "Tab=下一项  空格=选择  保存  Esc=返回  F1=帮助",
    ),
}


@pytest.mark.parametrize("lang", sorted(SCREENS))
def test_the_settings_and_network_screens_speak_the_language(
    stack: Stack, tmux: Tmux, locale_dir: Path, lang: str
) -> None:
    form, form_legend, network, network_legend = SCREENS[lang]
    env = {"LANG": lang, "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": "", "BOOTD_LOCALEDIR": str(locale_dir)}
    pane = tmux.start(menu_argv(stack.bus.address), env=env)
    tmux.wait(pane, LEGENDS[lang][1])
    tmux.keys(pane, "c")
    text = tmux.wait(pane, form[0])
    for words in form:
        assert words in text, (words, text)
    assert text.splitlines()[-1].rstrip() == form_legend, "the key legend is whole"
    tmux.keys(pane, *["Tab"] * 30, "Up", "Enter")  # the last row is Save/Cancel; above it the Network button
    text = tmux.wait(pane, network[0])
    for words in network:
        assert words in text, (words, text)
    assert text.splitlines()[-1].rstrip() == network_legend, "the key legend is whole"
