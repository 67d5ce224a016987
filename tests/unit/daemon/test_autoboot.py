"""Autoboot: countdown, replacement, cancel, timeout 0, next boot, failures —
on a clock the test moves (no sleeping)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from bootd.autoboot import Autoboot, BootOutcome, Countdown
from bootd.model import BootOption, Device, DeviceType, Resource
from bootd.policy import Choice, choose
from tests.unit.daemon.helpers import ManualClock, settle


def opt(oid: str, device: str, *, default: bool = True) -> BootOption:
    return BootOption(id=oid, device=device, name=oid, kernel=Resource.local("/vmlinuz"), default=default)


@dataclass
class World:
    clock: ManualClock = field(default_factory=ManualClock)
    options: list[BootOption] = field(default_factory=list)
    devices: dict[str, Device] = field(default_factory=dict)
    order: list[str] = field(default_factory=lambda: ["any"])
    timeout: float = 5.0
    enabled: bool = True
    next_boot: str | None = None
    booted: list[str] = field(default_factory=list)
    outcome: BootOutcome = BootOutcome.BOOTED
    states: list[Countdown] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    auto: Autoboot | None = None
    task: asyncio.Task[None] | None = None

    def choose(self, incumbent: str | None = None) -> Choice | None:
        return choose(self.options, self.devices, self.order, next_boot=self.next_boot, incumbent=incumbent)

    async def boot(self, option: BootOption) -> BootOutcome:
        self.booted.append(option.id)
        return self.outcome

    def add(self, option: BootOption, dtype: DeviceType = DeviceType.DISK) -> None:
        self.devices.setdefault(option.device, Device(option.device, type=dtype))
        self.options.append(option)
        assert self.auto is not None
        self.auto.poke()

    @property
    def remaining(self) -> float | None:
        assert self.auto is not None
        return self.auto.state.remaining


@pytest.fixture
async def world() -> AsyncIterator[World]:
    w = World()
    w.auto = Autoboot(
        clock=w.clock,
        choose=w.choose,
        timeout=lambda: w.timeout,
        enabled=lambda: w.enabled,
        boot=w.boot,
        on_change=w.states.append,
        status=lambda m: w.messages.append(str(m)),
    )
    w.task = asyncio.create_task(w.auto.run())
    await settle()
    yield w
    w.auto.cancel("test over")
    await asyncio.wait_for(w.task, 5)


async def test_countdown_starts_with_first_candidate_and_boots_at_zero(world: World) -> None:
    await world.clock.advance(30)
    assert world.remaining is None and world.booted == []
    world.add(opt("sda1/a", "sda1"))
    await settle()
    assert world.remaining == 5.0
    await world.clock.advance(1)
    assert world.remaining == 4.0
    await world.clock.advance(3.5)
    assert world.booted == []
    await world.clock.advance(0.5)
    assert world.booted == ["sda1/a"]
    await world.clock.advance(100)
    assert world.booted == ["sda1/a"], "boots exactly once"
    assert world.auto is not None and world.auto.finished


async def test_non_default_entries_never_autoboot(world: World) -> None:
    world.add(opt("sda1/a", "sda1", default=False))
    await world.clock.advance(60)
    assert world.booted == [] and world.remaining is None


async def test_timeout_zero_boots_at_once(world: World) -> None:
    world.timeout = 0
    world.add(opt("sda1/a", "sda1"))
    await settle()
    assert world.booted == ["sda1/a"]


async def test_cancel_stops_for_the_session(world: World) -> None:
    world.add(opt("sda1/a", "sda1"))
    await world.clock.advance(2)
    assert world.auto is not None
    assert world.auto.cancel("key pressed")
    await settle()
    assert world.remaining is None
    world.add(opt("sdb1/b", "sdb1"))
    await world.clock.advance(60)
    assert world.booted == []
    assert not world.auto.cancel("again"), "a second cancel reports nothing to stop"


async def test_better_candidate_replaces_and_countdown_goes_on(world: World) -> None:
    world.order = ["usb", "disk"]
    world.add(opt("sda1/a", "sda1"), DeviceType.DISK)
    await world.clock.advance(2)
    assert world.auto is not None and world.auto.state.option is not None
    assert world.auto.state.option.id == "sda1/a"
    world.add(opt("sdb1/b", "sdb1"), DeviceType.USB)
    await settle()
    assert world.auto.state.option is not None and world.auto.state.option.id == "sdb1/b"
    assert world.remaining == 3.0, "the countdown is not restarted"
    await world.clock.advance(3)
    assert world.booted == ["sdb1/b"]


async def test_equal_candidate_found_later_does_not_replace(world: World) -> None:
    # Options of a device that appeared earlier may arrive later (a network
    # interface listed at start, its lease seconds after the disks were read).
    world.add(opt("sdb1/b", "sdb1"), DeviceType.DISK)
    await world.clock.advance(2)
    world.options.insert(0, opt("eth0/n", "eth0"))
    world.devices["eth0"] = Device("eth0", type=DeviceType.NETWORK)
    assert world.auto is not None
    world.auto.poke()
    await settle()
    assert world.auto.state.option is not None and world.auto.state.option.id == "sdb1/b"
    await world.clock.advance(3)
    assert world.booted == ["sdb1/b"]


async def test_worse_candidate_does_not_replace(world: World) -> None:
    world.order = ["usb", "disk"]
    world.add(opt("sdb1/b", "sdb1"), DeviceType.USB)
    world.add(opt("sda1/a", "sda1"), DeviceType.DISK)
    await world.clock.advance(5)
    assert world.booted == ["sdb1/b"]


async def test_unmatched_defaults_are_not_booted(world: World) -> None:
    world.order = ["network"]
    world.add(opt("sda1/a", "sda1"), DeviceType.DISK)
    await world.clock.advance(60)
    assert world.booted == []


async def test_candidate_vanishing_stops_the_countdown(world: World) -> None:
    world.add(opt("sdb1/b", "sdb1"), DeviceType.USB)
    await world.clock.advance(3)
    world.options.clear()
    assert world.auto is not None
    world.auto.poke()
    await world.clock.advance(10)
    assert world.booted == [] and world.remaining is None
    world.add(opt("sda1/a", "sda1"))
    await settle()
    assert world.remaining == 5.0, "a new candidate starts a new countdown"


async def test_failed_boot_is_not_retried(world: World) -> None:
    world.outcome = BootOutcome.FAILED
    world.add(opt("sda1/a", "sda1"))
    await world.clock.advance(5)
    assert world.booted == ["sda1/a"]
    world.add(opt("sdb1/b", "sdb1"))
    await world.clock.advance(60)
    assert world.booted == ["sda1/a"]
    assert world.remaining is None


@pytest.mark.parametrize(
    ("outcome", "level", "words"),
    [(BootOutcome.FAILED, logging.WARNING, "failed"), (BootOutcome.CANCELLED, logging.INFO, "cancelled")],
)
async def test_end_of_the_attempt_is_logged_as_it_happened(
    world: World, caplog: pytest.LogCaptureFixture, outcome: BootOutcome, level: int, words: str
) -> None:
    caplog.set_level(logging.INFO, logger="bootd.autoboot")
    world.outcome = outcome
    world.add(opt("sda1/a", "sda1"))
    await world.clock.advance(5)
    await settle()
    assert world.booted == ["sda1/a"]
    ends = [r for r in caplog.records if r.name == "bootd.autoboot" and "staying in the menu" in r.getMessage()]
    assert [(r.levelno, r.getMessage()) for r in ends] == [(level, f"autoboot of sda1/a {words}; staying in the menu")]


async def test_next_boot_overrides_the_default_once(world: World) -> None:
    world.add(opt("sda1/a", "sda1"))
    world.add(opt("sda1/x", "sda1", default=False))
    world.next_boot = "sda1/x"
    assert world.auto is not None
    world.auto.poke()
    await world.clock.advance(5)
    assert world.booted == ["sda1/x"]


async def test_disabled_autoboot_waits_for_the_setting(world: World) -> None:
    world.enabled = False
    world.add(opt("sda1/a", "sda1"))
    await world.clock.advance(60)
    assert world.booted == []
    world.enabled = True
    assert world.auto is not None
    world.auto.poke()
    await world.clock.advance(5)
    assert world.booted == ["sda1/a"]


async def test_a_slower_device_that_ranks_higher_takes_over_and_says_so(world: World) -> None:
    world.add(opt("sdb1/b", "sdb1"))
    await world.clock.advance(2)
    assert world.auto is not None and world.auto.state.option is not None
    world.add(opt("sda1/a", "sda1"))  # scanned later, but sda1 comes before sdb1
    await settle()
    assert world.auto.state.option is not None and world.auto.state.option.id == "sda1/a"
    assert world.remaining == 3.0, "the countdown goes on"
    assert world.messages == [
        "Autoboot now boots sda1/a: default entry, boot order 'any'; replaces sdb1/b (sdb1/b): "
        "device sda1 comes before sdb1 (boot order 'any')"
    ]
    assert "replaces sdb1/b" in world.auto.state.reason.text
    await world.clock.advance(3)
    assert world.booted == ["sda1/a"]


async def test_a_slower_device_that_ranks_lower_changes_nothing(world: World) -> None:
    world.add(opt("sda1/a", "sda1"))
    await world.clock.advance(2)
    world.add(opt("sdb1/b", "sdb1"))
    await settle()
    assert world.auto is not None and world.auto.state.option is not None
    assert world.auto.state.option.id == "sda1/a" and world.messages == []
    await world.clock.advance(3)
    assert world.booted == ["sda1/a"]
