"""The one door for external commands: results, failures, missing programs,
time limits and recording, for the asyncio and the blocking forms alike."""

from __future__ import annotations

import asyncio
import time

import pytest

from bootd.errors import CommandError, Timeout
from bootd.platform.run import RecordingRunner, Result, run, run_sync


async def both(argv: list[str], **kw: object) -> list[Result]:
    """The same call through run() and run_sync()."""
    return [await run(argv, **kw), run_sync(argv, **kw)]  # type: ignore[arg-type]


async def test_output_and_input_are_captured() -> None:
    for r in await both(["sh", "-c", "cat; echo err >&2"], input=b"hello\n"):
        assert r.ok and r.stdout == "hello\n" and r.stderr == "err\n" and r.argv == ("sh", "-c", "cat; echo err >&2")


async def test_failure_raises_with_the_command_s_own_message() -> None:
    with pytest.raises(CommandError, match="sh failed: it broke") as e:
        await run(["sh", "-c", "echo it broke >&2; exit 3"])
    assert e.value.returncode == 3 and e.value.argv[0] == "sh"
    with pytest.raises(CommandError, match="sh failed: it broke"):
        run_sync(["sh", "-c", "echo it broke >&2; exit 3"])
    for r in await both(["sh", "-c", "exit 4"], check=False):
        assert r.returncode == 4 and not r.ok


async def test_a_missing_program_is_a_clear_error() -> None:
    with pytest.raises(CommandError, match="no-such-program-bootd: command not found"):
        run_sync(["no-such-program-bootd"])
    with pytest.raises(CommandError, match="command not found") as e:
        await run(["no-such-program-bootd"])
    assert e.value.returncode == 127


async def test_a_command_that_hangs_is_killed_at_its_time_limit() -> None:
    start = time.monotonic()
    with pytest.raises(Timeout, match="sleep did not finish within 0.2 s"):
        await run(["sleep", "30"], timeout=0.2)
    with pytest.raises(Timeout, match="sleep did not finish within 0.2 s"):
        run_sync(["sleep", "30"], timeout=0.2)
    assert time.monotonic() - start < 5


async def test_cancelling_a_run_kills_the_process() -> None:
    task = asyncio.create_task(run(["sleep", "30"]))
    await asyncio.sleep(0.1)
    task.cancel()
    start = time.monotonic()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - start < 5


async def test_recording_runner_records_and_passes_through() -> None:
    rec = RecordingRunner(passthrough=frozenset({"echo"}))
    r = await rec.run(["kexec", "-e"])
    assert r.ok and rec.calls == [("kexec", "-e")]
    assert (await rec.run(["echo", "real"])).stdout == "real\n"
    assert rec.run_sync(["kexec", "-l", "x"]).ok and rec.calls[-1] == ("kexec", "-l", "x")
    assert rec.run_sync(["echo", "sync"]).stdout == "sync\n"
