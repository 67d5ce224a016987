"""The registry loads a parser only when the device may hold a file it claims:
a real ``bootd scan`` of a disk with only a ``grub.cfg`` imports no other
parser, the claims cover every path each parser starts from, and a parser
left out would have found nothing and said nothing."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import pytest

from bootd.model import Source
from bootd.parsers import CLAIMS, REGISTRY, ParseContext, ParserEntry, claimed, parse_device
from bootd.parsers._text import Finder
from bootd.parsers.view import MAX_LIST_ENTRIES
from tests.unit.core.test_cli_imports import demo_sources, imported
from tests.unit.parsers.helpers import make_view

OTHERS = {"bootd.parsers.bls", "bootd.parsers.uki", "bootd.parsers.syslinux", "bootd.parsers.yaboot"}
OTHERS |= {"bootd.parsers.kboot", "bootd.parsers.petitboot"}


def own_paths(source: Source) -> tuple[str, ...]:
    mod = importlib.import_module(next(e.module for e in REGISTRY if e.source == source))
    if source is Source.BLS:
        uki = importlib.import_module("bootd.parsers.uki")
        return tuple(mod.DIRECTORIES) + tuple(uki.DIRECTORIES)
    if source is Source.SYSLINUX:
        return tuple(f"{d.rstrip('/')}/{n}" for d in mod.CONFIG_DIRS for n in mod.CONFIG_NAMES)
    return tuple(mod.CONFIG_PATHS)


def test_a_scan_of_a_grub_only_disk_imports_no_other_parser() -> None:
    names = imported("scan", "--json", *demo_sources()[:1])  # sda2: /boot/grub/grub.cfg only
    assert "bootd.parsers.grub.interpreter" in names  # the scan really ran GRUB's parser
    assert sorted(names & OTHERS) == []


@pytest.mark.parametrize("source", sorted(CLAIMS))
def test_the_claims_are_the_parsers_own_paths(source: Source) -> None:
    assert CLAIMS[source] == own_paths(source)
    assert next(e for e in REGISTRY if e.source == source).claims == CLAIMS[source]


def test_grub_runs_on_every_device() -> None:
    assert next(e for e in REGISTRY if e.source == Source.GRUB2).claims is None


def entry(source: Source) -> ParserEntry:
    return next(e for e in REGISTRY if e.source == source)


@pytest.mark.parametrize("source", sorted(CLAIMS))
def test_each_claimed_path_in_any_letter_case_loads_the_parser(tmp_path: Path, source: Source) -> None:
    for i, path in enumerate(CLAIMS[source]):
        for case, spelling in enumerate((path, path.upper())):
            is_dir = source is Source.BLS  # its claims are directories
            view = make_view(tmp_path / f"{i}-{case}", {"/other": "x", spelling + ("/x" if is_dir else ""): "x"})
            assert claimed(entry(source), Finder(view)), spelling


def test_something_not_a_file_at_a_claimed_path_loads_the_parser(tmp_path: Path) -> None:
    # the parser reports it ("not a regular file"), so it must run
    view = make_view(tmp_path, {"/other": "x"})
    os.mkfifo(view.root / "kboot.conf")
    assert claimed(entry(Source.KBOOT), Finder(view))
    result = parse_device(view, ParseContext(), only=(Source.KBOOT,))
    assert [d.message for d in result.diagnostics] == ["not a regular file; skipped"]


def test_a_claimed_path_behind_a_link_loads_the_parser(tmp_path: Path) -> None:
    view = make_view(tmp_path, {"/real/loader/entries/a.conf": "title A\nlinux /v\n"})
    (view.root / "boot").symlink_to("real")
    assert claimed(entry(Source.BLS), Finder(view))
    assert [o.name for o in parse_device(view, ParseContext()).options] == ["A"]


def test_a_directory_too_long_to_list_loads_every_parser(tmp_path: Path) -> None:
    files = {f"/f{i}": "" for i in range(MAX_LIST_ENTRIES)}
    view = make_view(tmp_path, files)
    assert all(claimed(e, Finder(view)) for e in REGISTRY)


def test_an_empty_device_loads_every_parser(tmp_path: Path) -> None:
    view = make_view(tmp_path, {})
    assert all(claimed(e, Finder(view)) for e in REGISTRY)


@pytest.mark.parametrize("source", sorted(CLAIMS))
def test_a_parser_left_out_finds_nothing_and_says_nothing(tmp_path: Path, source: Source) -> None:
    # near misses: the directories on the way exist, the claimed names do not
    files = {"/boot/grub/grub.cfg": "", "/EFI/BOOT/BOOTX64.EFI": "", "/etc/fstab": "", "/loader/loader.conf": ""}
    files |= {"/boot/loader/loader.conf": "", "/EFI/debian/grub.cfg": "", "/isolinux/boot.cat": ""}
    view = make_view(tmp_path, files)
    assert not claimed(entry(source), Finder(view))
    parser = importlib.import_module(entry(source).module).parse
    result = parser(view, ParseContext())
    got = (result.options, result.diagnostics, result.timeout, result.awaits, result.supersedes)
    assert got == ((), (), None, (), ())
