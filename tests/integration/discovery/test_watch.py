"""``bootd watch --json`` as a process on real loop devices: options appear
after attach and disappear after detach; SIGTERM and SIGINT leave no mount."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.integration.discovery import helpers as h
from tests.integration.discovery.conftest import title_of

pytestmark = pytest.mark.root
ROOT = Path(__file__).resolve().parents[3]


class Watch:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.events: list[dict[str, Any]] = []

    async def next_event(self, timeout: float = 20.0) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        assert line, f"bootd watch ended early: {await self._stderr()}"
        event: dict[str, Any] = json.loads(line)
        self.events.append(event)
        return event

    async def until(self, kind: str, timeout: float = 20.0) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while True:
            event = await self.next_event(max(0.1, end - loop.time()))
            if event["event"] == kind:
                return event

    async def _stderr(self) -> str:
        assert self.proc.stderr is not None
        return (await self.proc.stderr.read()).decode(errors="replace")


@asynccontextmanager
async def watch(mount_root: Path, *globs: str) -> AsyncIterator[Watch]:
    argv = [sys.executable, "-m", "bootd", "watch", "--json", "--loop-devices", "--mount-root", str(mount_root)]
    for g in globs:
        argv += ["--device", g]
    proc = await asyncio.create_subprocess_exec(
        *argv, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    w = Watch(proc)
    try:
        await w.until("ready")
        yield w
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_watch_json_follows_attach_and_detach(
    images: dict[str, Path], loops: h.LoopFactory, mount_root: Path
) -> None:
    slot = loops.new()
    before = h.sha256(images["btrfs"])
    async with watch(mount_root, slot.name, f"{slot.name}p*") as w:
        loops.attach(images["btrfs"], slot)
        dev = (await w.until("device-added"))["device"]
        assert dev["id"] == slot.name and dev["fstype"] == "btrfs" and dev["label"] == "BTR"
        opt = (await w.until("option-added"))["option"]
        assert opt["name"] == title_of("btrfs") and opt["device"] == slot.name
        assert opt["kernel"]["device"] == slot.name
        loops.detach(slot)
        removed = (await w.until("option-removed"))["option"]
        assert removed["id"] == opt["id"]
        assert (await w.until("device-removed"))["device"]["id"] == slot.name
        w.proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(w.proc.wait(), 30) == 0
    assert h.mounts_under(mount_root) == []
    assert list(mount_root.iterdir()) == []
    assert h.sha256(images["btrfs"]) == before


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_signal_leaves_no_mount(
    sig: signal.Signals, images: dict[str, Path], loops: h.LoopFactory, mount_root: Path
) -> None:
    a = loops.new()
    b = loops.new()
    async with watch(mount_root, a.name, b.name, f"{b.name}p*") as w:
        loops.attach(images["dirty-ext4"], a)
        loops.attach(images["partitioned"], b)
        seen: set[str] = set()
        while len(seen) < 2:
            seen.add((await w.until("option-added"))["option"]["name"])
        assert seen == {title_of("dirty-ext4"), title_of("partitioned")}
        assert len(h.mounts_under(mount_root)) >= 2
        w.proc.send_signal(sig)
        assert await asyncio.wait_for(w.proc.wait(), 30) == 0
    assert h.mounts_under(mount_root) == []
    assert list(mount_root.iterdir()) == []


async def test_watch_on_a_missing_sandbox_says_why(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bootd",
        "watch",
        "--sandbox",
        str(tmp_path),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 1
    assert b"machine.toml" in err and b"Traceback" not in err
