"""The network settings screen in tmux at 80x24, against ``bootd serve
--sandbox``: reached from the system configuration screen (``c``), it makes
an interface static, sets the DNS servers and the proxies, and Save writes
them through Settings1.Update into the admin's ``[network]`` table, keeping
every other line of it; the status line says what the daemon applied at once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bootd.dbus.client import BootdClient, InterfaceConfig, NetworkConfig
from tests.integration.ui.conftest import Stack, needs_tools
from tests.integration.ui.machine import make_menu_machine
from tests.integration.ui.tmux import Tmux, menu_argv

pytestmark = needs_tools

MAC = "52:54:00:aa:bb:cc"
INTERFACE = f"""
[[interface]]
name = "eth0"
mac = "{MAC}"
"""
ADMIN = """\
# the admin's file
autoboot = false

[network]
bring_up = true  # discovery's own key, with a comment
timeout = 20

[network.interface.eth1]
method = "ignore"  # the BMC's port
"""


@pytest.fixture
def machine(tmp_path: Path) -> Path:
    root = make_menu_machine(tmp_path / "machine", plug_after=30.0)
    with open(root / "machine.toml", "a", encoding="utf-8") as f:
        f.write(INTERFACE)
    etc = tmp_path / "state" / "etc" / "bootd"  # the sandbox daemon's configuration root is its state directory
    etc.mkdir(parents=True)
    (etc / "bootd.toml").write_text(ADMIN)
    return root


async def network_of(stack: Stack) -> object:
    client = await BootdClient.connect(stack.bus.address)
    try:
        return (await client.get_settings()).network
    finally:
        client.close()


def open_network_screen(stack: Stack, tmux: Tmux) -> str:
    pane = tmux.start(menu_argv(stack.bus.address))
    tmux.wait(pane, "Fedora Linux 40")
    tmux.keys(pane, "c")
    tmux.wait(pane, "Timeout (s):")
    tmux.keys(pane, *["Tab"] * 30, "Up", "Enter")  # the last row is Save/Cancel; above it the Network button
    tmux.wait(pane, f"eth0 ({MAC})")
    return pane


def test_the_network_screen_saves_a_static_interface_dns_and_proxies(stack: Stack, tmux: Tmux) -> None:
    pane = open_network_screen(stack, tmux)
    text = tmux.wait(pane, "Interfaces:")
    assert "eth1" in text, "the configuration's interfaces are listed too"
    tmux.keys(pane, "Right", "Space")  # eth0: Static
    tmux.keys(pane, "Down")
    tmux.type(pane, "10.9.0.50/24")
    tmux.keys(pane, "Down")
    tmux.type(pane, "10.9.0.1")
    tmux.keys(pane, *["Down"] * 6)  # past eth0's DNS and eth1's rows to the DNS servers
    tmux.type(pane, "10.9.0.53")
    tmux.keys(pane, "Down")
    tmux.type(pane, "http://10.9.0.1:3128")
    tmux.keys(pane, "Down")
    tmux.type(pane, "http://10.9.0.1:3129")
    tmux.keys(pane, *["Tab"] * 5, "Enter")
    tmux.wait(pane, "Network settings applied: eth0: static 10.9.0.50/24")  # at once, in the status line
    assert asyncio.run(network_of(stack)) == NetworkConfig(
        interfaces=(InterfaceConfig("eth0", "static", "10.9.0.50/24", "10.9.0.1"), InterfaceConfig("eth1", "ignore")),
        nameservers=("10.9.0.53",),
        proxy="http://10.9.0.1:3128",
        https_proxy="http://10.9.0.1:3129",
    )
    text = (stack.state / "etc/bootd/bootd.toml").read_text()
    for line in ADMIN.splitlines():
        assert line in text.splitlines(), f"kept: {line!r}"


def test_a_refused_address_is_named_and_nothing_is_written(stack: Stack, tmux: Tmux) -> None:
    pane = open_network_screen(stack, tmux)
    tmux.keys(pane, "Right", "Space", "Down")
    tmux.type(pane, "10.9.0.500/24")
    tmux.keys(pane, *["Tab"] * 20, "Enter")
    tmux.wait(pane, "network.interface.eth0")
    text = tmux.wait(pane, "Interfaces:")
    assert "10.9.0.500/24" in text, "the screen stays open with what was typed"
    assert (stack.state / "etc/bootd/bootd.toml").read_text() == ADMIN
