"""AddUrl and Event reach network discovery through the daemon."""

from __future__ import annotations

from pathlib import Path

import pytest

from bootd.dbus.client import BootdClient
from bootd.errors import InvalidArgument
from tests.integration.daemon.helpers import DaemonProcess, PrivateBus


async def test_add_url_adds_options_that_boot(serve: DaemonProcess, system_bus: PrivateBus, tmp_path: Path) -> None:
    served = tmp_path / "srv"
    served.mkdir()
    (served / "vmlinuz").write_bytes(b"MZ" + b"\0" * 200)
    (served / "boot.cfg").write_text(
        "DEFAULT net\nLABEL net\n  MENU LABEL Network install\n  KERNEL vmlinuz\n  APPEND console=ttyAMA0 inst\n"
    )
    client = await BootdClient.connect(system_bus.address)
    try:
        added = await client.add_url(f"file://{served}/boot.cfg")
        assert len(added) == 1
        options = {o.id: o for o in await client.list_options()}
        opt = options[added[0]]
        assert opt.name == "Network install" and opt.args == "console=ttyAMA0 inst"
        assert opt.kernel is not None and opt.kernel.url == f"file://{served}/vmlinuz"
        await client.boot(opt.id)
        state = await client.get_state()
        assert state.state == "booted" and state.last_boot.option == opt.id
        assert "--append=console=ttyAMA0 inst" in state.last_boot.kexec_load
    finally:
        client.close()


async def test_dhcp_events_are_forwarded(serve: DaemonProcess, system_bus: PrivateBus) -> None:
    client = await BootdClient.connect(system_bus.address)
    try:
        await client.event("bound", {"interface": "eth9", "mac": "52:54:00:00:00:09", "ip": "192.0.2.9"})
        devices = {d.id: d for d in await client.list_devices()}
        assert devices["eth9"].type == "network" and devices["eth9"].prop("ip") == "192.0.2.9"
        with pytest.raises(InvalidArgument, match="names no valid interface"):
            await client.event("bound", {})
    finally:
        client.close()
