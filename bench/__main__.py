"""Run every benchmark module (``bench/bench_*.py``); each prints JSON lines.

``python -m bench [NAME...]`` runs only the named ones (``scan``, ``grub``…).
A benchmark's ``main()`` returns nothing and prints one JSON object per figure:
``{"bench": "...", "metric": "...", "value": ..., "unit": "...", ...}``.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).resolve().parent
    names = sorted(p.stem.removeprefix("bench_") for p in here.glob("bench_*.py"))
    wanted = argv or names
    from bench._bytecode import use_compiled_bytecode

    use_compiled_bytecode()
    failed = 0
    for name in wanted:
        if name not in names:
            print(json.dumps({"bench": name, "error": "no such benchmark"}), flush=True)
            failed += 1
            continue
        start = time.perf_counter()
        try:
            importlib.import_module(f"bench.bench_{name}").main()
        except Exception as e:  # report and go on with the others
            print(json.dumps({"bench": name, "error": repr(e)}), flush=True)
            failed += 1
        wall = round(time.perf_counter() - start, 3)
        print(json.dumps({"bench": name, "metric": "wall", "value": wall, "unit": "s"}))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
