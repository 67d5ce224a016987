"""Tree's cached path lookups stay right across edits: after any sequence of
property sets, deletes and new nodes, every path resolves to the offset a
fresh libfdt lookup gives (the cache keeps only offsets an edit cannot move)."""

from __future__ import annotations

import libfdt
from hypothesis import given, settings
from hypothesis import strategies as st

from bootd.loader.fdt import HEADROOM, Tree, getprop, load
from tests.unit.loader.helpers import ARM64_DTS, DEMO_DTS, compile_dts

BLOBS = [compile_dts(ARM64_DTS), compile_dts(DEMO_DTS)]


def paths_of(blob: bytes) -> list[str]:
    tree = Tree(load(blob, headroom=HEADROOM))
    return [path for path, _off in tree.walk()]


PATHS = [paths_of(b) for b in BLOBS]
NAMES = ["bootargs", "status", "x-test", "reg", "compatible"]
VALUES = [b"", b"ok\0", b"\0\0\0\x01", b"a" * 61, b"b" * 300]


def fresh(tree: Tree, path: str) -> int | None:
    off: int = tree.fdt.path_offset(path, (libfdt.NOTFOUND, libfdt.BADPATH))
    return off if off >= 0 else None


edit = st.tuples(
    st.sampled_from(["set", "delete", "node", "look"]),
    st.integers(0, 10_000),
    st.sampled_from(NAMES),
    st.sampled_from(VALUES),
)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, len(BLOBS) - 1), st.lists(edit, max_size=25))
def test_cached_offsets_match_fresh_lookups(which: int, edits: list[tuple[str, int, str, bytes]]) -> None:
    tree = Tree(load(BLOBS[which], headroom=HEADROOM))
    paths = list(PATHS[which]) + ["/chosen", "/missing", "/chosen/framebuffer@0"]
    for kind, pick, name, value in edits:
        path = paths[pick % len(paths)]
        if kind == "set":
            tree.set(path, name, value)
        elif kind == "delete":
            tree.delete(path, name)
        elif kind == "node":
            tree.ensure(path.rstrip("/") + f"/new{pick % 3}")
        for p in paths:  # "look" too: fill the cache between edits
            assert tree.offset(p) == fresh(tree, p), (kind, path, p)
    data = bytearray(tree.fdt.as_bytearray())
    assert libfdt.fdt_check_full(data, len(data)) == 0


def test_paths_and_properties_read_without_the_calls_old_pylibfdt_lacks_or_leaks() -> None:
    # Tree.path_of climbs parent offsets (pylibfdt 1.6 has no get_path) and getprop walks a
    # node's properties (1.6's getprop drops a reference to None on every miss): both must
    # read exactly what libfdt's own lookups read
    for blob in BLOBS:
        tree = Tree(load(blob, headroom=HEADROOM))
        for path, off in tree.walk():
            assert tree.path_of(off) == path == tree.fdt.get_path(off)
            names = [name for name, _ in tree._props(off)] + ["no-such-property", "device_type"]
            for name in names:
                found = tree.fdt.getprop(off, name, (libfdt.NOTFOUND,))
                assert getprop(tree.fdt, off, name) == (None if isinstance(found, int) else bytes(found))
