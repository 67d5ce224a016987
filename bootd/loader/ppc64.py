"""Booting an entry with an initrd *and* a patched device tree on ppc64.

The problem.  kexec-tools (2.0.x, the ``kexec_load`` path that takes
``--dtb``) treats a device tree blob on ppc64 as the complete hand-over:

* ``--append`` is ignored, the command line is whatever ``/chosen/bootargs``
  in the blob says;
* ``--initrd`` is refused ("Can't use ramdisk with device tree blob input");
* the *last* ``/memreserve/`` entry of the blob is overwritten with the
  blob's own load address and size (it assumes a slot was left for it).

``kexec -s`` (``kexec_file_load``) takes an initrd and a command line but no
device tree at all, so the console and framebuffer patches would be lost.

The choice.  bootd keeps ``kexec -l --dtb`` and carries the initrd *inside
the kernel image*: the ELF ``vmlinux`` gets one more ``PT_LOAD`` program
header whose bytes are the initrd and whose physical address is chosen by
bootd.  kexec-tools loads every ``PT_LOAD`` segment of an ELF kernel at its
physical address (only the first one is moved, to the lowest free hole), so
the initrd lands exactly where bootd said, and bootd writes that range into
``/chosen/linux,initrd-start`` / ``linux,initrd-end`` of the blob, next to
``/chosen/bootargs``.  The new kernel reserves the initrd from those
properties before its first allocation.  The address is just above the new
kernel as kexec-tools places it: kexec-tools keeps the running kernel's image
(``/chosen/linux,kernel-end``) out of its holes and loads the new kernel at
the lowest hole above it, and the new kernel later copies itself down to 0;
the initrd goes above both, 1 MiB aligned with 1 MiB to spare, where nothing
else is loaded (purgatory and the blob take other holes).  The address is
computed from the trees (:func:`memory_layout`): the first one above the new
kernel that lies inside a ``/memory`` range and clear of every ``/memreserve/``
entry and ``/reserved-memory`` region, of the tree handed on and of the
running kernel's.  When the blob does not carry ``linux,kernel-end`` (an
entry's own DTB), the running kernel's tree says where it ends; only when
neither does, 256 MiB is assumed.  A
spare ``/memreserve/`` entry (a copy of the last one, or the initrd range) is
appended for kexec-tools to overwrite, so no firmware reservation is lost and
nothing breaks if a kexec build does not overwrite it.  Measured with
Debian 12's kexec-tools 2.0.25 and kernel 6.1 on qemu ``pseries`` (the
end-to-end test boots an entry this way); a kexec-tools that accepts
``--initrd`` with ``--dtb`` is still fine, since bootd passes neither
``--initrd`` nor ``--append``.

Rejected alternatives: reusing the running initrd (``retain_initrd`` and
``--reuseinitrd``) boots the menu's own initrd, never the entry's; guessing
where kexec-tools will place a padded blob (``--mem-min``/``--mem-max``)
breaks with any change in its hole search; loading segments with our own
``kexec_load`` call would need our own purgatory.

The functions here are pure (bytes in, bytes out) except :func:`stage_kernel`,
which writes the combined kernel file; the loader calls them when
:func:`needs_dtb_strategy` says so.  Every failure is a :class:`KexecError` or
:class:`DtbError` with a message for people.
"""

from __future__ import annotations

import shutil
import struct
from dataclasses import dataclass
from pathlib import Path

import libfdt

from bootd.errors import DtbError, KexecError
from bootd.loader.fdt import getprop
from bootd.model import N_

PPC64_ARCHES = frozenset({"ppc64", "ppc64le"})
"""``uname -m`` values this strategy applies to."""

HEAD_BYTES = 64 * 1024
"""Bytes from the start of a kernel file that hold its ELF and program headers."""

INITRD_ALIGN = 1 << 20
"""Alignment of the initrd's physical address."""
INITRD_GUARD = 1 << 20
"""Free space kept between the end of the kernel image and the initrd."""
FLOOR_FALLBACK = 256 << 20
"""Assumed end of the running kernel when the device tree does not say."""

_PT_LOAD = 1
_PF_R = 4
_EHDR64 = "16sHHIQQQIHHHHHH"
_PHDR64 = "IIQQQQQQ"
_EM_PPC64 = 21
_FDT_HEADER = ">10I"
_RSV_ENTRY = ">QQ"


