"""A clock tests move by hand (autoboot timing without sleeping)."""

from __future__ import annotations

import asyncio


async def settle(rounds: int = 30) -> None:
    """Let every ready task run until nothing is left to do."""
    for _ in range(rounds):
        await asyncio.sleep(0)


class ManualClock:
    def __init__(self) -> None:
        self.t = 0.0
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (self.t + seconds, fut)
        self._sleepers.append(entry)
        try:
            await fut
        finally:
            if entry in self._sleepers:
                self._sleepers.remove(entry)

    async def advance(self, seconds: float) -> None:
        """Move time forward, waking sleepers in deadline order."""
        target = self.t + seconds
        await settle()
        while True:
            due = [s for s in self._sleepers if s[0] <= target and not s[1].done()]
            if not due:
                break
            first = min(d for d, _ in due)
            self.t = max(self.t, first)
            for deadline, fut in due:
                if deadline <= first:
                    fut.set_result(None)
            await settle()
        self.t = target
        await settle()
