"""Flattened device trees through pylibfdt: checked loading, path-addressed
access, cell arithmetic and address translation through ``ranges``.

Pure (layer L1): bytes in, bytes out.  Every failure is a
:class:`~bootd.errors.DtbError`.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence

import libfdt

from bootd.errors import DtbError
from bootd.model import N_

MAX_DTB_BYTES = 16 * 1024 * 1024
"""The largest device tree the loader accepts."""
FDT_MAGIC = 0xD00DFEED
HEADROOM = 64 * 1024
"""Free bytes a tree is opened with, so edits rarely need to grow it."""


def error(what: str, e: Exception) -> DtbError:
    if isinstance(e, libfdt.FdtException):
        return DtbError(f"{what}: {libfdt.fdt_strerror(e.err)}")
    if isinstance(e, UnicodeError) or isinstance(e.__cause__, UnicodeError):
        return DtbError(f"{what}: a node or property name is not text")
    return DtbError(f"{what}: {e}")


_NAME_BYTES = bytes(range(0x21, 0x7F)) + b"\0"


def _check_names(data: bytes | bytearray) -> None:
    """Property names (the strings block) must be printable ASCII, as the spec says."""
    off, size = struct.unpack_from(">I", data, 12)[0], struct.unpack_from(">I", data, 32)[0]
    if bytes(data[off : off + size]).translate(None, _NAME_BYTES):
        raise DtbError.of(N_("invalid device tree: a property name is not printable ASCII"))


def load(blob: bytes, *, headroom: int = 0) -> libfdt.Fdt:
    """Check ``blob`` fully and open it (as version 17) with ``headroom`` free bytes."""
    if len(blob) > MAX_DTB_BYTES:
        raise DtbError.of(
            N_("device tree is {size} bytes, more than the {limit}-byte limit"), size=len(blob), limit=MAX_DTB_BYTES
        )
    if len(blob) < 40:
        raise DtbError.of(N_("not a device tree blob: too short for an FDT header"))
    if struct.unpack_from(">I", blob)[0] != FDT_MAGIC:
        raise DtbError.of(N_("not a device tree blob: bad magic number"))
    try:
        data = bytearray(blob)
        for rc in (libfdt.fdt_check_header(data), libfdt.fdt_check_full(data, len(data))):
            if rc:
                raise DtbError.of(N_("invalid device tree: {error}"), error=libfdt.fdt_strerror(rc))
        _check_names(data)
        fdt = libfdt.Fdt(data)
        fdt.resize(libfdt.fdt_totalsize(data) + headroom)
        # Opening a version-16 tree rebuilds its header; a tree whose old header
        # libfdt accepted can come out inconsistent (reading its properties then
        # crashes the process), so the opened tree is checked again.
        opened = fdt.as_bytearray()
        rc = libfdt.fdt_check_full(opened, len(opened))
        if rc:
            raise DtbError.of(N_("invalid device tree: {error} once opened"), error=libfdt.fdt_strerror(rc))
    except DtbError:
        raise
    except Exception as e:  # libfdt raises FdtException, its binding ValueError/TypeError
        raise error("invalid device tree", e) from None
    return fdt


def cells(value: bytes) -> list[int]:
    return [c for (c,) in struct.iter_unpack(">I", value[: len(value) - len(value) % 4])]


def number(cs: Sequence[int]) -> int:
    n = 0
    for c in cs:
        n = (n << 32) | c
    return n


MAX_CELLS = 4
"""libfdt's FDT_MAX_NCELLS: the most cells an address or size may have."""


def encode(value: int, ncells: int) -> bytes:
    if not 0 < ncells <= MAX_CELLS:
        raise DtbError.of(N_("{cells} cells per number: a device tree allows 1 to {max}"), cells=ncells, max=MAX_CELLS)
    if value < 0 or value >> (32 * ncells):
        raise DtbError.of(N_("0x{value} does not fit in {cells} cell(s)"), value=f"{value:x}", cells=ncells)
    return b"".join(struct.pack(">I", (value >> (32 * i)) & 0xFFFFFFFF) for i in reversed(range(ncells)))


def first_string(value: bytes | None) -> str | None:
    """The first string of a NUL-terminated string (list) property."""
    if not value or value[-1] != 0:
        return None
    return value[:-1].split(b"\0")[0].decode("utf-8", errors="replace")


