"""LVM on a sandbox machine, for two things found in the x86_64 guest
(tests/e2e/discovery): a physical volume that appears while ``vgchange -ay``
is already running gets its own activation (that run may have scanned the
disks before it came), and a logical volume whose disk is pulled goes from the
inventory (the kernel keeps the device-mapper device, unreadable)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

from bootd.discovery.manager import Discovery
from bootd.inventory import Inventory
from bootd.platform import Platform
from bootd.platform.block import BACKING_DEVICES, BlockDevice
from bootd.platform.machine import load_machine
from bootd.platform.run import RecordingRunner, Result
from bootd.platform.sandbox_block import SandboxBlock

MACHINE = """
[machine]
arch = "x86_64"
firmware = "bios"

[[device]]
id = "pv1"
type = "disk"
fstype = "LVM2_member"

[[device]]
id = "pv2"
type = "disk"
fstype = "LVM2_member"
"""

VGCHANGE_SECONDS = 0.4


@dataclass
class SlowVgchange(RecordingRunner):
    """Records commands; ``vgchange`` takes a while, as it does on a real machine."""

    started: list[float] | None = None
    """When each ``vgchange`` started (event loop time)."""

    async def run(
        self,
        argv: Sequence[str],
        *,
        check: bool = True,
        input: bytes | None = None,
        timeout: float | None = 60.0,
        env: Mapping[str, str] | None = None,
    ) -> Result:
        result = await super().run(argv, check=check, input=input, timeout=timeout, env=env)
        if argv and argv[0] == "vgchange":
            assert self.started is not None
            self.started.append(asyncio.get_running_loop().time())
            await asyncio.sleep(VGCHANGE_SECONDS)
        return result


def _platform(tmp_path: Path, plug_after: float | None) -> tuple[Platform, SlowVgchange]:
    machine = tmp_path / "machine"
    machine.mkdir()
    text = MACHINE if plug_after is None else MACHINE + f"plug_after = {plug_after}\n"
    (machine / "machine.toml").write_text(text)
    spec = load_machine(machine)
    runner = SlowVgchange(started=[])
    block = SandboxBlock(spec, runner, tmp_path / "state")
    platform = Platform(
        name="sandbox",
        arch=spec.arch,
        firmware=spec.firmware,
        runner=runner,
        block=block,
        boot=cast(Any, None),
        net=cast(Any, None),
    )
    return platform, runner


async def _run(tmp_path: Path, plug_after: float | None) -> tuple[float, list[float]]:
    """When discovery started, and when each ``vgchange`` did."""
    platform, runner = _platform(tmp_path, plug_after)
    disc = Discovery(platform, Inventory(), mount_root=tmp_path / "mnt")
    await platform.parsers.start()  # the parse workers are not what is timed here
    t0 = asyncio.get_running_loop().time()
    await disc.start()
    try:
        await asyncio.sleep((plug_after or 0) + 0.1)
        await disc.settled(10)
    finally:
        await disc.stop()
    assert runner.started is not None
    assert len([c for c in runner.calls if c[0] == "vgchange"]) == len(runner.started)
    return t0, runner.started


async def test_a_volume_that_appears_during_vgchange_is_activated_too(tmp_path: Path) -> None:
    plug = VGCHANGE_SECONDS / 2
    t0, started = await _run(tmp_path, plug_after=plug)
    # the first run began before pv2 came and is still busy when it does: one more run, after it
    assert len(started) == 2, started
    assert started[0] - t0 < plug <= started[1] - t0


async def test_volumes_present_together_need_one_vgchange(tmp_path: Path) -> None:
    _t0, started = await _run(tmp_path, plug_after=None)
    assert len(started) == 1, started


# -- a logical volume whose disk is pulled -------------------------------------------------
PULLED = """
[machine]
arch = "x86_64"
firmware = "bios"

[[device]]
id = "dm-0"
type = "disk"
fstype = "ext4"
label = "LVROOT"

[[device]]
id = "vdb"
type = "disk"
fstype = "LVM2_member"
unplug_after = 0.3

[[device]]
id = "vdc"
type = "disk"
fstype = "ext4"
unplug_after = 0.1
"""


class LogicalVolumes(SandboxBlock):
    """A sandbox machine whose ``dm-0`` is a logical volume on ``vdb`` (as the Linux platform
    reports one: device-mapper cannot exist on this machine)."""

    def enumerate(self) -> list[BlockDevice]:
        return [
            replace(d, properties=(*d.properties, (BACKING_DEVICES, "vdb"))) if d.name == "dm-0" else d
            for d in super().enumerate()
        ]


async def test_a_logical_volume_goes_with_its_disk(tmp_path: Path) -> None:
    machine = tmp_path / "machine"
    entries = machine / "devices" / "dm-0" / "loader" / "entries"
    entries.mkdir(parents=True)
    (entries / "os.conf").write_text("title OS on LVM\nlinux /vmlinuz\n")
    (machine / "devices" / "vdc").mkdir()
    (machine / "machine.toml").write_text(PULLED)
    spec = load_machine(machine)
    runner = RecordingRunner()
    block = LogicalVolumes(spec, runner, tmp_path / "state")
    platform = Platform(
        name="sandbox",
        arch=spec.arch,
        firmware=spec.firmware,
        runner=runner,
        block=block,
        boot=cast(Any, None),
        net=cast(Any, None),
    )
    inv = Inventory()
    disc = Discovery(platform, inv, mount_root=tmp_path / "mnt")
    await platform.parsers.start()  # the volume is pulled at 0.3 s: no time for a cold worker
    await disc.start()
    try:
        await disc.settled(5)
        assert [o.name for o in inv.options_of("dm-0")] == ["OS on LVM"]
        # another disk going (vdc, at 0.1 s) leaves the volume alone; its own disk going (vdb, at 0.3 s) does not
        await asyncio.sleep(0.15)
        await disc.settled(5)
        assert inv.device("vdc") is None and inv.device("dm-0") is not None
        await asyncio.sleep(0.25)
        await disc.settled(5)
        assert inv.device("dm-0") is None and inv.options_of("dm-0") == []
    finally:
        await disc.stop()
        await platform.parsers.close()
