"""What every transfer shares (the HTTP/file fetcher in
:mod:`bootd.loader.download` and the TFTP client in :mod:`bootd.loader.tftp`):
the progress meter, the not-found error and size wording.  Both import this;
neither imports the other's internals."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable

from bootd.errors import ResourceError
from bootd.model import Transfer

log = logging.getLogger(__name__)

Progress = Callable[[Transfer], None]
"""``progress(transfer)``: bytes so far, the total (None while the size is
unknown), the rate and the time left (:class:`~bootd.model.Transfer`)."""

PROGRESS_STEP = 256 * 1024
"""Report progress at most once per this many bytes."""
PROGRESS_INTERVAL = 0.1
"""... and at most once per this many seconds (each report is a D-Bus signal
to every client: a fast link must not flood the bus); the end is always said."""

RATE_WINDOW = 3.0
"""Seconds of recent progress the rate is measured over (it follows a change of speed)."""
RATE_MIN_SPAN = 0.2
"""A rate is said once the reports span this long (before that it is noise)."""


class RateMeter:
    """The rate of a transfer over its last :data:`RATE_WINDOW` seconds, and the
    time left at that rate; the last report gets the average of the whole."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.start = clock()
        self.samples: deque[tuple[float, int]] = deque([(self.start, 0)])

    def measure(self, done: int, total: int | None, *, final: bool = False) -> Transfer:
        now = self.clock()
        if final:
            total = done  # the size is known now, whatever the server said
            elapsed = now - self.start
            return Transfer(done, total, done / elapsed if elapsed > 0 else None, 0.0)
        self.samples.append((now, done))
        while len(self.samples) > 2 and now - self.samples[1][0] >= RATE_WINDOW:
            self.samples.popleft()
        t0, d0 = self.samples[0]
        rate = (done - d0) / (now - t0) if now - t0 >= RATE_MIN_SPAN else None
        eta = None
        if rate and total is not None:
            eta = max(0, total - done) / rate
        return Transfer(done, total, rate, eta)


def describe_size(n: int) -> str:
    """``1000 bytes``, ``1.5 KiB``, ``64.0 MiB``, ``2.0 GiB``."""
    if n < 1024:
        return f"{n} bytes"
    size = float(n)
    for unit in ("KiB", "MiB", "GiB"):
        size /= 1024
        if size < 1024 or unit == "GiB":
            break
    return f"{size:.1f} {unit}"


def too_large(url: str, size: int, max_bytes: int) -> ResourceError:
    return ResourceError(f"{url} is too large: {describe_size(size)} exceeds the limit of {describe_size(max_bytes)}")


class ProgressMeter:
    """Throttles progress reports, measures the rate and delivers the reports
    on the event loop (``loop``: the transfer runs in a worker thread)."""

    def __init__(
        self,
        progress: Progress | None,
        loop: asyncio.AbstractEventLoop | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.progress = progress
        self.loop = loop
        self.total: int | None = None
        self.done = 0
        self._reported = -1
        self._reported_at = 0.0
        self._final_sent = False
        self._clock = clock
        self._rate = RateMeter(clock)

    def _call(self, report: Transfer) -> None:
        if self.progress is None:
            return
        try:
            self.progress(report)
        except Exception:
            log.exception("progress callback failed")

    def update(self, done: int, *, final: bool = False) -> None:
        self.done = done
        if self.progress is None:
            return
        if final:
            if self._final_sent:  # said once
                return
            self._final_sent = True
        elif self._reported >= 0 and (
            done - self._reported < PROGRESS_STEP or self._clock() - self._reported_at < PROGRESS_INTERVAL
        ):
            return
        self._reported = done
        self._reported_at = self._clock()
        report = self._rate.measure(done, self.total, final=final)
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self._call, report)
        else:
            self._call(report)
