"""What parsing in worker processes costs per device.

The same small device (one GRUB entry, one BLS entry) is parsed in-process
(``parse_device``, the baseline, measured in the same run) and through the
daemon's worker pool (``parse_view``: request to a warm worker, parse,
answer as JSON, decode); the difference is the pool's per-device overhead.
Also: a new worker forked from the fork server, and the fork server's start.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path

from bootd.discovery.scanner import parse_view
from bootd.model import Device
from bootd.parsers import ParseContext, parse_device
from bootd.parsers.view import DirectoryView
from bootd.platform.parse_pool import ParsePool

ROUNDS = 300


def emit(metric: str, value: float, unit: str, **extra: object) -> None:
    print(json.dumps({"bench": "parse_pool", "metric": metric, "value": round(value, 3), "unit": unit, **extra}))


def _device(root: Path) -> DirectoryView:
    (root / "boot/grub").mkdir(parents=True)
    (root / "boot/grub/grub.cfg").write_text("set default=0\nmenuentry Linux --id l { linux /vmlinuz ro; initrd /i }\n")
    (root / "loader/entries").mkdir(parents=True)
    (root / "loader/entries/a.conf").write_text("title A\nlinux /a\noptions quiet\n")
    return DirectoryView(root, Device(id="bench"))


async def _measure(view: DirectoryView) -> None:
    ctx = ParseContext()
    start = time.perf_counter()
    for _ in range(ROUNDS):
        parse_device(view, ctx)
    in_process = (time.perf_counter() - start) / ROUNDS * 1000
    pool = ParsePool()
    try:
        start = time.perf_counter()
        await pool.start()
        first_start = time.perf_counter() - start
        await parse_view(view, ctx, pool=pool)
        start = time.perf_counter()
        for _ in range(ROUNDS):
            await parse_view(view, ctx, pool=pool)
        pooled = (time.perf_counter() - start) / ROUNDS * 1000
        start = time.perf_counter()
        worker = await pool._spawn()
        fork = (time.perf_counter() - start) * 1000
        pool._idle.append(worker)
    finally:
        await pool.close()
    emit("parse_in_process", in_process, "ms", note="baseline, same run")
    emit("parse_in_worker", pooled, "ms", ratio_to_baseline=round(pooled / in_process, 2))
    emit("worker_overhead_per_device", pooled - in_process, "ms", aim="< 5")
    emit("new_worker_fork", fork, "ms")
    emit("pool_start_with_fork_server", first_start * 1000, "ms")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(_measure(_device(Path(tmp) / "dev")))


if __name__ == "__main__":
    main()
