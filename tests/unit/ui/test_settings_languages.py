"""The settings screen and the network settings screen in German and
Simplified Chinese at 80x24: the settings table's labels and form help, the
screens' own words and buttons are translated, and the key legend is whole.
The catalogues are compiled with msgfmt, as ``make locale`` does."""

from __future__ import annotations

import asyncio

import pytest
import urwid

from bootd.dbus.client import InterfaceConfig, NetworkConfig
from tests.unit.ui import helpers as h
from tests.unit.ui.fakes import FakeBackend
from tests.unit.ui.sample import CONSOLES, DISK, UBUNTU
from tests.unit.ui.test_language_setting import c_locale
from ui import backend as be
from ui.app import App
from ui.views.common import Glyphs
from ui.views.network import NetworkView
from ui.views.settings import SettingsView

__all__ = ["c_locale"]  # the fixture

MAC = "52:54:00:aa:bb:cc"
LAB = NetworkConfig(interfaces=(InterfaceConfig("eth1", "ignore"),), nameservers=("10.0.0.53",))

EXPECTED = {
    "de": {
        "legend": "Tab=weiter  +/-=Reihenfolge ändern  Speichern  Esc=zurück  F1=Hilfe",
        "form": [
            "[X] Autostart",
            "Wartezeit (s):",
            "Startreihenfolge (+/- verschieben, Entf entfernen):",
            "Hinzufügen:",
            "Standard-Konsole:",
            "(keine: die des Eintrags)",
            "Passwort (nicht gesetzt):",
            "Netzwerk:",
            "< Netzwerk-Einstellungen >",
            "< Speichern >",
            "< Passwort löschen >",
            "< Abbrechen >",
        ],
        "help": ["Startreihenfolge welche Geräte der Autostart vorzieht", "Esc        zurück ohne zu speichern"],
        "net_legend": "Tab=weiter  Leertaste=wählen  Speichern  Esc=zurück  F1=Hilfe",
        "network": [
            "Schnittstellen:",
            "(X) DHCP",
            "( ) Statisch",
            "( ) Ignorieren",
            "  Adresse/Präfix:",
            "  Gateway:",
            "DNS-Server:",
            "HTTP-Proxy:",
            "HTTPS-Proxy:",
            "< Speichern >",
            "< Abbrechen >",
        ],
        "net_help": "Jede Schnittstelle: DHCP (die Vorgabe), Statisch",
    },
    "zh_CN": {
        "legend": "Tab=下一项  +/-=移动启动顺序项  保存  Esc=返回  F1=帮助",
        "form": [
            "[X] 自动启动",
            "超时（秒）：",
            "启动顺序（+/- 移动，Del 删除）：",
            "添加：",
            "默认控制台：",
            "（无：使用条目自己的）",
            "密码（未设置）：",
            "网络：",
            "< 网络设置 >",
            "< 保存 >",
            "< 清除密码 >",
            "< 取消 >",
        ],
        "help": ["启动顺序       自动启动优先选择哪些设备", "Esc   不保存并返回"],
        "net_legend": "Tab=下一项  空格=选择  保存  Esc=返回  F1=帮助",
        "network": [
            "接口：",
            "(X) DHCP",
            "( ) 静态",
            "( ) 忽略",
            "  地址/前缀：",
            "  网关：",
            "DNS 服务器：",
            "HTTP 代理：",
            "HTTPS 代理：",
            "< 保存 >",
            "< 取消 >",
        ],
        "net_help": "每个接口：DHCP（默认）、静态",
    },
}


def columns(text: str) -> int:
    return int(urwid.calc_width(text, 0, len(text)))


async def settle(app: App) -> None:
    for _ in range(5):
        await asyncio.sleep(0)
    if app.tasks:
        await asyncio.gather(*app.tasks)
    for _ in range(5):
        await asyncio.sleep(0)


async def settings_screen(language: str) -> tuple[App, SettingsView]:
    b = FakeBackend(
        options=[UBUNTU],
        devices=[DISK],
        console_list=list(CONSOLES),
        state=be.DaemonState("idle", None, None),
        settings=be.Settings(language=language, network=LAB),
        info=be.SystemInfo(interfaces=(("eth0", MAC),)),
    )
    app = App(b, glyphs=Glyphs(utf8=False), version="0.1.0")
    await app.start()
    app.on_menu_action("settings", None)
    await settle(app)
    form = app.stack[-1]
    assert isinstance(form, SettingsView)
    return app, form


def whole_screen(app: App) -> str:
    """The screen at 80 columns, tall enough to hold the whole form."""
    return h.screen(app.chrome, (80, 60))


def assert_legend(app: App, expected: str) -> None:
    lines = h.render(app.chrome)  # 80x24
    assert all(columns(line) <= 80 for line in lines)
    assert lines[-1].rstrip() == expected, "the key legend is translated and whole"
    assert columns(expected) <= 80


@pytest.mark.parametrize("lang", ["de", "zh_CN"])
async def test_the_settings_screen_is_translated(c_locale: None, lang: str) -> None:
    want = EXPECTED[lang]
    app, form = await settings_screen(lang)
    assert_legend(app, str(want["legend"]))
    text = whole_screen(app)
    for words in want["form"]:
        assert words in text, (lang, words, text)
    assert "Autoboot" not in text and "Timeout" not in text and "Save" not in text, text
    app.show_help()
    help_text = whole_screen(app)
    for words in want["help"]:
        assert words in help_text, (lang, words, help_text)


@pytest.mark.parametrize("lang", ["de", "zh_CN"])
async def test_the_network_screen_is_translated(c_locale: None, lang: str) -> None:
    want = EXPECTED[lang]
    app, form = await settings_screen(lang)
    label = str(want["form"][8]).strip("<> ")
    buttons = [w for w in h.find_all(form, urwid.Button) if w.label == label]
    assert buttons, (label, whole_screen(app))
    buttons[0].keypress((30,), "enter")
    await settle(app)
    view = app.stack[-1]
    assert isinstance(view, NetworkView)
    assert_legend(app, str(want["net_legend"]))
    text = whole_screen(app)
    for words in want["network"]:
        assert words in text, (lang, words, text)
    assert f"eth0 ({MAC})" in text and "10.0.0.53" in text, "names and values stay as they are"
    app.show_help()
    assert str(want["net_help"]) in whole_screen(app)