def needs_dtb_strategy(arch: str) -> bool:
    """Whether a boot with a patched DTB on ``arch`` must go through this module."""
    return arch in PPC64_ARCHES


@dataclass(frozen=True)
class InitrdSegment:
    """How to turn a kernel file into one that also carries the initrd.

    Copy the kernel, overwrite its first ``len(header)`` bytes with ``header``,
    append ``tail`` at the old end of file, then the initrd bytes (they start
    at ``initrd_offset``).  The initrd is loaded at physical ``initrd_addr``.
    """

    initrd_addr: int
    initrd_size: int
    header: bytes
    tail: bytes
    initrd_offset: int


@dataclass(frozen=True)
class _Elf:
    endian: str
    fields: tuple[int | bytes, ...]
    phoff: int
    phentsize: int
    phdrs: tuple[tuple[int, ...], ...]


def _align(value: int, to: int) -> int:
    return (value + to - 1) // to * to


def _read_elf(head: bytes) -> _Elf:
    if len(head) < 64 or head[:4] != b"\x7fELF":
        raise KexecError.of(N_("the kernel is not an ELF file (ppc64 kernels are booted as vmlinux)"))
    if head[4] != 2:
        raise KexecError.of(N_("the kernel is a 32-bit ELF file, not a ppc64 kernel"))
    if head[5] not in (1, 2):
        raise KexecError.of(N_("the kernel's ELF header names no byte order"))
    endian = "<" if head[5] == 1 else ">"
    fields = struct.unpack_from(endian + _EHDR64, head)
    machine, phoff, phentsize, phnum = int(fields[2]), int(fields[5]), int(fields[9]), int(fields[10])
    if machine != _EM_PPC64:
        raise KexecError.of(N_("the kernel is built for ELF machine {machine}, not ppc64"), machine=machine)
    if phentsize != struct.calcsize(_PHDR64) or phnum in (0, 0xFFFF):
        raise KexecError.of(N_("the kernel's ELF program header table is malformed"))
    if phoff + phentsize * phnum > len(head):
        raise KexecError.of(N_("the kernel's ELF program headers are not at the start of the file"))
    phdrs = tuple(struct.unpack_from(endian + _PHDR64, head, phoff + i * phentsize) for i in range(phnum))
    if not any(p[0] == _PT_LOAD for p in phdrs):
        raise KexecError.of(N_("the kernel has no loadable ELF segment"))
    return _Elf(endian, fields, phoff, phentsize, phdrs)


def kernel_span(head: bytes) -> int:
    """Bytes from the kernel's load address to the end of its image (bss included)."""
    elf = _read_elf(head)
    end = 0
    for i, p in enumerate(elf.phdrs):
        if p[0] == _PT_LOAD:
            end = max(end, (0 if i == 0 else p[4]) + p[6])
    return end


def load_floor(fdt: bytes) -> int | None:
    """Where kexec-tools will load the new kernel, from the running kernel's tree.

    kexec-tools keeps the running kernel's image (``/chosen/linux,kernel-end``,
    which a ppc64 kernel publishes for kexec) out of its free holes and puts the
    new kernel at the lowest hole above it; the new kernel copies itself down
    to 0 when it starts.  None when the tree does not say.
    """
    try:
        tree = libfdt.Fdt(bytearray(fdt))
        chosen = tree.path_offset("/chosen", [libfdt.FDT_ERR_NOTFOUND])
        if chosen < 0:
            return None
        value = getprop(tree, chosen, "linux,kernel-end")
    except Exception:  # an unreadable tree is reported by the patch (dtb.patch); here it only means "unknown"
        return None
    if value is None or len(value) not in (4, 8):
        return None
    return int.from_bytes(value, "big")


@dataclass(frozen=True)
class MemoryLayout:
    """What the device trees say about physical memory: the ranges that exist
    and the ranges that must not be touched, each ``(start, end)``."""

    memory: tuple[tuple[int, int], ...] = ()
    reserved: tuple[tuple[int, int], ...] = ()


