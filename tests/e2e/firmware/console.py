"""A qemu guest's serial console, both ways: what the guest writes (kept whole,
also with the terminal's escape sequences taken out) and keys sent to it."""

from __future__ import annotations

import os
import re
import signal
import socket
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


class Shell:
    """A root shell on one of the guest's consoles (hvc), through qemu's socket chardev.

    Only the test machine's overlay starts a shell there (the shipped image
    starts no login and no shell on any console).  Each command's output is framed by
    markers whose text only the shell's expansion produces, so an echo of the
    typed line never matches.
    """

    def __init__(self, path: Path, log: Path) -> None:
        self.path = path
        self.log = log
        self._sock: socket.socket | None = None
        self._data = bytearray()
        self._lock = threading.Lock()
        self._n = 0

    def _read(self, sock: socket.socket) -> None:
        with self.log.open("ab") as out:
            while True:
                try:
                    chunk = sock.recv(65536)
                except OSError:
                    return
                if not chunk:
                    return
                out.write(chunk)
                out.flush()
                with self._lock:
                    self._data += chunk

    def text(self) -> str:
        with self._lock:
            return self._data.decode(errors="replace").replace("\r", "")

    def _send(self, line: str) -> None:
        assert self._sock is not None
        self._sock.sendall(line.encode() + b"\n")

    def open(self, timeout: float) -> None:
        """Connect to the socket and wait until the guest's shell answers."""
        deadline = time.monotonic() + timeout
        while self._sock is None:
            try:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.connect(str(self.path))
                self._sock = sock
            except OSError:
                sock.close()
                if time.monotonic() > deadline:
                    raise AssertionError(f"no shell socket {self.path} within {timeout:.0f}s") from None
                time.sleep(0.5)
        threading.Thread(target=self._read, args=(self._sock,), daemon=True).start()
        while "@@READY2" not in self.text():
            if time.monotonic() > deadline:
                raise AssertionError(f"no shell on the guest's console within {timeout:.0f}s: {self.text()[-500:]!r}")
            self._send("stty -echo 2>/dev/null; echo @@READY$((1+1))")
            time.sleep(3)

    def run(self, command: str, timeout: float = 120) -> tuple[int, str]:
        """Run ``command`` (one line of sh); its exit status and its output (stdout and stderr)."""
        self._n += 1
        n = self._n
        start = len(self.text())
        self._send(f"printf '@@B%s\\n' {n}; ( {command} ) 2>&1; printf '@@E%s %s\\n' {n} $?")
        rx = re.compile(rf"@@B{n}\n(.*?)@@E{n} (\d+)\n", re.S)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.text(), start)
            if m:
                return int(m.group(2)), m.group(1)
            if time.monotonic() > deadline:
                tail = self.text()[start:][-2000:]
                raise AssertionError(f"{command!r} did not finish within {timeout:.0f}s: {tail!r}")
            time.sleep(0.2)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
