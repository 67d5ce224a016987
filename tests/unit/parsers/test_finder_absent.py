"""Finder.absent rules a path out only when a full listing shows it cannot be
there; GRUB's config search uses it and finds the same files."""

from __future__ import annotations

import os
from pathlib import Path

from bootd.model import Device
from bootd.parsers._text import Finder
from bootd.parsers.grub import candidates
from bootd.parsers.view import MAX_LIST_ENTRIES, DirectoryView


def _view(root: Path) -> DirectoryView:
    return DirectoryView(root, Device(id="d"))


def test_absent_only_when_a_listing_says_so(tmp_path: Path) -> None:
    (tmp_path / "Boot/GRUB").mkdir(parents=True)
    (tmp_path / "Boot/GRUB/grub.cfg").write_text("x")
    (tmp_path / "empty").mkdir()
    finder = Finder(_view(tmp_path))
    assert not finder.absent("/boot/grub/grub.cfg")  # another letter case is still there
    assert not finder.absent("/Boot/GRUB/grub.cfg")
    assert finder.absent("/grub/grub.cfg") and finder.absent("/boot/grub2/grub.cfg")
    assert not finder.absent("/empty/grub.cfg")  # an empty listing says nothing
    assert not finder.absent("/Boot/GRUB/grub.cfg/x")  # nor does a file's (no listing)


def test_a_listing_cut_short_rules_nothing_out(tmp_path: Path) -> None:
    # More names than a listing shows: the config may be among those not shown,
    # and the exact lookup behind the listing still finds it.
    (tmp_path / "boot/grub").mkdir(parents=True)
    (tmp_path / "boot/grub/grub.cfg").write_text("menuentry x { linux /k }\n")
    for i in range(MAX_LIST_ENTRIES):
        os.close(os.open(tmp_path / f"f{i:05}", os.O_CREAT | os.O_WRONLY, 0o644))
    view = _view(tmp_path)
    assert len(view.listdir("/")) == MAX_LIST_ENTRIES
    assert not Finder(view).absent("/grub2/grub.cfg")
    assert [str(p) for p in candidates(view)] == ["/boot/grub/grub.cfg"]