def _reg(value: bytes | None, na: int, ns: int) -> list[tuple[int, int]]:
    if not value or not 0 < na <= 4 or not 0 <= ns <= 4 or (na + ns) == 0:
        return []
    width = 4 * (na + ns)
    out = []
    for at in range(0, len(value) - width + 1, width):
        cs = struct.unpack_from(f">{na + ns}I", value, at)
        start = int.from_bytes(b"".join(c.to_bytes(4, "big") for c in cs[:na]), "big")
        size = int.from_bytes(b"".join(c.to_bytes(4, "big") for c in cs[na:]), "big")
        if size:
            out.append((start, start + size))
    return out


def memory_layout(*blobs: bytes | None) -> MemoryLayout:
    """Memory and reservations from ``/memory`` nodes (``device_type =
    "memory"``), the ``/memreserve/`` map and ``/reserved-memory`` of every
    tree given (the one handed on, the running kernel's): an unreadable tree
    adds nothing."""
    memory: set[tuple[int, int]] = set()
    reserved: set[tuple[int, int]] = set()
    for blob in blobs:
        if not blob:
            continue
        try:
            tree = libfdt.Fdt(bytearray(blob))
            reserved.update((a, a + s) for a, s in reserve_map(blob) if s)
            cells = _cells_of(tree, 0)
            off, depth = 0, 0
            while off >= 0 and depth >= 0:
                name = tree.get_name(off)
                if depth == 1 and _prop(tree, off, "device_type") == b"memory\0":
                    memory.update(_reg(_prop(tree, off, "reg"), *cells))
                if depth == 1 and name == "reserved-memory":
                    inner = _cells_of(tree, off)
                    child = tree.first_subnode(off, [libfdt.FDT_ERR_NOTFOUND])
                    while child >= 0:
                        reserved.update(_reg(_prop(tree, child, "reg"), *inner))
                        child = tree.next_subnode(child, [libfdt.FDT_ERR_NOTFOUND])
                off, depth = tree.next_node(off, depth, [libfdt.FDT_ERR_NOTFOUND])
        except Exception:  # an unreadable tree is reported by the patch (dtb.patch); here it only adds nothing
            continue
    return MemoryLayout(tuple(sorted(memory)), tuple(sorted(reserved)))


def _prop(tree: libfdt.Fdt, off: int, name: str) -> bytes | None:
    return getprop(tree, off, name)


def _cells_of(tree: libfdt.Fdt, off: int) -> tuple[int, int]:
    def get(name: str, default: int) -> int:
        v = _prop(tree, off, name)
        return int.from_bytes(v, "big") if v is not None and len(v) == 4 else default

    return get("#address-cells", 2), get("#size-cells", 1)


def initrd_address(head: bytes, *, floor: int | None = None, size: int = 0, layout: MemoryLayout | None = None) -> int:
    """Where the initrd goes: above the new kernel as kexec-tools will place it.

    The new kernel lands at ``floor`` (see :func:`load_floor`; unknown means
    :data:`FLOOR_FALLBACK`) and runs from 0 after copying itself there, so the
    initrd goes above both, aligned to :data:`INITRD_ALIGN` with
    :data:`INITRD_GUARD` to spare (this also covers kexec-tools' page rounding).
    With a ``layout``, the ``size`` bytes are placed at the first such address
    that lies inside one memory range and clear of every reservation (with the
    same guard); :class:`KexecError` when memory has no such room.
    """
    base = FLOOR_FALLBACK if floor is None else floor
    addr = _align(base + kernel_span(head) + INITRD_GUARD, INITRD_ALIGN)
    if layout is None or not layout.memory:
        return addr
    for start, end in layout.memory:
        cand = max(addr, _align(start, INITRD_ALIGN))
        moved = True
        while moved:
            moved = False
            for r_start, r_end in layout.reserved:
                if r_start < cand + size + INITRD_GUARD and cand < r_end + INITRD_GUARD:
                    cand = _align(r_end + INITRD_GUARD, INITRD_ALIGN)
                    moved = True
        if cand + size <= end:
            return cand
    raise KexecError.of(
        N_("no room for a {size}-byte initrd above the new kernel in the memory the device tree describes"), size=size
    )


