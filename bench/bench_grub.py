"""GRUB interpreter speed: ms per scan and entries per second.

* a real distro config (the Ubuntu 16.04 grub.cfg of the corpus, with
  functions, submenus and per-entry scripts);
* a Fedora/CentOS blscfg setup (the corpus CentOS Stream 8 grub.cfg and
  grubenv) with 50 kernels' BLS entries;
* a generated config with 5,000 menu entries.

Aims: a real distro config under 10 ms, 5,000 entries under 500 ms.  Both
wall-clock and CPU time are reported (medians): on a busy machine the wall
time includes waiting for a CPU.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bootd.model import Device, ParseResult
from bootd.parsers import ParseContext
from bootd.parsers.grub import parse, parser
from bootd.parsers.view import DirectoryView

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "data" / "corpus" / "grub"


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _case_files(name: str) -> dict[str, str]:
    data = json.loads((CORPUS / f"{name}.json").read_text())
    return {k: v for k, v in data["files"].items() if not k.startswith("base64:")}


def _distro(root: Path) -> DirectoryView:
    _write(root, _case_files("ubuntu_16_04_boot"))
    return DirectoryView(root, Device(id="ubuntu", uuid="07338180-4a96-4611-aa6a-a452600e4cfe"))


def _fedora(root: Path) -> DirectoryView:
    files = {k: v for k, v in _case_files("CentOS_8_Stream_x86_64_blscfg_sda1").items() if "loader/entries" not in k}
    mid = "9af7b02ac08149d985841c07c8ff366e"
    for n in range(50):
        version = f"6.{n // 10}.{n % 10}-200.fc39.x86_64"
        files[f"/boot/loader/entries/{mid}-{version}.conf"] = (
            f"title Fedora Linux ({version}) 39\nversion {version}\nlinux /boot/vmlinuz-{version}\n"
            f"initrd /boot/initramfs-{version}.img $tuned_initrd\noptions $kernelopts $tuned_params\n"
            "grub_users $grub_users\ngrub_arg --unrestricted\ngrub_class fedora\n"
        )
    _write(root, files)
    return DirectoryView(root, Device(id="fedora", uuid="d0be5cb9-622d-42d5-a531-674aaa120309"))


def _generated(root: Path, count: int = 5000) -> DirectoryView:
    lines = ["set default=0", "set timeout=5", "insmod part_gpt", "insmod ext2"]
    for i in range(count):
        lines.append(
            f"menuentry 'Generated entry {i}' --class gnu-linux --id gen-{i} {{\n"
            f"\tinsmod gzio\n\tlinux /boot/vmlinuz-{i} root=/dev/sda2 ro quiet entry={i}\n"
            f"\tinitrd /boot/initrd.img-{i}\n}}"
        )
    _write(root, {"/boot/grub/grub.cfg": "\n".join(lines) + "\n"})
    return DirectoryView(root, Device(id="generated"))


def _measure(name: str, make: Callable[[Path], DirectoryView], rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        view = make(Path(tmp))
        ctx = ParseContext()
        result: ParseResult = parse(view, ctx)  # warm up (imports, caches)
        times: list[float] = []
        cpu: list[float] = []
        for _ in range(rounds):
            parser._cache.clear()  # every round parses its scripts anew (the rescan is below)
            start, start_cpu = time.perf_counter(), time.process_time()
            result = parse(view, ctx)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
    ms = statistics.median(times) * 1000
    cpu_ms = statistics.median(cpu) * 1000
    entries = len(result.options)
    for metric, value, unit in (
        ("scan", round(ms, 3), "ms"),
        ("scan_cpu", round(cpu_ms, 3), "ms"),
        ("rate", round(entries / max(ms / 1000, 1e-9)), "entries/s"),
    ):
        print(
            json.dumps(
                {"bench": "grub", "metric": f"{name}.{metric}", "value": value, "unit": unit, "entries": entries}
            )
        )


def _rescan() -> None:
    """Parsing the distro config's grub.cfg again, unchanged (the parse cache),
    beside parsing it anew.  Aim: at most 0.1 ms."""
    text = _case_files("ubuntu_16_04_boot")["grub/grub.cfg"]
    cold, warm = [], []
    for _ in range(50):
        parser._cache.clear()
        start = time.perf_counter()
        parser.parse_script(text)
        cold.append(time.perf_counter() - start)
        start = time.perf_counter()
        parser.parse_script(text)
        warm.append(time.perf_counter() - start)
    ms, base = statistics.median(warm) * 1000, statistics.median(cold) * 1000
    print(
        json.dumps(
            {
                "bench": "grub",
                "metric": "distro_config.reparse_unchanged",
                "value": round(ms, 4),
                "unit": "ms",
                "aim": "<= 0.1",
                "baseline_parse_ms": round(base, 3),
                "ratio_to_baseline": round(ms / base, 4),
            }
        )
    )


def main() -> None:
    _rescan()
    _measure("distro_config", _distro, rounds=50)
    _measure("fedora_blscfg_50", _fedora, rounds=20)
    _measure("generated_5000", _generated, rounds=5)


if __name__ == "__main__":
    main()
