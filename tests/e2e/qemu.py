"""Running a qemu guest with its serial console captured line by line."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Run:
    argv: tuple[str, ...]
    lines: tuple[str, ...]
    returncode: int | None
    timed_out: bool
    seconds: float

    def starting(self, prefix: str) -> list[str]:
        """The serial lines that start with ``prefix`` (the prefix removed)."""
        return [line[len(prefix) :] for line in self.lines if line.startswith(prefix)]

    def first(self, prefix: str) -> str | None:
        found = self.starting(prefix)
        return found[0] if found else None

    def tail(self, n: int = 60) -> str:
        return "\n".join(self.lines[-n:])


def run(
    argv: Sequence[str],
    *,
    log: Path,
    timeout: float,
    stop_at: str | None = None,
    on_line: Callable[[str], None] | None = None,
) -> Run:
    """Run qemu until it exits (or ``timeout``), the guest serial line on stdout.

    Every line is written to ``log`` (and handed to ``on_line`` as it comes: a
    test can act on the guest's requests).  When ``stop_at`` is seen, the guest
    is given a few seconds to finish and then stopped.
    """
    t0 = time.monotonic()
    lines: list[str] = []
    proc = subprocess.Popen(
        list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    assert proc.stdout is not None
    timed_out = False
    deadline = t0 + timeout
    buf = b""
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    try:
        with log.open("wb") as out:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    timed_out = stop_at is None or not any(line.startswith(stop_at) for line in lines)
                    break
                if not sel.select(timeout=min(left, 1.0)):
                    if proc.poll() is not None:
                        break
                    continue
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                out.write(chunk)
                out.flush()
                buf += chunk
                *complete, buf = buf.split(b"\n")
                for raw in complete:
                    line = raw.decode(errors="replace").replace("\r", "")
                    lines.append(line)
                    if on_line is not None:
                        on_line(line)
                    if stop_at is not None and line.startswith(stop_at):
                        deadline = min(deadline, time.monotonic() + 5)
            if buf:
                lines.append(buf.decode(errors="replace").replace("\r", ""))
    finally:
        sel.close()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
    return Run(tuple(argv), tuple(lines), proc.returncode, timed_out, time.monotonic() - t0)