def plan_initrd_segment(
    head: bytes, *, file_size: int, initrd_size: int, floor: int | None = None, layout: MemoryLayout | None = None
) -> InitrdSegment:
    """Plan a kernel file that carries the initrd as one more ``PT_LOAD`` segment.

    ``head`` holds at least the ELF header and program header table (the first
    :data:`HEAD_BYTES` of the file are enough for any kernel); ``file_size`` is
    the kernel file's size; ``floor`` as for :func:`initrd_address`.  The
    program header table is rewritten at the end of the file with one more
    entry, so nothing inside the image moves.
    """
    if initrd_size <= 0:
        raise KexecError.of(N_("the initrd is empty"))
    if file_size < min(len(head), HEAD_BYTES):
        raise KexecError.of(N_("the kernel file is shorter than its headers"))
    elf = _read_elf(head)
    addr = initrd_address(head, floor=floor, size=initrd_size, layout=layout)
    first = next(p for p in elf.phdrs if p[0] == _PT_LOAD)
    vaddr = (first[3] - first[4] + addr) & 0xFFFFFFFFFFFFFFFF
    phoff = _align(file_size, 8)
    table_end = phoff + elf.phentsize * (len(elf.phdrs) + 1)
    initrd_offset = _align(table_end, 0x10000)
    new = (_PT_LOAD, _PF_R, initrd_offset, vaddr, addr, initrd_size, initrd_size, 0x10000)
    table = b"".join(struct.pack(elf.endian + _PHDR64, *p) for p in (*elf.phdrs, new))
    tail = bytes(phoff - file_size) + table + bytes(initrd_offset - table_end)
    fields = list(elf.fields)
    fields[5] = phoff
    fields[10] = len(elf.phdrs) + 1
    header = struct.pack(elf.endian + _EHDR64, *fields)
    return InitrdSegment(addr, initrd_size, header, tail, initrd_offset)


def stage_kernel(
    kernel: Path, initrd: Path, dest: Path, *, floor: int | None = None, layout: MemoryLayout | None = None
) -> InitrdSegment:
    """Write ``dest``: ``kernel`` with ``initrd`` as an extra segment (blocking I/O).

    ``floor``: the running kernel's end, from :func:`load_floor` on the live tree.
    """
    try:
        size = kernel.stat().st_size
        with kernel.open("rb") as f:
            head = f.read(HEAD_BYTES)
        plan = plan_initrd_segment(head, file_size=size, initrd_size=initrd.stat().st_size, floor=floor, layout=layout)
        with kernel.open("rb") as src, dest.open("wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
            out.seek(0)
            out.write(plan.header)
            out.seek(size)
            out.write(plan.tail)
            with initrd.open("rb") as rd:
                shutil.copyfileobj(rd, out, 1 << 20)
            written = out.tell()
    except OSError as e:
        raise KexecError.of(N_("cannot prepare the ppc64 kernel with its initrd: {error}"), error=e) from None
    if written != plan.initrd_offset + plan.initrd_size:
        raise KexecError.of(N_("the initrd changed while it was being staged"))
    return plan


def _rsv_entries(blob: bytes, off: int) -> list[tuple[int, int]]:
    entries: list[tuple[int, int]] = []
    while True:
        if off + 16 > len(blob):
            raise DtbError.of(N_("invalid device tree: the reserve map has no end"))
        entry = struct.unpack_from(_RSV_ENTRY, blob, off)
        if entry == (0, 0):
            return entries
        entries.append(entry)
        off += 16


def reserve_map(blob: bytes) -> list[tuple[int, int]]:
    """The ``/memreserve/`` entries of a blob, in order."""
    if len(blob) < 40:
        raise DtbError.of(N_("not a device tree blob: too short for an FDT header"))
    return _rsv_entries(blob, struct.unpack_from(_FDT_HEADER, blob)[4])


def spare_reserve(fdt: bytes, initrd: tuple[int, int] | None) -> tuple[int, int]:
    """The ``/memreserve/`` entry to append for kexec-tools to overwrite with
    the blob's own address: a copy of the last one (no reservation is lost
    when it is overwritten, and nothing breaks when it is not), else the
    initrd's range ``(address, size)``, else a harmless 64 KiB at 0."""
    existing = reserve_map(fdt)
    if existing:
        return existing[-1]
    return initrd if initrd is not None else (0, 0x10000)
