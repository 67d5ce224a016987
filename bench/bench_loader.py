"""Loader benchmarks.

* ``dtb_patch``: parse + patch (console, framebuffer, bootargs) + validate +
  serialise, per device tree, over every ``*.dtb`` cached under tests/.cache
  (the Debian arm64 kernel's DTBs once the corpus test has fetched them) plus
  the project's own trees.  Aim: median under 1 ms.
* ``boot_dry_run``: ``bootd boot --scan DIR --dry-run`` as a new process, from
  start to the printed kexec argv, for a local BLS entry (``cpu_ms``: its CPU
  time, which a busy machine does not inflate).  Aim: under 300 ms.
  ``boot_sandbox_arm64``: the same on a sandbox arm64 board, DTB patch included.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bootd.errors import DtbError
from bootd.loader import dtb
from bootd.model import ChosenConsole, Framebuffer

BOOT_SEEDS = dtb.Seeds(b"K" * 8, b"R" * 64)

ROOT = Path(__file__).resolve().parents[1]
ARM64_MACHINE = """[machine]
arch = "aarch64"
device_tree = "machine.dts"

[[console]]
name = "ttyAMA0"
kind = "serial"
dt_path = "/pl011@9000000"

[[framebuffer]]
name = "fb0"
width = 1024
height = 768
depth = 32
stride = 4096
address = 0x7fc00000
size = 3145728
"""
FB = Framebuffer("fb0", 1024, 768, 32, 4096, 0x7FC00000, 1024 * 768 * 4)


def emit(metric: str, value: float, unit: str, **extra: object) -> None:
    print(json.dumps({"bench": "loader", "metric": metric, "value": value, "unit": unit, **extra}), flush=True)


def trees() -> list[bytes]:
    blobs = [p.read_bytes() for p in sorted((ROOT / "tests" / ".cache").rglob("*.dtb"))]
    for dts in (ROOT / "config/demo/machine.dts", ROOT / "tests/data/loader/arm64-virt.dts"):
        out = subprocess.run(["dtc", "-q", "-I", "dts", "-O", "dtb", str(dts)], capture_output=True, check=True)
        blobs.append(out.stdout)
    return blobs


def bench_patch() -> None:
    times: list[float] = []
    refused = 0
    blobs = trees()
    for blob in blobs:
        spec = dtb.PatchSpec(
            seeds=BOOT_SEEDS,
            console=ChosenConsole.parse("serial0:115200" if b"serial0" in blob else "/"),
            framebuffer=FB,
            bootargs="quiet",
        )
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            try:
                dtb.patch(blob, spec)
            except DtbError:
                refused += 1
                break
            best = min(best, time.perf_counter() - start)
        if best != float("inf"):
            times.append(best * 1000)
    emit("dtb_patch_median", round(statistics.median(times), 4), "ms", trees=len(blobs), refused=refused)
    emit("dtb_patch_max", round(max(times), 4), "ms", trees=len(blobs))


def bench_dry_run() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        disk = Path(tmp) / "disk"
        (disk / "loader/entries").mkdir(parents=True)
        (disk / "boot").mkdir()
        (disk / "boot/vmlinuz").write_bytes(b"K" * 4096)
        (disk / "boot/initrd.img").write_bytes(b"I" * 4096)
        (disk / "loader/entries/bench.conf").write_text(
            "title Bench\nlinux /boot/vmlinuz\ninitrd /boot/initrd.img\noptions root=/dev/vda2\n"
        )
        machine = Path(tmp) / "arm64"
        machine.mkdir()
        (machine / "machine.dts").write_text((ROOT / "tests/data/loader/arm64-virt.dts").read_text())
        (machine / "machine.toml").write_text(ARM64_MACHINE)
        runs = {
            "boot_dry_run": ["--console", "ttyS0", "--dry-run"],
            "boot_sandbox_arm64": ["--console", "ttyAMA0", "--machine", str(machine), "--state-dir", f"{tmp}/state"],
        }
        for metric, extra in runs.items():
            argv = [sys.executable, "-m", "bootd", "boot", "--scan", str(disk), "--name", "Bench"]
            argv += ["--hooks-dir", f"{tmp}/none", *extra]
            walls: list[float] = []
            cpus: list[float] = []
            for _ in range(5):
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                start = time.perf_counter()
                r = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)
                walls.append((time.perf_counter() - start) * 1000)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpus.append((after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000)
                if r.returncode != 0 or "kexec load:" not in r.stdout:
                    emit(metric, -1, "ms", error=r.stderr.strip()[-200:])
                    break
            else:
                cpu = round(statistics.median(cpus), 1)
                emit(metric, round(statistics.median(walls), 1), "ms", runs=len(walls), cpu_ms=cpu)


def main() -> None:
    bench_patch()
    bench_dry_run()


if __name__ == "__main__":
    main()
