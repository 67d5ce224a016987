"""The ``network`` setting (the part of ``[network]`` the menu's network screen
edits) through a real daemon on a private bus: Settings1.Network carries it,
Update writes it with the rest or nothing, and the admin's other lines in
``[network]`` survive; network discovery reads what was written."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bootd import settings
from bootd.daemon import Daemon
from bootd.dbus.client import BootdClient, InterfaceConfig, NetworkConfig, SettingsView
from bootd.dbus.service import Service
from bootd.discovery.network_settings import Method, load_network_settings
from bootd.errors import BootdError
from bootd.inventory import Inventory
from bootd.platform.sandbox import sandbox_platform
from tests.integration.daemon.conftest import STANDARD, set_config
from tests.integration.daemon.helpers import PrivateBus, make_machine
from tests.unit.daemon.helpers import ManualClock

ADMIN = """\
# the admin's file
timeout = 10

[network]
# discovery's own keys stay as written
enabled = true
timeout = 20  # slow lab server
proxy = "http://old.example:3128"

[network.interface.eth1]
method = "ignore"  # the BMC's port
"""

NEW = NetworkConfig(
    interfaces=(
        InterfaceConfig("eth1", "ignore"),
        InterfaceConfig("eth0", "static", "10.0.0.5/24", "10.0.0.1"),
    ),
    nameservers=("10.0.0.53",),
    proxy="http://proxy.example:3128",
    https_proxy="http://secure.example:3129",
)


@dataclass
class Running:
    daemon: Daemon
    client: BootdClient
    paths: settings.Paths


@pytest.fixture
async def running(system_bus: PrivateBus, tmp_path: Path, config_root: Path) -> AsyncIterator[Running]:
    set_config(config_root, ADMIN)
    machine = make_machine(tmp_path / "machine", STANDARD).root
    state_dir = tmp_path / "state"
    daemon = Daemon(
        sandbox_platform(machine, state_dir),
        Inventory(),
        settings.Paths(config_root),
        state_dir=state_dir,
        work_dir=state_dir / "work",
        hooks_dir=None,
        clock=ManualClock(),
    )
    service = await Service.connect(system_bus.address, daemon, now=daemon.clock.now)
    client = await BootdClient.connect(system_bus.address)
    try:
        yield Running(daemon, client, settings.Paths(config_root))
    finally:
        client.close()
        await daemon.shutdown()
        await service.close()


async def test_settings1_carries_the_network_setting_as_the_file_has_it(running: Running) -> None:
    view = await running.client.get_settings()
    assert view.network == NetworkConfig(
        interfaces=(InterfaceConfig("eth1", "ignore"),), proxy="http://old.example:3128"
    )
    assert view.origins["network"] == str(running.paths.main)


async def test_update_writes_it_and_keeps_the_admins_lines(running: Running) -> None:
    seen: list[SettingsView] = []
    running.client.on_settings(seen.append)
    await running.client.update_settings({"network": NEW, "timeout": 5})
    text = running.paths.main.read_text()
    for line in ADMIN.splitlines():
        if not line.startswith(("timeout = 10", "proxy = ")):
            assert line in text.splitlines(), f"kept: {line!r}"
    assert 'proxy = "http://proxy.example:3128"' in text and "timeout = 5" in text
    assert running.daemon.settings.network == NEW
    assert (await running.client.get_settings()).network == NEW
    for _ in range(200):
        if any(v.network == NEW for v in seen):
            break
        await asyncio.sleep(0.02)
    assert any(v.network == NEW for v in seen), "PropertiesChanged carried it"

    discovery = load_network_settings(running.paths)
    assert discovery.timeout == 20 and discovery.proxy == "http://proxy.example:3128"
    assert discovery.https_proxy == "http://secure.example:3129"
    eth0 = discovery.interfaces["eth0"]
    assert eth0.method is Method.STATIC and eth0.static is not None and eth0.static.dns == ("10.0.0.53",)
    assert discovery.interfaces["eth1"].method is Method.IGNORE


async def test_a_refused_address_writes_nothing(running: Running) -> None:
    bad = NetworkConfig(interfaces=(InterfaceConfig("eth0", "static", "10.0.0.500/24"),))
    with pytest.raises(BootdError, match="network.interface.eth0"):
        await running.client.update_settings({"timeout": 5, "network": bad})
    assert running.paths.main.read_text() == ADMIN
    assert running.daemon.settings.timeout == 10