def getprop(fdt: libfdt.FdtRo, off: int, name: str) -> bytes | None:
    """Property ``name`` of the node at ``off``, None when it has none.

    libfdt is never asked for a property the node lacks: Debian 12's pylibfdt
    (1.6.1) gives up a reference to ``None`` each time ``fdt_getprop`` finds
    nothing, and after a few thousand such lookups the interpreter aborts
    ("Fatal Python error: none_dealloc") - a walk over a pseries tree asking
    every node for its ``device_type`` was enough.  The node's properties are
    read by offset instead (a dozen or so per node), which takes no such
    reference."""
    p = fdt.first_property_offset(off, (libfdt.NOTFOUND,))
    while p >= 0:
        prop = fdt.get_property_by_offset(p)
        if prop.name == name:
            return bytes(prop)
        p = fdt.next_property_offset(p, (libfdt.NOTFOUND,))
    return None


class Tree:
    """A pylibfdt tree addressed by paths (offsets move on every edit)."""

    def __init__(self, fdt: libfdt.Fdt) -> None:
        self.fdt = fdt
        self._offsets: dict[str, int | None] = {}
        """Path lookups since the last edit (every edit may move offsets)."""

    def offset(self, path: str) -> int | None:
        if path in self._offsets:
            return self._offsets[path]
        off: int = self.fdt.path_offset(path, (libfdt.NOTFOUND, libfdt.BADPATH))
        found = off if off >= 0 else None
        self._offsets[path] = found
        return found

    def edited(self, at: int | None = None) -> None:
        """Forget cached offsets: call after changing ``self.fdt`` directly.

        ``at``: the edit only changed properties of the node at that offset.
        libfdt splices such a change in after the node's begin tag, so that
        node and every node before it keep their offsets, and no node appeared
        or vanished (paths not found stay not found)."""
        if at is None:
            self._offsets.clear()
            return
        for path, off in list(self._offsets.items()):
            if off is not None and off > at:
                del self._offsets[path]

    def exists(self, path: str) -> bool:
        return self.offset(path) is not None

    def get(self, path: str, name: str) -> bytes | None:
        off = self.offset(path)
        return None if off is None else self.get_at(off, name)

    def get_at(self, off: int, name: str) -> bytes | None:
        """A property of the node at ``off`` (valid until the next edit): for
        loops over :meth:`walk`, which would otherwise look every path up again."""
        return getprop(self.fdt, off, name)

    def get_str(self, path: str, name: str) -> str | None:
        return first_string(self.get(path, name))

    def get_int(self, path: str, name: str, default: int) -> int:
        v = self.get(path, name)
        return struct.unpack(">I", v)[0] if v is not None and len(v) == 4 else default

    def ensure(self, path: str) -> None:
        parent = "/"
        for part in [p for p in path.split("/") if p]:
            child = parent.rstrip("/") + "/" + part
            if not self.exists(child):
                self.fdt.add_subnode(self.offset(parent), part)
                self.edited()
            parent = child

    def set(self, path: str, name: str, value: bytes) -> None:
        self.ensure(path)
        off = self.offset(path)
        try:
            self.fdt.setprop(off, name, value)
        finally:
            self.edited(off)

    def set_str(self, path: str, name: str, value: str) -> None:
        self.set(path, name, value.encode() + b"\0")

    def set_u32(self, path: str, name: str, value: int) -> None:
        self.set(path, name, encode(value, 1))

    def delete(self, path: str, name: str) -> bool:
        off = self.offset(path)
        if off is None:
            return False
        try:
            deleted = self.fdt.delprop(off, name, (libfdt.NOTFOUND,)) == 0
        finally:
            self.edited(off)
        return bool(deleted)

    def props(self, path: str) -> list[tuple[str, bytes]]:
        off = self.offset(path)
        return [] if off is None else list(self._props(off))

    def _props(self, off: int) -> Iterator[tuple[str, bytes]]:
        p = self.fdt.first_property_offset(off, (libfdt.NOTFOUND,))
        while p >= 0:
            prop = self.fdt.get_property_by_offset(p)
            yield prop.name, bytes(prop)
            p = self.fdt.next_property_offset(p, (libfdt.NOTFOUND,))

    def offsets(self) -> Iterator[int]:
        """Every node's offset in tree order, without building paths (fast
        scans of large trees; :meth:`path_of` names the ones that matter)."""
        off, depth = 0, 0
        while off >= 0 and depth >= 0:  # depth < 0: past the root's end
            yield off
            off, depth = self.fdt.next_node(off, depth, (libfdt.NOTFOUND,))

    def path_of(self, off: int) -> str:
        """The path of the node at ``off``, from its names up to the root
        (pylibfdt 1.6, which Debian 12 ships, has no ``get_path``)."""
        names: list[str] = []
        while off > 0:
            names.append(self.fdt.get_name(off))
            off = self.fdt.parent_offset(off, (libfdt.NOTFOUND,))
        return "/" + "/".join(reversed(names))

    def walk(self) -> Iterator[tuple[str, int]]:
        """Every node as ``(path, offset)``, depth first in tree order."""
        stack: list[tuple[str, int]] = [("/", 0)]
        while stack:
            path, off = stack.pop()
            yield path, off
            children: list[tuple[str, int]] = []
            c = self.fdt.first_subnode(off, (libfdt.NOTFOUND,))
            while c >= 0:
                children.append(((path.rstrip("/") + "/" + self.fdt.get_name(c)), c))
                c = self.fdt.next_subnode(c, (libfdt.NOTFOUND,))
            stack.extend(reversed(children))

    def cells_of(self, path: str) -> tuple[int, int]:
        """``#address-cells``/``#size-cells`` a node gives its children."""
        return self.get_int(path, "#address-cells", 2), self.get_int(path, "#size-cells", 1)

    def rsv(self) -> list[tuple[int, int]]:
        return [tuple(self.fdt.get_mem_rsv(i)) for i in range(self.fdt.num_mem_rsv())]


