"""The oracle itself: it runs GRUB safely, and it catches a wrong scope rule.

GRUB's own answer for the scope probes depends on the rule (a plain entry
sees unexported variables, a submenu only exported ones); the records a
wrong rule would give differ from it, and bootd's do not.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import is_root
from tests.integration.grub_oracle import compare, grub_emu
from tests.integration.grub_oracle.cases import ORACLE_CORPUS, probe_case

needs_grub_emu = pytest.mark.skipif(not grub_emu.available(), reason="grub-emu is not installed (make apt installs it)")
needs_root = pytest.mark.skipif(not is_root(), reason="the oracle runs GRUB as nobody, which needs root to switch to")


def _records(name: str, tmp_path: Path) -> tuple[list[compare.Record], list[compare.Record]]:
    case = probe_case(ORACLE_CORPUS / "probes" / f"{name}.cfg")
    specs = grub_emu.specs_from_case(case)
    grub = compare.oracle_records(grub_emu.Oracle(specs, case["config"]).run(), specs)
    bootd, _ = compare.bootd_records(specs, tmp_path)
    return grub, bootd


@needs_grub_emu
@needs_root
def test_a_plain_entry_seeing_only_exported_variables_fails_the_comparison(tmp_path: Path) -> None:
    grub, bootd = _records("scope-plain", tmp_path)
    assert [r["args"] for r in grub] == ["root=/dev/sda2 quiet splash", "after quiet splash"]
    # What the old rule (plain entries see exported variables only) loads:
    wrong = [{**r, "args": a} for r, a in zip(grub, ["root=/dev/sda2 ", " "], strict=True)]
    assert compare.differences(grub, wrong)
    assert compare.differences(grub, bootd) == []


@needs_grub_emu
@needs_root
def test_a_submenu_seeing_unexported_variables_fails_the_comparison(tmp_path: Path) -> None:
    grub, bootd = _records("scope-submenu", tmp_path)
    assert [r["args"] for r in grub] == ["plain= shared=s inner=i", "inner= plain=p"]
    wrong = [{**grub[0], "args": "plain=p shared=s inner=i"}, grub[1]]
    assert compare.differences(grub, wrong)
    assert compare.differences(grub, bootd) == []


def test_the_harness_refuses_a_kexec_option(tmp_path: Path) -> None:
    argv = grub_emu._argv(tmp_path, tmp_path / "device.map")
    for flag in ("-X", "--kexec", "-vX"):
        with pytest.raises(grub_emu.UnsafeRun):
            grub_emu.refuse_unsafe([*argv, flag], tmp_path)


def test_the_harness_refuses_a_loader_module(tmp_path: Path) -> None:
    (tmp_path / "linux.mod").write_bytes(b"")
    with pytest.raises(grub_emu.UnsafeRun):
        grub_emu._argv(tmp_path, tmp_path / "device.map")


def test_the_harness_refuses_to_run_grub_with_privileges(tmp_path: Path) -> None:
    argv = grub_emu._argv(tmp_path, tmp_path / "device.map")
    assert argv[:5] == ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--no-new-privs"]
    with pytest.raises(grub_emu.UnsafeRun):
        grub_emu.refuse_unsafe(argv[5:], tmp_path)  # grub-emu started directly, as root


def test_the_module_directory_has_no_loader(tmp_path: Path) -> None:
    if not grub_emu.available():
        pytest.skip("grub-emu is not installed")
    ws = grub_emu.Workspace(tmp_path)
    try:
        names = {p.name for p in ws.moddir.iterdir()}
        assert "normal.mod" in names
        assert not [n for n in names if grub_emu.LOADERS.match(n)]
    finally:
        ws.cleanup()
