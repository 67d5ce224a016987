"""Cancelling a boot in progress: a kernel download that stalls on a loopback
HTTP server is stopped by CancelBoot (client and ``bootd cancel``), the state
returns to the menu, a Status says so and no downloaded file is left behind."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bootd.api import ProgressEvent
from bootd.daemon import Daemon
from bootd.dbus.client import BootdClient
from bootd.dbus.service import Service
from bootd.discovery.manager import Discovery
from bootd.errors import Busy, Cancelled
from bootd.inventory import Inventory
from bootd.platform.sandbox import sandbox_platform
from bootd.settings import Paths
from tests.integration.daemon.conftest import STANDARD, set_config
from tests.integration.daemon.helpers import PrivateBus, make_machine
from tests.integration.daemon.stalling import StallingServer
from tests.unit.daemon.helpers import ManualClock

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def stalling() -> Iterator[StallingServer]:
    server = StallingServer()
    try:
        yield server
    finally:
        server.close()


@dataclass
class Running:
    daemon: Daemon
    client: BootdClient
    work_dir: Path
    bus: PrivateBus


@pytest.fixture
async def running(system_bus: PrivateBus, tmp_path: Path, config_root: Path) -> AsyncIterator[Running]:
    set_config(config_root, "autoboot = false\n")
    machine = make_machine(tmp_path / "machine", STANDARD).root
    state_dir = tmp_path / "state"
    daemon = Daemon(
        sandbox_platform(machine, state_dir),
        Inventory(),
        Paths(config_root),
        state_dir=state_dir,
        work_dir=state_dir / "work",
        hooks_dir=None,
        clock=ManualClock(),
    )
    daemon.discovery = Discovery(
        daemon.platform, daemon.inventory, status=daemon.events.status_logged, mount_root=state_dir / "mnt"
    )
    service = await Service.connect(system_bus.address, daemon, now=daemon.clock.now)
    await daemon.discovery.start()
    await daemon.discovery.settled(10)
    client = await BootdClient.connect(system_bus.address)
    try:
        yield Running(daemon, client, state_dir / "work", system_bus)
    finally:
        client.close()
        await daemon.shutdown()
        await service.close()


async def until(pred: object, timeout: float = 10.0) -> None:
    assert callable(pred)
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        if pred():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


async def start_stalled_boot(r: Running, server: StallingServer) -> asyncio.Task[None]:
    (r.work_dir / "net").mkdir(parents=True, exist_ok=True)
    boot = asyncio.create_task(r.client.boot_custom(kernel=f"http://127.0.0.1:{server.port}/vmlinuz", name="Stalls"))
    await until(lambda: (r.work_dir / "kernel.part").exists())
    assert r.daemon.boots.state == "booting"
    return boot


async def test_cancel_boot_stops_a_stalled_download(running: Running, stalling: StallingServer) -> None:
    r = running
    statuses: list[str] = []
    r.client.on_status(lambda level, message: statuses.append(message))
    assert await r.client.cancel_boot() is False, "nothing to cancel"
    boot = await start_stalled_boot(r, stalling)
    assert await r.client.cancel_boot() is True
    with pytest.raises(Cancelled, match="the boot of Stalls was cancelled"):
        await asyncio.wait_for(boot, 10)
    state = await r.client.get_state()
    assert state.state == "idle" and state.last_boot.option == ""
    await until(lambda: any(m == "Boot cancelled: Stalls" for m in statuses))
    assert sorted(os.listdir(r.work_dir)) == ["net"], "downloaded files are removed, other directories kept"
    await asyncio.sleep(0.3)
    assert not (r.work_dir / "kernel.part").exists(), "the download thread leaves nothing behind later either"
    assert await r.client.cancel_boot() is False


async def test_bootd_cancel_cancels_a_boot_in_progress(running: Running, stalling: StallingServer) -> None:
    r = running
    boot = await start_stalled_boot(r, stalling)
    env = dict(os.environ, BOOTD_BUS=r.bus.address)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bootd", "cancel", env=env, cwd=ROOT, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    assert proc.returncode == 0 and out.decode().strip() == "boot cancelled"
    with pytest.raises(Cancelled):
        await asyncio.wait_for(boot, 10)
    assert r.daemon.boots.state == "idle"
    # with no boot in progress the command stops autoboot, as before
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bootd", "cancel", env=env, cwd=ROOT, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    assert proc.returncode == 0 and out.decode().strip() == "autoboot cancelled"


async def test_a_boot_cannot_be_cancelled_once_the_kernel_starts(running: Running) -> None:
    r = running
    answers: list[str] = []

    def on_event(event: object) -> None:
        if isinstance(event, ProgressEvent) and event.stage == "Starting the kernel":
            try:
                r.daemon.boots.cancel()
            except Busy as e:
                answers.append(str(e))

    r.daemon.subscribe(on_event)
    await r.client.boot("sdb1/bls/rescue")
    assert answers == ["the new kernel is already being started; the boot cannot be cancelled any more"]
    assert (await r.client.get_state()).state == "booted"


async def test_cancel_during_a_boot_hook_stops_the_hook(running: Running, tmp_path: Path) -> None:
    r = running
    hooks = tmp_path / "boot.d"
    hooks.mkdir()
    pid_file = tmp_path / "hook.pid"
    hook = hooks / "10-slow"
    hook.write_text(f"#!/bin/sh\necho $$ > {pid_file}\nexec sleep 60\n")
    hook.chmod(0o755)
    r.daemon.boots.hooks_dir = hooks
    before = sorted(os.listdir(r.work_dir)) if r.work_dir.exists() else []
    boot = asyncio.create_task(r.client.boot("sdb1/bls/rescue", console="ttyAMA0"))
    await until(lambda: pid_file.exists() and pid_file.read_text().strip() != "")
    pid = int(pid_file.read_text())
    assert (r.work_dir / "boot.dtb").exists(), "the device tree was patched before the hooks ran"
    assert await r.client.cancel_boot() is True
    with pytest.raises(Cancelled):
        await asyncio.wait_for(boot, 10)
    assert r.daemon.boots.state == "idle"
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the hook was killed and reaped
    assert sorted(os.listdir(r.work_dir)) == before, "the patched device tree is removed"
