"""DirectoryView.regular_files and read_files: one read of a directory, files
opened inside it, with the same answers (and refusals) as read_bytes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bootd.model import Device
from bootd.parsers.grub.budget import Meter, MeteredView
from bootd.parsers.view import DirectoryView, ViewError


@pytest.fixture
def view(tmp_path: Path) -> DirectoryView:
    root = tmp_path / "root"
    d = root / "loader/entries"
    d.mkdir(parents=True)
    (d / "a.conf").write_text("title A\n")
    (d / "big.conf").write_text("x" * 100)
    (root / "elsewhere.conf").write_text("title linked\n")
    (tmp_path / "secret").write_text("outside")
    os.symlink("../../elsewhere.conf", d / "link.conf")
    os.symlink(str(tmp_path / "secret"), d / "escape.conf")
    os.symlink("/elsewhere.conf", d / "abs.conf")  # absolute: inside the device
    os.mkfifo(d / "fifo.conf")
    (d / "sub.conf").mkdir()
    return DirectoryView(root, Device(id="d"))


def test_regular_files_are_the_plain_files_only(view: DirectoryView) -> None:
    assert view.regular_files("/loader/entries") == {"a.conf", "big.conf"}
    assert view.regular_files("/loader/entries/a.conf") == set()
    assert view.regular_files("/nothing") == set()


def test_read_files_answers_as_read_bytes(view: DirectoryView) -> None:
    names = sorted(os.listdir(view.root / "loader/entries")) + ["missing.conf", "a\0b", "..", "sub/x"]
    got = dict(view.read_files("/loader/entries", names, limit=50))
    for name in names:
        try:
            expected: bytes | str = view.read_bytes(f"/loader/entries/{name}", limit=50)
        except ViewError as e:
            expected = str(e)
        answer = got[name]
        assert (str(answer) if isinstance(answer, ViewError) else answer) == expected, name
    assert got["link.conf"] == got["abs.conf"] == b"title linked\n"
    assert isinstance(got["escape.conf"], ViewError)  # the link leads out: not followed out
    assert "not a regular file" in str(got["fifo.conf"])
    assert "limit" in str(got["big.conf"])


def test_a_fifo_put_in_place_of_a_file_is_refused_without_blocking(view: DirectoryView) -> None:
    entries = view.root / "loader/entries"
    assert "a.conf" in view.regular_files("/loader/entries")
    (entries / "a.conf").unlink()
    os.mkfifo(entries / "a.conf")  # swapped in after the directory was read
    [(name, answer)] = list(view.read_files("/loader/entries", ["a.conf"]))
    assert isinstance(answer, ViewError) and "not a regular file" in str(answer)
    with pytest.raises(OSError):  # nobody holds it open for reading
        os.close(os.open(entries / "a.conf", os.O_WRONLY | os.O_NONBLOCK))


def test_names_are_taken_one_at_a_time(view: DirectoryView) -> None:
    taken: list[str] = []

    def names() -> Iterator[str]:
        for name in ("a.conf", "link.conf"):
            taken.append(name)
            yield name

    files = view.read_files("/loader/entries", names())
    assert next(files)[0] == "a.conf" and taken == ["a.conf"]
    files.close()


def test_the_metered_view_charges_each_file(view: DirectoryView) -> None:
    meter = Meter()
    metered = MeteredView(view, meter)
    assert dict(metered.read_files("/loader/entries", ["a.conf"])) == {"a.conf": b"title A\n"}
    assert meter.work > 0
    assert metered.regular_files("/loader/entries") == {"a.conf", "big.conf"}
