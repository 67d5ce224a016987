"""Hostile input: garbage, huge files, include bombs and cycles, bad encodings,
paths that try to leave the device.  Every case keeps what can be recovered
and says what it skipped."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bootd.__main__ import main
from bootd.model import Resource
from bootd.parsers import ParseContext, bls, kboot, syslinux, yaboot
from tests.unit.parsers.helpers import make_view

GARBAGE = bytes(range(256)) * 64
CONFIGS = {
    "syslinux": "/syslinux/syslinux.cfg",
    "yaboot": "/etc/yaboot.conf",
    "kboot": "/etc/kboot.conf",
    "bls": "/loader/entries/x.conf",
}
PARSERS = {"syslinux": syslinux.parse, "yaboot": yaboot.parse, "kboot": kboot.parse, "bls": bls.parse}


@pytest.mark.parametrize("fmt", sorted(CONFIGS))
def test_binary_garbage_is_skipped_with_a_message(fmt: str, tmp_path: Path) -> None:
    view = make_view(tmp_path, {CONFIGS[fmt]: GARBAGE})
    result = PARSERS[fmt](view, ParseContext())
    assert result.options == ()
    assert any("binary data" in d.message for d in result.diagnostics)


@pytest.mark.parametrize("fmt", sorted(CONFIGS))
def test_huge_file_is_not_read(fmt: str, tmp_path: Path) -> None:
    view = make_view(tmp_path, {CONFIGS[fmt]: ""})
    with open(view.root / CONFIGS[fmt].lstrip("/"), "r+b") as f:
        f.truncate(100 * 1024 * 1024)  # 100 MB (sparse)
    result = PARSERS[fmt](view, ParseContext())
    assert result.options == ()
    assert any("larger than" in d.message for d in result.diagnostics)


def test_ten_thousand_includes(tmp_path: Path) -> None:
    cfg = "LABEL first\n KERNEL /a\n" + "INCLUDE more.cfg\n" * 10_000 + "LABEL last\n KERNEL /z\n"
    view = make_view(tmp_path, {"/syslinux.cfg": cfg, "/more.cfg": "LABEL m\n KERNEL /m\n"})
    result = syslinux.parse(view, ParseContext())
    names = [o.name for o in result.options]
    assert names[0] == "first" and names[-1] == "last"
    assert names.count("m") == syslinux.MAX_INCLUDES
    assert sum("INCLUDEs; the rest are skipped" in d.message for d in result.diagnostics) == 1


def test_deep_include_chain_is_capped(tmp_path: Path) -> None:
    files = {f"/c{i}.cfg": f"LABEL l{i}\n KERNEL /k\nINCLUDE c{i + 1}.cfg\n" for i in range(200)}
    files["/syslinux.cfg"] = "INCLUDE c0.cfg\n"
    result = syslinux.parse(make_view(tmp_path, files), ParseContext())
    assert len(result.options) == syslinux.MAX_INCLUDE_DEPTH - 1  # the top config is the first level
    assert any("nested more than" in d.message for d in result.diagnostics)


def test_include_cycle(tmp_path: Path) -> None:
    files = {
        "/syslinux.cfg": "LABEL top\n KERNEL /t\nINCLUDE a.cfg\n",
        "/a.cfg": "LABEL a\n KERNEL /a\nINCLUDE b.cfg\n",
        "/b.cfg": "LABEL b\n KERNEL /b\nINCLUDE a.cfg\nINCLUDE ./syslinux.cfg\n",
    }
    result = syslinux.parse(make_view(tmp_path, files), ParseContext())
    assert [o.name for o in result.options] == ["top", "a", "b"]
    assert sum("a cycle" in d.message for d in result.diagnostics) == 2


def test_non_utf8_bytes_are_replaced(tmp_path: Path) -> None:
    cfg = b"LABEL caf\xe9\n MENU LABEL Syst\xe8me \xff\n KERNEL /vmlinuz\n APPEND quiet\n"
    result = syslinux.parse(make_view(tmp_path, {"/syslinux.cfg": cfg}), ParseContext())
    (opt,) = result.options
    assert opt.name == "Syst\ufffdme \ufffd" and opt.args == "quiet"
    assert any("not UTF-8" in d.message for d in result.diagnostics)
    entry = b"title Fedora \xc3\x28\nlinux /vmlinuz\n"
    (bopt,) = bls.parse(make_view(tmp_path, {"/loader/entries/e.conf": entry}), ParseContext()).options
    assert bopt.name.startswith("Fedora ")


def test_dotdot_paths_stay_on_the_device(tmp_path: Path) -> None:
    outside = tmp_path / "outside.cfg"
    outside.write_text("LABEL stolen\n KERNEL /x\n")
    cfg = "INCLUDE ../../../../outside.cfg\nLABEL a\n KERNEL ../../../../../etc/passwd\n INITRD ../../x/../../y\n"
    result = syslinux.parse(make_view(tmp_path, {"/boot/syslinux/syslinux.cfg": cfg}), ParseContext())
    (opt,) = result.options
    assert opt.name == "a"
    assert opt.kernel == Resource.local("/etc/passwd")  # /etc/passwd of the device, not of this machine
    assert opt.initrds == (Resource.local("/y"),)
    assert any("outside.cfg: not found" in d.message for d in result.diagnostics)


def test_symlinks_cannot_leave_the_device(tmp_path: Path) -> None:
    secret = tmp_path / "secret.cfg"
    secret.write_text("LABEL stolen\n KERNEL /x\n")
    view = make_view(tmp_path, {"/syslinux.cfg": "INCLUDE rel.cfg\nINCLUDE abs.cfg\nLABEL ok\n KERNEL /k\n"})
    os.symlink("../../secret.cfg", view.root / "rel.cfg")
    os.symlink(str(secret), view.root / "abs.cfg")
    os.symlink(str(secret), view.root / "extlinux.conf")
    result = syslinux.parse(view, ParseContext())
    assert [o.name for o in result.options] == ["ok"]
    loader = make_view(tmp_path / "b", {"/loader/entries/ok.conf": "title Ok\nlinux /k\n"})
    os.symlink(str(secret), loader.root / "loader/entries/evil.conf")
    os.symlink("/", loader.root / "loader/entries/root.conf")
    assert [o.name for o in bls.parse(loader, ParseContext()).options] == ["Ok"]


def test_scan_reports_skips_and_never_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    view = make_view(
        tmp_path,
        {
            "/syslinux.cfg": b"LABEL good\n KERNEL /k\nINCLUDE bad.cfg\nINCLUDE syslinux.cfg\n",
            "/bad.cfg": GARBAGE,
            "/etc/yaboot.conf": GARBAGE,
            "/loader/entries/big.conf": "",
        },
    )
    with open(view.root / "loader/entries/big.conf", "r+b") as f:
        f.truncate(100 * 1024 * 1024)
    rc = main(["scan", str(view.root)])
    out, err = capsys.readouterr()
    assert rc == 0
    assert "good" in out
    assert "Traceback" not in out + err
    assert "binary data" in err and "larger than" in err and "a cycle" in err


def test_an_unreadable_config_falls_back_to_the_next(tmp_path: Path) -> None:
    view = make_view(tmp_path, {"/extlinux.conf": GARBAGE, "/syslinux.cfg": "LABEL ok\n KERNEL /k\n"})
    result = syslinux.parse(view, ParseContext())
    assert [o.name for o in result.options] == ["ok"]
    assert any(d.file == "/extlinux.conf" and "binary data" in d.message for d in result.diagnostics)
