"""Headless autoboot is deterministic: 20 starts of the demo machine, each with
its devices scanned in a different order and at different speeds (the sandbox
machine's ``scan_delay``, ``plug_after`` and ``lease_after``), count down to
and boot the same entry; the target changes only for a candidate that ranks
higher, and a status message says so."""

from __future__ import annotations

import asyncio
import random
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from bootd.api import DaemonChanged, Fact, StatusEvent
from bootd.app import make_network
from bootd.daemon import Daemon
from bootd.discovery.manager import Discovery
from bootd.inventory import Inventory
from bootd.platform.sandbox import sandbox_platform
from bootd.settings import Paths
from tests.unit.daemon.helpers import ManualClock, settle

DEMO = Path(__file__).resolve().parents[3] / "config" / "demo"
STARTS = 20


def shuffled_demo(target: Path, rng: random.Random) -> Path:
    """The demo machine with every device's scan speed, the USB stick's plug-in
    time and the DHCP lease's arrival drawn at random."""
    shutil.copytree(DEMO, target, symlinks=True)
    toml = target / "machine.toml"
    text = toml.read_text(encoding="utf-8")
    ids = re.findall(r'^id = "([^"]+)"$', text, flags=re.M)
    delays = [round(i * 0.04, 2) for i in range(len(ids))]
    rng.shuffle(delays)
    for device_id, delay in zip(ids, delays, strict=True):
        text = text.replace(f'id = "{device_id}"\n', f'id = "{device_id}"\nscan_delay = {delay}\n', 1)
    text, plugged = re.subn(r"^plug_after = .*$", f"plug_after = {rng.uniform(0.0, 0.25):.3f}", text, flags=re.M)
    text, leased = re.subn(r"^lease_after = .*$", f"lease_after = {rng.uniform(0.0, 0.25):.3f}", text, flags=re.M)
    assert len(ids) == 5 and plugged == 1 and leased == 1, "the demo machine changed: adapt this test"
    toml.write_text(text, encoding="utf-8")
    return target


@dataclass
class Start:
    targets: list[str]
    """The countdown's target each time it changed."""
    messages: list[str]
    booted: str


async def start_once(machine: Path, work: Path) -> Start:
    state_dir = work / "state"
    config_root = work / "root"
    (config_root / "etc/bootd").mkdir(parents=True)
    (config_root / "etc/bootd/bootd.toml").write_text('timeout = 10\nboot_order = ["any"]\n', encoding="utf-8")
    platform = sandbox_platform(machine, state_dir)
    clock = ManualClock()
    daemon = Daemon(
        platform,
        Inventory(),
        Paths(config_root),
        state_dir=state_dir,
        work_dir=state_dir / "work",
        hooks_dir=None,
        clock=clock,
    )
    targets: list[str] = []
    messages: list[str] = []

    def listen(event: object) -> None:
        if isinstance(event, StatusEvent) and event.message.startswith("Autoboot"):
            messages.append(event.message)
        elif isinstance(event, DaemonChanged) and Fact.COUNTDOWN in event.facts:
            option = daemon.countdown.option
            if option is not None and (not targets or targets[-1] != option.id):
                targets.append(option.id)

    daemon.subscribe(listen)
    daemon.discovery = discovery = Discovery(
        platform, daemon.inventory, status=daemon.events.status_logged, mount_root=state_dir / "mnt"
    )
    daemon.network = network = make_network(platform, daemon)
    assert network is not None
    task = asyncio.create_task(daemon.autoboot.run())
    try:
        await discovery.start()
        await network.start()
        expected = {"sda2", "sdb2", "sdc1", "sdd2", "enP1p1s0f0"}
        loop = asyncio.get_running_loop()
        end = loop.time() + 30
        while {o.device for o in daemon.inventory.options()} < expected or daemon.inventory.device("sdc1") is None:
            assert loop.time() < end, "the demo machine's devices did not all appear"
            await asyncio.sleep(0.02)
        await discovery.settled(30)
        await settle()
        # All of it happened inside the countdown (the clock has not moved): now let it run out.
        await clock.advance(10)
        await asyncio.wait_for(task, 30)
        return Start(targets, messages, daemon.boots.last_boot.option)
    finally:
        daemon.autoboot.cancel("test over")
        await daemon.shutdown()
        await asyncio.gather(task, return_exceptions=True)


async def test_autoboot_target_is_the_same_on_every_start(tmp_path: Path) -> None:
    rng = random.Random(20261207)
    starts: list[Start] = []
    for n in range(STARTS):
        machine = shuffled_demo(tmp_path / f"m{n}", rng)
        starts.append(await start_once(machine, tmp_path / f"w{n}"))
    booted = {s.booted for s in starts}
    assert booted == {starts[0].booted} and starts[0].booted, [s.targets for s in starts]
    assert starts[0].booted.startswith("sda2/"), "boot order 'any': the first disk in natural order, sda2"
    orders = {tuple(s.targets) for s in starts}
    assert len(orders) > 1, "the shuffled timings did make devices arrive in different orders"
    for s in starts:
        assert s.targets[-1] == s.booted
        # Each change of target is announced, and says why the new one ranks higher.
        replaced = [m for m in s.messages if m.startswith("Autoboot now boots")]
        assert len(replaced) == len(s.targets) - 1, (s.targets, s.messages)
        assert all("replaces" in m and "comes before" in m for m in replaced)
