"""``make fuzz``: generated hostile configs for every parser, against the limits.

For each parser, ``COUNT`` configs (100,000 by default) are built from the
pieces hostile media are made of (deep nesting, self-referencing
expansions, loops, cycles of source/configfile/INCLUDE, long globs and
paths, huge words), each with its own seed, and parsed in-process with
``parse_device``.  Reported as JSON lines: the slowest cases (CPU time) and
the largest-memory ones (``tracemalloc`` peak, measured in a second run of
the slowest cases and of every 200th one: tracing slows a parse many times
over, so the CPU time always comes from the untraced run), and how many went over the limits
(2 s of CPU, 256 MB): that number must be 0, else the exit status is 1.

``python -m bench.fuzz_parsers [COUNT] [PARSER...]``; a case is replayed
with its seed: ``python -m bench.fuzz_parsers --replay PARSER SEED``.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from bootd.model import Device, Source
from bootd.parsers import ParseContext, parse_device
from bootd.parsers.view import DirectoryView

CPU_LIMIT = 2.0
MEMORY_LIMIT = 256 * 1024 * 1024
Files = dict[str, str]


def _word(r: random.Random) -> str:
    return r.choice(
        ["a", "$a", "${a}", '"$a$a"', "'x y'", "$1", "$@", "[", "*", "/a" * r.randint(1, 300), "x" * r.randint(0, 5000)]
    )


def _grub(r: random.Random) -> Files:
    pieces: list[Callable[[], str]] = [
        lambda: f'set a="{"$a" * r.randint(1, 12)}"',
        lambda: "set a=" + _word(r),
        lambda: f"menuentry 'E{r.randint(0, 9)}' {{ linux /k {_word(r)}; initrd /i }}",
        lambda: (
            "while true; do "
            + r.choice(["blscfg", "test -f " + _word(r), "search -f /x", "echo $a", "true"])
            + "; done"
        ),
        lambda: f"for i in {' '.join(_word(r) for _ in range(r.randint(1, 50)))}; do set b=$b$i; done",
        lambda: "source /boot/grub/grub.cfg",
        lambda: "menuentry C { configfile /boot/grub/x.cfg }",
        lambda: "function f { f $@ $@; }; f a",
        lambda: "if " * r.randint(1, 80) + "true; then true; " + "fi; " * r.randint(1, 80),
        lambda: "submenu S { " * r.randint(1, 40) + "menuentry I { linux /i }" + " }" * r.randint(1, 40),
        lambda: f"regexp --set=1:b '{'(a*)*' * r.randint(1, 5)}' {_word(r)}",
        lambda: "echo " + " ".join(_word(r) for _ in range(r.randint(1, 200))),
        lambda: "a\n" * r.randint(1, 200_000),
    ]
    # loops and huge files run to a budget (about a second each): one config in 300 gets one, so
    # that 100,000 configs take hours, not days; the rest mix every other piece
    cheap, costly = pieces[:3] + pieces[4:12], [pieces[3], pieces[12]]
    lines = [r.choice(cheap)() for _ in range(r.randint(1, 12))]
    if r.random() < 1 / 300:
        lines.insert(r.randint(0, len(lines)), r.choice(costly)())
    files = {
        "boot/grub/grub.cfg": "\n".join(lines) + "\n",
        "boot/grub/x.cfg": "menuentry B { configfile /boot/grub/grub.cfg }\n",
    }
    for i in range(r.randint(0, 30)):
        files[f"loader/entries/e{i}.conf"] = f"title e{i}\nlinux /k{i}\n" if r.random() < 0.5 else "title bad\n"
    return files


def _bls(r: random.Random) -> Files:
    glob = "".join(r.choice(["[", "]", "*", "?", "!", "a", "-", "[a-z]"]) for _ in range(r.randint(1, 40_000)))
    files = {"loader/loader.conf": f"default {glob}\ntimeout {r.choice(['5', 'x', '-1', '9' * 40])}\n"}
    for i in range(r.randint(1, 40)):
        keys = ["title " + "t" * r.randint(0, 3000), "linux /vmlinuz", "options " + "$x " * r.randint(0, 3000)]
        keys += r.choices(
            ["initrd /i", "version 1.2~3-4^5", "sort-key " + "k" * 100, "devicetree /d"], k=r.randint(0, 20)
        )
        files[f"loader/entries/{r.choice(['a', 'b', 'c+1-2', 'd+0'])}{i}.conf"] = "\n".join(keys) + "\n"
    return files


def _syslinux(r: random.Random) -> Files:
    pieces: list[Callable[[], str]] = [
        lambda: f"LABEL l{r.randint(0, 99)}\n KERNEL /k\n APPEND {_word(r)}",
        lambda: "INCLUDE /syslinux/syslinux.cfg",
        lambda: "INCLUDE /syslinux/b.cfg",
        lambda: "MENU BEGIN m\n" * r.randint(1, 100),
        lambda: "MENU END\n" * r.randint(1, 100),
        lambda: f"DEFAULT {_word(r)}",
        lambda: "LABEL c\n CONFIG /syslinux/syslinux.cfg",
        lambda: "APPEND " + "x" * r.randint(0, 100_000),
    ]
    text = "\n".join(r.choice(pieces)() for _ in range(r.randint(1, 30)))
    return {"syslinux/syslinux.cfg": text + "\n", "syslinux/b.cfg": "INCLUDE /syslinux/b.cfg\nLABEL b\n KERNEL /b\n"}


def _yaboot(r: random.Random) -> Files:
    body = [f'image={_word(r)}\n label={_word(r)}\n append="{_word(r)}"' for _ in range(r.randint(1, 30))]
    return {"etc/yaboot.conf": f"default={_word(r)}\n" + "\n".join(body) + "\n"}


def _kboot(r: random.Random) -> Files:
    lines = [f"{_word(r)}='{_word(r)} {_word(r)}'" for _ in range(r.randint(1, 50))]
    return {"etc/kboot.conf": "\n".join(lines) + "\n"}


def _petitboot(r: random.Random) -> Files:
    params = ["image", "initrd", "dtb", "args", "description"]

    def value() -> str:
        return r.choice(
            [_word(r), "uuid=" + "u" * r.randint(0, 3000), "label=x:/k", "sda3:/" + "a/" * r.randint(0, 2000),
             "tftp://h/" + "p" * r.randint(0, 5000), "file:///k", "/boot/vmlinux"]
        )  # fmt: skip

    def blank() -> str:
        return r.choice([" ", "\t", "  \t "])

    lines = [f"default{blank()}{value()}"] if r.random() < 0.5 else []
    for _ in range(r.randint(1, 200)):
        lines.append(f"name{blank()}{value()}")
        lines += [f"{r.choice(params)}{blank()}{value()}" for _ in range(r.randint(0, 8))]
        if r.random() < 0.05:  # the grammar broken on purpose: a keyword without a value, a late default
            lines.append(r.choice(["image", "default x", "name", "args" + "x" * r.randint(0, 100)]))
    if r.random() < 0.1:
        lines.append("args " + "a" * r.randint(0, 200_000))
    return {r.choice(["boot/petitboot.conf", "petitboot.conf"]): "\n".join(lines) + r.choice(["\n", ""])}


GENERATORS: dict[str, tuple[Source, Callable[[random.Random], Files]]] = {
    "grub": (Source.GRUB2, _grub),
    "bls": (Source.BLS, _bls),
    "syslinux": (Source.SYSLINUX, _syslinux),
    "yaboot": (Source.YABOOT, _yaboot),
    "kboot": (Source.KBOOT, _kboot),
    "petitboot": (Source.PETITBOOT, _petitboot),
}


def _write(root: Path, files: Files) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def run_case(base: Path, name: str, seed: int, *, memory: bool = False) -> tuple[float, int, int]:
    """CPU seconds, tracemalloc peak (0 unless ``memory``) and input bytes of one case."""
    source, generate = GENERATORS[name]
    files = generate(random.Random(seed))
    root = base / f"{name}-{seed}"
    _write(root, files)
    view = DirectoryView(root, Device(id="fuzz"))
    if memory:
        tracemalloc.start()
    start = time.process_time()
    parse_device(view, ParseContext(), only=(source,))
    cpu = time.process_time() - start
    peak = 0
    if memory:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    for path in sorted(root.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    root.rmdir()
    return cpu, peak, sum(len(t) for t in files.values())


def emit(**fields: object) -> None:
    print(json.dumps({"bench": "fuzz", **fields}), flush=True)


def fuzz(name: str, count: int, base: Path) -> int:
    results: list[tuple[float, int, int]] = []  # cpu, seed, size
    memory: list[tuple[int, int]] = []
    started = time.perf_counter()
    for seed in range(count):
        cpu, _, size = run_case(base, name, seed)
        results.append((cpu, seed, size))
        if seed % 200 == 0:  # tracemalloc slows a parse many times over: its CPU time is not the case's
            memory.append((run_case(base, name, seed, memory=True)[1], seed))
    slowest = sorted(results, reverse=True)[:5]
    for _, seed, _ in slowest[:3]:
        memory.append((run_case(base, name, seed, memory=True)[1], seed))
    largest = sorted(set(memory), reverse=True)[:5]
    over = sum(1 for cpu, _, _ in results if cpu > CPU_LIMIT) + sum(1 for peak, _ in memory if peak > MEMORY_LIMIT)
    emit(parser=name, cases=count, wall_s=round(time.perf_counter() - started, 1), over_limits=over)
    emit(parser=name, slowest=[{"seed": s, "cpu_s": round(c, 3), "input_bytes": b} for c, s, b in slowest])
    emit(parser=name, largest_memory=[{"seed": s, "peak_mb": round(p / 2**20, 1)} for p, s in largest])
    return over


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        if argv[:1] == ["--replay"]:
            cpu, peak, size = run_case(base, argv[1], int(argv[2]), memory=True)
            emit(
                parser=argv[1], seed=int(argv[2]), cpu_s=round(cpu, 3), peak_mb=round(peak / 2**20, 1), input_bytes=size
            )
            return 0
        count = int(argv[0]) if argv and argv[0].isdigit() else 100_000
        names = [a for a in argv if not a.isdigit()] or list(GENERATORS)
        over = sum(fuzz(name, count, base) for name in names)
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
