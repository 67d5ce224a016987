"""GRUB ``loopback`` of ISO images: what a multi-ISO stick costs.

An image shaped like an Ubuntu live ISO (Rock Ridge and Joliet, made by
xorriso): ``casper/`` with a 16 MiB kernel and a 64 MiB initrd,
``boot/grub/loopback.cfg``, and a ``pool/`` of 2,000 package files in 200
directories (an Ubuntu desktop ISO holds about 1,500 files).

* ``index``: opening the image and indexing its tree (pycdlib through the
  device view), beside ``os.walk`` + ``stat`` of the same tree on disk
  (the baseline);
* ``scan``: the whole GRUB parser on a stick holding that image, whose
  grub.cfg loopbacks it in two entries and through its loopback.cfg; aim
  <= 150 ms;
* ``extract``: the loader copying the kernel and initrd out of the image,
  beside copying files of the same size (``shutil.copyfile``).

Medians of several rounds, wall-clock.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path, PurePosixPath

from bootd.loader.resources import extract_inside
from bootd.model import Device, Resource
from bootd.parsers import ParseContext
from bootd.parsers.grub import parse
from bootd.parsers.isoview import open_view
from bootd.parsers.view import DirectoryView
from tests.isobuild import ISO_DIRECT, ISO_SUBMENU, make_stick

KERNEL_BYTES = 16 << 20
INITRD_BYTES = 64 << 20
POOL_DIRS, PER_DIR = 200, 10
GRUB_CFG = ISO_DIRECT + ISO_SUBMENU
LOOPBACK_CFG = """\
menuentry "Try Ubuntu" {
  linux /casper/vmlinuz boot=casper iso-scan/filename=${iso_path} quiet splash ---
  initrd /casper/initrd
}
"""


def _files() -> dict[str, bytes | str]:
    files: dict[str, bytes | str] = {
        "casper/vmlinuz": os.urandom(1 << 20) * (KERNEL_BYTES >> 20),
        "casper/initrd": os.urandom(1 << 20) * (INITRD_BYTES >> 20),
        "boot/grub/loopback.cfg": LOOPBACK_CFG,
    }
    for d in range(POOL_DIRS):
        for n in range(PER_DIR):
            files[f"pool/main/p{d:03d}/package-{d:03d}-{n}_1.0-1_amd64.deb"] = b"x" * 100
    return files


def _median_ms(run: object, rounds: int) -> float:
    assert callable(run)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def _line(metric: str, value: float, unit: str, **extra: object) -> None:
    print(json.dumps({"bench": "loopback", "metric": metric, "value": round(value, 3), "unit": unit, **extra}))


def main() -> None:
    if shutil.which("xorriso") is None:
        print(json.dumps({"bench": "loopback", "error": "xorriso is not installed"}))
        return
    with tempfile.TemporaryDirectory() as tmp:
        tree, files = Path(tmp) / "tree", _files()
        for name, data in files.items():  # the same tree on disk: the baselines' input
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            (tree / name).write_bytes(data.encode() if isinstance(data, str) else data)
        stick = make_stick(Path(tmp) / "stick", GRUB_CFG, files)
        image = stick / "isos" / "ubuntu.iso"
        view = DirectoryView(stick, Device(id="usb1"))
        size = image.stat().st_size
        path = PurePosixPath("/isos/ubuntu.iso")

        def index() -> None:
            open_view(view.device, path, lambda o, n: view.read_range(path, o, n), size, cpu_seconds=60)

        def walk() -> None:
            for top, _dirs, names in os.walk(tree):
                for name in names:
                    os.stat(os.path.join(top, name))

        index_ms, walk_ms = _median_ms(index, 7), _median_ms(walk, 7)
        count = POOL_DIRS * PER_DIR + 3
        _line("index", index_ms, "ms", files=count, baseline_walk_ms=round(walk_ms, 3),
              ratio_to_baseline=round(index_ms / walk_ms, 1))  # fmt: skip

        ctx = ParseContext()
        result = parse(view, ctx)
        if len(result.options) != 2:  # the image was not indexed within its CPU time
            print(json.dumps({"bench": "loopback", "error": [d.message for d in result.diagnostics]}))
        scan_ms = _median_ms(lambda: parse(view, ctx), 7)
        _line("scan", scan_ms, "ms", aim="<= 150", aim_met=scan_ms <= 150, ratio_to_index=round(scan_ms / index_ms, 2))

        out = Path(tmp) / "out"
        out.mkdir()
        kernel = Resource(path=path, inside=PurePosixPath("/casper/vmlinuz"))
        initrd = Resource(path=path, inside=PurePosixPath("/casper/initrd"))

        def extract() -> None:
            extract_inside(image, kernel, out / "kernel", max_bytes=1 << 30)
            extract_inside(image, initrd, out / "initrd", max_bytes=1 << 30)

        def copy() -> None:
            shutil.copyfile(tree / "casper" / "vmlinuz", out / "k2")
            shutil.copyfile(tree / "casper" / "initrd", out / "i2")

        extract_ms, copy_ms = _median_ms(extract, 5), _median_ms(copy, 5)
        mib = (KERNEL_BYTES + INITRD_BYTES) / (1 << 20)
        _line("extract", mib / (extract_ms / 1000), "MiB/s", mib=mib, extract_ms=round(extract_ms, 1),
              baseline_copyfile_ms=round(copy_ms, 1), ratio_to_baseline=round(extract_ms / copy_ms, 1))  # fmt: skip


if __name__ == "__main__":
    main()
