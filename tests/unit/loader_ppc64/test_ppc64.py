"""bootd.loader.ppc64: the kernel file that carries the initrd, and the blob
kexec-tools' ppc64 ``--dtb`` path gets; checked with readelf, dtc and libfdt.
(The boot itself is proven in tests/e2e/test_kexec_ppc64.py.)"""

from __future__ import annotations

import os
import re
import struct
import subprocess
from pathlib import Path

import libfdt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bootd.errors import KexecError
from bootd.loader import dtb, ppc64

EHDR = "16sHHIQQQIHHHHHH"
PHDR = "IIQQQQQQ"
PT_LOAD, PT_NOTE = 1, 4


def elf(*, endian: str = "<", machine: int = 21, klass: int = 2, text: int = 0x3000, memsz: int = 0x5000) -> bytes:
    """A small ppc64 ELF executable: one PT_LOAD at physical 0 and a PT_NOTE, section table at the end."""
    ident = b"\x7fELF" + bytes([klass, 1 if endian == "<" else 2, 1]) + bytes(9)
    body_off = 0x10000
    phdrs = [
        (PT_LOAD, 7, body_off, 0xC000000000000000, 0, text, memsz, 0x10000),
        (PT_NOTE, 4, body_off + 0x100, 0xC000000000000100, 0x100, 0x20, 0x20, 4),
    ]
    shoff = body_off + text
    header = struct.pack(endian + EHDR, ident, 2, machine, 1, 0xC000000000000000, 64, shoff, 0, 64, 56, 2, 64, 1, 0)
    table = b"".join(struct.pack(endian + PHDR, *p) for p in phdrs)
    body = bytes((i * 7) & 0xFF for i in range(text))
    return header + table + bytes(body_off - 64 - len(table)) + body + bytes(64)


def readelf_loads(path: Path) -> list[tuple[int, int, int, int]]:
    """(offset, physaddr, filesz, memsz) of every LOAD, as binutils reads them."""
    out = subprocess.run(["readelf", "-lW", str(path)], capture_output=True, text=True, check=True).stdout
    rows = re.findall(r"^\s+LOAD\s+(0x\w+)\s+0x\w+\s+(0x\w+)\s+(0x\w+)\s+(0x\w+)", out, re.M)
    return [tuple(int(v, 16) for v in row) for row in rows]  # type: ignore[misc]


@pytest.mark.parametrize("endian", ["<", ">"])
def test_staged_kernel_carries_the_initrd_as_one_more_load_segment(tmp_path: Path, endian: str) -> None:
    kernel, initrd, dest = tmp_path / "vmlinux", tmp_path / "initrd", tmp_path / "staged"
    kernel.write_bytes(elf(endian=endian))
    payload = os.urandom(123_457)
    initrd.write_bytes(payload)
    plan = ppc64.stage_kernel(kernel, initrd, dest, floor=0x2890000)
    loads = readelf_loads(dest)
    assert loads[0] == (0x10000, 0, 0x3000, 0x5000)  # the kernel's own segment is untouched
    assert loads[1] == (plan.initrd_offset, plan.initrd_addr, len(payload), len(payload))
    data = dest.read_bytes()
    assert data[plan.initrd_offset :] == payload
    original = kernel.read_bytes()
    assert data[64 : len(original)] == original[64:]  # nothing inside the image moved
    assert plan.initrd_addr % ppc64.INITRD_ALIGN == 0
    assert plan.initrd_addr >= 0x2890000 + 0x5000 + ppc64.INITRD_GUARD


@settings(max_examples=200, deadline=None)
@given(floor=st.integers(0, 1 << 40) | st.none(), memsz=st.integers(0x1000, 1 << 30))
def test_initrd_address_is_aligned_and_above_the_new_kernel(floor: int | None, memsz: int) -> None:
    head = elf(memsz=memsz)
    addr = ppc64.initrd_address(head, floor=floor)
    base = ppc64.FLOOR_FALLBACK if floor is None else floor
    assert addr % ppc64.INITRD_ALIGN == 0
    assert base + memsz + ppc64.INITRD_GUARD <= addr < base + memsz + ppc64.INITRD_GUARD + ppc64.INITRD_ALIGN


@pytest.mark.parametrize(
    ("head", "message"),
    [
        (b"MZ" + bytes(100), "not an ELF file"),
        (elf(klass=1), "32-bit"),
        (elf(machine=62), "not ppc64"),
        (elf()[:100], "not at the start of the file"),
    ],
)
def test_kernels_that_cannot_carry_an_initrd_are_clear_errors(head: bytes, message: str) -> None:
    with pytest.raises(KexecError, match=message):
        ppc64.plan_initrd_segment(head, file_size=1 << 20, initrd_size=4096)


