"""Instruction counts (``valgrind --tool=callgrind``, ``Ir``) of ``bootd scan
--json`` of the demo machine's first disk (the whole process) and of one
``bls.parse`` of 1,000 entries (the call alone), each beside Python's own
start (``python -c pass``) counted in the same run.  Counts do not depend on
the machine's load, where wall times on a shared machine do; they are not
times (the README's bench rows turn them into estimates).

``python -m bench.count_scan`` (not part of ``python -m bench``: each count
runs a process under valgrind, several seconds).  Prints JSON lines; says so
and stops when valgrind is missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench._bytecode import use_compiled_bytecode

ROOT = Path(__file__).resolve().parents[1]

# One bls.parse on the bench tree, after a warm-up parse; only the call made
# through sys.call_tracing is counted (--toggle-collect).
BLS = """\
import sys, tempfile
from pathlib import Path
from bench.bench_scan import bls_tree
from bootd.model import Device
from bootd.parsers import ParseContext, bls
from bootd.parsers.view import DirectoryView
root = Path(tempfile.mkdtemp()) / "dev"
root.mkdir()
bls_tree(root)
view = DirectoryView(root, Device(id="dev", node="/dev/sda2"))
assert len(bls.parse(view, ParseContext()).options) == 1000
sys.call_tracing(bls.parse, (view, ParseContext()))
"""


def emit(metric: str, value: float, unit: str, **extra: object) -> None:
    print(json.dumps({"bench": "count_scan", "metric": metric, "value": value, "unit": unit, **extra}), flush=True)


def count(argv: list[str], *, toggle: str | None = None) -> int:
    """The instructions ``argv`` runs (only inside ``toggle`` when given)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
        if toggle:
            cmd.append(f"--toggle-collect={toggle}")
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        subprocess.run(cmd + argv, cwd=ROOT, env=env, capture_output=True, check=True, timeout=600)
        for line in out.read_text().splitlines():
            m = re.match(r"(?:summary|totals): (\d+)", line)
            if m:
                return int(m.group(1))
    raise RuntimeError("no total in the callgrind output")


def first_disk() -> str:
    from bootd.platform.machine import load_machine

    d = load_machine(ROOT / "config" / "demo").devices[0]
    fields = [f"id={d.id}", f"type={d.type}"]
    fields += [f"{k}={v}" for k, v in (("uuid", d.uuid), ("label", d.label), ("node", d.node)) if v]
    return ",".join([str(d.dir), *fields])


def main() -> None:
    if shutil.which("valgrind") is None:
        emit("skipped", 0, "", reason="valgrind is not installed")
        return
    use_compiled_bytecode()
    python = count([sys.executable, "-c", "pass"])
    emit("python_start", python / 1e6, "M Ir")
    scan = count([sys.executable, "-m", "bootd", "scan", "--json", first_disk()])
    emit("scan_first_disk", scan / 1e6, "M Ir", ratio_to_python=round(scan / python, 2), aim="<= 80 ms")
    with tempfile.NamedTemporaryFile("w", suffix=".py") as script:
        script.write(BLS)
        script.flush()
        parse = count([sys.executable, script.name], toggle="sys_call_tracing*")
    emit("bls_1000_entries_parse", parse / 1e6, "M Ir", ratio_to_python=round(parse / python, 2), aim="<= 25 ms")


if __name__ == "__main__":
    main()
