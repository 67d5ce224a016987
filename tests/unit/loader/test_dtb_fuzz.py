"""Hostile device trees: the patcher returns a valid tree or a clear DtbError, nothing else."""

from __future__ import annotations

from pathlib import Path

import libfdt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bootd.errors import DtbError
from bootd.loader import dtb
from bootd.model import ChosenConsole, Console, Framebuffer
from tests.unit.loader.helpers import ARM64_DTS, DEMO_DTS, compile_dts

BOOT_SEEDS = dtb.Seeds(b"K" * 8, b"R" * 64)


def pick(text: str, *consoles: Console) -> ChosenConsole:
    """A console choice as the loader reads it."""
    return ChosenConsole.parse(text, consoles)


SEEDS = [compile_dts(ARM64_DTS), compile_dts(DEMO_DTS), compile_dts(DEMO_DTS, version=16)]
FB = Framebuffer("fb0", 640, 480, 32, 2560, 0x7FC00000, 640 * 480 * 4)
SPECS = [
    dtb.PatchSpec(seeds=BOOT_SEEDS, console=pick("serial0:115200")),
    dtb.PatchSpec(seeds=BOOT_SEEDS, console=pick("tty0"), framebuffer=FB, bootargs="quiet"),
    dtb.PatchSpec(
        seeds=BOOT_SEEDS, console=pick("hvc1"), framebuffer=FB, display_node="/pciex@600c3c0000000/pci@0/vga@0"
    ),
]


def outcome(blob: bytes, spec: dtb.PatchSpec) -> None:
    try:
        out = dtb.patch(blob, spec)
    except DtbError as e:
        assert str(e)
        return
    data = bytearray(out.blob)
    assert libfdt.fdt_check_full(data, len(data)) == 0
    dtb.diff(blob, out.blob)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    blob = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        pos = draw(st.integers(0, len(blob) - 1))
        blob[pos] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        blob = blob[: draw(st.integers(0, len(blob)))]
    return bytes(blob)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(), st.sampled_from(SPECS))
def test_mutated_trees(blob: bytes, spec: dtb.PatchSpec) -> None:
    outcome(blob, spec)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=512).map(lambda b: bytes.fromhex("d00dfeed") + b), st.sampled_from(SPECS))
def test_random_bytes_behind_the_magic(blob: bytes, spec: dtb.PatchSpec) -> None:
    outcome(blob, spec)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=40), st.sampled_from(SEEDS))
def test_any_console_text(console: str, blob: bytes) -> None:
    outcome(blob, dtb.PatchSpec(seeds=BOOT_SEEDS, console=pick(console)))


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_any_bootargs(bootargs: str) -> None:
    outcome(SEEDS[0], dtb.PatchSpec(seeds=BOOT_SEEDS, bootargs=bootargs))


def test_a_huge_cell_count_is_refused_not_allocated() -> None:
    # A hostile entry tree with #address-cells = 0x40000000 made the framebuffer
    # step encode a 4 GiB number (seen as 24 GB RSS while fuzzing).
    dts = "/dts-v1/;\n/ { #address-cells = <0x40000000>; #size-cells = <1>; chosen { }; };\n"
    with pytest.raises(DtbError, match="cells per number"):
        dtb.patch(compile_dts(dts), dtb.PatchSpec(seeds=BOOT_SEEDS, console=pick("tty0"), framebuffer=FB))


def test_a_v16_tree_that_opens_inconsistent_is_refused_not_a_crash() -> None:
    # Found by this file's fuzzing: libfdt accepts the tree, opening it as version
    # 17 gives an inconsistent header, and reading /chosen's properties then
    # crashed the whole process (segmentation fault).
    blob = (Path(__file__).resolve().parents[2] / "data/loader/fuzz-v16-header-crash.dtb").read_bytes()
    with pytest.raises(DtbError, match="once opened"):
        dtb.patch(blob, dtb.PatchSpec(seeds=BOOT_SEEDS, console=pick("serial0")))
