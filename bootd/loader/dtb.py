"""Device-tree patching for the next kernel: pure bytes → bytes (pylibfdt).

:func:`patch` takes a flattened device tree (version 16 or 17) and a
:class:`PatchSpec`, drops stale ``/chosen`` state left by this boot, writes
fresh boot seeds (``kaslr-seed``, ``rng-seed``: :class:`Seeds`), points
``/chosen/stdout-path`` and ``/chosen/linux,stdout-path`` at the chosen
console, hands the framebuffer on (Open Firmware ``display`` node for offb,
or a ``simple-framebuffer`` under ``/chosen``), validates the result with
libfdt and returns a version-17 blob.  :func:`diff` says what changed, for
people.  Every failure is a :class:`~bootd.errors.DtbError`.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import libfdt

from bootd.errors import DtbError
from bootd.loader.fdt import (
    HEADROOM,
    Tree,
    cells,
    check,
    encode,
    error,
    first_string,
    flatten,
    from_cpu,
    load,
    number,
    parent_of,
    to_cpu,
)
from bootd.model import ChosenConsole, Framebuffer

__all__ = [
    "Patched", "PatchSpec", "Seeds", "byte_order", "check", "diff", "format_value", "patch", "resolve_console", "show",
]  # fmt: skip

STALE_CHOSEN = frozenset(
    {
        "linux,initrd-start",
        "linux,initrd-end",
        "kaslr-seed",
        "rng-seed",
        "linux,elfcorehdr",
        "linux,usable-memory-range",
    }
)
"""``/chosen`` properties that describe this boot, not the next one."""
STALE_CHOSEN_PREFIX = "linux,kexec-"
SEED_PROPS = ("kaslr-seed", "rng-seed")
"""``/chosen`` seeds the next kernel takes its KASLR offset and first entropy from."""
KASLR_SEED_BYTES = 8
RNG_SEED_BYTES = 128
"""kexec-tools (``kexec -l`` on arm64) rewrites a tree's ``rng-seed`` in place with
128 fresh bytes and refuses to load (``Cannot load``) when the property has
another length; 128 bytes is also well over the kernel's 64-byte minimum."""
MIN_RNG_SEED_BYTES = 64


@dataclass(frozen=True)
class Seeds:
    """Fresh boot seeds for the next kernel.

    A seed is never handed on (the next kernel would reuse this boot's
    layout and entropy) nor dropped (arm64 prints "KASLR disabled due to lack
    of seed" and boots without KASLR on a CPU with no RNG of its own, and
    ``kexec -l`` only refreshes a seed that is in the tree it is given)."""

    kaslr: bytes
    """8 bytes for ``/chosen/kaslr-seed``."""
    rng: bytes
    """At least 64 bytes for ``/chosen/rng-seed`` (:data:`RNG_SEED_BYTES` from :meth:`fresh`)."""
    add: bool = True
    """Also write them into a tree that had none (the ``add_boot_seeds`` setting)."""

    @staticmethod
    def fresh(random_bytes: Callable[[int], bytes], *, add: bool = True, kexec_tools_kaslr: bool = False) -> Seeds:
        """New seeds from ``random_bytes`` (the Platform's: the kernel's RNG).

        ``kexec_tools_kaslr``: the tree goes to ``kexec -l`` on arm64, where
        kexec-tools writes the ``kaslr-seed`` itself, from getrandom(2), and
        refuses to load ("setup_2nd_dtb failed") when the property is not the
        zero the running kernel leaves behind: the seed is written as that
        zero for kexec-tools to fill."""
        kaslr = bytes(KASLR_SEED_BYTES) if kexec_tools_kaslr else random_bytes(KASLR_SEED_BYTES)
        return Seeds(kaslr, random_bytes(RNG_SEED_BYTES), add)


_OPAL_HVC = re.compile(r"hvc(\d+)")
ByteOrder = Literal["little", "big"]
BIG_ENDIAN_ARCHES = frozenset({"ppc64", "ppc", "aarch64_be", "armeb", "s390x", "mips", "mips64", "sparc64"})
"""``uname -m`` values of big-endian kernels."""


def byte_order(arch: str) -> ByteOrder:
    """The byte order of a kernel whose ``uname -m`` is ``arch``."""
    return "big" if arch in BIG_ENDIAN_ARCHES else "little"


