"""Processes the benchmarks start run from compiled bytecode, as an installed
bootd does (the Debian package byte-compiles at install time; the standard
library and the libraries pip installed come compiled already).

Where the environment says ``PYTHONDONTWRITEBYTECODE``, every child process
would compile every bootd module it imports from source again (a third of
``bootd scan``'s time, and more of the daemon's start).  bootd and ui are
compiled once into their ``__pycache__`` directories (ignored by git) and the
children may read them.
"""

from __future__ import annotations

import compileall
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def use_compiled_bytecode() -> None:
    """Compile bootd and ui, let every child process read the bytecode;
    prints one JSON line saying so."""
    for name in ("bootd", "ui"):
        compileall.compile_dir(ROOT / name, quiet=1, workers=1)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.dont_write_bytecode = False
    print(
        json.dumps({"bench": "setup", "metric": "bytecode", "value": "compiled", "dirs": ["bootd", "ui"]}), flush=True
    )
