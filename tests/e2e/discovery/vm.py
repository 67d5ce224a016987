"""A qemu guest driven while it runs: serial lines read as they come, QMP
commands (media changes, ejects) and a control line to the guest script."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any


class GuestError(AssertionError):
    pass


class Vm:
    """A running qemu; ``lines`` grows as the guest writes to its first serial port."""

    def __init__(self, argv: Sequence[str], *, log: Path, qmp: Path, control: Path) -> None:
        self.argv = list(argv)
        self.log = log
        self.qmp_path = qmp
        self.control_path = control
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self._eof = False
        self._qmp: socket.socket | None = None
        self._qmp_buf = b""
        self.qmp_events: list[tuple[float, dict[str, Any]]] = []
        """QMP events (tray moves…) with the host's monotonic time they were read at."""
        self._control: socket.socket | None = None
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, name="serial", daemon=True)
        self._reader.start()

    # -- serial ------------------------------------------------------------------------
    def _read(self) -> None:
        assert self.proc.stdout is not None
        buf = b""
        with self.log.open("wb") as out:
            while chunk := os.read(self.proc.stdout.fileno(), 65536):
                out.write(chunk)
                out.flush()
                buf += chunk
                *complete, buf = buf.split(b"\n")
                with self._cond:
                    self.lines.extend(raw.decode(errors="replace").replace("\r", "") for raw in complete)
                    self._cond.notify_all()
        with self._cond:
            if buf:
                self.lines.append(buf.decode(errors="replace").replace("\r", ""))
            self._eof = True
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[str], bool], *, timeout: float, start: int = 0, what: str = "") -> int:
        """Index of the first line from ``start`` on that satisfies ``predicate``."""
        deadline = time.monotonic() + timeout
        i = start
        with self._cond:
            while True:
                while i < len(self.lines):
                    if predicate(self.lines[i]):
                        return i
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0 or self._eof:
                    state = "qemu exited" if self._eof else f"nothing within {timeout:.0f}s"
                    raise GuestError(f"waiting for {what or predicate}: {state}; serial log {self.log}:\n{self.tail()}")
                self._cond.wait(min(left, 1.0))

    def wait_line(self, pattern: str, *, timeout: float, start: int = 0) -> int:
        rx = re.compile(pattern)
        return self.wait_for(lambda line: rx.search(line) is not None, timeout=timeout, start=start, what=pattern)

    def tail(self, n: int = 80) -> str:
        return "\n".join(self.lines[-n:])

    # -- QMP -----------------------------------------------------------------------------
    def _qmp_recv(self) -> dict[str, Any]:
        assert self._qmp is not None
        while b"\n" not in self._qmp_buf:
            chunk = self._qmp.recv(65536)
            if not chunk:
                raise GuestError("QMP connection closed")
            self._qmp_buf += chunk
        line, self._qmp_buf = self._qmp_buf.split(b"\n", 1)
        reply: dict[str, Any] = json.loads(line)
        return reply

    def qmp(self, command: str, **arguments: Any) -> dict[str, Any]:
        """Run a QMP command; its ``return`` or ``error`` object (events are skipped)."""
        if self._qmp is None:
            self._qmp = _connect(self.qmp_path)
            self._qmp_recv()  # greeting
            self._qmp.sendall(b'{"execute": "qmp_capabilities"}\n')
            self._qmp_answer()
        msg: dict[str, Any] = {"execute": command}
        if arguments:
            msg["arguments"] = arguments
        self._qmp.sendall(json.dumps(msg).encode() + b"\n")
        return self._qmp_answer()

    def _qmp_answer(self) -> dict[str, Any]:
        while True:
            reply = self._qmp_recv()
            if "return" in reply:
                return {"return": reply["return"]}
            if "error" in reply:
                return {"error": reply["error"]}
            if "event" in reply:
                self.qmp_events.append((time.monotonic(), reply))

    # -- control line to the guest script ------------------------------------------------
    def tell(self, line: str) -> None:
        if self._control is None:
            self._control = _connect(self.control_path)
        self._control.sendall(line.encode() + b"\n")

    # -- end -------------------------------------------------------------------------------
    def wait_exit(self, timeout: float) -> int | None:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def close(self) -> None:
        for s in (self._qmp, self._control):
            if s is not None:
                s.close()
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._reader.join(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def __enter__(self) -> Vm:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()


def _connect(path: Path, timeout: float = 30) -> socket.socket:
    deadline = time.monotonic() + timeout
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(str(path))
            return s
        except OSError:
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
