"""GRUB 2.14's blscfg options: --path, --enable-fallback, --show-default,
--show-non-default, --entry (real GRUB's answers for these are the oracle's
bls/option-* cases; these pin the details, and the one case GRUB cannot run)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bootd.parsers.grub.blscfg import Options, is_default, parse_options
from bootd.parsers.view import DirectoryView
from tests.unit.grub.conftest import Run

THREE = {
    "/loader/entries/a-entry.conf": "title Title A\nlinux /vmlinuz-a\noptions a=1\n",
    "/loader/entries/b-entry.conf": "title Title B\nlinux /vmlinuz-b\noptions b=1\n",
    "/loader/entries/c-entry.conf": "title Title C\nlinux /vmlinuz-c\noptions c=1\n",
    "/alt/entries/z-alt.conf": "title Alt entry\nlinux /vmlinuz-alt\noptions alt=1\n",
}


def _titles(run: Run, cfg: str, files: dict[str, str] | None = None) -> list[str]:
    out = run("set default=0\n" + cfg, files={**THREE, **(files or {})})
    return [o.name for o in out.options]


def test_no_option_lists_every_entry_newest_first(run: Run) -> None:
    assert _titles(run, "blscfg\n") == ["Title C", "Title B", "Title A"]


def test_path_reads_another_directory_only(run: Run) -> None:
    assert _titles(run, "blscfg --path /alt/entries\n") == ["Alt entry"]
    assert _titles(run, "blscfg -p /nonexistent\n") == []
    assert _titles(run, "blscfg --path=/alt/entries\n") == ["Alt entry"]


def test_path_with_a_device(run: Run, other: Callable[..., DirectoryView]) -> None:
    disk = other("sdb1", {"/e/x.conf": "title Other\nlinux /vmlinuz-x\n"}, uuid="4A3B-1C2D")
    cfg = "search --fs-uuid --set=dev 4a3b-1c2d\nblscfg --path ($dev)/e\n"
    out = run("set default=0\n" + cfg, files=THREE, others={"sdb1": disk})
    assert [o.name for o in out.options] == ["Other"]


def test_path_of_one_entry_file(run: Run) -> None:
    # GRUB 2.14 itself crashes on this (the oracle's grub-emu dies); bootd reads the one file.
    out = run("set default=0\nblscfg --path /loader/entries/b-entry.conf\n", files=THREE)
    assert [(o.name, o.entry_id) for o in out.options] == [("Title B", "b-entry")]


def test_fallback_reads_the_standard_place_when_the_path_has_nothing(run: Run) -> None:
    assert _titles(run, "blscfg --path /nonexistent --enable-fallback\n") == ["Title C", "Title B", "Title A"]
    assert _titles(run, "blscfg -f -p /alt/entries\n") == ["Alt entry"]


def test_show_default_and_non_default_put_the_default_first(run: Run) -> None:
    cfg = "set default=1\nblscfg --show-default\nblscfg --show-non-default\nset default=0\n"
    assert _titles(run, cfg) == ["Title B", "Title C", "Title A"]


@pytest.mark.parametrize(
    ("default", "shown"),
    [
        ("c-entry.conf", ["Title C"]),
        ("c-entry", []),  # the file name counts with .conf
        ("Title A", ["Title A"]),
        ("2", ["Title A"]),
        ("0x2", ["Title A"]),
        ("02", ["Title A"]),
        ("08", []),
        ("7", []),
        ("-1", []),
        ("", []),
    ],
)
def test_which_entry_default_names(run: Run, default: str, shown: list[str]) -> None:
    assert _titles(run, f'set default="{default}"\nblscfg -d\n') == shown


def test_entry_names_a_file_with_conf(run: Run) -> None:
    assert _titles(run, "blscfg --entry c-entry.conf\nblscfg -e b-entry\nblscfg --entry=a-entry.conf\n") == [
        "Title C",
        "Title A",
    ]
    cfg = 'set default="Title B"\nblscfg -n --entry b-entry.conf\n'
    assert _titles(run, cfg) == ["Title C", "Title B", "Title A"]


def test_entries_without_linux_count_in_the_index(run: Run) -> None:
    files = {"/loader/entries/d-nolinux.conf": "title No linux\noptions x\n"}
    # newest first: d-nolinux (0), c (1), b (2), a (3)
    assert _titles(run, "set default=1\nblscfg -d\n", files=files) == ["Title C"]


def test_parse_options() -> None:
    assert parse_options([]) == Options()
    assert Options().all
    got = parse_options(["-dn", "-pX", "--entry", "e.conf", "ignored"])
    assert got == Options(path="X", show_default=True, show_non_default=True, entry="e.conf")
    assert isinstance(got, Options) and not got.all
    assert parse_options(["--path", "/a", "--path", "/b"]) == Options(path="/b")
    assert parse_options(["--nosuch"]) == "unknown argument `--nosuch'"
    assert parse_options(["-x"]) == "unknown argument `-x'"
    assert parse_options(["--path"]) == "missing mandatory option for `path'"
    assert parse_options(["--show-default=1"]) == "`show-default' takes no value"


def test_a_bad_option_adds_nothing_and_says_why(run: Run) -> None:
    out = run("set default=0\nblscfg --nosuch\n", files=THREE)
    assert out.options == []
    assert any("unknown argument `--nosuch'" in d.message for d in out.diagnostics)


def test_is_default() -> None:
    assert not is_default(None, "a.conf", "A", 0)
    assert is_default("a.conf", "a.conf", None, 5)
    assert is_default("A", "a.conf", "A", 5)
    assert not is_default("4294967296", "a.conf", None, 0)
