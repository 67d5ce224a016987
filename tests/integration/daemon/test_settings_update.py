"""Settings1.Update: a form's changes are written together or not at all."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from dbus_fast import Variant

from bootd.dbus import names
from bootd.dbus.client import BootdClient
from bootd.errors import BootdError
from tests.integration.daemon.helpers import DaemonProcess, PrivateBus


async def test_a_refused_item_leaves_every_other_change_unwritten(
    serve: DaemonProcess, system_bus: PrivateBus, config_root: Path
) -> None:
    main = config_root / "etc/bootd/bootd.toml"
    before = main.read_text()
    client = await BootdClient.connect(system_bus.address)
    try:
        with pytest.raises(BootdError, match="floppy"):
            await client.update_settings({"timeout": 9, "boot_order": ["usb", "floppy"]})
        assert main.read_text() == before
        assert (await client.get_settings()).timeout == 10
        await client.update_settings({"timeout": 9, "boot_order": ["usb", "disk"], "console": "hvc0"})
        view = await client.get_settings()
        assert (view.timeout, view.boot_order, view.console) == (9, ("usb", "disk"), "hvc0")
        assert main.read_text().startswith(before.rstrip("\n"))  # the file's own lines are kept
    finally:
        client.close()


async def test_a_change_beside_a_setting_of_the_files_only_is_still_signalled(
    serve: DaemonProcess, system_bus: PrivateBus, config_root: Path
) -> None:
    """Update may write a setting Settings1 has no property for (measured_boot);
    the PropertiesChanged for the rest of the change still goes out."""
    client = await BootdClient.connect(system_bus.address)
    seen: list[int] = []
    client.on_settings(lambda view: seen.append(view.timeout))
    try:
        await client._call(
            "Update",
            "a{sv}",
            [{"timeout": Variant("u", 8), "measured_boot": Variant("b", True)}],
            iface=names.SETTINGS_IFACE,
        )
        assert "measured_boot = true" in (config_root / "etc/bootd/bootd.toml").read_text()
        for _ in range(200):
            if 8 in seen:
                break
            await asyncio.sleep(0.02)
        assert 8 in seen, "no PropertiesChanged for Timeout"
    finally:
        client.close()
