"""Optical drives that look empty right after a media change.

A drive whose medium was just changed answers NOT READY (then UNIT ATTENTION)
for a moment, and longer while a real disc spins up.  The kernel sends one
media-change event; when udev's probe of it (``cdrom_id``, ``blkid``) runs in
that moment, udev reports the drive without a medium (or the medium without a
filesystem), and no later event comes when the drive is ready.

:class:`MediumRecheck` asks such a drive again a few times, with growing
pauses, through the platform: while it says it holds a medium it has udev
read it again (a change event follows, and discovery adds the medium the
usual way).  The checks stop at the first event that finds the medium, when
the device goes or its medium is ejected, and after the last pause: a drive
that really is empty is asked a bounded number of times.  Each drive's checks
are a task of their own, so they never hold up another device.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from bootd.platform.block import BlockDevice, BlockPlatform, MediumStatus

log = logging.getLogger(__name__)

RECHECK_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0)
"""Pauses before each check (about 30 s in all: a real disc can take that long to spin up)."""


class MediumRecheck:
    """The pending re-checks, one task per drive."""

    def __init__(self, block: BlockPlatform, delays: Sequence[float] = RECHECK_DELAYS) -> None:
        self.block = block
        self.delays = tuple(delays)
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def running(self, name: str) -> bool:
        task = self._tasks.get(name)
        return task is not None and not task.done()

    def start(self, dev: BlockDevice) -> None:
        """(Re)start the checks of ``dev``'s drive: its medium just changed and looks absent."""
        self.cancel(dev.name)
        if not self.delays:
            return
        task = asyncio.create_task(self._run(dev), name=f"medium-recheck:{dev.name}")
        self._tasks[dev.name] = task
        task.add_done_callback(lambda t: self._done(dev.name, t))

    def cancel(self, name: str) -> None:
        task = self._tasks.pop(name, None)
        if task is not None and not task.done():
            log.debug("%s: medium re-check ends", name)
            task.cancel()

    async def stop(self) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _done(self, name: str, task: asyncio.Task[None]) -> None:
        if self._tasks.get(name) is task:
            del self._tasks[name]
        if not task.cancelled() and task.exception() is not None:
            log.warning("%s: medium re-check failed", name, exc_info=task.exception())

    async def _run(self, dev: BlockDevice) -> None:
        for i, delay in enumerate(self.delays, 1):
            await asyncio.sleep(delay)
            status = await self.block.medium_status(dev)
            log.debug("%s: drive says %s (check %d of %d)", dev.name, status, i, len(self.delays))
            if status in (MediumStatus.PRESENT, MediumStatus.UNKNOWN):
                await self.block.reprobe(dev)
        log.info(
            "%s: no readable medium after %d checks in %g s; waiting for the drive's next event",
            dev.name,
            len(self.delays),
            sum(self.delays),
        )
