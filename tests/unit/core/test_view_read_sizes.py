"""DirectoryView reads a file whole up to the limit, whatever its size:
empty, one byte, more than one read's chunk, exactly the limit; a byte more
is refused, through a single read and through a directory's reads alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from bootd.model import Device
from bootd.parsers.view import DirectoryView, ViewError

SIZES = (0, 1, 4095, 65536, 65537, 200_000)


@pytest.fixture
def view(tmp_path: Path) -> DirectoryView:
    root = tmp_path / "dev"
    (root / "d").mkdir(parents=True)
    for n in SIZES:
        (root / "d" / f"f{n}").write_bytes(bytes(i % 251 for i in range(n)))
    return DirectoryView(root, Device(id="dev"))


@pytest.mark.parametrize("size", SIZES)
def test_a_file_is_read_whole(view: DirectoryView, size: int) -> None:
    want = bytes(i % 251 for i in range(size))
    assert view.read_bytes(f"/d/f{size}") == want
    assert list(view.read_files("/d", [f"f{size}"])) == [(f"f{size}", want)]


@pytest.mark.parametrize("size", [n for n in SIZES if n])
def test_exactly_the_limit_is_read_and_a_byte_more_refused(view: DirectoryView, size: int) -> None:
    assert len(view.read_bytes(f"/d/f{size}", limit=size)) == size
    with pytest.raises(ViewError, match=f"/d/f{size}: {size} bytes is larger than the {size - 1}-byte limit"):
        view.read_bytes(f"/d/f{size}", limit=size - 1)
    ((_, got),) = view.read_files("/d", [f"f{size}"], limit=size - 1)
    assert isinstance(got, ViewError) and "larger than" in str(got)
