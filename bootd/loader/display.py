"""Handing a framebuffer on in a device tree: pure (layer L1), bytes of
:class:`~bootd.loader.fdt.Tree` in, edits out.

Two ways, as firmware does it: on an Open Firmware display node, what Linux's
offb reads (:func:`offb`), or, where the tree has none (arm64 boards), a
``simple-framebuffer`` node under ``/chosen`` with its memory reserved
(:func:`simplefb`).  :func:`framebuffer_node` finds a node that describes the
framebuffer already.  Every failure is a :class:`~bootd.errors.DtbError`.
"""

from __future__ import annotations

from typing import Literal

from bootd.errors import DtbError
from bootd.loader.fdt import Tree, cells, encode, first_string, from_cpu, number, parent_of, to_cpu
from bootd.model import N_, Framebuffer

ByteOrder = Literal["little", "big"]
BIG_ENDIAN_ARCHES = frozenset({"ppc64", "ppc", "aarch64_be", "armeb", "s390x", "mips", "mips64", "sparc64"})
"""``uname -m`` values of big-endian kernels."""


def byte_order(arch: str) -> ByteOrder:
    """The byte order of a kernel whose ``uname -m`` is ``arch``."""
    return "big" if arch in BIG_ENDIAN_ARCHES else "little"


def covers(tree: Tree, node: str, fb: Framebuffer) -> bool:
    """Whether one of ``node``'s ``assigned-addresses`` BARs holds the framebuffer."""
    cs = cells(tree.get(node, "assigned-addresses") or b"")
    for i in range(0, len(cs) - 4, 5):
        start = to_cpu(tree, node, cs[i : i + 3])
        if start is not None and start <= fb.address < start + number(cs[i + 3 : i + 5]):
            return True
    return False


def offb(tree: Tree, node: str, fb: Framebuffer, byte_order: ByteOrder, notes: list[str]) -> None:
    """Write what Linux's offb driver reads on an Open Firmware display node.

    ``linux,opened`` and ``linux,boot-display`` make the next kernel bind
    offb to the node (firmware's ``prom_init`` sets them only on a boot it
    started itself).  The pixels are in the running kernel's byte order
    unless the node names one: offb swaps them when ``little-endian`` or
    ``big-endian`` names the other order than its own, so a node that names
    neither gets this kernel's, and a named one is kept."""
    # the next kernel's boot display is the first display node in tree order that
    # carries both flags: only the one handed on may (firmware marked its own).
    # No node has the property when no property anywhere has its name.
    if b"linux,boot-display\0" in tree.fdt.as_bytearray():
        marked = [off for off in tree.offsets() if off and tree.get_at(off, "linux,boot-display") is not None]
        for other in [path for path in map(tree.path_of, marked) if path != node]:
            tree.delete(other, "linux,boot-display")
            notes.append(f"{other}: no longer linux,boot-display (the framebuffer handed on is {node}'s)")
    tree.set_str(node, "device_type", "display")
    for name, value in (("width", fb.width), ("height", fb.height), ("depth", fb.depth), ("linebytes", fb.stride)):
        tree.set_u32(node, name, value)
    for flag in ("linux,opened", "linux,boot-display"):
        tree.set(node, flag, b"")
    if tree.get(node, "little-endian") is None and tree.get(node, "big-endian") is None:
        tree.set(node, f"{byte_order}-endian", b"")
    if fb.address >> 32:
        tree.delete(node, "address")
    else:
        tree.set_u32(node, "address", fb.address)
    if tree.get_int(parent_of(node), "#address-cells", 2) == 3 and not covers(tree, node, fb):
        where = from_cpu(tree, node, fb.address)
        if where is None:
            raise DtbError.of(
                N_("framebuffer at 0x{address} is not reachable through the ranges above {node}"),
                address=f"{fb.address:x}",
                node=node,
            )
        space, bus_addr = where
        reg = cells(tree.get(node, "reg") or b"\0\0\0\0")
        devfn = reg[0] & 0x00FFFF00 if reg else 0
        space = space or (0x03000000 if bus_addr >> 32 else 0x02000000)
        entry = encode(0x80000000 | space | devfn | 0x10, 1) + encode(bus_addr, 2) + encode(fb.size, 2)
        tree.set(node, "assigned-addresses", entry + (tree.get(node, "assigned-addresses") or b""))
        notes.append(f"{node}: assigned-addresses gained the framebuffer BAR at bus address 0x{bus_addr:x}")


def is_simplefb(compatible: bytes | None) -> bool:
    return b"simple-framebuffer" in (compatible or b"").split(b"\0")


def framebuffer_node(tree: Tree, fb: Framebuffer) -> str | None:
    """The node that describes ``fb`` already, in one pass over the tree: the
    first display node whose BARs cover it, else a simple-framebuffer node at
    its address (firmware may have made one).

    A property value is bytes of the blob, so a tree whose bytes nowhere hold
    ``display\\0`` (the start of any ``device_type = "display"``) nor
    ``simple-framebuffer`` has no such node: most trees need no walk at all."""
    raw = tree.fdt.as_bytearray()
    displays = b"display\0" in raw
    simplefbs = b"simple-framebuffer" in raw
    if not (displays or simplefbs):
        return None
    simplefb: str | None = None
    for off in tree.offsets():
        if off == 0:
            continue
        if displays and first_string(tree.get_at(off, "device_type")) == "display":
            path = tree.path_of(off)
            if covers(tree, path, fb):
                return path
        if simplefbs and simplefb is None and is_simplefb(tree.get_at(off, "compatible")):
            path = tree.path_of(off)
            reg = cells(tree.get_at(off, "reg") or b"")
            na = tree.cells_of(parent_of(path))[0]
            if len(reg) >= na and number(reg[:na]) == fb.address:
                simplefb = path
    return simplefb


def simplefb(tree: Tree, fb: Framebuffer, node: str | None = None) -> str:
    """Describe ``fb`` as a ``simple-framebuffer`` (new under /chosen, or ``node``), memory reserved."""
    root_na, root_ns = tree.get_int("/", "#address-cells", 1), tree.get_int("/", "#size-cells", 1)
    node = node or f"/chosen/framebuffer@{fb.address:x}"
    parent = parent_of(node)
    if parent == "/chosen":
        if tree.get("/chosen", "#address-cells") is None:
            tree.set_u32("/chosen", "#address-cells", root_na)
            tree.set_u32("/chosen", "#size-cells", root_ns)
        if tree.get("/chosen", "ranges") is None:
            tree.set("/chosen", "ranges", b"")
    na, ns = tree.cells_of(parent)
    tree.set(node, "reg", encode(fb.address, na) + encode(fb.size, ns))
    if not is_simplefb(tree.get(node, "compatible")):
        tree.set_str(node, "compatible", "simple-framebuffer")
    for name, value in (("width", fb.width), ("height", fb.height), ("stride", fb.stride)):
        tree.set_u32(node, name, value)
    tree.set_str(node, "format", fb.format)
    tree.set_str(node, "status", "okay")
    if not tree.exists("/reserved-memory"):
        tree.set_u32("/reserved-memory", "#address-cells", root_na)
        tree.set_u32("/reserved-memory", "#size-cells", root_ns)
        tree.set("/reserved-memory", "ranges", b"")
    rna, rns = tree.cells_of("/reserved-memory")
    res = f"/reserved-memory/framebuffer@{fb.address:x}"
    tree.set(res, "reg", encode(fb.address, rna) + encode(fb.size, rns))
    tree.set(res, "no-map", b"")
    return node
