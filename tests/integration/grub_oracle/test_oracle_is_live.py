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


@pytest.mark.parametrize(
    ("fs", "uuid", "label"),
    [
        ("vfat", "4A3B-1C2D", "BOOTFAT"),
        ("iso9660", "2023-10-05-12-00-00-00", "Fedora-WS-Live-39"),
        ("ext4", None, "boot"),
    ],
)
def test_a_device_is_built_on_the_filesystem_it_declares(tmp_path: Path, fs: str, uuid: str | None, label: str) -> None:
    uuid = uuid or "7d2e9c41-5b3a-4e8f-a1c6-3f4e5d6c7b8a"
    spec = grub_emu.DeviceSpec("d", {"boot/grub/grub.cfg": b"x", "EFI/BOOT/long-name.cfg": b"y"}, uuid, label, fs)
    disk = grub_emu.make_disk(tmp_path, "disk", spec)
    part = tmp_path / "part"
    with open(disk, "rb") as src, open(part, "wb") as dst:
        src.seek(1 << 20)
        dst.write(src.read())
    seen = grub_emu.probe_identity(part)
    assert (seen["TYPE"], seen["UUID"], seen["LABEL"]) == (fs, uuid, label)


def test_a_case_device_keeps_its_fat_or_iso_identity() -> None:
    case = {
        "device": {"id": "esp", "fstype": "vfat", "fs_uuid": "f2a2-96ba", "label": "ESP"},
        "files": {},
        "other_devices": [
            {"id": "cd", "kind": "iso9660 image contents", "fs_uuid": "2023-10-05-12-00-00-00"},
            {"id": "odd", "fs": "vfat", "fs_uuid": "d0be5cb9-622d-42d5-a531-674aaa120309"},
            {"id": "root", "fstype": "xfs", "fs_uuid": "44bd8d99-3756-41fc-adea-e35ecbf9e1f5"},
        ],
    }
    esp, cd, odd, root = grub_emu.specs_from_case(case)
    assert (esp.fs, esp.uuid, esp.label) == ("vfat", "F2A2-96BA", "ESP")  # as libblkid shows it
    assert (cd.fs, cd.uuid) == ("iso9660", "2023-10-05-12-00-00-00")
    assert odd.fs == "vfat" and odd.uuid is not None and grub_emu.FAT_UUID.fullmatch(odd.uuid)
    assert (root.fs, root.uuid) == ("ext4", "44bd8d99-3756-41fc-adea-e35ecbf9e1f5")
    with pytest.raises(grub_emu.BadSpec):
        grub_emu.check_spec(grub_emu.DeviceSpec("x", {}, "4A3B-1C2D", "A LABEL TOO LONG", "vfat"))
