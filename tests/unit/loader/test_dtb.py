"""Device-tree patching, checked with the real dtc and libfdt."""

from __future__ import annotations

import os
import struct

import libfdt
import pytest

from bootd.errors import DtbError
from bootd.loader import dtb, fdt
from bootd.model import ChosenConsole, Console, ConsoleKind, Framebuffer
from tests.unit.loader.helpers import DEMO_DTS, changed, compile_dts, decompile, model_of

BOOT_SEEDS = dtb.Seeds(b"K" * 8, b"R" * 64)


def pick(text: str, *consoles: Console) -> ChosenConsole:
    """A console choice as the loader reads it."""
    return ChosenConsole.parse(text, consoles)


AMA0 = Console("ttyAMA0", ConsoleKind.SERIAL, "/pl011@9000000")
ARM_FB = Framebuffer("fb0", 1024, 768, 32, 4096, 0x7FC00000, 0x300000, "a8r8g8b8")
OPAL_FB = Framebuffer("fb0", 1024, 768, 32, 4096, 0x6000C0000000, 0x300000, "x8r8g8b8")
VGA = "/pciex@600c3c0000000/pci@0/vga@0"
ARM_STALE = {
    "linux,initrd-start",
    "linux,initrd-end",
    "kaslr-seed",
    "rng-seed",
    "linux,elfcorehdr",
    "linux,usable-memory-range",
    "linux,kexec-handover",
}
OPAL_STALE = {"linux,initrd-start", "linux,initrd-end", "kaslr-seed", "rng-seed", "linux,kexec-extra-data"}


def prop(blob: bytes, path: str, name: str) -> bytes | None:
    fdt = libfdt.Fdt(blob)
    off = fdt.path_offset(path, (libfdt.NOTFOUND,))
    if off < 0:
        return None
    value = fdt.getprop(off, name, (libfdt.NOTFOUND,))
    return None if isinstance(value, int) else bytes(value)


def text(blob: bytes, path: str, name: str) -> str | None:
    v = prop(blob, path, name)
    return None if v is None else v.rstrip(b"\0").decode()


def u32s(blob: bytes, path: str, name: str) -> list[int]:
    v = prop(blob, path, name)
    assert v is not None, f"{path}/{name} missing"
    return [c for (c,) in struct.iter_unpack(">I", v)]


def valid(blob: bytes) -> None:
    data = bytearray(blob)
    assert libfdt.fdt_check_full(data, len(data)) == 0
    assert libfdt.fdt_version(data) == 17
    decompile(blob)  # dtc reads it too


def test_serial_console_on_arm64_changes_only_chosen(arm64_dtb: bytes) -> None:
    out = dtb.patch(arm64_dtb, dtb.PatchSpec(seeds=BOOT_SEEDS, console=pick("ttyAMA0:115200n8", AMA0)))
    valid(out.blob)
    assert out.console_path == "/pl011@9000000:115200n8"
    assert text(out.blob, "/chosen", "stdout-path") == "/pl011@9000000:115200n8"
    assert text(out.blob, "/chosen", "linux,stdout-path") == "/pl011@9000000:115200n8"
    expected = {("/chosen", p) for p in ARM_STALE | {"stdout-path", "linux,stdout-path"}}
    assert changed(arm64_dtb, out.blob) == expected  # /memreserve/ kept: checked inside
    assert prop(out.blob, "/chosen", "linux,uefi-mmap-start") is not None
    assert libfdt.Fdt(out.blob).boot_cpuid_phys() == libfdt.Fdt(arm64_dtb).boot_cpuid_phys()


def test_alias_and_literal_paths_keep_options(arm64_dtb: bytes) -> None:
    by_alias = dtb.patch(arm64_dtb, dtb.PatchSpec(seeds=BOOT_SEEDS, console=pick("serial0:9600")))
    assert text(by_alias.blob, "/chosen", "stdout-path") == "/pl011@9000000:9600"
    literal = dtb.patch(arm64_dtb, dtb.PatchSpec(seeds=BOOT_SEEDS, console=pick("/pl011@9000000")))
    assert text(literal.blob, "/chosen", "linux,stdout-path") == "/pl011@9000000"


def test_opal_hvc_names_resolve_to_opal_console_nodes(opal_dtb: bytes) -> None:
    out = dtb.patch(opal_dtb, dtb.PatchSpec(seeds=BOOT_SEEDS, console=pick("hvc1")))
    assert text(out.blob, "/chosen", "stdout-path") == "/ibm,opal/consoles/serial@1"
    expected = {("/chosen", p) for p in OPAL_STALE | {"stdout-path", "linux,stdout-path"}}
    assert changed(opal_dtb, out.blob) == expected


