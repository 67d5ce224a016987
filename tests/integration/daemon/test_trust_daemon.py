"""Each option's trust state as a D-Bus client sees it (BootOption1 Trust and
TrustReason), from a running daemon on a sandbox machine whose disk carries
signed, tampered and unsigned entries, checked with real gpgv; under enforce
an edited command line is refused at once with the reason, and the signed
entry boots."""

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
from bootd.model import BootOption, Trust
from bootd.platform.sandbox import sandbox_platform
from bootd.settings import Paths
from tests.integration.daemon.conftest import set_config
from tests.integration.daemon.helpers import Entry, MachineDevice, PrivateBus, make_machine
from tests.integration.loader.test_signed_boot import Keys, keys, sign, sign_text
from tests.unit.daemon.helpers import ManualClock

__all__ = ["keys"]
ARGS = "root=/dev/sda2 ro"
DISK = [
    MachineDevice(
        "sda1", entries=[Entry("6.1", "Signed"), Entry("5.10", "Tampered"), Entry("4.19", "Unsigned")], uuid="0a1b"
    )
]


def signed_disk(machine: Path, keys: Keys) -> None:
    root = machine / "devices/sda1"
    for stem in ("6.1", "5.10"):
        sign(keys.owner, root / f"vmlinuz-{stem}")
        sign(keys.owner, root / f"initrd-{stem}.img")
        sign_text(keys.owner, ARGS, root / f"vmlinuz-{stem}.cmdline.sig")
    initrd = root / "initrd-5.10.img"
    initrd.write_bytes(initrd.read_bytes()[:-1] + b"\1")  # one byte changed after signing


async def _running(bus: PrivateBus, tmp_path: Path, config_root: Path, keys: Keys) -> AsyncIterator[BootdClient]:
    machine = make_machine(tmp_path / "machine", DISK).root
    signed_disk(machine, keys)
    set_config(config_root, f'autoboot = false\nsigned_boot = "enforce"\nsigned_boot_keyring = "{keys.keyring}"\n')
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


async def verdicts(client: BootdClient, count: int) -> dict[str, BootOption]:
    """The options by name once ``count`` of them have a verdict."""
    for _ in range(300):
        opts = {o.name: o for o in await client.list_options()}
        if sum(o.trust is not Trust.UNCHECKED for o in opts.values()) >= count:
            return opts
        await asyncio.sleep(0.1)
    raise AssertionError(f"no verdicts: {opts}")


async def test_each_option_shows_its_trust_state_and_enforce_refuses_an_edit(
    system_bus: PrivateBus, tmp_path: Path, config_root: Path, keys: Keys
) -> None:
    statuses: list[tuple[str, str]] = []
    async for client in _running(system_bus, tmp_path, config_root, keys):
        client.on_status(lambda level, message: statuses.append((str(level), message)))
        opts = await verdicts(client, 3)
        assert opts["Signed"].trust is Trust.VERIFIED and "bootd owner" in opts["Signed"].trust_reason
        assert opts["Tampered"].trust is Trust.TAMPERED
        assert opts["Tampered"].trust_reason.startswith("initrd /initrd-5.10.img: BAD signature")
        assert opts["Unsigned"].trust is Trust.UNSIGNED
        assert "kernel /vmlinuz-4.19: no usable signature" in opts["Unsigned"].trust_reason

        signed = opts["Signed"]
        with pytest.raises(PermissionDenied, match="the command line of Signed cannot be edited"):
            await asyncio.wait_for(client.boot(signed.id, args=ARGS + " init=/bin/sh"), 30)
        assert (await client.get_state()).state == "idle"
        assert any(level == "error" and "cannot be edited" in m for level, m in statuses)
        assert not (tmp_path / "state/kexec.log").exists(), "nothing was loaded"

        # changed on the disk after its verdict: the boot is refused, and the verdict follows
        kernel = tmp_path / "machine/devices/sda1/vmlinuz-6.1"
        kernel.write_bytes(kernel.read_bytes() + b"\0")
        with pytest.raises(PermissionDenied, match="kernel /vmlinuz-6.1: BAD signature"):
            await asyncio.wait_for(client.boot(signed.id), 30)
        for _ in range(100):
            now = {o.name: o for o in await client.list_options()}["Signed"]
            if now.trust is Trust.TAMPERED:
                break
            await asyncio.sleep(0.1)
        assert now.trust is Trust.TAMPERED and "kernel /vmlinuz-6.1: BAD signature" in now.trust_reason

        sign(keys.owner, kernel)  # signed again: it boots
        await asyncio.wait_for(client.boot(signed.id), 30)
        assert (await client.get_state()).state == "booted"