@dataclass(frozen=True)
class PatchSpec:
    """What to change in the tree for the next kernel."""

    console: ChosenConsole | None = None
    """The console chosen (:meth:`bootd.model.ChosenConsole.parse`); its node is
    found here when it is not known yet (``/aliases``, OPAL, the screen)."""
    framebuffer: Framebuffer | None = None
    display_node: str | None = None
    """The framebuffer's Open Firmware display node, when the platform knows it."""
    bootargs: str | None = None
    """Written to ``/chosen/bootargs`` when given."""
    initrd: tuple[int, int] | None = None
    """``(start, end)`` physical addresses written to ``/chosen/linux,initrd-*``."""
    reserve: tuple[tuple[int, int], ...] = ()
    """Extra ``/memreserve/`` entries ``(address, size)``."""
    seeds: Seeds | None = None
    """Fresh seeds; a tree that carries seeds cannot be patched without them."""
    byte_order: ByteOrder = sys.byteorder
    """The running kernel's byte order, that of the framebuffer's pixels as it
    draws them (:func:`byte_order` of the platform's architecture)."""


@dataclass(frozen=True)
class Patched:
    blob: bytes
    console: ChosenConsole | None
    """The console with the node ``stdout-path`` now names, or None."""
    framebuffer_node: str | None
    notes: tuple[str, ...] = ()

    @property
    def console_path(self) -> str | None:
        """What ``stdout-path`` was set to (with options), or None."""
        return self.console.stdout_path if self.console is not None else None


def _covers(tree: Tree, node: str, fb: Framebuffer) -> bool:
    cs = cells(tree.get(node, "assigned-addresses") or b"")
    for i in range(0, len(cs) - 4, 5):
        start = to_cpu(tree, node, cs[i : i + 3])
        if start is not None and start <= fb.address < start + number(cs[i + 3 : i + 5]):
            return True
    return False


def _offb(tree: Tree, node: str, fb: Framebuffer, byte_order: ByteOrder, notes: list[str]) -> None:
    """Write what Linux's offb driver reads on an Open Firmware display node.

    ``linux,opened`` and ``linux,boot-display`` make the next kernel bind
    offb to the node (firmware's ``prom_init`` sets them only on a boot it
    started itself).  The pixels are in the running kernel's byte order
    unless the node names one: offb swaps them when ``little-endian`` or
    ``big-endian`` names the other order than its own, so a node that names
    neither gets this kernel's, and a named one is kept."""
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
    if tree.get_int(parent_of(node), "#address-cells", 2) == 3 and not _covers(tree, node, fb):
        where = from_cpu(tree, node, fb.address)
        if where is None:
            raise DtbError(f"framebuffer at 0x{fb.address:x} is not reachable through the ranges above {node}")
        space, bus_addr = where
        reg = cells(tree.get(node, "reg") or b"\0\0\0\0")
        devfn = reg[0] & 0x00FFFF00 if reg else 0
        space = space or (0x03000000 if bus_addr >> 32 else 0x02000000)
        entry = encode(0x80000000 | space | devfn | 0x10, 1) + encode(bus_addr, 2) + encode(fb.size, 2)
        tree.set(node, "assigned-addresses", entry + (tree.get(node, "assigned-addresses") or b""))
        notes.append(f"{node}: assigned-addresses gained the framebuffer BAR at bus address 0x{bus_addr:x}")


def _is_simplefb(compatible: bytes | None) -> bool:
    return b"simple-framebuffer" in (compatible or b"").split(b"\0")


def _framebuffer_node(tree: Tree, fb: Framebuffer) -> str | None:
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
            if _covers(tree, path, fb):
                return path
        if simplefbs and simplefb is None and _is_simplefb(tree.get_at(off, "compatible")):
            path = tree.path_of(off)
            reg = cells(tree.get_at(off, "reg") or b"")
            na = tree.cells_of(parent_of(path))[0]
            if len(reg) >= na and number(reg[:na]) == fb.address:
                simplefb = path
    return simplefb


def _simplefb(tree: Tree, fb: Framebuffer, node: str | None = None) -> str:
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
    if not _is_simplefb(tree.get(node, "compatible")):
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