@pytest.mark.parametrize(
    ("console", "message"),
    [
        ("ttyS7", "ttyS7 has no device-tree node"),
        ("hvc9", "hvc9 has no device-tree node"),
        ("/no/such/node:115200", "/no/such/node is not a node"),
        ("tty0", "no framebuffer"),
        (":115200", "no name"),
    ],
)
def test_unresolvable_consoles_are_clear_errors(opal_dtb: bytes, console: str, message: str) -> None:
    with pytest.raises(DtbError, match=message):
        dtb.patch(opal_dtb, dtb.PatchSpec(seeds=BOOT_SEEDS, console=pick(console)))


def test_framebuffer_without_display_node_becomes_simple_framebuffer(arm64_dtb: bytes) -> None:
    out = dtb.patch(arm64_dtb, dtb.PatchSpec(seeds=BOOT_SEEDS, console=pick("tty0"), framebuffer=ARM_FB))
    valid(out.blob)
    node = "/chosen/framebuffer@7fc00000"
    assert out.console_path == node and out.framebuffer_node == node
    assert text(out.blob, "/chosen", "stdout-path") == node
    assert text(out.blob, node, "compatible") == "simple-framebuffer"
    assert u32s(out.blob, node, "reg") == [0, 0x7FC00000, 0, 0x300000]
    assert [u32s(out.blob, node, n)[0] for n in ("width", "height", "stride")] == [1024, 768, 4096]
    assert text(out.blob, node, "format") == "a8r8g8b8"
    assert u32s(out.blob, "/chosen", "#address-cells") == [2] and u32s(out.blob, "/chosen", "#size-cells") == [2]
    assert prop(out.blob, "/chosen", "ranges") == b""
    res = "/reserved-memory/framebuffer@7fc00000"
    assert u32s(out.blob, res, "reg") == [0, 0x7FC00000, 0, 0x300000]
    assert prop(out.blob, res, "no-map") == b""
    assert prop(out.blob, "/reserved-memory", "ranges") == b""
    diffs = changed(arm64_dtb, out.blob)
    assert {p for p, _ in diffs} == {"/chosen", node, "/reserved-memory", res}


def test_serial_console_with_framebuffer_keeps_serial_stdout(arm64_dtb: bytes) -> None:
    out = dtb.patch(arm64_dtb, dtb.PatchSpec(seeds=BOOT_SEEDS, console=pick("ttyAMA0", AMA0), framebuffer=ARM_FB))
    assert text(out.blob, "/chosen", "stdout-path") == "/pl011@9000000"
    assert prop(out.blob, "/chosen/framebuffer@7fc00000", "reg") is not None


def test_offb_properties_on_covering_display_node(opal_dtb: bytes) -> None:
    out = dtb.patch(opal_dtb, dtb.PatchSpec(seeds=BOOT_SEEDS, console=pick("tty1"), framebuffer=OPAL_FB))
    valid(out.blob)
    assert out.framebuffer_node == VGA
    assert text(out.blob, "/chosen", "linux,stdout-path") == VGA
    assert [u32s(out.blob, VGA, n)[0] for n in ("width", "height", "depth", "linebytes")] == [1024, 768, 32, 4096]
    for flag in ("little-endian", "linux,opened", "linux,boot-display"):
        assert prop(out.blob, VGA, flag) == b""
    vga_changes = {p for n, p in changed(opal_dtb, out.blob) if n == VGA}
    assert vga_changes == {
        "width",
        "height",
        "depth",
        "linebytes",
        "little-endian",
        "linux,opened",
        "linux,boot-display",
    }
    assert not any(n.startswith("/chosen/framebuffer") for n, _ in changed(opal_dtb, out.blob))


def test_offb_pixels_are_in_the_byte_order_of_the_running_kernel(opal_dtb: bytes) -> None:
    # offb swaps pixels when the node names the other order than its own: a big-endian
    # menu kernel's framebuffer must not be handed on as little-endian
    spec = dtb.PatchSpec(seeds=BOOT_SEEDS, console=pick("tty1"), framebuffer=OPAL_FB, byte_order="big")
    out = dtb.patch(opal_dtb, spec)
    valid(out.blob)
    assert prop(out.blob, VGA, "big-endian") == b"" and prop(out.blob, VGA, "little-endian") is None
    little = dtb.patch(opal_dtb, dtb.PatchSpec(seeds=BOOT_SEEDS, framebuffer=OPAL_FB, byte_order="little"))
    assert prop(little.blob, VGA, "little-endian") == b"" and prop(little.blob, VGA, "big-endian") is None


