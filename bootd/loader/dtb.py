"""Device-tree patching for the next kernel: pure bytes → bytes (pylibfdt).

:func:`patch` takes a flattened device tree (version 16 or 17) and a
:class:`PatchSpec`, drops stale ``/chosen`` state left by this boot, writes
fresh boot seeds (``kaslr-seed``, ``rng-seed``: :class:`Seeds`), points
``/chosen/stdout-path`` and ``/chosen/linux,stdout-path`` at the chosen
console, hands the framebuffer on (:mod:`bootd.loader.display`: the Open
Firmware ``display`` node for offb, or a ``simple-framebuffer`` under
``/chosen``), validates the result with
libfdt and returns a version-17 blob.  :func:`diff` says what changed, for
people.  Every failure is a :class:`~bootd.errors.DtbError`.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass

import libfdt

from bootd.errors import DtbError
from bootd.loader import display
from bootd.loader.display import ByteOrder, byte_order
from bootd.loader.fdt import (
    HEADROOM,
    Tree,
    cells,
    check,
    encode,
    error,
    flatten,
    load,
    parent_of,
)
from bootd.model import N_, ChosenConsole, Framebuffer

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


def resolve_console(tree: Tree, console: ChosenConsole, screen: str | None) -> ChosenConsole:
    """``console`` with its device-tree node: as known, the screen's node for
    a screen, OPAL's ``hvcN`` node, or the ``/aliases`` entry of its name."""
    name = console.device
    if console.node is not None:
        return console
    if not name:
        raise DtbError.of(N_("console {console}: no name"), console=repr(console.text))
    if console.screen:
        if screen is None:
            raise DtbError.of(
                N_("console {name} is the screen, but there is no framebuffer to point the next kernel at"), name=name
            )
        return console.at(screen)
    m = _OPAL_HVC.fullmatch(name)
    if m and tree.exists(f"/ibm,opal/consoles/serial@{m.group(1)}"):
        return console.at(f"/ibm,opal/consoles/serial@{m.group(1)}")
    alias = tree.get_str("/aliases", name)
    if alias:
        return console.at(alias)
    raise DtbError.of(
        N_("console {name} has no device-tree node: name an /aliases entry (serial0) or give the node's path"),
        name=name,
    )


def _write_seeds(tree: Tree, seeds: Seeds | None, had: bool, notes: list[str]) -> None:
    if seeds is None:
        if had:
            raise DtbError.of(
                N_(
                    "the device tree carries boot seeds (kaslr-seed, rng-seed) and no fresh ones were given: "
                    "handing them on would repeat this boot's KASLR layout, dropping them would turn KASLR off"
                )
            )
        return
    if len(seeds.kaslr) != KASLR_SEED_BYTES or len(seeds.rng) < MIN_RNG_SEED_BYTES:
        raise DtbError.of(
            N_("boot seeds must be {kaslr} and at least {rng} bytes"), kaslr=KASLR_SEED_BYTES, rng=MIN_RNG_SEED_BYTES
        )
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
            raise DtbError.of(N_("the {what} contains a NUL character"), what=what)
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
                node = display.framebuffer_node(tree, fb)
            if node is not None and not display.is_simplefb(tree.get(node, "compatible")):
                display.offb(tree, node, fb, spec.byte_order, notes)
                screen = node
            else:
                screen = display.simplefb(tree, fb, node)
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
            raise DtbError.of(
                N_("console {console}: {node} is not a node of the device tree"),
                console=console.text,
                node=console.node,
            )
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