def resolve_console(tree: Tree, console: ChosenConsole, screen: str | None) -> ChosenConsole:
    """``console`` with its device-tree node: as known, the screen's node for
    a screen, OPAL's ``hvcN`` node, or the ``/aliases`` entry of its name."""
    name = console.device
    if console.node is not None:
        return console
    if not name:
        raise DtbError(f"console {console.text!r}: no name")
    if console.screen:
        if screen is None:
            raise DtbError(f"console {name} is the screen, but there is no framebuffer to point the next kernel at")
        return console.at(screen)
    m = _OPAL_HVC.fullmatch(name)
    if m and tree.exists(f"/ibm,opal/consoles/serial@{m.group(1)}"):
        return console.at(f"/ibm,opal/consoles/serial@{m.group(1)}")
    alias = tree.get_str("/aliases", name)
    if alias:
        return console.at(alias)
    raise DtbError(f"console {name} has no device-tree node: name an /aliases entry (serial0) or give the node's path")


def _write_seeds(tree: Tree, seeds: Seeds | None, had: bool, notes: list[str]) -> None:
    if seeds is None:
        if had:
            raise DtbError(
                "the device tree carries boot seeds (kaslr-seed, rng-seed) and no fresh ones were given: "
                "handing them on would repeat this boot's KASLR layout, dropping them would turn KASLR off"
            )
        return
    if len(seeds.kaslr) != KASLR_SEED_BYTES or len(seeds.rng) < MIN_RNG_SEED_BYTES:
        raise DtbError(f"boot seeds must be {KASLR_SEED_BYTES} and at least {MIN_RNG_SEED_BYTES} bytes")
    if not had and not seeds.add:
        notes.append("no boot seeds: the tree had none and add_boot_seeds is off")
        return
    tree.set("/chosen", "kaslr-seed", seeds.kaslr)
    tree.set("/chosen", "rng-seed", seeds.rng)
    if not had:
        notes.append("fresh kaslr-seed and rng-seed added (the tree had none)")


def patch(blob: bytes, spec: PatchSpec) -> Patched:
    """Apply ``spec`` to ``blob``; the result is checked with libfdt."""
    for what, value in (
        ("kernel command line", spec.bootargs),
        ("console", spec.console.text if spec.console else None),
    ):
        if value is not None and "\0" in value:
            raise DtbError(f"the {what} contains a NUL character")
    extra = HEADROOM + 2 * len((spec.bootargs or "").encode(errors="replace"))
    tree = Tree(load(blob, headroom=extra))
    notes: list[str] = []
    try:
        tree.ensure("/chosen")
        had_seeds = False
        for name, _ in tree.props("/chosen"):
            if name in STALE_CHOSEN or name.startswith(STALE_CHOSEN_PREFIX):
                had_seeds |= name in SEED_PROPS
                tree.delete("/chosen", name)
        _write_seeds(tree, spec.seeds, had_seeds, notes)
        if spec.bootargs is not None:
            tree.set_str("/chosen", "bootargs", spec.bootargs)
        if spec.initrd is not None:
            tree.set("/chosen", "linux,initrd-start", encode(spec.initrd[0], 2))
            tree.set("/chosen", "linux,initrd-end", encode(spec.initrd[1], 2))
        screen: str | None = None
        fb = spec.framebuffer
        if fb is not None:
            node = spec.display_node if spec.display_node and tree.exists(spec.display_node) else None
            if node is None:
                node = _framebuffer_node(tree, fb)
            if node is not None and not _is_simplefb(tree.get(node, "compatible")):
                _offb(tree, node, fb, spec.byte_order, notes)
                screen = node
            else:
                screen = _simplefb(tree, fb, node)
        console = None
        if spec.console is not None:
            console = resolve_console(tree, spec.console, screen)
            path = str(console.stdout_path)
            tree.set_str("/chosen", "stdout-path", path)
            tree.set_str("/chosen", "linux,stdout-path", path)
        for addr, size in spec.reserve:
            libfdt.check_err(libfdt.fdt_add_mem_rsv(tree.fdt._fdt, addr, size))
        out = _packed(tree)
    except DtbError:
        raise
    except Exception as e:
        raise error("could not patch the device tree", e) from None
    check(out)
    if console is not None and console.node is not None:
        if not Tree(libfdt.Fdt(out)).exists(console.node):
            raise DtbError(f"console {console.text}: {console.node} is not a node of the device tree")
    return Patched(out, console, screen, tuple(notes))


def _packed(tree: Tree) -> bytes:
    tree.fdt.pack()
    tree.edited()
    return bytes(tree.fdt.as_bytearray())