def test_empty_initrd_is_refused() -> None:
    with pytest.raises(KexecError, match="initrd is empty"):
        ppc64.plan_initrd_segment(elf(), file_size=len(elf()), initrd_size=0)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512))
def test_any_kernel_bytes_give_a_plan_or_a_kexec_error(head: bytes) -> None:
    try:
        ppc64.plan_initrd_segment(head, file_size=1 << 24, initrd_size=4096)
    except KexecError:
        pass


def compile_dts(source: str, *, version: int = 17) -> bytes:
    return subprocess.run(
        ["dtc", "-q", "-I", "dts", "-O", "dtb", "-V", str(version)],
        input=source.encode(),
        capture_output=True,
        check=True,
    ).stdout


PSERIES = """/dts-v1/;
/memreserve/ 0x0000000003f00000 0x0000000000100000;
/memreserve/ 0x000000003fff0000 0x0000000000010000;
/ {
    #address-cells = <2>; #size-cells = <2>;
    chosen {
        bootargs = "console=hvc0 retain_initrd";
        linux,stdout-path = "/vdevice/vty@71000000";
        linux,initrd-start = <0x0 0x2c90000>;
        linux,initrd-end = <0x0 0x477838d>;
        linux,kernel-end = <0x0 0x2890000>;
    };
    vdevice { vty@71000000 { compatible = "hvterm1"; reg = <0x71000000>; }; };
};
"""


def chosen(blob: bytes, name: str) -> bytes | None:
    fdt = libfdt.Fdt(bytearray(blob))
    off = fdt.path_offset("/chosen")
    value = fdt.getprop(off, name, [libfdt.FDT_ERR_NOTFOUND])
    return None if isinstance(value, int) else bytes(value)


def check_with_dtc(blob: bytes) -> str:
    assert libfdt.fdt_check_full(bytearray(blob), len(blob)) == 0
    return subprocess.run(
        ["dtc", "-q", "-I", "dtb", "-O", "dts"], input=blob, capture_output=True, check=True
    ).stdout.decode()


SEEDS = dtb.Seeds(b"K" * 8, b"R" * 64)


def ppc64_blob(source: bytes, *, bootargs: str, initrd: tuple[int, int] | None) -> bytes:
    """The one patch the loader makes on ppc64: bootargs, initrd range, the spare reserve entry."""
    rng = (initrd[0], initrd[0] + initrd[1]) if initrd is not None else None
    spec = dtb.PatchSpec(seeds=SEEDS, bootargs=bootargs, initrd=rng, reserve=(ppc64.spare_reserve(source, initrd),))
    return dtb.patch(source, spec).blob


def test_patched_blob_carries_bootargs_initrd_and_a_spare_reserve_entry() -> None:
    source = compile_dts(PSERIES, version=16)
    assert libfdt.Fdt(bytearray(source)).version() == 16  # what POWER firmware hands over
    out = ppc64_blob(source, bootargs="root=/dev/sda2 quiet", initrd=(0x5200000, 0x13C37D))
    assert libfdt.Fdt(bytearray(out)).version() == 17
    check_with_dtc(out)
    assert chosen(out, "bootargs") == b"root=/dev/sda2 quiet\0"
    assert chosen(out, "linux,initrd-start") == (0x5200000).to_bytes(8, "big")
    assert chosen(out, "linux,initrd-end") == (0x5200000 + 0x13C37D).to_bytes(8, "big")
    assert chosen(out, "linux,stdout-path") == b"/vdevice/vty@71000000\0"
    assert ppc64.reserve_map(out) == [(0x3F00000, 0x100000), (0x3FFF0000, 0x10000), (0x3FFF0000, 0x10000)]


def test_kexec_tools_overwriting_the_last_reserve_entry_loses_no_reservation() -> None:
    out = bytearray(ppc64_blob(compile_dts(PSERIES), bootargs="", initrd=None))
    # what kexec-tools does on ppc64: the last entry before the terminator becomes the blob's own range
    off = struct.unpack_from(">I", out, 16)[0] + 16 * (len(ppc64.reserve_map(bytes(out))) - 1)
    struct.pack_into(">QQ", out, off, 0x3FE00000, len(out))
    assert ppc64.reserve_map(bytes(out)) == [(0x3F00000, 0x100000), (0x3FFF0000, 0x10000), (0x3FE00000, len(out))]


