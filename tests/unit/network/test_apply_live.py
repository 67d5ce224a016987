"""The ``[network]`` keys beyond the interfaces put in force while discovery
runs (:meth:`NetworkDiscovery.apply`) on a sandbox machine: ``enabled``,
``bring_up``, ``lease_reports``.  The real namespace and daemon are in
``tests/integration/network/test_settings_live.py``."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from bootd.discovery.network import InterfaceSettings, Method, NetworkDiscovery, NetworkSettings
from bootd.inventory import Inventory
from bootd.model import Severity
from bootd.platform.run import RecordingRunner
from bootd.platform.sandbox import sandbox_platform
from tests.unit.network.machines import machine_text, make_machine

MACHINE = machine_text(0.01, {"ip": "192.168.0.10", "pxepathprefix": "file://{machine}/tftp/"}, [])
START = NetworkSettings(poll_interval=30)


def make(tmp_path: Path, settings: NetworkSettings) -> tuple[NetworkDiscovery, Inventory, RecordingRunner]:
    root = make_machine(tmp_path / "machine", MACHINE)
    (root / "tftp" / "pxelinux.cfg" / "default").write_text("DEFAULT a\nLABEL a\n  KERNEL vmlinuz\n")
    platform = sandbox_platform(root, tmp_path / "state")
    assert isinstance(platform.runner, RecordingRunner)
    messages: list[tuple[Severity, str]] = []
    disc = NetworkDiscovery(
        platform, Inventory(), settings, status=lambda s, m: messages.append((s, str(m))), work_dir=tmp_path
    )
    return disc, disc.inventory, platform.runner


async def wait_for(pred: object, timeout: float = 5.0) -> None:
    assert callable(pred)
    deadline = asyncio.get_running_loop().time() + timeout
    while not pred():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def test_enabled_false_stops_discovery_and_true_starts_it_again(tmp_path: Path) -> None:
    disc, inventory, runner = make(tmp_path, START)
    await disc.start()
    try:
        await wait_for(lambda: inventory.options_of("eth0"))
        before = len(runner.calls)
        done = await disc.apply(replace(START, enabled=False))
        assert [str(d) for d in done] == ["network discovery stopped: eth0 no longer used, their boot options removed"]
        assert ("ip", "-4", "addr", "flush", "dev", "eth0") in runner.calls[before:]
        assert inventory.devices() == [] and inventory.options_of("eth0") == []
        assert disc._watch is None, "the interface scan stopped"

        # interface settings written while off are kept for later, and said to wait
        off = replace(START, enabled=False, interfaces={"eth0": InterfaceSettings(Method.IGNORE)})
        before = len(runner.calls)
        assert [str(d) for d in await disc.apply(off)] == [
            "network discovery is off (network.enabled = false): no interface is touched"
        ]
        assert runner.calls[before:] == []

        done = await disc.apply(START)
        assert [str(d) for d in done] == ["network discovery started"]
        await wait_for(lambda: inventory.options_of("eth0"))
        assert disc._watch is not None
        assert runner.calls.count(("udhcpc", "-i", "eth0")) == 2
    finally:
        await disc.stop()


async def test_bring_up_true_takes_up_what_waited_and_false_brings_nothing_down(tmp_path: Path) -> None:
    disc, inventory, runner = make(tmp_path, replace(START, bring_up=False))
    await disc.start()
    try:
        assert inventory.device("eth0") is not None and ("udhcpc", "-i", "eth0") not in runner.calls
        done = await disc.apply(START)
        assert [str(d) for d in done] == ["eth0: brought up (DHCP)"]
        assert ("ip", "link", "set", "dev", "eth0", "up") in runner.calls
        await wait_for(lambda: inventory.options_of("eth0"))

        before = len(runner.calls)
        done = await disc.apply(replace(START, bring_up=False, lease_reports="dbus"))
        assert [str(d) for d in done] == [
            "network.bring_up = false: no link is brought down; a link that is down is left alone",
            "network.lease_reports = dbus applies to the DHCP clients started from now on",
        ]
        assert runner.calls[before:] == [] and inventory.options_of("eth0")
    finally:
        await disc.stop()
