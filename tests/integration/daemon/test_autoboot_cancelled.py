"""An autoboot whose boot is cancelled (CancelBoot) is reported as cancelled,
not as a failure."""

from __future__ import annotations

import asyncio

from bootd.autoboot import BootOutcome
from bootd.model import BootOption, Resource
from tests.integration.daemon.stalling import StallingServer
from tests.integration.daemon.test_cancel_boot import Running, running, stalling, until

__all__ = ["running", "stalling"]


async def test_a_cancelled_autoboot_is_not_a_failure(running: Running, stalling: StallingServer) -> None:
    r = running
    option = BootOption(
        id="net/stalls", device="", name="Stalls", kernel=Resource.remote(f"http://127.0.0.1:{stalling.port}/vmlinuz")
    )
    attempt = asyncio.create_task(r.daemon.autoboot_boot(option))
    await until(lambda: (r.work_dir / "kernel.part").exists())
    assert await r.client.cancel_boot() is True
    assert await asyncio.wait_for(attempt, 10) is BootOutcome.CANCELLED
    assert r.daemon.boots.state == "idle"
    unreachable = BootOption(id="net/gone", device="", name="Gone", kernel=Resource.remote("http://127.0.0.1:9/x"))
    assert await asyncio.wait_for(r.daemon.autoboot_boot(unreachable), 30) is BootOutcome.FAILED
