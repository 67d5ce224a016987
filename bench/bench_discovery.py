"""Discovery speed on real loop devices, as ``bootd watch --json`` reports it.

* ``attach_to_option``: from ``losetup`` returning to the option event on
  ``bootd watch`` (p50/p95 over 20 attaches), next to the time a bare
  ``mount -o ro,noload`` + ``umount`` of the same device takes;
* ``fifty_images``: 50 images attached at once, time until all 50 options
  are known.

Needs root and a running udevd; loop devices are created from number 64 up
and removed afterwards.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bootd.platform.linux_loop import loop_add, loop_remove

ROOT = Path(__file__).resolve().parents[1]
BENCH = "discovery"


def emit(metric: str, value: float, unit: str, **extra: Any) -> None:
    print(json.dumps({"bench": BENCH, "metric": metric, "value": round(value, 4), "unit": unit, **extra}), flush=True)


def sh(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True, timeout=60)


def attach(node: str, image: Path) -> None:
    """``losetup -r``, retrying while the previous detach is still finishing."""
    for _ in range(100):
        if subprocess.run(["losetup", "-r", node, str(image)], capture_output=True, check=False).returncode == 0:
            return
        time.sleep(0.02)
    sh("losetup", "-r", node, str(image))


def make_image(path: Path, title: str) -> Path:
    src = path.with_suffix(".src")
    (src / "loader" / "entries").mkdir(parents=True)
    (src / "loader" / "entries" / "a.conf").write_text(f"title {title}\nlinux /vmlinuz\noptions quiet\n")
    (src / "vmlinuz").write_bytes(b"k")
    with path.open("wb") as f:
        f.truncate(8 * 1024 * 1024)
    sh("mkfs.ext4", "-q", "-F", "-d", str(src), str(path))
    shutil.rmtree(src)
    return path


class Watch:
    def __init__(self, mount_root: Path, names: list[str]) -> None:
        argv = [sys.executable, "-m", "bootd", "watch", "--json", "--loop-devices", "--mount-root", str(mount_root)]
        for n in names:
            argv += ["--device", n]
        self.proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.buffer = b""
        self.until("ready", 30)

    def until(self, kind: str, timeout: float) -> tuple[float, dict[str, Any]]:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        end = time.monotonic() + timeout
        while True:
            while b"\n" not in self.buffer:
                left = end - time.monotonic()
                if left <= 0 or not select.select([fd], [], [], left)[0]:
                    raise TimeoutError(f"no {kind} event within {timeout} s")
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise RuntimeError("bootd watch ended")
                self.buffer += chunk
            line, _, self.buffer = self.buffer.partition(b"\n")
            event: dict[str, Any] = json.loads(line)
            if event["event"] == kind:
                return time.monotonic(), event

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@contextmanager
def loops(count: int) -> Iterator[list[int]]:
    numbers: list[int] = []
    try:
        for _ in range(count):
            numbers.append(loop_add())
        yield numbers
    finally:
        for n in numbers:
            subprocess.run(["losetup", "-d", f"/dev/loop{n}"], capture_output=True, check=False)
        subprocess.run(["udevadm", "settle"], capture_output=True, check=False)
        for n in numbers:
            try:
                loop_remove(n)
            except OSError:
                pass


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def bench_latency(work: Path) -> None:
    image = make_image(work / "one.img", "bench")
    mount_root = work / "mnt1"
    mount_root.mkdir()
    latencies: list[float] = []
    bare: list[float] = []
    with loops(1) as (n,):
        node = f"/dev/loop{n}"
        probe = work / "probe"
        probe.mkdir()
        attach(node, image)
        for _ in range(10):
            t = time.monotonic()
            sh("mount", "-o", "ro,noload", node, str(probe))
            sh("umount", str(probe))
            bare.append(time.monotonic() - t)
        sh("losetup", "-d", node)
        subprocess.run(["udevadm", "settle"], capture_output=True, check=False)
        watch = Watch(mount_root, [f"loop{n}"])
        try:
            for _ in range(20):
                attach(node, image)
                t0 = time.monotonic()
                t1, _event = watch.until("option-added", 30)
                latencies.append(t1 - t0)
                sh("losetup", "-d", node)
                watch.until("device-removed", 30)
        finally:
            watch.close()
    emit("attach_to_option_p50", pct(latencies, 0.5) * 1000, "ms", samples=len(latencies))
    emit("attach_to_option_p95", pct(latencies, 0.95) * 1000, "ms", samples=len(latencies))
    emit("bare_mount_umount_median", statistics.median(bare) * 1000, "ms", samples=len(bare))


def bench_fifty(work: Path) -> None:
    images = [make_image(work / f"img{i}.img", f"bench {i}") for i in range(50)]
    mount_root = work / "mnt50"
    mount_root.mkdir()
    with loops(50) as numbers:
        watch = Watch(mount_root, [f"loop{n}" for n in numbers])
        try:
            t0 = time.monotonic()
            for n, image in zip(numbers, images, strict=True):
                sh("losetup", "-r", f"/dev/loop{n}", str(image))
            attached = time.monotonic() - t0
            seen: set[str] = set()
            t_last = t0
            while len(seen) < 50:
                t_last, event = watch.until("option-added", 60)
                seen.add(event["option"]["device"])
            emit("fifty_images_all_options", t_last - t0, "s", losetup_s=round(attached, 3))
        finally:
            watch.close()


def main() -> None:
    if os.geteuid() != 0:
        print(json.dumps({"bench": BENCH, "error": "needs root (loop devices and mounts)"}), flush=True)
        return
    if subprocess.run(["udevadm", "control", "--ping"], capture_output=True, check=False).returncode != 0:
        print(json.dumps({"bench": BENCH, "error": "udevd is not running (make services)"}), flush=True)
        return
    with tempfile.TemporaryDirectory(prefix="bench-discovery-") as tmp:
        work = Path(tmp)
        bench_latency(work)
        bench_fifty(work)


if __name__ == "__main__":
    main()
