"""Worker processes that parse untrusted media (the daemon's side).

Each device is parsed in a process of its own choosing from a small pool of
warm workers (:mod:`bootd.platform.parse_child`): a parse holds one worker
from request to answer, so a hostile device is charged to itself and never
makes another device wait (a new worker is started when none is idle).  A
parse that runs past its wall-clock time, or whose caller is cancelled (the
device was removed), has its worker killed; one that runs past its CPU time
or memory dies inside the worker.  Either way the caller gets
:class:`ParseFailed` with a sentence saying what happened, and the pool
starts a fresh worker for the next device.

Requests and answers are one JSON line each way (the model's JSON).
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bootd.platform.run import spawn

log = logging.getLogger(__name__)

MiB = 1024 * 1024
_CHILD = str(Path(__file__).with_name("parse_child.py"))


@dataclass(frozen=True)
class WorkerLimits:
    cpu: float = 2.0
    """CPU seconds one parse may use (``ITIMER_PROF`` in the worker)."""
    memory: int = 256 * MiB
    """Address space a worker may add to what it had when it started (``RLIMIT_AS``)."""
    files: int = 64
    """Open files (``RLIMIT_NOFILE``)."""
    retire_rss: int = 96 * MiB
    """A worker whose peak resident size passed this exits after its answer."""
    spare: int = 2
    """Idle workers kept started, so a new device does not wait for one
    (starting one takes 0.1-0.5 s; an idle one answers in about 2 ms)."""
    max_workers: int = 16
    """Workers at once; more parses than this wait for one to finish."""
    answer_bytes: int = 17 * MiB
    """The longest answer line read back."""
    idle_exit: float = 300.0
    """Seconds an idle worker waits for a request before it exits by itself."""


class ParseFailed(Exception):
    """A parse did not answer; the message says why (a sentence, no traceback)."""


@dataclass
class _Worker:
    proc: asyncio.subprocess.Process
    pid: int = 0


def _death(rc: int | None, limits: WorkerLimits) -> str:
    if rc is not None and rc < 0:
        sig = -rc
        if sig == signal.SIGPROF:
            return f"reading its boot configuration used more than {limits.cpu:g} s of CPU; its options are not shown"
        if sig == signal.SIGXFSZ:
            return "its parser tried to write a file and was stopped; its options are not shown"
        return f"its parser was killed ({signal.Signals(sig).name}); its options are not shown"
    return f"its parser failed (exit status {rc}); its options are not shown"


@dataclass
class ParsePool:
    limits: WorkerLimits = field(default_factory=WorkerLimits)
    python: str = sys.executable
    _idle: list[_Worker] = field(default_factory=list)
    _busy: set[int] = field(default_factory=set)
    _slots: asyncio.Semaphore | None = None
    _pending: list[asyncio.Task[_Worker]] = field(default_factory=list)
    """Spare workers being started (the first device to need one takes it over)."""
    _closed: bool = False
    started: int = 0
    """Workers started so far (the benchmark and tests read it)."""

    @property
    def pids(self) -> list[int]:
        """Processes of this pool that are alive now (idle and busy)."""
        return [w.pid for w in self._idle] + sorted(self._busy)

    async def _spawn(self) -> _Worker:
        lim = self.limits
        # run as a script (-P: its directory not on sys.path), so that the
        # worker does not import the platform package and asyncio
        argv = [self.python, "-P", _CHILD, str(lim.memory), str(lim.files), str(lim.retire_rss)]
        argv.append(str(lim.idle_exit))
        proc = await spawn(
            argv, stdin=subprocess.PIPE, output=subprocess.PIPE, inherit_stderr=True, limit=lim.answer_bytes
        )
        self.started += 1
        assert proc.stdout is not None
        try:
            hello = json.loads(await asyncio.wait_for(proc.stdout.readline(), 30) or b"{}")
        except BaseException:
            await _kill(proc)
            raise
        if "ready" not in hello:
            await _kill(proc)
            raise ParseFailed(_death(await proc.wait(), lim))
        if hello.get("problems"):
            log.warning("parse worker %d could not apply: %s", proc.pid, ", ".join(hello["problems"]))
        return _Worker(proc, proc.pid)

    async def start(self) -> None:
        """Start the spare workers and wait until they are ready."""
        self._top_up()
        await asyncio.gather(*self._pending, return_exceptions=True)

    def warm(self) -> None:
        """Start the spare workers in the background (needs a running loop)."""
        self._top_up()

    def _top_up(self) -> None:
        if self._closed:
            return
        for _ in range(self.limits.spare - len(self._idle) - len(self._pending)):
            task = asyncio.create_task(self._spawn())
            self._pending.append(task)
            task.add_done_callback(self._spare_ready)

    def _spare_ready(self, task: asyncio.Task[_Worker]) -> None:
        """A spare worker nobody took over is ready (or failed to start)."""
        if task in self._pending:
            self._pending.remove(task)
        self._adopt(task)

    def _adopt(self, task: asyncio.Task[_Worker]) -> None:
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            log.warning("could not start a parse worker: %s", error)
            return
        worker = task.result()
        if self._closed:
            asyncio.get_running_loop().create_task(_close(worker.proc))
        else:
            self._idle.append(worker)

    async def _take(self) -> _Worker:
        while self._idle:
            worker = self._idle.pop()
            if worker.proc.returncode is None:
                return worker
        if self._pending:  # a spare is on its way: sooner than a new one
            task = self._pending.pop(0)
            task.remove_done_callback(self._spare_ready)
            try:
                return await asyncio.shield(task)
            except asyncio.CancelledError:
                task.add_done_callback(self._adopt)  # it goes back to the pool when ready
                raise
            except Exception as e:
                log.warning("could not start a parse worker: %s", e)
        return await self._spawn()

    async def parse(self, request: dict[str, Any], *, timeout: float) -> dict[str, Any]:
        """Send one request to a worker; its answer, or :class:`ParseFailed`."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.limits.max_workers)
        async with self._slots:
            worker = await self._take()
            self._busy.add(worker.pid)
            try:
                reply = await self._ask(worker, request, timeout)
            finally:
                self._busy.discard(worker.pid)
                self._top_up()
        if reply.pop("retire", False) or self._closed:
            await _close(worker.proc)
        else:
            self._idle.append(worker)
        return reply

    async def _ask(self, worker: _Worker, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        proc = worker.proc
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(json.dumps({**request, "cpu": self.limits.cpu}).encode() + b"\n")
            await proc.stdin.drain()
            raw = await asyncio.wait_for(proc.stdout.readline(), timeout)
        except TimeoutError:
            await _kill(proc)
            raise ParseFailed(
                f"reading its boot configuration took longer than {timeout:g} s; its options are not shown"
            ) from None
        except (ConnectionError, ValueError, asyncio.LimitOverrunError):
            await _kill(proc)
            raise ParseFailed(_death(proc.returncode, self.limits)) from None
        except BaseException:  # cancelled: the device went away, or shutdown
            await asyncio.shield(_kill(proc))
            raise
        if not raw:
            rc = await proc.wait()
            raise ParseFailed(_death(rc, self.limits))
        try:
            reply: dict[str, Any] = json.loads(raw)
        except ValueError:
            await _kill(proc)
            raise ParseFailed("its parser answered nonsense; its options are not shown") from None
        return reply

    async def close(self) -> None:
        """Stop every idle worker (busy ones stop when their parse ends or is
        cancelled).  A later parse starts workers again."""
        self._closed = True
        try:
            pending, self._pending = self._pending, []
            for task in pending:
                task.remove_done_callback(self._spare_ready)
            for result in await asyncio.gather(*pending, return_exceptions=True):
                if isinstance(result, _Worker):
                    await _close(result.proc)
            while self._idle:
                await _close(self._idle.pop().proc)
        finally:
            self._closed = False


async def _close(proc: asyncio.subprocess.Process) -> None:
    if proc.stdin is not None and not proc.stdin.is_closing():
        proc.stdin.close()
    try:
        await asyncio.wait_for(proc.wait(), 2)
    except TimeoutError:
        await _kill(proc)


async def _kill(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        try:
            proc.kill()
        except ProcessLookupError:
            pass
    await proc.wait()
