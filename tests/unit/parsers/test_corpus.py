"""Golden tests: the u-root corpus cases (SYSLINUX, BLS and unit-level extras)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bootd.parsers import ParseContext, bls, syslinux
from bootd.parsers._bls_entry import parse_entry
from tests.unit.parsers.helpers import CORPUS, as_corpus, case_view, load_case, pxe_functions

SYSLINUX_CASES = sorted((CORPUS / "syslinux").glob("*.json"))
BLS_CASES = sorted((CORPUS / "bls").glob("*.json"))


def run_syslinux(case: dict[str, Any], tmp: Path) -> list[dict[str, Any]]:
    if case["mode"] == "pxe-config":
        read, resolve = pxe_functions(case)
        text = read("pxelinux.cfg/default")
        if text is None:
            return []
        result = syslinux.parse_text(text, config_path="pxelinux.cfg/default", read=read, resolve=resolve)
    else:
        result = syslinux.parse(case_view(case, tmp), ParseContext())
    return [as_corpus(o) for o in result.options]


def uroot_keys(case: dict[str, Any]) -> Counter[tuple[str, str, str]]:
    """(kernel, initrds, cmdline) of u-root's linux entries whose files are plain paths/URLs."""
    keys: Counter[tuple[str, str, str]] = Counter()
    for e in case["expect"]:
        if e["type"] != "linux" or not isinstance(e["kernel"], str) or isinstance(e.get("initrd"), dict):
            continue
        keys[(e["kernel"], repr(e.get("initrd")), e["cmdline"])] += 1
    return keys


def our_keys(entries: list[dict[str, Any]]) -> Counter[tuple[str, str, str]]:
    return Counter((e["kernel"], repr(e.get("initrd")), e["cmdline"]) for e in entries if e["type"] == "linux")


@pytest.mark.parametrize("path", SYSLINUX_CASES, ids=[p.stem for p in SYSLINUX_CASES])
def test_syslinux_case(path: Path, tmp_path: Path) -> None:
    case = load_case(path)
    got = run_syslinux(case, tmp_path)
    assert got == case["bootd_expect"]
    if got:
        assert sum(1 for e in got if e["default"]) <= 1
    if case.get("bootd_uroot_check", True):
        missing = uroot_keys(case) - our_keys(got)
        assert not missing, f"u-root entries bootd does not list: {missing}"


@pytest.mark.parametrize("path", BLS_CASES, ids=[p.stem for p in BLS_CASES])
def test_bls_case(path: Path, tmp_path: Path) -> None:
    case = load_case(path)
    result = bls.parse(case_view(case, tmp_path), ParseContext())
    got = [as_corpus(o) for o in result.options]
    assert got == case["bootd_expect"]
    assert sum(1 for e in got if e["default"]) == 1
    # u-root agrees on the order and the files (names and command lines differ where bootd_notes say why)
    assert [(e["kernel"], e["initrd"]) for e in got] == [(e["kernel"], e["initrd"]) for e in case["expect"]]
    for ours, theirs in zip(got, case["expect"], strict=True):
        assert theirs["name"].startswith(ours["name"])


def test_bls_key_values() -> None:
    case = load_case(CORPUS / "extra" / "bls_conf_kv.json")
    entry = parse_entry(case["files"]["fedora.conf"], "fedora.conf")
    values = dict(entry.raw)
    for key, want in case["expect_kv"].items():
        assert values[key] == want
    for key in case["expect_absent_keys"]:
        assert key not in values
    assert entry.sort_key == "fedora" and entry.machine_id == "6a9857a393724b7a981ebb5b8495b9ea"


def test_bls_entry_validity(tmp_path: Path) -> None:
    case = load_case(CORPUS / "extra" / "bls_entry_validity.json")
    result = bls.parse(case_view(case, tmp_path), ParseContext())
    listed = {o.entry_id for o in result.options}
    for c in case["cases"]:
        stem = Path(c["entry"]).stem
        assert (stem in listed) == c["valid"]
        if not c["valid"]:
            assert any(d.file == "/" + c["entry"] and "no 'linux' line" in d.message for d in result.diagnostics)


def test_syslinux_url_resolution() -> None:
    case = load_case(CORPUS / "extra" / "syslinux_url_resolution.json")
    for c in case["cases"]:
        name = c["filename"]
        if c["rootdir"] is None:
            assert syslinux.join_url("", name) == c["want"]
            continue
        base = syslinux.join_url(c["rootdir"], c["working_directory"])
        got = syslinux.join_url(c["rootdir"], name) if name.startswith("/") else syslinux.join_url(base, name)
        assert got == c["want"]
