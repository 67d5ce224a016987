"""``BootCustom`` answers when the boot has ended, as ``Boot`` does: right after
its reply the daemon's state is ``booted`` and ``LastBoot`` names the entry."""

from __future__ import annotations

from bootd.dbus.client import BootdClient
from tests.integration.daemon.helpers import DaemonProcess, PrivateBus


async def test_boot_custom_returns_when_the_boot_has_ended(serve: DaemonProcess, system_bus: PrivateBus) -> None:
    client = await BootdClient.connect(system_bus.address)
    try:
        await client.boot_custom(kernel="/vmlinuz-rescue", device="sdb1", name="Rescue by hand")
        state = await client.get_state()
        assert state.state == "booted"
        assert state.last_boot.name == "Rescue by hand" and state.last_boot.option.startswith("custom/")
        assert state.last_boot.kexec_exec, "the kernel was executed (recorded) before the reply"
    finally:
        client.close()
