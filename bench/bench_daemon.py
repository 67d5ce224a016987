"""Daemon benchmarks: time from ``bootd serve --sandbox`` start to the bus name,
RSS with 1,000 options, GetManagedObjects with 1,000 options, sequential
property reads.  Aims: ready < 400 ms, RSS < 40 MB."""

from __future__ import annotations

import asyncio
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bootd.dbus import names
from bootd.dbus.client import BootdClient
from tests.integration.daemon.helpers import ROOT, Entry, MachineDevice, PrivateBus, make_machine

DEVICES = 20
PER_DEVICE = 50


def emit(metric: str, value: float, unit: str, **extra: object) -> None:
    print(
        json.dumps({"bench": "daemon", "metric": metric, "value": round(value, 3), "unit": unit, **extra}), flush=True
    )


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def start_daemon(bus: PrivateBus, machine: Path, state: Path) -> subprocess.Popen[bytes]:
    """``bootd serve`` on a sandbox machine, output discarded."""
    argv = [sys.executable, "-m", "bootd", "serve", "--bus", bus.address, "--sandbox", str(machine)]
    argv += ["--state-dir", str(state)]
    return subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def ready_time(bus: PrivateBus, machine: Path, state: Path) -> float:
    watcher = await BootdClient.connect(bus.address)
    appeared = asyncio.Event()
    watcher.on_daemon_appeared(appeared.set)
    start = time.perf_counter()
    proc = start_daemon(bus, machine, state)
    try:
        await asyncio.wait_for(appeared.wait(), 30)
        return (time.perf_counter() - start) * 1000
    finally:
        watcher.close()
        proc.terminate()
        proc.wait(20)


async def loaded(bus: PrivateBus, machine: Path, state: Path) -> None:
    proc = start_daemon(bus, machine, state)
    client: BootdClient | None = None
    try:
        for _ in range(600):
            try:
                client = await BootdClient.connect(bus.address)
                if len(await client.list_options()) == DEVICES * PER_DEVICE:
                    break
                client.close()
                client = None
            except Exception:
                client = None
            await asyncio.sleep(0.1)
        assert client is not None, "the daemon did not list 1,000 options"
        emit("rss_1000_options", rss_mb(proc.pid), "MB", options=DEVICES * PER_DEVICE)
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            body = await client._call("GetManagedObjects", iface=names.OBJECT_MANAGER_IFACE)
            times.append((time.perf_counter() - t0) * 1000)
            assert len(body[0]) == DEVICES * PER_DEVICE + DEVICES
        emit("get_managed_objects_1000", statistics.median(times), "ms", runs=len(times))
        n = 1000
        t0 = time.perf_counter()
        for _ in range(n):
            await client._call("Get", "ss", [names.MANAGER_IFACE, "State"], iface=names.PROPERTIES_IFACE)
        emit("property_read", (time.perf_counter() - t0) * 1000 / n, "ms/call", calls=n)
    finally:
        if client is not None:
            client.close()
        proc.terminate()
        proc.wait(20)


async def run(base: Path) -> None:
    bus = PrivateBus.start(base / "bus", system_like=False)
    try:
        small = make_machine(base / "small", [MachineDevice("sda1", entries=[Entry("6.1", "Linux")])]).root
        runs = [await ready_time(bus, small, base / f"state-ready-{i}") for i in range(5)]
        emit("ready", statistics.median(runs), "ms", runs=len(runs), min=round(min(runs), 1))
        big = make_machine(
            base / "big",
            [
                MachineDevice(
                    f"d{i}", entries=[Entry(f"e{j:02d}", f"Entry {j}", initrd=False) for j in range(PER_DEVICE)]
                )
                for i in range(DEVICES)
            ],
        ).root
        await loaded(bus, big, base / "state-big")
    finally:
        bus.stop()


def main() -> None:
    base = Path(tempfile.mkdtemp(prefix="bootd-bench-daemon-"))
    try:
        asyncio.run(run(base))
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