def test_the_display_handed_on_is_the_only_boot_display(opal_dtb: bytes) -> None:
    # offb binds the first display node in tree order that is linux,opened and linux,boot-display:
    # another screen firmware marked, ahead of the one handed on, would take the next kernel's fb0
    tree = libfdt.Fdt(bytearray(opal_dtb))
    tree.resize(len(opal_dtb) + 512)
    other = tree.add_subnode(tree.path_offset("/pciex@600c3c0000000/pci@0"), "vga@1")
    tree.setprop_str(other, "device_type", "display")
    tree.setprop(other, "linux,opened", b"")
    tree.setprop(other, "linux,boot-display", b"")
    firmware = bytes(tree.as_bytearray())
    second = "/pciex@600c3c0000000/pci@0/vga@1"
    out = dtb.patch(firmware, dtb.PatchSpec(seeds=BOOT_SEEDS, console=pick("tty1"), framebuffer=OPAL_FB))
    valid(out.blob)
    assert out.framebuffer_node == VGA and prop(out.blob, VGA, "linux,boot-display") == b""
    assert prop(out.blob, second, "linux,boot-display") is None
    assert prop(out.blob, second, "linux,opened") == b""  # still a screen firmware opened
    assert any(n.startswith(f"{second}: no longer linux,boot-display") for n in out.notes), out.notes


def test_offb_keeps_the_byte_order_the_display_node_names(opal_dtb: bytes) -> None:
    # firmware said the pixels are big-endian (the menu kernel's offb swapped them): that stays the truth
    tree = libfdt.Fdt(bytearray(opal_dtb) + bytearray(256))
    tree.resize(len(opal_dtb) + 256)
    tree.setprop(tree.path_offset(VGA), "big-endian", b"")
    firmware = bytes(tree.as_bytearray())
    out = dtb.patch(firmware, dtb.PatchSpec(seeds=BOOT_SEEDS, framebuffer=OPAL_FB, byte_order="little"))
    assert prop(out.blob, VGA, "big-endian") == b"" and prop(out.blob, VGA, "little-endian") is None
    assert (VGA, "little-endian") not in changed(firmware, out.blob)


@pytest.mark.parametrize(
    ("arch", "order"), [("ppc64le", "little"), ("ppc64", "big"), ("aarch64", "little"), ("x86_64", "little")]
)
def test_byte_order_of_an_architecture(arch: str, order: str) -> None:
    assert dtb.byte_order(arch) == order


def test_display_node_gets_translated_assigned_address(opal_dtb: bytes) -> None:
    # 32 MiB above the BAR the tree lists: not covered, so a BAR entry is added
    fb = Framebuffer("fb0", 800, 600, 32, 3200, 0x6000C2000000, 0x1D4C00)
    out = dtb.patch(opal_dtb, dtb.PatchSpec(seeds=BOOT_SEEDS, framebuffer=fb, display_node=VGA))
    valid(out.blob)
    cells = u32s(out.blob, VGA, "assigned-addresses")
    # PCI 0x82000000 <-> CPU 0x6000c0000000 through both bridges' ranges
    assert cells[:5] == [0x82010010, 0, 0x82000000, 0, 0x1D4C00]
    assert cells[5:] == u32s(opal_dtb, VGA, "assigned-addresses")
    tree = fdt.Tree(fdt.load(out.blob))
    assert fdt.to_cpu(tree, VGA, cells[:3]) == fb.address
    assert out.notes and "assigned-addresses" in out.notes[0]


def test_version_16_in_version_17_out(opal_dtb: bytes) -> None:
    v16 = compile_dts(DEMO_DTS, version=16)
    assert struct.unpack_from(">I", v16, 20)[0] == 16
    spec = dtb.PatchSpec(seeds=BOOT_SEEDS, console=pick("hvc0"), framebuffer=OPAL_FB, bootargs="root=/dev/sda2")
    out16 = dtb.patch(v16, spec)
    valid(out16.blob)
    assert model_of(out16.blob) == model_of(dtb.patch(opal_dtb, spec).blob)
    assert model_of(out16.blob)[0] == model_of(v16)[0]  # /memreserve/ kept