def parent_of(path: str) -> str:
    head = path.rstrip("/").rsplit("/", 1)[0]
    return head or "/"


def _split(cs: Sequence[int]) -> tuple[int, int]:
    """An address as ``(phys.hi, value)``: PCI's 3-cell form carries its space in phys.hi."""
    return (cs[0], number(cs[1:])) if len(cs) == 3 else (0, number(cs))


def _ranges(tree: Tree, bus: str) -> list[tuple[int, int, int, int, int]] | None:
    """``bus``'s ranges as ``(child_hi, child, parent_hi, parent, size)``; [] = identity; None = none."""
    raw = tree.get(bus, "ranges")
    if raw is None:
        return None
    na, ns = tree.cells_of(bus)
    pna = tree.cells_of(parent_of(bus))[0]
    step = na + pna + ns
    cs = cells(raw)
    out = []
    for i in range(0, len(cs) - step + 1, step):
        c_hi, child = _split(cs[i : i + na])
        p_hi, parent = _split(cs[i + na : i + na + pna])
        out.append((c_hi, child, p_hi, parent, number(cs[i + na + pna : i + step])))
    return out


def _space(hi: int) -> int:
    return hi & 0x03000000


def to_cpu(tree: Tree, node: str, addr_cells: Sequence[int]) -> int | None:
    """Translate an address from ``node``'s ``reg``/``assigned-addresses`` to a CPU address."""
    bus = parent_of(node)
    hi, addr = _split(addr_cells)
    while bus != "/":
        ranges = _ranges(tree, bus)
        if ranges is None:
            return None
        for c_hi, child, p_hi, parent, size in ranges:
            if _space(c_hi) == _space(hi) and child <= addr < child + size:
                hi, addr = p_hi, parent + (addr - child)
                break
        else:
            if ranges:
                return None
        bus = parent_of(bus)
    return addr


def from_cpu(tree: Tree, node: str, cpu: int) -> tuple[int, int] | None:
    """The ``(phys.hi space, address)`` at which ``node``'s bus sees CPU address ``cpu``."""
    chain = []
    bus = parent_of(node)
    while bus != "/":
        chain.append(bus)
        bus = parent_of(bus)
    hi, addr = 0, cpu
    for bus in reversed(chain):
        ranges = _ranges(tree, bus)
        if ranges is None:
            return None
        for c_hi, child, p_hi, parent, size in ranges:
            if _space(p_hi) == _space(hi) and parent <= addr < parent + size:
                hi, addr = c_hi, child + (addr - parent)
                break
        else:
            if ranges:
                return None
    return _space(hi), addr


def check(blob: bytes) -> None:
    """Raise DtbError unless libfdt accepts ``blob`` completely."""
    data = bytearray(blob)
    rc = libfdt.fdt_check_full(data, len(data))
    if rc:
        raise DtbError.of(
            N_("the patched device tree is invalid ({error}); not booting with it"), error=libfdt.fdt_strerror(rc)
        )


def flatten(blob: bytes) -> tuple[dict[str, int], list[tuple[int, int]], dict[str, dict[str, bytes]]]:
    """Header fields, the reserve map and every node's properties, for comparison."""
    tree = Tree(load(blob, headroom=HEADROOM))
    try:
        header = {"version": libfdt.fdt_version(bytearray(blob)), "boot_cpuid_phys": tree.fdt.boot_cpuid_phys()}
        nodes = {path: dict(tree._props(off)) for path, off in tree.walk()}
        return header, tree.rsv(), nodes
    except Exception as e:
        raise error("invalid device tree", e) from None
