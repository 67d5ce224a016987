"""What every transfer shares (the HTTP/file fetcher in
:mod:`bootd.loader.download` and the TFTP client in :mod:`bootd.loader.tftp`):
the progress meter, the not-found error and size wording.  Both import this;
neither imports the other's internals."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from bootd.errors import ResourceError

log = logging.getLogger(__name__)

Progress = Callable[[int, int | None], None]
"""``progress(bytes_so_far, total)``; ``total`` is None when the size is unknown."""

PROGRESS_STEP = 256 * 1024
"""Report progress at most once per this many bytes."""


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
    """Throttles progress reports and delivers them on the event loop."""

    def __init__(self, progress: Progress | None, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.progress = progress
        self.loop = loop
        self.total: int | None = None
        self.done = 0
        self._reported = -1

    def _call(self, done: int, total: int | None) -> None:
        if self.progress is None:
            return
        try:
            self.progress(done, total)
        except Exception:
            log.exception("progress callback failed")

    def update(self, done: int, *, final: bool = False) -> None:
        self.done = done
        if self.progress is None:
            return
        if not final and self._reported >= 0 and done - self._reported < PROGRESS_STEP:
            return
        if done == self._reported:  # the last chunk was reported already: say it once
            return
        self._reported = done
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self._call, done, self.total)
        else:
            self._call(done, self.total)
