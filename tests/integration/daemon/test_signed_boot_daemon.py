"""signed_boot in the running daemon, as a client sees it: under enforce a boot
that does not verify is refused with the reason and the daemon is back at the
menu; under warn it boots and each failure is a warning Status."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bootd.daemon import Daemon
from bootd.dbus.client import BootdClient
from bootd.dbus.service import Service
from bootd.discovery.manager import Discovery
from bootd.errors import PermissionDenied
from bootd.inventory import Inventory
from bootd.platform.sandbox import sandbox_platform
from bootd.settings import Paths
from tests.integration.daemon.conftest import STANDARD, set_config
from tests.integration.daemon.helpers import PrivateBus, make_machine
from tests.integration.daemon.test_boot_progress import http_root
from tests.integration.daemon.test_cancel_boot import until
from tests.unit.daemon.helpers import ManualClock

__all__ = ["http_root"]


async def _running(bus: PrivateBus, tmp_path: Path, config_root: Path, mode: str) -> AsyncIterator[BootdClient]:
    set_config(config_root, f'autoboot = false\nsigned_boot = "{mode}"\nsigned_boot_keyring = "/nonexistent/k.gpg"\n')
    state_dir = tmp_path / "state"
    daemon = Daemon(
        sandbox_platform(make_machine(tmp_path / "machine", STANDARD).root, state_dir),
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
    service = await Service.connect(bus.address, daemon, now=daemon.clock.now)
    await daemon.discovery.start()
    await daemon.discovery.settled(10)
    client = await BootdClient.connect(bus.address)
    try:
        yield client
    finally:
        client.close()
        await daemon.shutdown()
        await service.close()


@pytest.mark.parametrize("mode", ["enforce", "warn"])
async def test_signed_boot_in_the_daemon(
    system_bus: PrivateBus, tmp_path: Path, config_root: Path, http_root: str, mode: str
) -> None:
    statuses: list[tuple[str, str]] = []
    async for client in _running(system_bus, tmp_path, config_root, mode):
        client.on_status(lambda level, message: statuses.append((str(level), message)))
        boot = client.boot_custom(kernel=f"{http_root}/vmlinuz", name="Web")
        if mode == "enforce":
            with pytest.raises(PermissionDenied, match="keyring /nonexistent/k.gpg: the keyring does not exist"):
                await asyncio.wait_for(boot, 30)
            assert (await client.get_state()).state == "idle"
            await until(lambda: any("signed_boot = enforce refuses Web" in m for _, m in statuses))
        else:
            await asyncio.wait_for(boot, 30)
            assert (await client.get_state()).state == "booted"
            await until(lambda: any(lv == "warning" and "NOT verified: keyring" in m for lv, m in statuses))
