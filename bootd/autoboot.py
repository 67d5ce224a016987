"""The autoboot countdown (layer L3).

The task waits until :func:`bootd.policy.choose` names a candidate, counts
down the configured timeout on an injectable clock and then boots it.
Whenever something changes (an option appears or vanishes, a setting
changes) the owner calls :meth:`Autoboot.poke` and the choice is recomputed:
the policy's order is total (boot order, then a stable device key, then the
config's own default), so the target is the same whatever order devices
finish scanning in: it changes only when a candidate ranking higher appears,
which the countdown's reason and a status message say, and the countdown
goes on (it is not restarted); if no candidate is left the countdown stops
until one appears.  :meth:`cancel`
(any key in any UI) ends autoboot for the rest of the session, and so does
the boot attempt itself: a failed autoboot returns to the menu and is not
retried.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Protocol

from bootd.model import N_, BootOption, Record, Text, record
from bootd.policy import Choice

_set = object.__setattr__
_NO_REASON = Text("")

log = logging.getLogger(__name__)


class BootOutcome(StrEnum):
    """How the autoboot attempt ended, as the boot callback reports it."""

    BOOTED = "booted"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Clock(Protocol):
    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class MonotonicClock:
    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@record
class Countdown(Record):
    """What the countdown shows: the option it will boot and the seconds left
    (``None``: no countdown running)."""

    option: BootOption | None = None
    remaining: float | None = None
    reason: Text = _NO_REASON

    def __init__(
        self,
        option: BootOption | None = None,
        remaining: float | None = None,
        reason: Text = _NO_REASON,
    ) -> None:
        _set(self, "option", option)
        _set(self, "remaining", remaining)
        _set(self, "reason", reason)


class Autoboot:
    def __init__(
        self,
        *,
        clock: Clock,
        choose: Callable[[str | None], Choice | None],
        timeout: Callable[[], float],
        enabled: Callable[[], bool],
        boot: Callable[[BootOption], Awaitable[BootOutcome]],
        on_change: Callable[[Countdown], None],
        status: Callable[[Text], None] | None = None,
    ) -> None:
        self._clock = clock
        self._choose = choose
        self._timeout = timeout
        self._enabled = enabled
        self._boot = boot
        self._on_change = on_change
        self._status = status
        self._wake = asyncio.Event()
        self._finished = False
        self._why_finished = ""
        self._state = Countdown()

    @property
    def state(self) -> Countdown:
        return self._state

    @property
    def finished(self) -> bool:
        """True once cancelled or once the autoboot attempt was made."""
        return self._finished

    def poke(self) -> None:
        """Something changed: recompute the choice."""
        self._wake.set()

    def cancel(self, reason: str = "cancelled") -> bool:
        """Stop autoboot for this session; False when it had already ended."""
        if self._finished:
            return False
        self._finished = True
        self._why_finished = reason
        log.info("autoboot stopped: %s", reason)
        self._wake.set()
        self._publish(Countdown())
        return True

    def _publish(self, state: Countdown) -> None:
        if state != self._state:
            self._state = state
            self._on_change(state)

    async def _wait(self, seconds: float) -> None:
        """Sleep ``seconds`` on the clock, or less if poked."""
        sleeper = asyncio.ensure_future(self._clock.sleep(seconds))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in (sleeper, waker):
                t.cancel()
            await asyncio.gather(sleeper, waker, return_exceptions=True)

    async def run(self) -> None:
        deadline: float | None = None
        while not self._finished:
            self._wake.clear()
            current = self._state.option.id if self._state.option is not None else None
            choice = self._choose(current) if self._enabled() else None
            if choice is None:
                deadline = None
                self._publish(Countdown())
                await self._wake.wait()
                continue
            now = self._clock.now()
            if current is not None and choice.replaced == current and choice.option.id != current:
                message = Text.of(
                    N_("Autoboot now boots {name}: {reason}"), name=choice.option.name, reason=choice.reason
                )
                log.info("autoboot: %s replaces %s (%s)", choice.option.id, current, choice.reason)
                if self._status is not None:
                    self._status(message)
            if deadline is None:
                deadline = now + max(0.0, self._timeout())
                log.info("autoboot: %s in %.0f s (%s)", choice.option.id, deadline - now, choice.reason)
            remaining = deadline - now
            if remaining <= 0:
                self._finished = True
                self._why_finished = "booted"
                self._publish(Countdown(choice.option, 0.0, choice.reason))
                outcome = await self._boot(choice.option)
                self._publish(Countdown())
                if outcome is BootOutcome.CANCELLED:
                    log.info("autoboot of %s cancelled; staying in the menu", choice.option.id)
                elif outcome is BootOutcome.FAILED:
                    log.warning("autoboot of %s failed; staying in the menu", choice.option.id)
                return
            self._publish(Countdown(choice.option, float(round(remaining, 3)), choice.reason))
            await self._wait(min(1.0, remaining))
        self._publish(Countdown())
