"""The one door for external commands.

Every command bootd runs goes through :func:`run` (asyncio) or
:func:`run_sync` (the daemon-less CLI paths): argv is logged, output is
captured, a non-zero exit raises :class:`~bootd.errors.CommandError` unless
``check=False``, and a timeout kills the process.  A :class:`Runner` object
wraps the same door so a sandbox can record instead of execute.
"""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from bootd.errors import CommandError, Timeout
from bootd.model import N_, Record, record

_set = object.__setattr__

if TYPE_CHECKING:
    import asyncio

log = logging.getLogger(__name__)


@record
class Result(Record):
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def __init__(self, argv: tuple[str, ...], returncode: int, stdout: str, stderr: str) -> None:
        _set(self, "argv", argv)
        _set(self, "returncode", returncode)
        _set(self, "stdout", stdout)
        _set(self, "stderr", stderr)

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def _env(env: Mapping[str, str] | None) -> dict[str, str] | None:
    if env is None:
        return None
    merged = dict(os.environ)
    merged.update(env)
    return merged


def _prepare(argv: Sequence[str], what: str = "run") -> list[str]:
    args = [str(a) for a in argv]
    log.debug("%s: %s", what, shlex.join(args))
    return args


def _not_found(args: list[str]) -> CommandError:
    return CommandError(args, 127, "", f"{args[0]}: command not found")


def _timed_out(args: list[str], timeout: float | None) -> Timeout:
    return Timeout.of(N_("{program} did not finish within {seconds} s"), program=args[0], seconds=f"{timeout:g}")


def _result(args: list[str], returncode: int, out: bytes, err: bytes, *, check: bool) -> Result:
    result = Result(tuple(args), returncode, out.decode(errors="replace"), err.decode(errors="replace"))
    if check and not result.ok:
        raise CommandError(args, result.returncode, result.stdout, result.stderr)
    return result


async def run(
    argv: Sequence[str],
    *,
    check: bool = True,
    input: bytes | None = None,
    timeout: float | None = 60.0,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
) -> Result:
    """Run ``argv`` and wait for it; raises CommandError/Timeout as described."""
    import asyncio  # loaded by the caller already; importing this module must not load it

    args = _prepare(argv)
    try:
        proc = await asyncio.create_subprocess_exec(
            *args,
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_env(env),
            cwd=cwd,
        )
    except FileNotFoundError:
        raise _not_found(args) from None
    try:
        out, err = await asyncio.wait_for(proc.communicate(input), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise _timed_out(args, timeout) from None
    except asyncio.CancelledError:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        raise
    return _result(args, proc.returncode or 0, out, err, check=check)


async def spawn(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    output: int | None = None,
    stdin: int | None = None,
    merge_stderr: bool = False,
    inherit_stderr: bool = False,
    limit: int = 2**16,
) -> asyncio.subprocess.Process:
    """Start a long-running process (the private bus and daemon of ``bootd
    demo``, a DHCP client, a parse worker) and return it without waiting.
    ``output`` is a file descriptor for stdout and stderr, or
    ``subprocess.PIPE`` (``None``: inherit); with ``merge_stderr`` stderr
    joins stdout, with ``inherit_stderr`` it stays ours.  ``stdin`` likewise.
    ``limit`` is the longest line the pipes' readers accept.
    The caller owns the process: it must terminate and wait for it."""
    import asyncio

    args = _prepare(argv, "spawn")
    stderr = None if inherit_stderr else subprocess.STDOUT if merge_stderr else output
    try:
        return await asyncio.create_subprocess_exec(
            *args,
            stdin=stdin,
            stdout=output,
            stderr=stderr,
            env=_env(env),
            start_new_session=output is not None,
            limit=limit,
        )
    except FileNotFoundError:
        raise _not_found(args) from None


def run_sync(
    argv: Sequence[str],
    *,
    check: bool = True,
    input: bytes | None = None,
    timeout: float | None = 60.0,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
) -> Result:
    """The blocking twin of :func:`run`, for paths that have no event loop."""
    args = _prepare(argv)
    try:
        proc = subprocess.run(
            args,
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            env=_env(env),
            cwd=cwd,
            check=False,
        )
    except FileNotFoundError:
        raise _not_found(args) from None
    except subprocess.TimeoutExpired:
        raise _timed_out(args, timeout) from None
    return _result(args, proc.returncode, proc.stdout, proc.stderr, check=check)


class Runner(Protocol):
    """Runs commands: for real, or recorded by a sandbox."""

    async def run(
        self,
        argv: Sequence[str],
        *,
        check: bool = True,
        input: bytes | None = None,
        timeout: float | None = 60.0,
        env: Mapping[str, str] | None = None,
    ) -> Result: ...

    def run_sync(
        self,
        argv: Sequence[str],
        *,
        check: bool = True,
        input: bytes | None = None,
        timeout: float | None = 60.0,
        env: Mapping[str, str] | None = None,
    ) -> Result: ...


class RealRunner:
    """Runs commands on this machine."""

    async def run(
        self,
        argv: Sequence[str],
        *,
        check: bool = True,
        input: bytes | None = None,
        timeout: float | None = 60.0,
        env: Mapping[str, str] | None = None,
    ) -> Result:
        return await run(argv, check=check, input=input, timeout=timeout, env=env)

    def run_sync(
        self,
        argv: Sequence[str],
        *,
        check: bool = True,
        input: bytes | None = None,
        timeout: float | None = 60.0,
        env: Mapping[str, str] | None = None,
    ) -> Result:
        return run_sync(argv, check=check, input=input, timeout=timeout, env=env)


@dataclass
class RecordingRunner:
    """Records argv instead of running, for commands a sandbox must not run
    (kexec).  Commands whose program is in ``passthrough`` run for real."""

    passthrough: frozenset[str] = frozenset()
    calls: list[tuple[str, ...]] = field(default_factory=list)

    async def run(
        self,
        argv: Sequence[str],
        *,
        check: bool = True,
        input: bytes | None = None,
        timeout: float | None = 60.0,
        env: Mapping[str, str] | None = None,
    ) -> Result:
        if argv and os.path.basename(str(argv[0])) in self.passthrough:
            return await run(argv, check=check, input=input, timeout=timeout, env=env)
        return self._record(argv)

    def run_sync(
        self,
        argv: Sequence[str],
        *,
        check: bool = True,
        input: bytes | None = None,
        timeout: float | None = 60.0,
        env: Mapping[str, str] | None = None,
    ) -> Result:
        if argv and os.path.basename(str(argv[0])) in self.passthrough:
            return run_sync(argv, check=check, input=input, timeout=timeout, env=env)
        return self._record(argv)

    def _record(self, argv: Sequence[str]) -> Result:
        args = tuple(str(a) for a in argv)
        log.info("sandbox: recorded %s", shlex.join(args))
        self.calls.append(args)
        return Result(args, 0, "", "")
