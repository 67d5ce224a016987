"""Every real DTB of Debian's arm64 kernel: patched for console and framebuffer
by bootd.loader.dtb, then checked by libfdt *and* dtc to be valid and identical
to the input except for the intended edits (reserve map included).

dtc reads the result twice: as DTS text (which must succeed and show the same
/memreserve/ lines; dtc 1.6's text form of string lists with empty strings
followed by digits is ambiguous, so the text is not compiled back) and as a
blob it writes back, whose tree and reserve map must equal what libfdt reads.

The intended edits are spelled out here independently of the loader: the
console in ``/chosen/stdout-path`` and ``linux,stdout-path`` (the ``serial0``
alias with its options, or the screen when a board has no such alias); a
``simple-framebuffer`` under ``/chosen`` with the cells and ``ranges`` it needs;
its memory in ``/reserved-memory`` as ``no-map``; stale boot-time ``/chosen``
state dropped.  Nothing else may change.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import libfdt
import pytest

from bootd.errors import DtbError
from bootd.loader import dtb
from bootd.model import ChosenConsole, Console, Framebuffer

BOOT_SEEDS = dtb.Seeds(b"K" * 8, b"R" * 64)


def pick(text: str, *consoles: Console) -> ChosenConsole:
    """A console choice as the loader reads it."""
    return ChosenConsole.parse(text, consoles)


pytestmark = [pytest.mark.slow, pytest.mark.root]

FB = Framebuffer(
    name="fb0", width=1024, height=768, depth=32, stride=4096, address=0xBE000000, size=4096 * 768, format="a8r8g8b8"
)
FB_NODE = "/chosen/framebuffer@be000000"
RES_NODE = "/reserved-memory/framebuffer@be000000"
STALE = ("linux,initrd-start", "linux,initrd-end", "kaslr-seed", "rng-seed", "linux,elfcorehdr")
STALE_ALSO = ("linux,usable-memory-range",)
SERIAL_OPTIONS = ":115200n8"

Props = dict[str, bytes]
Nodes = dict[str, Props]


@dataclass(frozen=True)
class Flat:
    nodes: Nodes
    reserve: list[tuple[int, int]]
    boot_cpu: int


def _walk(fdt: libfdt.Fdt) -> Iterator[tuple[str, int]]:
    stack: list[str] = []
    off, depth = 0, 0
    while off >= 0 and depth >= 0:
        del stack[depth:]
        stack.append(fdt.get_name(off))
        yield ("/" + "/".join(stack[1:])), off
        off, depth = fdt.next_node(off, depth, [libfdt.FDT_ERR_NOTFOUND])


def flat(blob: bytes) -> Flat:
    """Every node's properties, the reserve map and the boot CPU, read with libfdt."""
    fdt = libfdt.Fdt(bytearray(blob))
    nodes: Nodes = {}
    for path, off in _walk(fdt):
        props: Props = {}
        poff = fdt.first_property_offset(off, [libfdt.FDT_ERR_NOTFOUND])
        while poff >= 0:
            prop = fdt.get_property_by_offset(poff)
            props[prop.name] = bytes(prop)
            poff = fdt.next_property_offset(poff, [libfdt.FDT_ERR_NOTFOUND])
        nodes[path] = props
    reserve = [(int(a), int(s)) for a, s in (fdt.get_mem_rsv(i) for i in range(fdt.num_mem_rsv()))]
    return Flat(nodes, reserve, fdt.boot_cpuid_phys())


def cells(n: int) -> bytes:
    return n.to_bytes(4, "big")


def number(value: int, ncells: int) -> bytes:
    return value.to_bytes(4 * ncells, "big")


def u32(value: bytes) -> int:
    return int.from_bytes(value[:4], "big")


def dtc(args: list[str], data: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["dtc", "-q", *args], input=data, capture_output=True, timeout=60)


def expected(before: Flat, console_path: str) -> Nodes:
    """The tree the patch must produce, from the input alone."""
    nodes = {path: dict(props) for path, props in before.nodes.items()}
    root = nodes["/"]
    na, ns = u32(root["#address-cells"]), u32(root["#size-cells"])
    chosen = nodes.setdefault("/chosen", {})
    for name in (*STALE, *STALE_ALSO):
        chosen.pop(name, None)
    for name in [n for n in chosen if n.startswith("linux,kexec-")]:
        del chosen[name]
    chosen["kaslr-seed"], chosen["rng-seed"] = BOOT_SEEDS.kaslr, BOOT_SEEDS.rng  # fresh, added when missing
    if "#address-cells" not in chosen:
        chosen["#address-cells"] = cells(na)
        chosen["#size-cells"] = cells(ns)
    chosen.setdefault("ranges", b"")
    cna, cns = u32(chosen["#address-cells"]), u32(chosen["#size-cells"])
    nodes[FB_NODE] = {
        "reg": number(FB.address, cna) + number(FB.size, cns),
        "compatible": b"simple-framebuffer\0",
        "width": cells(FB.width),
        "height": cells(FB.height),
        "stride": cells(FB.stride),
        "format": b"a8r8g8b8\0",
        "status": b"okay\0",
    }
    if "/reserved-memory" not in nodes:
        nodes["/reserved-memory"] = {"#address-cells": cells(na), "#size-cells": cells(ns), "ranges": b""}
    res = nodes["/reserved-memory"]
    rna, rns = u32(res["#address-cells"]), u32(res["#size-cells"])
    nodes[RES_NODE] = {"reg": number(FB.address, rna) + number(FB.size, rns), "no-map": b""}
    chosen["stdout-path"] = console_path.encode() + b"\0"
    chosen["linux,stdout-path"] = console_path.encode() + b"\0"
    return nodes