def test_bootargs_initrd_and_extra_reserve(arm64_dtb: bytes) -> None:
    spec = dtb.PatchSpec(
        seeds=BOOT_SEEDS, bootargs="root=/dev/vda ro", initrd=(0x48000000, 0x48800000), reserve=((0x1000, 0x2000),)
    )
    out = dtb.patch(arm64_dtb, spec)
    valid(out.blob)
    assert text(out.blob, "/chosen", "bootargs") == "root=/dev/vda ro"
    assert u32s(out.blob, "/chosen", "linux,initrd-start") == [0, 0x48000000]
    assert u32s(out.blob, "/chosen", "linux,initrd-end") == [0, 0x48800000]
    fdt = libfdt.Fdt(out.blob)
    assert [tuple(fdt.get_mem_rsv(i)) for i in range(fdt.num_mem_rsv())] == [(0x48000000, 0x100000), (0x1000, 0x2000)]


def test_diff_says_what_changed(arm64_dtb: bytes) -> None:
    out = dtb.patch(
        arm64_dtb, dtb.PatchSpec(seeds=BOOT_SEEDS, console=pick("tty0"), framebuffer=ARM_FB, bootargs="quiet")
    )
    lines = dtb.diff(arm64_dtb, out.blob)
    assert "~ /chosen/kaslr-seed: <0x1a2b3c4d 0x5e6f7081> -> <0x4b4b4b4b 0x4b4b4b4b>" in lines
    assert '+ /chosen/linux,stdout-path = "/chosen/framebuffer@7fc00000"' in lines
    assert '~ /chosen/bootargs: "console=ttyAMA0 case=serial" -> "quiet"' in lines
    assert "+ /chosen/framebuffer@7fc00000 (node)" in lines
    assert "+ /reserved-memory/framebuffer@7fc00000/no-map" in lines
    assert dtb.diff(arm64_dtb, arm64_dtb) == []
    v16 = compile_dts(DEMO_DTS, version=16)
    assert dtb.diff(v16, dtb.patch(v16, dtb.PatchSpec(seeds=BOOT_SEEDS)).blob)[0] == "~ header version: 16 -> 17"


def test_show_lists_nodes_properties_and_reserve_map(opal_dtb: bytes) -> None:
    lines = dtb.show(opal_dtb)
    assert lines[0].startswith("/dts-v1/; // version 17")
    assert "/memreserve/ 0x30000000 0x1000000;" in lines
    assert "            serial@1 {" in lines
    assert '    model = "bootd demo OpenPOWER machine";' in lines
    assert lines.count("};") == 1 and lines[-1] == "};"
    assert sum(line.strip().endswith("{") for line in lines) == sum(line.strip() == "};" for line in lines)


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (b"", "too short"),
        (b"\0" * 64, "bad magic"),
        (bytes.fromhex("d00dfeed") + b"\0" * 60, "invalid device tree"),
    ],
)
def test_garbage_is_a_clear_error(blob: bytes, message: str) -> None:
    with pytest.raises(DtbError, match=message):
        dtb.patch(blob, dtb.PatchSpec(seeds=BOOT_SEEDS, console=pick("serial0")))


