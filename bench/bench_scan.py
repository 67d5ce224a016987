"""``bootd scan`` speed: a SYSLINUX tree with 1,000 labels, a BLS directory
with 1,000 entries, hostile inputs (an include bomb, a 100 MB file), and
process start-to-exit of ``bootd scan --json`` on the demo machine's disks
and of ``bootd --help``, each beside Python's own start (``python -c pass``)
measured in the same run, in turn with it.  Aims: 1,000 BLS entries in at
most 25 ms (the parser alone; also as a ratio to reading and splitting the
entry files), ``bootd --help`` at most 60 ms, ``bootd scan --json`` (of the
demo machine's five disks, and of its first disk alone) at most 80 ms.  What
each command imports is read from ``python -X importtime`` (module count,
summed import time, which heavy libraries it loaded: none for ``--help`` and
``scan``)."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bootd.model import Device
from bootd.parsers import ParseContext, Parser, bls, parse_device, syslinux
from bootd.parsers.view import DirectoryView

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "config" / "demo"
N = 1000


def emit(metric: str, value: float, unit: str, **extra: object) -> None:
    print(json.dumps({"bench": "scan", "metric": metric, "value": round(value, 3), "unit": unit, **extra}), flush=True)


def best_of(fn: Callable[[], object], runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def syslinux_tree(root: Path) -> None:
    (root / "syslinux").mkdir(parents=True)
    lines = ["UI menu.c32", "TIMEOUT 50", "DEFAULT l500", "APPEND console=ttyS0"]
    for i in range(N):
        if i % 100 == 0:
            lines.append(f"MENU BEGIN m{i}\nMENU TITLE Group {i}")
        lines += [f"LABEL l{i}", f"  MENU LABEL Entry ^{i}", f"  KERNEL /vmlinuz-{i}", f"  INITRD /initrd-{i}.img"]
        lines.append(f"  APPEND root=/dev/sda2 ro quiet n={i}")
        if i % 100 == 99:
            lines.append("MENU END")
    (root / "syslinux" / "syslinux.cfg").write_text("\n".join(lines) + "\n")
    for i in range(N):
        (root / f"vmlinuz-{i}").write_bytes(b"")
        (root / f"initrd-{i}.img").write_bytes(b"")


def bls_tree(root: Path) -> None:
    entries = root / "loader" / "entries"
    entries.mkdir(parents=True)
    mid = "8f1c2a7e5b3d4c6f9e0a1b2c3d4e5f60"
    for i in range(N):
        v = f"6.{i // 100}.{i % 100}-{200 + i % 7}.fc41.x86_64"
        (entries / f"{mid}-{v}.conf").write_text(
            f"title Fedora Linux ({v}) 41\nversion {v}\nmachine-id {mid}\nsort-key fedora\n"
            f"linux /vmlinuz-{v}\ninitrd /initramfs-{v}.img\noptions root=UUID=1234 ro rhgb quiet\n"
        )
        (root / f"vmlinuz-{v}").write_bytes(b"")
        (root / f"initramfs-{v}.img").write_bytes(b"")
    (root / "loader" / "loader.conf").write_text("default *6.9.*\ntimeout 5\n")


def hostile_tree(root: Path) -> None:
    root.mkdir(parents=True)
    (root / "syslinux.cfg").write_text("LABEL a\n KERNEL /a\n" + "INCLUDE more.cfg\n" * 10_000)
    (root / "more.cfg").write_text("LABEL m\n KERNEL /m\nINCLUDE syslinux.cfg\n")
    with open(root / "extlinux.conf", "wb") as f:
        f.truncate(100 * 1024 * 1024)
    (root / "loader" / "entries").mkdir(parents=True)
    with open(root / "loader" / "entries" / "big.conf", "wb") as f:
        f.truncate(100 * 1024 * 1024)


def read_and_split(root: Path) -> None:
    """The trivial parse of a tree: every file under it read and its lines split into words."""
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.stat().st_size < 1 << 20:
            [line.split() for line in path.read_text(errors="replace").splitlines()]


def parse_bench(
    name: str, build: Callable[[Path], None], entries: int, own: Parser | None = None, aim_ms: float | None = None
) -> None:
    """Every parser on the tree (what a scan of that device costs) and, with
    ``own``, the one parser the tree is for, beside its aim and as a ratio to
    reading and splitting the tree's files (:func:`read_and_split`), measured
    in turn with it."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / name
        build(root)
        view = DirectoryView(root, Device(id=name))
        result = parse_device(view, ParseContext())
        found = len(result.options)
        seconds = best_of(lambda: parse_device(view, ParseContext()))
        alone = base = cpu = None
        if own is not None:
            times, bases, cpus = [], [], []
            for _ in range(7):
                start, start_cpu = time.perf_counter(), time.process_time()
                own(view, ParseContext())
                times.append(time.perf_counter() - start)
                cpus.append(time.process_time() - start_cpu)
                start = time.perf_counter()
                read_and_split(root / "loader" if (root / "loader").is_dir() else root)
                bases.append(time.perf_counter() - start)
            alone, base, cpu = min(times), min(bases), statistics.median(cpus)
    emit(f"{name}_scan", seconds * 1000, "ms", options=found)
    if entries:
        emit(f"{name}_per_entry", seconds * 1e6 / entries, "us")
    if alone is not None and base is not None and cpu is not None:
        extra: dict[str, object] = {"cpu_ms": round(cpu * 1000, 3), "baseline_read_split_ms": round(base * 1000, 3)}
        extra["ratio_to_baseline"] = round(alone / base, 2)
        if aim_ms is not None:
            extra.update(aim=f"<= {aim_ms:g}", aim_met=alone * 1000 <= aim_ms)
        emit(f"{name}_parser_only", alone * 1000, "ms", **extra)