def has_seeds(blob: bytes) -> bool:
    """Whether ``/chosen`` carries a ``kaslr-seed`` or ``rng-seed``."""
    tree = Tree(load(blob, headroom=0))
    return tree.exists("/chosen") and any(tree.get("/chosen", name) is not None for name in SEED_PROPS)


def refresh_seeds(blob: bytes, seeds: Seeds) -> tuple[bytes, tuple[str, ...]]:
    """``blob`` with fresh seeds and nothing else changed (a tree a boot hook
    made), checked with libfdt."""
    tree = Tree(load(blob, headroom=HEADROOM))
    notes: list[str] = []
    try:
        tree.ensure("/chosen")
        had = False
        for name in SEED_PROPS:
            if tree.get("/chosen", name) is not None:
                had = True
                tree.delete("/chosen", name)
        _write_seeds(tree, seeds, had, notes)
        out = _packed(tree)
    except DtbError:
        raise
    except Exception as e:
        raise error("could not write the boot seeds", e) from None
    check(out)
    return out, tuple(notes)


def format_value(value: bytes, limit: int = 16) -> str:
    """A property value the way a .dts file writes it."""
    if not value:
        return ""
    if value[-1] == 0 and all(32 <= b < 127 or b == 0 for b in value) and b"\0\0" not in value and value[0] != 0:
        return ", ".join('"' + s.decode() + '"' for s in value[:-1].split(b"\0"))
    if len(value) % 4 == 0:
        cs = cells(value)
        more = " …" if len(cs) > limit else ""
        return "<" + " ".join(f"0x{c:x}" for c in cs[:limit]) + more + ">"
    more = " …" if len(value) > 4 * limit else ""
    return "[" + " ".join(f"{b:02x}" for b in value[: 4 * limit]) + more + "]"


def _prop_line(mark: str, path: str, name: str, value: bytes) -> str:
    shown = format_value(value)
    return f"{mark} {path.rstrip('/')}/{name}" + (f" = {shown}" if shown else "")


def diff(old: bytes, new: bytes) -> list[str]:
    """Human-readable lines saying how ``new`` differs from ``old``."""
    h1, r1, n1 = flatten(old)
    h2, r2, n2 = flatten(new)
    out = [f"~ header {k}: {h1[k]} -> {h2[k]}" for k in h1 if h1[k] != h2[k]]
    out += [f"- /memreserve/ 0x{a:x} 0x{s:x}" for a, s in r1 if (a, s) not in r2]
    out += [f"+ /memreserve/ 0x{a:x} 0x{s:x}" for a, s in r2 if (a, s) not in r1]
    for path in n1:
        if path not in n2:
            out.append(f"- {path} (node)")
    for path, props in n2.items():
        before = n1.get(path)
        if before is None:
            out.append(f"+ {path} (node)")
            out += [_prop_line("+", path, k, v) for k, v in props.items()]
            continue
        out += [_prop_line("-", path, k, v) for k, v in before.items() if k not in props]
        for k, v in props.items():
            if k not in before:
                out.append(_prop_line("+", path, k, v))
            elif before[k] != v:
                out.append(f"~ {path.rstrip('/')}/{k}: {format_value(before[k]) or '(empty)'} -> {format_value(v)}")
    return out


SEED_MARK = "  // boot seed: bootd hands the next kernel a fresh one"


def show(blob: bytes) -> list[str]:
    """The tree as .dts-like lines (long values abbreviated)."""
    header, rsv, _ = flatten(blob)
    tree = Tree(load(blob, headroom=HEADROOM))
    lines = [f"/dts-v1/; // version {header['version']}, boot cpu {header['boot_cpuid_phys']}"]
    lines += [f"/memreserve/ 0x{a:x} 0x{s:x};" for a, s in rsv]
    depth_of: dict[str, int] = {}
    last = -1
    for path, off in tree.walk():
        depth = 0 if path == "/" else depth_of[parent_of(path)] + 1
        depth_of[path] = depth
        lines += ["    " * d + "};" for d in range(last, depth - 1, -1)]
        last = depth
        pad = "    " * depth
        lines.append(f"{pad}{path.rsplit('/', 1)[-1] or '/'} {{")
        for name, value in tree._props(off):
            shown = format_value(value)
            mark = SEED_MARK if path == "/chosen" and name in SEED_PROPS else ""
            lines.append(f"{pad}    {name}" + (f" = {shown};" if shown else ";") + mark)
    lines += ["    " * d + "};" for d in range(last, -1, -1)]
    return lines