def test_truncated_tree_is_refused(arm64_dtb: bytes) -> None:
    with pytest.raises(DtbError, match="invalid device tree"):
        dtb.patch(arm64_dtb[: len(arm64_dtb) // 2], dtb.PatchSpec(seeds=BOOT_SEEDS))


def test_nul_in_bootargs_is_refused(arm64_dtb: bytes) -> None:
    with pytest.raises(DtbError, match="NUL"):
        dtb.patch(arm64_dtb, dtb.PatchSpec(seeds=BOOT_SEEDS, bootargs="root=/dev/vda\0 evil"))


def test_existing_simple_framebuffer_is_updated_not_duplicated(arm64_dtb: bytes) -> None:
    # firmware already described the framebuffer (as QEMU's ramfb boot does): update it in place
    first = dtb.patch(arm64_dtb, dtb.PatchSpec(seeds=BOOT_SEEDS, framebuffer=ARM_FB)).blob
    bigger = Framebuffer("fb0", 1280, 800, 32, 5120, 0x7FC00000, 5120 * 800)
    node = "/chosen/framebuffer@7fc00000"
    for display in (node, None):
        out = dtb.patch(
            first, dtb.PatchSpec(seeds=BOOT_SEEDS, console=pick("tty0"), framebuffer=bigger, display_node=display)
        )
        valid(out.blob)
        assert out.console_path == node
        assert {(n, p) for n, p in changed(first, out.blob)} == {
            ("/chosen", "stdout-path"),
            ("/chosen", "linux,stdout-path"),
            (node, "reg"),
            (node, "width"),
            (node, "height"),
            (node, "stride"),
            ("/reserved-memory/framebuffer@7fc00000", "reg"),
        }
        assert prop(out.blob, node, "linebytes") is None  # no offb properties on a simple-framebuffer


# -- boot seeds ----------------------------------------------------------------
def test_seeds_are_replaced_by_fresh_ones_never_dropped_or_handed_on(arm64_dtb: bytes) -> None:
    old_kaslr, old_rng = prop(arm64_dtb, "/chosen", "kaslr-seed"), prop(arm64_dtb, "/chosen", "rng-seed")
    assert old_kaslr is not None and old_rng is not None
    seeds = dtb.Seeds.fresh(os.urandom)
    out = dtb.patch(arm64_dtb, dtb.PatchSpec(seeds=seeds, console=pick("ttyAMA0", AMA0)))
    valid(out.blob)
    assert prop(out.blob, "/chosen", "kaslr-seed") == seeds.kaslr != old_kaslr
    assert prop(out.blob, "/chosen", "rng-seed") == seeds.rng != old_rng
    assert len(seeds.kaslr) == 8 and len(seeds.rng) >= 64
    again = dtb.Seeds.fresh(os.urandom)
    assert (again.kaslr, again.rng) != (seeds.kaslr, seeds.rng)


def test_a_tree_with_seeds_is_not_patched_without_fresh_ones(arm64_dtb: bytes) -> None:
    with pytest.raises(DtbError, match="KASLR"):
        dtb.patch(arm64_dtb, dtb.PatchSpec(console=pick("ttyAMA0", AMA0)))


BARE_DTS = '/dts-v1/;\n/ { #address-cells = <2>; #size-cells = <2>; chosen { bootargs = "quiet"; }; };\n'


def test_seeds_are_added_to_a_tree_without_them_unless_turned_off() -> None:
    bare = compile_dts(BARE_DTS)
    assert prop(bare, "/chosen", "kaslr-seed") is None and prop(bare, "/chosen", "rng-seed") is None
    kept = dtb.patch(bare, dtb.PatchSpec(seeds=dtb.Seeds(b"c" * 8, b"d" * 64, add=False)))
    assert prop(kept.blob, "/chosen", "kaslr-seed") is None
    assert any("add_boot_seeds is off" in n for n in kept.notes)
    added = dtb.patch(bare, dtb.PatchSpec(seeds=BOOT_SEEDS))
    valid(added.blob)
    assert prop(added.blob, "/chosen", "kaslr-seed") == BOOT_SEEDS.kaslr
    assert prop(added.blob, "/chosen", "rng-seed") == BOOT_SEEDS.rng
    assert any("added" in n for n in added.notes)


def test_short_seeds_are_refused(opal_dtb: bytes) -> None:
    with pytest.raises(DtbError, match="at least 64"):
        dtb.patch(opal_dtb, dtb.PatchSpec(seeds=dtb.Seeds(b"k" * 8, b"r" * 16)))


def test_a_hook_tree_gets_fresh_seeds_and_nothing_else(arm64_dtb: bytes) -> None:
    out, notes = dtb.refresh_seeds(arm64_dtb, BOOT_SEEDS)
    valid(out)
    assert changed(arm64_dtb, out) == {("/chosen", "kaslr-seed"), ("/chosen", "rng-seed")}
    assert prop(out, "/chosen", "kaslr-seed") == BOOT_SEEDS.kaslr
    assert notes == ()


def test_show_marks_the_seeds(arm64_dtb: bytes) -> None:
    lines = [line for line in dtb.show(arm64_dtb) if "seed" in line]
    assert len(lines) == 2 and all(line.endswith(dtb.SEED_MARK) for line in lines)


def test_for_kexec_tools_on_arm64_the_kaslr_seed_is_the_zero_it_fills() -> None:
    seeds = dtb.Seeds.fresh(os.urandom, kexec_tools_kaslr=True)
    assert seeds.kaslr == bytes(8) and len(seeds.rng) == dtb.RNG_SEED_BYTES
    assert dtb.Seeds.fresh(os.urandom).kaslr != bytes(8)
