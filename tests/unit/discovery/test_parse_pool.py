"""The parse workers: real processes with real limits, killed when they
overrun or when their device goes away; answers equal an in-process parse."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from bootd.discovery.scanner import parse_view
from bootd.model import Device
from bootd.parsers import ParseContext, parse_device
from bootd.parsers.view import DirectoryView
from bootd.platform.parse_pool import ParsePool, WorkerLimits

LOOP = "while true; do test -f " + "/a" * 1000 + "; done\n"


def _device(root: Path, files: dict[str, str], name: str = "dev") -> DirectoryView:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return DirectoryView(root, Device(id=name, uuid="u-" + name))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")


async def test_answer_equals_the_in_process_parse(tmp_path: Path) -> None:
    other = _device(tmp_path / "o", {"vmlinuz": "k"}, "other")
    view = _device(
        tmp_path / "d",
        {
            "boot/grub/grub.cfg": "search --fs-uuid --set=root u-other\n"
            "menuentry 'A' --id a { linux /vmlinuz quiet; initrd /i1 /i2 }\nset timeout=3\n",
            "loader/entries/x.conf": "title X\nlinux /x\noptions ro\n",
            "syslinux/syslinux.cfg": "LABEL s\n  KERNEL /s\n  IPAPPEND 2\n",
        },
    )
    ctx = ParseContext(others={"other": other}, arch="aarch64", firmware="efi")
    pool = ParsePool()
    try:
        got = await parse_view(view, ctx, pool=pool, timeout=30)
    finally:
        await pool.close()
    assert got == parse_device(view, ctx)
    assert got.options and got.timeout == 3.0


async def test_a_parse_past_its_cpu_time_is_killed_and_the_next_one_works(tmp_path: Path) -> None:
    pool = ParsePool(WorkerLimits(cpu=0.2))
    try:
        bad = await parse_view(_device(tmp_path / "bad", {"boot/grub/grub.cfg": LOOP}), ParseContext(), pool=pool)
        good_view = _device(tmp_path / "good", {"boot/grub/grub.cfg": "menuentry G { linux /g }\n"})
        good = await parse_view(good_view, ParseContext(), pool=pool)
    finally:
        await pool.close()
    assert bad.options == ()
    assert [d.message for d in bad.diagnostics] == [
        "reading its boot configuration used more than 0.2 s of CPU; its options are not shown"
    ]
    assert [o.name for o in good.options] == ["G"]


async def test_a_parse_past_its_wall_clock_time_is_killed(tmp_path: Path) -> None:
    pool = ParsePool()
    try:
        await pool.start()
        before = set(pool.pids)
        view = _device(tmp_path / "bad", {"boot/grub/grub.cfg": LOOP})
        bad = await parse_view(view, ParseContext(), pool=pool, timeout=0.1)
        assert "took longer than 0.1 s" in bad.diagnostics[0].message
        assert not any(_alive(pid) for pid in before - set(pool.pids))
    finally:
        await pool.close()


async def test_a_removed_device_kills_its_parse(tmp_path: Path) -> None:
    pool = ParsePool()
    try:
        await pool.start()
        view = _device(tmp_path / "bad", {"boot/grub/grub.cfg": LOOP})
        task = asyncio.create_task(parse_view(view, ParseContext(), pool=pool, timeout=30))
        await asyncio.sleep(0.2)
        busy = [pid for pid in pool.pids if pid in pool._busy]
        assert len(busy) == 1
        task.cancel()  # what discovery does when the device goes away
        try:
            await task
        except asyncio.CancelledError:
            pass
        assert not _alive(busy[0])
    finally:
        await pool.close()


async def test_a_device_is_parsed_beside_busy_workers(tmp_path: Path) -> None:
    # four devices that take the whole wall-clock time do not delay a fifth
    pool = ParsePool()
    try:
        await pool.start()
        slow = [
            asyncio.create_task(
                parse_view(_device(tmp_path / f"s{i}", {"boot/grub/grub.cfg": LOOP}), ParseContext(), pool=pool)
            )
            for i in range(4)
        ]
        good_view = _device(tmp_path / "good", {"boot/grub/grub.cfg": "menuentry G { linux /g }\n"})
        good = await asyncio.wait_for(parse_view(good_view, ParseContext(), pool=pool), 5)
        assert [o.name for o in good.options] == ["G"]
        assert not all(t.done() for t in slow)
        for t in slow:
            t.cancel()
        await asyncio.gather(*slow, return_exceptions=True)
    finally:
        await pool.close()


async def test_memory_is_capped_in_the_worker(tmp_path: Path) -> None:
    # a worker with 16 MiB of room: a 1 MiB config parse needs more, and fails inside it
    pool = ParsePool(WorkerLimits(memory=16 * 1024 * 1024))
    try:
        text = "menuentry A { linux /a }\n" + "x y z w\n" * 120_000
        result = await parse_view(_device(tmp_path / "m", {"boot/grub/grub.cfg": text}), ParseContext(), pool=pool)
    finally:
        await pool.close()
    assert result.options == ()
    assert result.diagnostics
    assert all("Traceback" not in d.message for d in result.diagnostics)


async def test_closing_the_pool_stops_its_workers(tmp_path: Path) -> None:
    pool = ParsePool()
    await pool.start()
    pids = pool.pids
    assert len(pids) == WorkerLimits().spare
    await pool.close()
    assert not any(_alive(pid) for pid in pids)
