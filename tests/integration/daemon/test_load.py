"""Many clients, churn, and clients that die mid-call."""

from __future__ import annotations

import asyncio
import functools
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bootd.dbus.client import BootdClient
from bootd.errors import Busy
from tests.integration.daemon.conftest import set_config
from tests.integration.daemon.helpers import ROOT, DaemonProcess, Entry, MachineDevice, PrivateBus, busctl, make_machine

CLIENTS = 50
DEVICES = 10
PER_DEVICE = 50
PLUG_AT = 6.0
UNPLUG_AT = 10.0


async def test_fifty_clients_see_every_option_come_and_go(
    system_bus: PrivateBus, tmp_path: Path, config_root: Path
) -> None:
    devices = [
        MachineDevice(
            f"sd{chr(ord('b') + i)}1",
            type="usb",
            entries=[Entry(f"e{j:03d}", f"Entry {j}", initrd=False) for j in range(PER_DEVICE)],
            plug_after=PLUG_AT,
            unplug_after=UNPLUG_AT,
        )
        for i in range(DEVICES)
    ]
    machine = make_machine(tmp_path / "m", devices).root
    set_config(config_root, "autoboot = false\n")
    d = DaemonProcess(system_bus, machine, tmp_path / "state", config_root=config_root)
    start = time.monotonic()
    clients: list[BootdClient] = []
    try:
        d.wait_ready()
        added = [set[str]() for _ in range(CLIENTS)]
        removed = [set[str]() for _ in range(CLIENTS)]
        for i in range(CLIENTS):
            c = await BootdClient.connect(system_bus.address)
            c.on_option_added(functools.partial(lambda seen, o: seen.add(o.id), added[i]))
            c.on_option_removed(removed[i].add)
            clients.append(c)
        assert time.monotonic() - start < PLUG_AT, "clients subscribed before the devices appear"
        probe = clients[0]
        worst = 0.0
        total = DEVICES * PER_DEVICE
        deadline = start + UNPLUG_AT + 30
        while time.monotonic() < deadline and not all(len(r) == total for r in removed):
            t0 = time.monotonic()
            state = await probe.get_state()
            worst = max(worst, time.monotonic() - t0)
            assert state.state == "idle"
            await asyncio.sleep(0.05)
        counts = sorted({(len(a), len(r)) for a, r in zip(added, removed, strict=True)})
        assert counts == [(total, total)], f"every client sees every InterfacesAdded/Removed: {counts}"
        assert worst < 2.0, f"the daemon stayed responsive (slowest property read {worst:.3f} s)"
        assert await probe.list_options() == []
    finally:
        for c in clients:
            c.close()
        assert d.stop() == 0


SLOW_BOOT = """
import asyncio, sys
import pytest

from bootd.dbus.client import BootdClient
from bootd.errors import Busy

async def main() -> None:
    client = await BootdClient.connect(sys.argv[1])
    print("calling", flush=True)
    await client.boot("sda1/bls/6.1")

asyncio.run(main())
"""


async def test_a_client_killed_mid_call_does_not_disturb_the_daemon(
    system_bus: PrivateBus, tmp_path: Path, config_root: Path
) -> None:
    machine = make_machine(tmp_path / "m", [MachineDevice("sda1", entries=[Entry("6.1", "Debian")])]).root
    set_config(config_root, "autoboot = false\n")
    hooks = config_root / "etc/bootd/boot.d"
    hooks.mkdir(parents=True)
    hook = hooks / "10-slow"
    hook.write_text("#!/bin/sh\nsleep 1.5\nexit 0\n")
    hook.chmod(0o755)
    d = DaemonProcess(system_bus, machine, tmp_path / "state", config_root=config_root)
    try:
        d.wait_ready()
        watcher = await BootdClient.connect(system_bus.address)
        try:
            for _ in range(100):
                if await watcher.list_options():
                    break
                await asyncio.sleep(0.05)
            env = dict(os.environ, PYTHONPATH=str(ROOT))
            proc = subprocess.Popen(
                [sys.executable, "-c", SLOW_BOOT, system_bus.address], stdout=subprocess.PIPE, text=True, env=env
            )
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "calling"
            for _ in range(100):
                if (await watcher.get_state()).state == "booting":
                    break
                await asyncio.sleep(0.02)
            with pytest.raises(Busy, match="another boot is in progress"):
                await watcher.boot("sda1/bls/6.1")
            proc.kill()
            proc.wait()
            proc.stdout.close()
            assert (await watcher.get_state()).state == "booting", "the call was in flight when its client died"
            for _ in range(200):
                if (await watcher.get_state()).state == "booted":
                    break
                await asyncio.sleep(0.05)
            state = await watcher.get_state()
            assert state.state == "booted" and state.last_boot.option == "sda1/bls/6.1"
            flood = [watcher.get_settings() for _ in range(200)]
            assert len(await asyncio.gather(*flood)) == 200
        finally:
            watcher.close()
        assert (
            busctl(system_bus, "get-property", "org.bootd", "/org/bootd", "org.bootd.Manager1", "State").stdout.strip()
            == 's "booted"'
        )
    finally:
        assert d.stop() == 0
    assert "Traceback" not in d.output()
