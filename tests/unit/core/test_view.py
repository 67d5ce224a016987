"""DirectoryView: reads stay inside the device root, sizes are capped, only
regular files are read."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bootd.model import Device
from bootd.parsers.view import DirectoryView, ViewError, normalize


@pytest.fixture
def tree(tmp_path: Path) -> DirectoryView:
    root = tmp_path / "root"
    (root / "boot/grub").mkdir(parents=True)
    (root / "boot/grub/grub.cfg").write_text("menuentry")
    (root / "EFI/BOOT").mkdir(parents=True)
    (root / "EFI/BOOT/BOOTX64.CSV").write_text("x")
    (tmp_path / "secret").write_text("outside")
    os.symlink("../../secret", root / "boot/rel-escape")
    os.symlink(str(tmp_path / "secret"), root / "boot/abs-escape")
    os.symlink("grub/grub.cfg", root / "boot/ok-link")
    os.symlink("/boot/grub", root / "grubdir")
    os.symlink("loop", root / "loop")
    os.mkfifo(root / "fifo")
    return DirectoryView(root, Device(id="d"))


def test_normalize() -> None:
    assert normalize("a/../../b") == PurePosixPath("/b")
    assert normalize("../../etc/passwd") == PurePosixPath("/etc/passwd")
    assert normalize("x/./y//z", PurePosixPath("/cwd")) == PurePosixPath("/cwd/x/y/z")
    assert normalize("/abs", PurePosixPath("/cwd")) == PurePosixPath("/abs")


def test_reads_inside(tree: DirectoryView) -> None:
    assert tree.read_text("/boot/grub/grub.cfg") == "menuentry"
    assert tree.read_text("boot/ok-link") == "menuentry"
    assert tree.read_text("/grubdir/grub.cfg") == "menuentry"  # absolute link: inside the device
    assert tree.is_file("/boot/grub/grub.cfg") and tree.is_dir("/boot") and not tree.is_file("/boot")
    assert tree.size("/boot/grub/grub.cfg") == 9 and tree.size("/boot") is None
    assert tree.listdir("/boot") == ["abs-escape", "grub", "ok-link", "rel-escape"]
    assert tree.listdir("/nothing") == []


def test_escapes_are_refused(tree: DirectoryView) -> None:
    for path in ("/boot/rel-escape", "/boot/abs-escape", "/../secret", "../../secret"):
        with pytest.raises(ViewError):
            tree.read_bytes(path)
        assert not tree.is_file(path)


def test_links_loops_fifos_and_limits(tree: DirectoryView) -> None:
    with pytest.raises(ViewError, match="symbolic links"):
        tree.read_bytes("/loop")
    with pytest.raises(ViewError, match="not a regular file"):
        tree.read_bytes("/fifo")
    with pytest.raises(ViewError, match="limit"):
        tree.read_bytes("/boot/grub/grub.cfg", limit=4)
    with pytest.raises(ViewError, match="no such file"):
        tree.read_bytes("/missing")


def test_find_is_case_insensitive(tree: DirectoryView) -> None:
    assert tree.find("/efi/boot/bootx64.csv") == PurePosixPath("/EFI/BOOT/BOOTX64.CSV")
    assert tree.find("/boot/grub/grub.cfg") == PurePosixPath("/boot/grub/grub.cfg")
    assert tree.find("/efi/none") is None


def test_walk_files(tree: DirectoryView) -> None:
    files = set(tree.walk_files("/"))
    assert PurePosixPath("/boot/grub/grub.cfg") in files and PurePosixPath("/EFI/BOOT/BOOTX64.CSV") in files
    assert PurePosixPath("/boot/abs-escape") not in files


def _reference_normalize(path: str, cwd: str) -> str:
    """The same rule written with pathlib: absolute, no '.', '..' stops at the root."""
    p = PurePosixPath(path)
    if not p.is_absolute():
        p = PurePosixPath(cwd) / p
    parts: list[str] = []
    for part in p.parts[1:]:
        if part == "..":
            if parts:
                parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/" + "/".join(parts)


@settings(max_examples=300, deadline=None)
@given(
    path=st.lists(st.sampled_from(["", ".", "..", "a", "b.cfg", "/", "//", "x y"]), max_size=8).map("/".join),
    cwd=st.sampled_from(["/", "/boot", "/a/b/c"]),
)
def test_normalize_matches_the_rule(path: str, cwd: str) -> None:
    got = normalize(path, PurePosixPath(cwd))
    assert str(got) == _reference_normalize(path, cwd)
    assert ".." not in got.parts


@settings(max_examples=100, deadline=None)
@given(path=st.lists(st.sampled_from(["..", ".", "boot", "rel-escape", "abs-escape", "grub", "x"]), max_size=6))
def test_resolve_never_leaves_the_root(path: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        root = base / "root"
        (root / "boot/grub").mkdir(parents=True)
        os.symlink("../../../..", root / "boot/rel-escape")
        os.symlink(str(base), root / "boot/abs-escape")
        view = DirectoryView(root, Device(id="d"))
        try:
            real = view._resolve("/".join(path))
        except ViewError:
            return
        assert real == root or root in real.parents
