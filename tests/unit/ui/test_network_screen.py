"""The network settings screen: reached from the settings screen, it edits
each interface (DHCP, static address and gateway, ignore), the DNS servers
and the proxies, and saves the whole ``network`` setting at once."""

from __future__ import annotations

import asyncio

import urwid

from bootd.dbus.client import InterfaceConfig, NetworkConfig
from tests.unit.ui import helpers as h
from tests.unit.ui.fakes import FakeBackend
from tests.unit.ui.sample import CONSOLES, DISK, UBUNTU
from ui import backend as be
from ui.app import App
from ui.views.common import Glyphs
from ui.views.network import NetworkView
from ui.views.settings import SettingsView

MAC = "52:54:00:aa:bb:cc"
LAB = NetworkConfig(
    interfaces=(InterfaceConfig("eth1", "ignore"),),
    nameservers=("10.0.0.53",),
    proxy="http://proxy.example:3128",
)


def screen(config: NetworkConfig = LAB) -> tuple[NetworkView, list[dict[str, object]]]:
    saved: list[dict[str, object]] = []
    return NetworkView(config, [("eth0", MAC)], saved.append, lambda: None), saved


def test_it_shows_every_interface_the_dns_servers_and_the_proxies() -> None:
    view, _ = screen()
    text = h.screen(view, (80, 40))
    assert f"eth0 ({MAC})" in text and "eth1" in text, "the machine's and the configuration's"
    assert "DNS servers:     10.0.0.53" in text
    assert "HTTP proxy:      http://proxy.example:3128" in text
    assert view.row("eth0").method == "dhcp" and view.row("eth1").method == "ignore"


def test_unchanged_saves_nothing() -> None:
    view, saved = screen()
    view.save()
    assert saved == [{}]


def test_a_static_address_gateway_and_https_proxy_are_saved_at_once() -> None:
    view, saved = screen()
    eth0 = view.row("eth0")
    eth0.radios[1].set_state(True)
    eth0.address.set_edit_text("10.0.0.5/24")
    eth0.gateway.set_edit_text("10.0.0.1")
    view.https_proxy.set_edit_text("http://secure.example:3129")
    view.save()
    assert saved == [
        {
            "network": NetworkConfig(
                interfaces=(
                    InterfaceConfig("eth0", "static", "10.0.0.5/24", "10.0.0.1"),
                    InterfaceConfig("eth1", "ignore"),
                ),
                nameservers=("10.0.0.53",),
                proxy="http://proxy.example:3128",
                https_proxy="http://secure.example:3129",
            )
        }
    ]


def test_an_interface_keyed_by_mac_in_the_file_keeps_its_key() -> None:
    view, saved = screen(NetworkConfig(interfaces=(InterfaceConfig(MAC, "static", "10.0.0.9/24"),)))
    assert view.row(MAC).method == "static" and view.row(MAC).address.edit_text == "10.0.0.9/24"
    view.row(MAC).radios[0].set_state(True)
    view.save()
    assert saved == [{"network": NetworkConfig(interfaces=(InterfaceConfig(MAC, "dhcp"),))}]


async def test_the_settings_screen_opens_it_and_its_save_goes_to_the_daemon() -> None:
    b = FakeBackend(
        options=[UBUNTU],
        devices=[DISK],
        console_list=list(CONSOLES),
        state=be.DaemonState("idle", None, None),
        settings=be.Settings(network=LAB),
        info=be.SystemInfo(interfaces=(("eth0", MAC),)),
    )
    app = App(b, glyphs=Glyphs(utf8=False), version="0.1.0")
    await app.start()
    app.on_menu_action("settings", None)
    await settle(app)
    form = app.stack[-1]
    assert isinstance(form, SettingsView)
    assert "Network:" in h.screen(app.chrome, (80, 60)) and "Network settings" in h.screen(form, (80, 60))
    buttons = [w for w in h.find_all(form, urwid.Button) if w.label == "Network settings"]
    buttons[0].keypress((20,), "enter")
    await settle(app)
    view = app.stack[-1]
    assert isinstance(view, NetworkView)
    view.nameservers.set_edit_text("10.0.0.53 10.0.0.54")
    view.save()
    await settle(app)
    assert (
        "set_settings",
        {"network": NetworkConfig(LAB.interfaces, ("10.0.0.53", "10.0.0.54"), LAB.proxy)},
    ) in b.calls
    assert app.stack[-1] is form, "back on the settings screen"
    assert "dns 10.0.0.53,10.0.0.54" in h.screen(form, (80, 60)), "which shows what was saved"
    assert b.settings.network.nameservers == ("10.0.0.53", "10.0.0.54")


async def settle(app: App) -> None:
    for _ in range(5):
        await asyncio.sleep(0)
    if app.tasks:
        await asyncio.gather(*app.tasks)
    for _ in range(5):
        await asyncio.sleep(0)
