"""Settings1.Update: a form's changes are written together or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

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