def differences(want: Nodes, got: Nodes) -> list[str]:
    out = [f"node {p} missing" for p in want if p not in got] + [f"unexpected node {p}" for p in got if p not in want]
    for path in want.keys() & got.keys():
        for name in want[path].keys() | got[path].keys():
            if want[path].get(name) != got[path].get(name):
                out.append(f"{path}/{name}: expected {want[path].get(name)!r}, got {got[path].get(name)!r}")
    return sorted(out)


_MEMRESERVE = re.compile(r"^/memreserve/\s+(0x[0-9a-fA-F]+)\s+(0x[0-9a-fA-F]+);", re.M)


def check(path: Path) -> tuple[str, str | None]:
    """('serial' | 'screen', None) when the DTB passes, else the reason it does not."""
    blob = path.read_bytes()
    before = flat(blob)
    alias = before.nodes.get("/aliases", {}).get("serial0")
    if alias and before.nodes.get("/" + alias.rstrip(b"\0").decode().lstrip("/")) is not None:
        kind, console, console_path = (
            "serial",
            "serial0" + SERIAL_OPTIONS,
            alias.rstrip(b"\0").decode() + SERIAL_OPTIONS,
        )
    else:
        kind, console, console_path = "screen", "tty0", FB_NODE
    try:
        patched = dtb.patch(blob, dtb.PatchSpec(seeds=BOOT_SEEDS, console=pick(console), framebuffer=FB))
    except DtbError as e:
        return kind, f"the loader refused it: {e}"
    out = patched.blob
    if patched.console_path != console_path:
        return kind, f"console resolved to {patched.console_path}, expected {console_path}"
    # libfdt: valid, version 17, and the intended edits only
    if rc := libfdt.fdt_check_full(bytearray(out), len(out)):
        return kind, f"libfdt rejects the result: {libfdt.fdt_strerror(rc)}"
    header = libfdt.Fdt(bytearray(out))
    if header.version() != 17:
        return kind, f"result has FDT version {header.version()}"
    after = flat(out)
    if after.reserve != before.reserve:
        return kind, f"reserve map changed: {before.reserve} -> {after.reserve}"
    if after.boot_cpu != before.boot_cpu:
        return kind, f"boot CPU changed: {before.boot_cpu} -> {after.boot_cpu}"
    if diff := differences(expected(before, console_path), after.nodes):
        return kind, "; ".join(diff[:5])
    # dtc: reads the result with its own parser (as source text, and as a blob it writes back),
    # and sees the same tree and reserve map as libfdt
    dts = dtc(["-I", "dtb", "-O", "dts"], out)
    if dts.returncode != 0:
        return kind, f"dtc cannot read the result: {dts.stderr.decode(errors='replace').strip()}"
    if [(int(a, 16), int(s, 16)) for a, s in _MEMRESERVE.findall(dts.stdout.decode())] != before.reserve:
        return kind, "dtc sees a different reserve map"
    again = dtc(["-I", "dtb", "-O", "dtb"], out)
    if again.returncode != 0:
        return kind, f"dtc cannot rewrite the result: {again.stderr.decode(errors='replace').strip()}"
    rewritten = flat(again.stdout)
    if diff := differences(after.nodes, rewritten.nodes):
        return kind, "dtc and libfdt disagree: " + "; ".join(diff[:5])
    if rewritten.reserve != after.reserve or rewritten.boot_cpu != after.boot_cpu:
        return kind, "dtc and libfdt disagree on the reserve map or boot CPU"
    return kind, None


def test_every_debian_arm64_dtb_patches_cleanly(debian_dtbs: list[Path]) -> None:
    assert len(debian_dtbs) >= 500, f"only {len(debian_dtbs)} DTBs in the Debian arm64 kernel package"
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(check, debian_dtbs))
    failures = [f"{p.name}: {why}" for p, (_, why) in zip(debian_dtbs, results, strict=True) if why is not None]
    kinds = {kind for kind, _ in results}
    assert not failures, f"{len(failures)} of {len(debian_dtbs)} DTBs failed:\n" + "\n".join(failures[:20])
    assert kinds == {"serial", "screen"}, f"the corpus exercised only {kinds}"


def test_the_checker_notices_an_unintended_edit(debian_dtbs: list[Path]) -> None:
    """The comparison above can fail: one changed byte outside the intended edits is reported."""
    path = debian_dtbs[0]
    before = flat(path.read_bytes())
    patched = dtb.patch(path.read_bytes(), dtb.PatchSpec(seeds=BOOT_SEEDS, console=pick("tty0"), framebuffer=FB))
    fdt = libfdt.Fdt(bytearray(patched.blob) + bytearray(64))
    fdt.resize(len(patched.blob) + 64)
    fdt.setprop_str(0, "model", "something else")
    fdt.pack()
    got = flat(bytes(fdt.as_bytearray())).nodes
    assert any(d.startswith("//model") for d in differences(expected(before, FB_NODE), got))
