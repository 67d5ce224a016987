"""``bootd scan`` over the whole GRUB oracle corpus: configs per second.

Every config the oracle runs (tests/data/grub-oracle and the u-root GRUB
cases) is written out as directories once; then the scan code path of
``bootd scan --json`` (parse every device with the others in its context,
resolve references, encode the options as JSON) runs over all of them,
a few rounds, with the parse cache cleared each round so every config is
parsed afresh.  Reported: configs/s and ms per config (median round).
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

from bootd.cli.scan import scan_views
from bootd.jsoncodec import option_to_json
from bootd.model import Device, DeviceType
from bootd.parsers.grub import parser
from bootd.parsers.view import DirectoryView
from tests.integration.grub_oracle.cases import all_cases
from tests.integration.grub_oracle.grub_emu import specs_from_case

ROUNDS = 5


def _prepare(root: Path) -> list[list[DirectoryView]]:
    scans: list[list[DirectoryView]] = []
    for n, case in enumerate(all_cases()):
        views = []
        for k, dev in enumerate(specs_from_case(case.data)):
            d = root / f"case{n}" / f"dev{k}"
            d.mkdir(parents=True)
            for rel, data in dev.files.items():
                target = d / rel.lstrip("/")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            views.append(DirectoryView(d, Device(id=dev.id, type=DeviceType.DISK, uuid=dev.uuid, label=dev.label)))
        scans.append(views)
    return scans


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        scans = _prepare(Path(tmp))
        rounds: list[float] = []
        options = 0
        for _ in range(ROUNDS):
            parser._cache.clear()
            options = 0
            start = time.perf_counter()
            for views in scans:
                _, opts, _ = scan_views(views, arch="x86_64", firmware="efi")
                json.dumps([option_to_json(o) for o in opts])
                options += len(opts)
            rounds.append(time.perf_counter() - start)
    wall = statistics.median(rounds)
    configs = len(scans)
    for metric, value, unit in (
        ("rate", round(configs / wall, 1), "configs/s"),
        ("per_config", round(wall / configs * 1000, 3), "ms"),
    ):
        print(
            json.dumps(
                {
                    "bench": "grub_corpus",
                    "metric": metric,
                    "value": value,
                    "unit": unit,
                    "configs": configs,
                    "options": options,
                }
            )
        )


if __name__ == "__main__":
    main()
