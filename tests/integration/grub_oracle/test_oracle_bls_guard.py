"""The GRUB 2.14 oracle's guard: it refuses every way of starting GRUB that could touch the machine."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.grub_oracle import grub_emu, grub_emu_sid, sidroot


@pytest.fixture
def ws(sid_root: Path) -> Iterator[grub_emu_sid.SidWorkspace]:
    w = grub_emu_sid.SidWorkspace(sid_root)
    try:
        yield w
    finally:
        w.cleanup()


def test_the_workspace_runs_grub_emu_lite_as_nobody_in_the_root(ws: grub_emu_sid.SidWorkspace) -> None:
    argv = ws.argv()
    assert argv[:2] == [grub_emu_sid.CHROOT, str(ws.root)]
    assert argv[2:8] == ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--no-new-privs", "--"]
    assert argv[8] == "/usr/bin/grub-emu-lite"
    names = {p.name for p in ws.moddir.iterdir()}
    assert "blsuki.mod" in names and "normal.mod" in names
    assert not [n for n in names if grub_emu.LOADERS.match(n) and n != "boot.mod"]
    listed = (ws.moddir / "command.lst").read_text()
    assert "linux: linux" not in listed and "initrd: linux" not in listed and "blscfg: blsuki" in listed


@pytest.mark.parametrize("flag", ["-X", "--kexec", "-vX", "--kexec=2"])
def test_a_kexec_option_is_refused(ws: grub_emu_sid.SidWorkspace, flag: str) -> None:
    with pytest.raises(grub_emu.UnsafeRun):
        grub_emu_sid.refuse_unsafe([*ws.argv(), flag], ws.root, ws.moddir)


def test_a_loader_module_is_refused(ws: grub_emu_sid.SidWorkspace) -> None:
    (ws.moddir / "linux.mod").symlink_to(f"{sidroot.MODULES}/linux.mod")
    with pytest.raises(grub_emu.UnsafeRun, match="loader"):
        ws.argv()


def test_a_module_holding_kexec_code_is_refused_whatever_its_name(ws: grub_emu_sid.SidWorkspace) -> None:
    shutil.copy(ws.root / sidroot.MODULES.lstrip("/") / "linux.mod", ws.moddir / "harmless.mod")
    with pytest.raises(grub_emu.UnsafeRun, match="kexec code"):
        ws.argv()


@pytest.mark.parametrize(
    "change",
    [
        lambda a: ["/usr/sbin/chroot", "/", *a[2:]],  # the host itself
        lambda a: [*a[:2], "--userspec=0:0", *a[2:]],  # a chroot option
        lambda a: [*a[:2], *a[8:]],  # grub-emu straight away, as root
        lambda a: [*a[:8], "/usr/bin/grub-emu", *a[9:]],  # the build with the loaders linked in
        lambda a: [*a[:3], "--reuid=0", *a[4:]],
    ],
)
def test_other_ways_of_starting_grub_are_refused(ws: grub_emu_sid.SidWorkspace, change: object) -> None:
    argv = change(ws.argv())  # type: ignore[operator]
    with pytest.raises(grub_emu.UnsafeRun):
        grub_emu_sid.refuse_unsafe(argv, ws.root, ws.moddir)


def test_a_grub_crash_is_an_error_not_an_empty_menu(tmp_path: Path) -> None:
    crashed = grub_emu.Loaded((), "", output="Booting `x'\nfree(): invalid size\n")
    with pytest.raises(grub_emu_sid.GrubCrashed):
        grub_emu_sid._check(crashed)
