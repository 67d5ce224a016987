"""GRUB wildcard expansion: ms per scan of an isoscan stick whose config
loops over ``/isos/*.iso`` (40 images' names, among other files), beside the
same config with the 40 names written out: the ratio is what expanding
costs.  Likewise a ``($root)/boot/vmlinuz-*`` loop over 12 kernels.

Aim: the wildcard config within 2x of the written-out one (both are a few
ms; the listing is one directory read through the device view).  Medians of
wall-clock time; CPU time beside it.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

from bootd.model import Device
from bootd.parsers import ParseContext
from bootd.parsers.grub import parse, parser
from bootd.parsers.view import DirectoryView

ROUNDS = 30
AIM_RATIO = 2.0

ISOS = [f"/isos/distro-{i:02}.iso" for i in range(40)]
ISO_ENTRY = """  menuentry "Boot $isofile" "$isofile" {
    linux /casper/vmlinuz iso-scan/filename="$2" quiet
    initrd /casper/initrd
  }
"""
KERNELS = [f"/boot/vmlinuz-6.{i}.0-1-amd64" for i in range(12)]
KERNEL_ENTRY = """  menuentry "Linux $f" "$f" {
    linux "$2" root=/dev/sda2 ro quiet
  }
"""


def _stick(root: Path, words: str, var: str, body: str, names: list[str]) -> DirectoryView:
    files = {n: "" for n in names}
    files.update({"/isos/README.txt": "", "/casper/vmlinuz": "", "/casper/initrd": ""})
    files["/boot/grub/grub.cfg"] = f"insmod regexp\nfor {var} in {words}; do\n{body}done\n"
    for rel, text in files.items():
        p = root / rel.lstrip("/")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return DirectoryView(root, Device(id="usb"))


def _time(view: DirectoryView) -> tuple[float, float, int]:
    ctx = ParseContext()
    parse(view, ctx)  # warm up
    wall: list[float] = []
    cpu: list[float] = []
    entries = 0
    for _ in range(ROUNDS):
        parser._cache.clear()
        start, start_cpu = time.perf_counter(), time.process_time()
        result = parse(view, ctx)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        entries = len(result.options)
    return statistics.median(wall) * 1000, statistics.median(cpu) * 1000, entries


def _pair(name: str, pattern: str, var: str, body: str, names: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        wild_ms, wild_cpu, wild_n = _time(_stick(Path(tmp) / "w", pattern, var, body, names))
        lit_ms, lit_cpu, lit_n = _time(_stick(Path(tmp) / "l", " ".join(names), var, body, names))
    assert wild_n == lit_n == len(names), (wild_n, lit_n)
    ratio = wild_ms / lit_ms
    for metric, value, extra in (
        ("scan", wild_ms, {"baseline_written_out_ms": round(lit_ms, 3), "ratio_to_baseline": round(ratio, 2),
                           "aim": f"ratio <= {AIM_RATIO:g}", "aim_met": ratio <= AIM_RATIO}),
        ("scan_cpu", wild_cpu, {"baseline_written_out_cpu_ms": round(lit_cpu, 3)}),
    ):  # fmt: skip
        print(json.dumps({"bench": "grub_wildcard", "metric": f"{name}.{metric}", "value": round(value, 3),
                          "unit": "ms", "entries": wild_n, **extra}), flush=True)  # fmt: skip


def main() -> None:
    _pair("isoscan_40", "/isos/*.iso", "isofile", ISO_ENTRY, ISOS)
    _pair("kernels_12", "($root)/boot/vmlinuz-*", "f", KERNEL_ENTRY, KERNELS)


if __name__ == "__main__":
    main()
