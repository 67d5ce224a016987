"""Hostile BLS and SYSLINUX input costs bounded time and says what happened.

Where a case is about time, the bound is on CPU time of the one parse and is
generous (the unfixed code took 24 s and more): it proves the cost is
bounded, it does not measure speed (that is ``make bench``).
"""

from __future__ import annotations

import fnmatch
import time
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bootd.parsers import ParseContext, bls, syslinux
from bootd.parsers._glob import compile_glob
from tests.unit.parsers.helpers import make_view

ENTRY = "title Fedora\nversion 6.1\nlinux /vmlinuz-6.1\n"


def _bls_with_default(tmp_path: Path, default: str) -> tuple[float, list[str], list[str]]:
    files = {
        "/loader/loader.conf": f"default {default}\n",
        "/loader/entries/a.conf": ENTRY,
        "/loader/entries/b.conf": ENTRY.replace("6.1", "6.2"),
    }
    view = make_view(tmp_path, files)
    start = time.process_time()
    result = bls.parse(view, ParseContext())
    spent = time.process_time() - start
    return spent, [o.entry_id or "" for o in result.options if o.default], [d.message for d in result.diagnostics]


def test_default_of_thirty_thousand_brackets_is_cheap(tmp_path: Path) -> None:
    spent, default, messages = _bls_with_default(tmp_path, "[" * 30_000)
    assert spent < 1.0
    assert len(default) == 1
    assert any("too long" in m for m in messages)
    assert all(len(m) < 300 for m in messages)  # the pattern is not echoed whole


def test_default_glob_still_picks_its_entry(tmp_path: Path) -> None:
    _, default, _ = _bls_with_default(tmp_path, "[b]*")
    assert [d.split("/")[-1] for d in default] == ["b"]


_GLOB_CHARS = "ab-!]*?[\\."


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_GLOB_CHARS, max_size=10), st.text(alphabet=_GLOB_CHARS, max_size=8))
def test_linear_glob_means_what_fnmatch_means(pattern: str, name: str) -> None:
    assert compile_glob(pattern)(name) == fnmatch.fnmatchcase(name, pattern)


def test_entry_files_stop_at_the_byte_cap(tmp_path: Path) -> None:
    big = ENTRY + "options " + "x" * (1024 * 1024 - 200) + "\n"
    files = {f"/loader/entries/e{i:02}.conf": big.replace("Fedora", f"F{i}") for i in range(12)}
    view = make_view(tmp_path, files)
    entries, diags = bls.load_entries(view)
    assert 0 < len(entries) < 12
    assert any("MAX_ENTRY_BYTES" in d.message for d in diags)


def test_syslinux_config_label_naming_its_own_file_says_so(tmp_path: Path) -> None:
    files = {
        "/syslinux/syslinux.cfg": "DEFAULT linux\nLABEL again\n  CONFIG syslinux.cfg\nLABEL linux\n  KERNEL /vmlinuz\n",
    }
    result = syslinux.parse(make_view(tmp_path, files), ParseContext())
    assert [o.name for o in result.options] == ["linux"]
    assert any("CONFIG cycle" in d.message and "again" in d.message for d in result.diagnostics)


def test_syslinux_config_label_to_another_file_is_named(tmp_path: Path) -> None:
    files = {
        "/syslinux/syslinux.cfg": "LABEL other\n  CONFIG /syslinux/other.cfg\n",
        "/syslinux/other.cfg": "LABEL back\n  CONFIG /syslinux/syslinux.cfg\n",
    }
    result = syslinux.parse(make_view(tmp_path, files), ParseContext())
    assert result.options == ()
    assert any("CONFIG /syslinux/other.cfg" in d.message and "not followed" in d.message for d in result.diagnostics)
