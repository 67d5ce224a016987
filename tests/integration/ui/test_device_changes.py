"""A device that changes without coming or going (a network interface that
takes a lease) reaches the typed client and the menu's model."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from bootd.dbus.client import BootdClient
from bootd.model import Device
from tests.integration.ui.conftest import Stack, needs_tools
from tests.integration.ui.machine import make_menu_machine
from ui.app import App
from ui.dbus_backend import DBusBackend
from ui.views.common import Glyphs

pytestmark = needs_tools

INTERFACE = """
[[interface]]
name = "eth0"
mac = "52:54:00:aa:bb:cc"
lease_after = 5.0

[interface.lease]
ip = "10.9.0.7"
router = "10.9.0.1"
"""


@pytest.fixture
def machine(tmp_path: Path) -> Path:
    root = make_menu_machine(tmp_path / "machine", plug_after=30.0)
    with open(root / "machine.toml", "a", encoding="utf-8") as f:
        f.write(INTERFACE)
    return root


async def until(cond: Callable[[], bool], timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def test_a_lease_reaches_the_client_and_the_menu(stack: Stack) -> None:
    client = await BootdClient.connect(stack.bus.address)
    backend = DBusBackend(stack.bus.address)
    app = App(backend, glyphs=Glyphs(utf8=False), version="test")
    changed: list[Device] = []
    try:
        client.on_device_changed(changed.append)
        first: dict[str, Device] = {}
        for _ in range(100):  # discovery runs in workers: the interface is listed once it is scanned
            first = {d.id: d for d in await client.list_devices()}
            if "eth0" in first:
                break
            await asyncio.sleep(0.05)
        await app.start()
        assert "eth0" in first and first["eth0"].prop("ip") is None, "the lease comes 5 s after start"
        await until(lambda: any(d.id == "eth0" and d.prop("ip") == "10.9.0.7" for d in changed))
        eth0 = changed[-1]
        assert eth0.uuid == "52:54:00:aa:bb:cc" and eth0.prop("router") == "10.9.0.1"
        await until(lambda: "eth0" in app.model.devices and app.model.devices["eth0"].prop("ip") == "10.9.0.7")
    finally:
        for t in list(app.tasks):
            t.cancel()
        await backend.close()
        client.close()
