"""A qemu guest's serial console, both ways: what the guest writes (kept whole,
also with the terminal's escape sequences taken out) and keys sent to it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path

_ESCAPES = re.compile(rb"\x1b\[[0-9;?<=>]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78NOMDEHc]|\x0f|\x0e")

KEYS = {
    "Enter": b"\r", "Esc": b"\x1b", "Up": b"\x1b[A", "Down": b"\x1b[B", "Right": b"\x1b[C", "Left": b"\x1b[D",
    "Home": b"\x1b[1~", "End": b"\x1b[4~", "Tab": b"\t", "Backspace": b"\x7f",
}  # fmt: skip


def plain(data: bytes) -> str:
    """Terminal output as text: escape sequences removed, carriage returns as line ends."""
    return _ESCAPES.sub(b"", data).replace(b"\r", b"\n").decode(errors="replace")


class Console:
    """qemu running with its serial port on stdin/stdout (``-nographic``)."""

    def __init__(self, argv: Sequence[str], log: Path) -> None:
        self.argv = list(argv)
        self.log = log
        self.t0 = time.monotonic()
        self._data = bytearray()
        self._lock = threading.Lock()
        self._marks: list[tuple[float, int]] = []
        self.proc = subprocess.Popen(
            self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        with self.log.open("wb") as out:
            while True:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    return
                out.write(chunk)
                out.flush()
                with self._lock:
                    self._data += chunk
                    self._marks.append((time.monotonic() - self.t0, len(self._data)))

    @property
    def data(self) -> bytes:
        with self._lock:
            return bytes(self._data)

    def text(self) -> str:
        return plain(self.data)

    def wait(self, pattern: str, timeout: float, *, after: int = 0) -> re.Match[str]:
        """Wait until ``pattern`` (a regex) appears in the plain text after offset ``after``."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.text(), after)
            if m:
                return m
            if time.monotonic() > deadline or self.proc.poll() is not None:
                tail = self.text()[-3000:]
                where = f"no {pattern!r} within {timeout:.0f}s (log {self.log})"
                raise AssertionError(f"{where}; the console shows:\n{tail}")
            time.sleep(0.2)

    def seen_at(self, pattern: str) -> float | None:
        """Seconds after power-on at which ``pattern`` first reached the console."""
        rx = re.compile(pattern)
        with self._lock:
            marks = list(self._marks)
            data = bytes(self._data)
        lo, hi = 0, len(marks)
        while lo < hi:  # the first chunk after which the text matches (matches only ever appear)
            mid = (lo + hi) // 2
            if rx.search(plain(data[: marks[mid][1]])):
                hi = mid
            else:
                lo = mid + 1
        return marks[lo][0] if lo < len(marks) else None

    def send(self, *keys: str, pause: float = 0.4) -> None:
        """Keys by name (``KEYS``) or literal text, one after another."""
        assert self.proc.stdin is not None
        for key in keys:
            self.proc.stdin.write(KEYS.get(key, key.encode()))
            self.proc.stdin.flush()
            time.sleep(pause)

    def wait_exit(self, timeout: float) -> int | None:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._reader.join(timeout=10)
        for f in (self.proc.stdin, self.proc.stdout):
            if f is not None:
                f.close()