def test_without_initrd_the_running_kernels_initrd_is_not_handed_on() -> None:
    out = ppc64_blob(compile_dts(PSERIES), bootargs="quiet", initrd=None)
    assert chosen(out, "linux,initrd-start") is None and chosen(out, "linux,initrd-end") is None
    assert chosen(out, "bootargs") == b"quiet\0"


def test_a_tree_without_chosen_or_reserve_entries_gets_both() -> None:
    out = ppc64_blob(compile_dts("/dts-v1/;\n/ { };\n"), bootargs="a=b", initrd=(0x4000000, 16))
    check_with_dtc(out)
    assert chosen(out, "bootargs") == b"a=b\0"
    assert ppc64.reserve_map(out) == [(0x4000000, 16)]  # the spare slot is harmless if kept
    bare = ppc64_blob(compile_dts("/dts-v1/;\n/ { };\n"), bootargs="", initrd=None)
    assert len(ppc64.reserve_map(bare)) == 1


def test_load_floor_reads_the_running_kernels_end() -> None:
    assert ppc64.load_floor(compile_dts(PSERIES)) == 0x2890000
    assert ppc64.load_floor(compile_dts("/dts-v1/;\n/ { chosen { linux,kernel-end = <0x1234000>; }; };\n")) == 0x1234000
    assert ppc64.load_floor(compile_dts("/dts-v1/;\n/ { chosen { }; };\n")) is None
    assert ppc64.load_floor(b"garbage") is None


def test_ppc64_is_the_architecture_whose_blob_carries_all() -> None:
    assert ppc64.needs_dtb_strategy("ppc64le") and ppc64.needs_dtb_strategy("ppc64")
    assert not ppc64.needs_dtb_strategy("aarch64")


SMALL = """/dts-v1/;
/memreserve/ 0x0000000013900000 0x0000000000400000;
/ {
    #address-cells = <2>; #size-cells = <2>;
    memory@0 { device_type = "memory"; reg = <0x0 0x0 0x0 0x20000000>; };
    memory@40000000 { device_type = "memory"; reg = <0x0 0x40000000 0x0 0x40000000>; };
    reserved-memory {
        #address-cells = <2>; #size-cells = <2>; ranges;
        opal@14000000 { reg = <0x0 0x14000000 0x0 0x2000000>; };
    };
    chosen { linux,kernel-end = <0x0 0x3000000>; };
};
"""


def test_memory_layout_reads_memory_nodes_and_every_reservation() -> None:
    layout = ppc64.memory_layout(compile_dts(SMALL), None, b"garbage")
    assert layout.memory == ((0, 0x20000000), (0x40000000, 0x80000000))
    assert layout.reserved == ((0x13900000, 0x13D00000), (0x14000000, 0x16000000))


def test_the_initrd_skips_reservations_and_memory_holes_where_the_fixed_rule_lands_on_them() -> None:
    head = elf(memsz=0x10000000)  # a kernel whose image ends 256 MiB above the floor
    layout = ppc64.memory_layout(compile_dts(SMALL))
    floor = ppc64.load_floor(compile_dts(SMALL))
    fixed = ppc64.initrd_address(head, floor=floor)
    assert fixed == 0x13100000  # the old rule: just above the kernel ...
    size = 0x1000000
    assert any(a < fixed + size and fixed < b for a, b in layout.reserved)  # ... onto OPAL's reservation
    placed = ppc64.initrd_address(head, floor=floor, size=size, layout=layout)
    assert placed >= fixed and placed % ppc64.INITRD_ALIGN == 0
    assert not any(a < placed + size and placed < b for a, b in layout.reserved)
    assert any(a <= placed and placed + size <= b for a, b in layout.memory)
    # an initrd too big for what is left of the first range goes to the next one
    big = ppc64.initrd_address(head, floor=floor, size=0x20000000, layout=layout)
    assert big == 0x40000000
    with pytest.raises(KexecError, match="no room"):
        ppc64.initrd_address(head, floor=floor, size=0x80000000, layout=layout)


def test_the_spare_reserve_entry_copies_the_last_one_else_the_initrd() -> None:
    assert ppc64.spare_reserve(compile_dts(PSERIES), (0x5200000, 16)) == (0x3FFF0000, 0x10000)
    bare = compile_dts("/dts-v1/;\n/ { };\n")
    assert ppc64.spare_reserve(bare, (0x5200000, 16)) == (0x5200000, 16)
    assert ppc64.spare_reserve(bare, None) == (0, 0x10000)
