"""A FIFO (or other non-regular file) where a config file should be is reported
("not a regular file; skipped") and never opened, so a scan cannot block on it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bootd.model import ParseResult
from bootd.parsers import ParseContext, bls, grub, kboot, syslinux, yaboot
from bootd.parsers.view import DeviceView
from tests.unit.parsers.helpers import make_view

# Where each parser looks for its config, and a good config found next to it
# (syslinux and GRUB try several places: the FIFO shadows the first one).
CASES: dict[str, tuple[Callable[[DeviceView, ParseContext], ParseResult], str, dict[str, str]]] = {
    "syslinux": (syslinux.parse, "/boot/syslinux/syslinux.cfg", {"/syslinux.cfg": "LABEL ok\n KERNEL /vmlinuz\n"}),
    "syslinux-include": (
        syslinux.parse,
        "/syslinux/more.cfg",
        {"/syslinux/syslinux.cfg": "INCLUDE more.cfg\nLABEL ok\n KERNEL /vmlinuz\n"},
    ),
    "bls": (bls.parse, "/loader/entries/a.conf", {"/loader/entries/b.conf": "title ok\nlinux /vmlinuz\n"}),
    "bls-loader.conf": (bls.parse, "/loader/loader.conf", {"/loader/entries/b.conf": "title ok\nlinux /vmlinuz\n"}),
    "yaboot": (yaboot.parse, "/etc/yaboot.conf", {}),
    "kboot": (kboot.parse, "/etc/kboot.conf", {}),
    "grub": (grub.parse, "/boot/grub/grub.cfg", {"/boot/grub2/grub.cfg": "menuentry ok {\n linux /vmlinuz\n}\n"}),
    "grub-source": (
        grub.parse,
        "/boot/grub/extra.cfg",
        {"/boot/grub2/grub.cfg": "source /boot/grub/extra.cfg\nmenuentry ok {\n linux /vmlinuz\n}\n"},
    ),
    "grub-legacy": (grub.parse, "/boot/grub/menu.lst", {}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_fifo_config_is_reported_and_never_opened(case: str, tmp_path: Path) -> None:
    parse, where, others = CASES[case]
    view = make_view(tmp_path, {**others, "/vmlinuz": "kernel"})
    fifo = view.root / where.lstrip("/")
    fifo.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(fifo)
    # A writer opening the FIFO without blocking fails unless a reader has it
    # open: after the parse, that proves the parser never opened it.
    result = parse(view, ParseContext())
    messages = [str(d) for d in result.diagnostics]
    # (a sourced file is reported at the line that sources it)
    assert any(m.endswith(f" {where}: not a regular file; skipped") for m in messages), messages
    assert sum("not a regular file" in m for m in messages) == 1
    if others:
        assert [o.name for o in result.options] == ["ok"]
    with pytest.raises(OSError):
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))


def test_socket_config_is_reported(tmp_path: Path) -> None:
    view = make_view(tmp_path, {})
    (view.root / "etc").mkdir()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.bind(str(view.root / "etc/kboot.conf"))
        result = kboot.parse(view, ParseContext())
    assert [str(d) for d in result.diagnostics] == ["warning: /etc/kboot.conf: not a regular file; skipped"]
    assert result.options == ()


def test_scan_subprocess_reports_fifo_and_exits(tmp_path: Path) -> None:
    root = tmp_path / "disk"
    (root / "boot/grub").mkdir(parents=True)
    os.mkfifo(root / "boot/grub/grub.cfg")
    (root / "loader/entries").mkdir(parents=True)
    os.mkfifo(root / "loader/entries/a.conf")
    proc = subprocess.run(
        [sys.executable, "-m", "bootd", "scan", str(root)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert "Traceback" not in proc.stderr
    assert "warning: /boot/grub/grub.cfg: not a regular file; skipped\n" in proc.stderr
    assert "warning: /loader/entries/a.conf: not a regular file; skipped\n" in proc.stderr


def test_a_file_in_another_letter_case_is_not_reported(tmp_path: Path) -> None:
    cfg = "source /boot/grub2/extra.cfg\nmenuentry ok { linux /vmlinuz }\n"
    view = make_view(tmp_path, {"/boot/grub2/grub.cfg": cfg, "/boot/grub2/EXTRA.CFG": "menuentry x { linux /k }\n"})
    result = grub.parse(view, ParseContext())
    assert [o.name for o in result.options] == ["ok"]
    assert not any("not a regular file" in d.message for d in result.diagnostics)