def process_times(commands: dict[str, list[str]], runs: int = 11) -> dict[str, float]:
    """Median wall time of each command, start to exit, the commands run in
    turn (A B C A B C ...) so that a drift of the machine's speed moves all alike."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs + 1):  # the first round warms the caches and is not counted
        for name, argv in commands.items():
            start = time.perf_counter()
            subprocess.run(argv, check=False, capture_output=True, cwd=ROOT)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t[1:]) for name, t in times.items()}


HEAVY = ("dbus_fast", "pyudev", "urwid", "tomlkit", "pefile", "libfdt", "asyncio", "multiprocessing")
"""Libraries (and parts of the standard library) a command loads only when it needs them."""


def import_profile(metric: str, argv: list[str]) -> None:
    """What a command imports, from ``python -X importtime``: how many modules,
    their summed import time (each module's own, not its imports'), the
    slowest, and which of :data:`HEAVY` it loaded."""
    run = subprocess.run([argv[0], "-X", "importtime", *argv[1:]], capture_output=True, text=True, cwd=ROOT)
    own: dict[str, int] = {}
    for line in run.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        fields = line.removeprefix("import time:").split("|")
        if not fields[0].strip().isdigit():
            continue  # the header line
        own[fields[2].strip()] = int(fields[0])
    heavy = sorted({m.split(".")[0] for m in own} & set(HEAVY))
    slowest = sorted(own, key=lambda m: own[m], reverse=True)[:5]
    emit(
        metric,
        sum(own.values()) / 1000,
        "ms",
        modules=len(own),
        bootd_modules=sum(m.split(".")[0] in ("bootd", "ui") for m in own),
        heavy=heavy,
        slowest=[f"{m} {own[m] / 1000:.1f}" for m in slowest],
        note="python -X importtime, summed self times (importtime's own cost included)",
    )


def demo_sources() -> list[str]:
    from bootd.platform.machine import load_machine

    spec = load_machine(DEMO)
    sources = []
    for d in spec.devices:
        fields = [f"id={d.id}", f"type={d.type}"]
        fields += [f"{k}={v}" for k, v in (("uuid", d.uuid), ("label", d.label), ("node", d.node)) if v]
        sources.append(",".join([str(d.dir), *fields]))
    return sources


def main() -> None:
    parse_bench("syslinux_1000_labels", syslinux_tree, N, syslinux.parse)
    parse_bench("bls_1000_entries", bls_tree, N, bls.parse, aim_ms=25)
    parse_bench("hostile", hostile_tree, 0)
    bootd = [sys.executable, "-m", "bootd"]
    t = process_times(
        {
            "python": [sys.executable, "-c", "pass"],
            "help": [*bootd, "--help"],
            "scan": [*bootd, "scan", "--json", *demo_sources()],
            "scan1": [*bootd, "scan", "--json", demo_sources()[0]],
        }
    )
    emit("python_startup_process", t["python"] * 1000, "ms", note="baseline: python -c pass")
    import_profile("help_imports", [*bootd, "--help"])
    import_profile("scan_json_demo_imports", [*bootd, "scan", "--json", *demo_sources()])
    import_profile("scan_json_one_disk_imports", [*bootd, "scan", "--json", demo_sources()[0]])
    for metric, name, aim in (
        ("help_process", "help", "<= 60"),
        ("scan_json_demo_process", "scan", "<= 80"),
        ("scan_json_one_disk_process", "scan1", "<= 80"),
    ):
        emit(metric, t[name] * 1000, "ms", aim=aim, ratio_to_baseline=round(t[name] / t["python"], 2))


if __name__ == "__main__":
    main()
