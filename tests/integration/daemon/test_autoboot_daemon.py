"""Autoboot through the whole daemon (sandbox platform, real loader, real bus)
on a clock the test moves; the in-flight cap; clients noticing restarts."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from dbus_fast import DBusError

from bootd.daemon import Daemon
from bootd.dbus import service as service_mod
from bootd.dbus.client import BootdClient
from bootd.dbus.service import Service
from bootd.discovery.manager import Discovery
from bootd.inventory import Inventory
from bootd.platform.sandbox import sandbox_platform
from bootd.settings import Paths
from tests.integration.daemon.conftest import STANDARD, set_config
from tests.integration.daemon.helpers import DaemonProcess, PrivateBus, make_machine
from tests.unit.daemon.helpers import ManualClock


@dataclass
class Running:
    daemon: Daemon
    client: BootdClient
    clock: ManualClock
    state_dir: Path


@pytest.fixture
async def running(system_bus: PrivateBus, tmp_path: Path, config_root: Path) -> AsyncIterator[Running]:
    set_config(config_root, 'timeout = 5\nboot_order = ["disk", "usb"]\n')
    machine = make_machine(tmp_path / "machine", STANDARD).root
    state_dir = tmp_path / "state"
    platform = sandbox_platform(machine, state_dir)
    clock = ManualClock()
    daemon = Daemon(
        platform,
        Inventory(),
        Paths(config_root),
        state_dir=state_dir,
        work_dir=state_dir / "work",
        hooks_dir=None,
        clock=clock,
    )
    discovery = Discovery(platform, daemon.inventory, status=daemon.events.status_logged, mount_root=state_dir / "mnt")
    daemon.discovery = discovery
    service = await Service.connect(system_bus.address, daemon)
    task = asyncio.create_task(daemon.autoboot.run())
    await discovery.start()
    await discovery.settled(10)
    client = await BootdClient.connect(system_bus.address)
    try:
        yield Running(daemon, client, clock, state_dir)
    finally:
        client.close()
        await daemon.shutdown()
        await asyncio.wait_for(task, 10)
        await service.close()


async def until(pred: object, timeout: float = 10.0) -> None:
    assert callable(pred)
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        if await pred():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


async def test_countdown_replacement_and_boot(running: Running) -> None:
    c = running.client
    state = await c.get_state()
    assert (state.state, state.autoboot_option, state.autoboot_remaining) == ("countdown", "sda1/bls/6.1", 5.0)
    seen: list[float | None] = []
    c.on_state(lambda s: seen.append(s.autoboot_remaining))
    await running.clock.advance(2)

    async def remaining_is(value: float) -> bool:
        return (await c.get_state()).autoboot_remaining == value

    await until(lambda: remaining_is(3.0))
    await until(lambda: asyncio.sleep(0, 4.0 in seen and 3.0 in seen))
    await c.set_setting("boot_order", ["usb", "disk"])

    async def switched() -> bool:
        return (await c.get_state()).autoboot_option == "sdb1/bls/rescue"

    await until(switched)
    assert (await c.get_state()).autoboot_remaining == 3.0, "the better candidate keeps the countdown going"
    await running.clock.advance(3)

    async def booted() -> bool:
        return (await c.get_state()).state == "booted"

    await until(booted)
    state = await c.get_state()
    assert state.last_boot.option == "sdb1/bls/rescue" and state.autoboot_remaining is None
    assert "vmlinuz-rescue" in (running.state_dir / "kexec.log").read_text()


async def test_cancel_and_timeout_zero_after_cancel(running: Running) -> None:
    c = running.client
    await running.clock.advance(1)
    await c.cancel_autoboot()
    state = await c.get_state()
    assert (state.state, state.autoboot_option, state.autoboot_remaining) == ("idle", None, None)
    await c.set_setting("timeout", 0)
    await running.clock.advance(100)
    await asyncio.sleep(0.2)
    assert (await c.get_state()).state == "idle", "cancelled for the rest of the session"
    assert not (running.state_dir / "kexec.log").exists()


async def test_calls_in_flight_are_capped() -> None:
    release = asyncio.Event()

    class FakeGate:
        total = 0
        in_flight: dict[str, int] = {}

    gate = FakeGate()

    async def slow(sender: str) -> str:
        await release.wait()
        return sender

    ctx = contextvars.copy_context()
    ctx.run(service_mod.SENDER.set, ":1.42")
    calls = [
        ctx.run(asyncio.ensure_future, service_mod.guarded(gate, "test", slow, trusted=False))  # type: ignore[arg-type]
        for _ in range(service_mod.MAX_IN_FLIGHT_PER_CALLER + 3)
    ]
    await asyncio.sleep(0.05)
    release.set()
    results = await asyncio.gather(*calls, return_exceptions=True)
    busy = [r for r in results if isinstance(r, DBusError)]
    assert len(busy) == 3 and all(e.type == "org.bootd.Error.Busy" for e in busy)
    assert results.count(":1.42") == service_mod.MAX_IN_FLIGHT_PER_CALLER
    assert gate.total == 0 and gate.in_flight == {}


async def test_clients_notice_a_daemon_restart(system_bus: PrivateBus, machine: Path, tmp_path: Path) -> None:
    d = DaemonProcess(system_bus, machine, tmp_path / "s1")
    d.wait_ready()
    client = await BootdClient.connect(system_bus.address)
    events: list[str] = []
    client.on_daemon_lost(lambda: events.append("lost"))
    client.on_daemon_appeared(lambda: events.append("appeared"))
    try:
        assert d.stop() == 0
        await until(lambda: asyncio.sleep(0, events == ["lost"]))
        d2 = DaemonProcess(system_bus, machine, tmp_path / "s2")
        try:
            d2.wait_ready()
            await until(lambda: asyncio.sleep(0, events == ["lost", "appeared"]))
            assert (await client.get_state()).platform == "sandbox"
        finally:
            assert d2.stop() == 0
    finally:
        client.close()
