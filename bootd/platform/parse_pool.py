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

Workers are forked from :mod:`multiprocessing`'s fork server, which has the
parsers loaded (a new worker costs milliseconds); requests and answers are
one JSON message each way (the model's JSON).
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bootd.model import N_, Record, Text, record

_set = object.__setattr__

if TYPE_CHECKING:  # multiprocessing is loaded when the first worker starts, after the daemon took its name
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

log = logging.getLogger(__name__)

MiB = 1024 * 1024


@record
class WorkerLimits(Record):
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

    def __init__(
        self,
        cpu: float = 2.0,
        memory: int = 256 * MiB,
        files: int = 64,
        retire_rss: int = 96 * MiB,
        spare: int = 2,
        max_workers: int = 16,
        answer_bytes: int = 17 * MiB,
        idle_exit: float = 300.0,
    ) -> None:
        _set(self, "cpu", cpu)
        _set(self, "memory", memory)
        _set(self, "files", files)
        _set(self, "retire_rss", retire_rss)
        _set(self, "spare", spare)
        _set(self, "max_workers", max_workers)
        _set(self, "answer_bytes", answer_bytes)
        _set(self, "idle_exit", idle_exit)


class ParseFailed(Exception):
    """A parse did not answer; the message says why (a sentence, no traceback):
    ``text`` keeps its template for a client to translate."""

    def __init__(self, text: Text) -> None:
        super().__init__(text.text)
        self.text = text


@dataclass
class _Worker:
    proc: BaseProcess
    conn: Connection
    pid: int = 0

    @property
    def alive(self) -> bool:
        return self.proc.exitcode is None


_context: Any = None


def _mp() -> Any:
    """The fork-server context (one per daemon; its server preloads the parsers)."""
    global _context
    if _context is None:
        import multiprocessing

        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload(["bootd.platform.parse_child"])
    return _context


async def _readable(fd: int) -> None:
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def ready() -> None:
        if not done.done():
            done.set_result(None)

    loop.add_reader(fd, ready)
    try:
        await done
    finally:
        loop.remove_reader(fd)


async def _receive(worker: _Worker) -> bytes | None:
    """The worker's next message, or None when it died first."""
    conn_ready = asyncio.ensure_future(_readable(worker.conn.fileno()))
    gone = asyncio.ensure_future(_readable(worker.proc.sentinel))
    try:
        await asyncio.wait({conn_ready, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        conn_ready.cancel()
        gone.cancel()
    if not worker.conn.poll(0):
        return None
    try:
        data: bytes = worker.conn.recv_bytes()
        return data
    except (EOFError, OSError):
        return None


def _death(rc: int | None, limits: WorkerLimits) -> Text:
    if rc is not None and rc < 0:
        sig = -rc
        if sig == signal.SIGPROF:
            return Text.of(
                N_("reading its boot configuration used more than {seconds} s of CPU; its options are not shown"),
                seconds=f"{limits.cpu:g}",
            )
        if sig == signal.SIGXFSZ:
            return Text.of(N_("its parser tried to write a file and was stopped; its options are not shown"))
        return Text.of(
            N_("its parser was killed ({signal}); its options are not shown"), signal=signal.Signals(sig).name
        )
    return Text.of(N_("its parser failed (exit status {status}); its options are not shown"), status=rc)


@dataclass
class ParsePool:
    limits: WorkerLimits = field(default_factory=WorkerLimits)
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
        mp = _mp()
        ours, theirs = mp.Pipe(duplex=True)
        from bootd.platform import parse_child

        proc = mp.Process(
            target=parse_child.serve,
            args=(theirs, lim.memory, lim.files, lim.retire_rss, lim.idle_exit),
            name="bootd-parse",
            daemon=True,
        )
        log.debug("parse worker: fork")
        await asyncio.to_thread(proc.start)  # the first one starts the fork server
        theirs.close()
        self.started += 1
        worker = _Worker(proc, ours, proc.pid or 0)
        try:
            hello_raw = await asyncio.wait_for(_receive(worker), 30)
        except BaseException:
            await _kill(worker)
            raise
        hello = json.loads(hello_raw) if hello_raw else {}
        if "ready" not in hello:
            rc = proc.exitcode
            await _kill(worker)
            raise ParseFailed(_death(rc, lim))
        if hello.get("problems"):
            log.warning("parse worker %d could not apply: %s", worker.pid, ", ".join(hello["problems"]))
        return worker

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
            asyncio.get_running_loop().create_task(_close(worker))
        else:
            self._idle.append(worker)

    async def _take(self) -> _Worker:
        while self._idle:
            worker = self._idle.pop()
            if worker.alive:
                return worker
            await _kill(worker)
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
            self._top_up()  # a replacement starts now, for the next device
            try:
                reply = await self._ask(worker, request, timeout)
            finally:
                self._busy.discard(worker.pid)
                self._top_up()
        if reply.pop("retire", False) or self._closed:
            await _close(worker)
        else:
            self._idle.append(worker)
        return reply

    async def _ask(self, worker: _Worker, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        try:
            worker.conn.send_bytes(json.dumps({**request, "cpu": self.limits.cpu}).encode())
            raw = await asyncio.wait_for(_receive(worker), timeout)
        except TimeoutError:
            await _kill(worker)
            raise ParseFailed(
                Text.of(
                    N_("reading its boot configuration took longer than {seconds} s; its options are not shown"),
                    seconds=f"{timeout:g}",
                )
            ) from None
        except OSError:
            rc = worker.proc.exitcode
            await _kill(worker)
            raise ParseFailed(_death(rc, self.limits)) from None
        except BaseException:  # cancelled: the device went away, or shutdown
            await asyncio.shield(_kill(worker))
            raise
        if raw is None:
            await _readable(worker.proc.sentinel)
            rc = worker.proc.exitcode
            await _kill(worker)
            raise ParseFailed(_death(rc, self.limits))
        try:
            reply: dict[str, Any] = json.loads(raw)
        except ValueError:
            await _kill(worker)
            raise ParseFailed(Text.of(N_("its parser answered nonsense; its options are not shown"))) from None
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
                    await _close(result)
            while self._idle:
                await _close(self._idle.pop())
        finally:
            self._closed = False


async def _close(worker: _Worker) -> None:
    """Ask a worker to end (its connection closes), kill it if it does not."""
    worker.conn.close()
    try:
        await asyncio.wait_for(_readable(worker.proc.sentinel), 2)
    except TimeoutError:
        pass
    await _kill(worker)


async def _kill(worker: _Worker) -> None:
    if worker.proc.exitcode is None:
        try:
            worker.proc.kill()
        except ProcessLookupError:
            pass
        await _readable(worker.proc.sentinel)
    await asyncio.to_thread(worker.proc.join, 1)
    if not worker.conn.closed:
        worker.conn.close()
