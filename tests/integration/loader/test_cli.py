"""``bootd dtb`` and ``bootd boot --scan`` as a person runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import libfdt

from tests.conftest import ROOT, requires_root
from tests.unit.loader.helpers import ARM64_DTS, ARM_TOML, bls_disk, decompile, make_machine

UUID = "6b1d5e4e-0e2a-4c55-9a3e-2f6f3c1d7b10"


def bootd(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bootd", *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=60
    )


def test_dtb_patch_writes_a_valid_tree_and_prints_changes(tmp_path: Path, arm64_dtb: bytes) -> None:
    src = tmp_path / "in.dtb"
    src.write_bytes(arm64_dtb)
    out = tmp_path / "out.dtb"
    r = bootd(
        "dtb", "patch", src, "-o", out, "--console", "tty0", "--framebuffer", "1024x768x32@0x7fc00000,stride=4096"
    )
    assert r.returncode == 0, r.stderr
    assert '+ /chosen/stdout-path = "/chosen/framebuffer@7fc00000"' not in r.stdout  # it was there: changed
    assert '~ /chosen/stdout-path: "/pl011@9000000" -> "/chosen/framebuffer@7fc00000"' in r.stdout
    assert "+ /reserved-memory/framebuffer@7fc00000/no-map" in r.stdout
    blob = out.read_bytes()
    assert libfdt.fdt_check_full(bytearray(blob), len(blob)) == 0
    assert "simple-framebuffer" in decompile(blob)


def test_dtb_patch_alias_console_and_show(tmp_path: Path, arm64_dtb: bytes) -> None:
    src = tmp_path / "in.dtb"
    src.write_bytes(arm64_dtb)
    r = bootd("dtb", "patch", src, "-o", tmp_path / "o.dtb", "--console", "serial0:115200n8", "-q")
    assert r.returncode == 0 and r.stdout == ""
    shown = bootd("dtb", "show", tmp_path / "o.dtb")
    assert shown.returncode == 0
    assert '        stdout-path = "/pl011@9000000:115200n8";' in shown.stdout


def test_dtb_patch_hands_on_fresh_seeds_and_show_marks_them(tmp_path: Path, arm64_dtb: bytes) -> None:
    src = tmp_path / "in.dtb"
    src.write_bytes(arm64_dtb)
    r = bootd("dtb", "patch", src, "-o", tmp_path / "o.dtb", "--console", "serial0")
    assert r.returncode == 0, r.stderr
    assert "~ /chosen/kaslr-seed: <0x1a2b3c4d 0x5e6f7081> -> <" in r.stdout
    assert any(line.startswith("~ /chosen/rng-seed:") for line in r.stdout.splitlines())
    shown = bootd("dtb", "show", tmp_path / "o.dtb").stdout
    assert sorted(line.strip().split(" =")[0] for line in shown.splitlines() if "boot seed" in line) == [
        "kaslr-seed",
        "rng-seed",
    ]
    bare = tmp_path / "bare.dts"
    bare.write_text("/dts-v1/;\n/ { chosen { }; };\n")
    subprocess.run(["dtc", "-I", "dts", "-O", "dtb", "-o", tmp_path / "bare.dtb", bare], check=True)
    added = bootd("dtb", "patch", tmp_path / "bare.dtb", "-o", tmp_path / "b.dtb")
    assert "+ /chosen/kaslr-seed = <" in added.stdout and "note: fresh kaslr-seed and rng-seed added" in added.stdout
    none = bootd("dtb", "patch", tmp_path / "bare.dtb", "-o", tmp_path / "n.dtb", "--no-add-seeds")
    assert "kaslr-seed" not in none.stdout.replace("add_boot_seeds", "")


def test_dtb_errors_are_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.dtb"
    bad.write_bytes(b"not a tree at all, just text" * 3)
    r = bootd("dtb", "patch", bad, "-o", tmp_path / "o.dtb", "--console", "serial0")
    assert r.returncode == 1
    assert r.stderr.strip() == "bootd dtb: not a device tree blob: bad magic number"
    assert not (tmp_path / "o.dtb").exists()
    r = bootd("dtb", "patch", bad, "-o", tmp_path / "o.dtb", "--framebuffer", "huge")
    assert r.returncode == 1 and "expected fbN or WxHxDEPTH@ADDR,stride=S" in r.stderr


def test_boot_scan_dry_run_on_this_machine(tmp_path: Path) -> None:
    disk = bls_disk(tmp_path / "disk")
    r = bootd(
        "boot",
        "--scan",
        disk,
        "--name",
        "Demo Linux",
        "--console",
        "ttyS0",
        "--dry-run",
        "--json",
        "--hooks-dir",
        tmp_path / "none",
    )
    assert r.returncode == 0, r.stderr
    plan = json.loads(r.stdout)
    assert plan["option"] == "disk/bls/demo"
    assert plan["kexec_load"][0] == "kexec" and str(disk / "boot/vmlinuz-6.1") in plan["kexec_load"]
    assert f"--initrd={disk / 'boot/initrd-6.1.img'}" in plan["kexec_load"]


def test_boot_scan_on_a_sandbox_machine_prints_the_plan(tmp_path: Path) -> None:
    disk = bls_disk(tmp_path / "disk")
    machine = make_machine(tmp_path / "m", dts=ARM64_DTS, extra=ARM_TOML)
    state = tmp_path / "state"
    r = bootd(
        "boot",
        "--scan",
        f"{disk},id=vda2",
        "--name",
        "vda2/bls/demo",
        "--console",
        "ttyAMA0:115200n8",
        "--machine",
        machine,
        "--state-dir",
        state,
        "--work-dir",
        tmp_path / "w",
        "--hooks-dir",
        tmp_path / "n",
    )
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "option:      Demo Linux (vda2/bls/demo)"
    assert lines[1].startswith("kexec load:  kexec -l ") and f"--dtb={tmp_path / 'w/boot.dtb'}" in lines[1]
    assert "console:     ttyAMA0:115200n8 -> /pl011@9000000:115200n8" in lines
    # the framebuffer the tree hands on, as the machine reports it, and its new node
    fb = "fb0 1024x768, 32 bpp a8r8g8b8, stride 4096, 3145728 bytes at 0x7fc00000 -> /chosen/framebuffer@7fc00000"
    assert f"framebuffer: {fb}" in lines
    assert '  + /chosen/linux,stdout-path = "/pl011@9000000:115200n8"' in lines
    assert "Loading the kernel" in r.stderr
    assert len((state / "kexec.log").read_text().splitlines()) == 2


def test_boot_scan_json_names_the_framebuffer_handed_on(tmp_path: Path) -> None:
    disk = bls_disk(tmp_path / "disk")
    machine = make_machine(tmp_path / "m", dts=ARM64_DTS, extra=ARM_TOML)
    r = bootd(
        "boot", "--scan", f"{disk},id=vda2", "--name", "vda2/bls/demo", "--console", "tty0", "--json",
        "--machine", machine, "--state-dir", tmp_path / "state", "--work-dir", tmp_path / "w",
        "--hooks-dir", tmp_path / "n",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    fb = json.loads(r.stdout)["framebuffer"]
    assert fb == {
        "name": "fb0", "width": 1024, "height": 768, "depth": 32, "stride": 4096, "address": 0x7FC00000,
        "size": 3145728, "format": "a8r8g8b8", "node": "/chosen/framebuffer@7fc00000",
    }  # fmt: skip


def test_boot_unknown_name_lists_the_options(tmp_path: Path) -> None:
    disk = bls_disk(tmp_path / "disk")
    r = bootd("boot", "--scan", disk, "--name", "Nope", "--dry-run")
    assert r.returncode == 1
    assert "no boot option is called 'Nope'; the sources offer: 'Demo Linux' (disk/bls/demo)" in r.stderr


def test_boot_scan_path_loads_no_dbus_tui_or_udev_library(tmp_path: Path) -> None:
    disk = bls_disk(tmp_path / "disk")
    code = (
        "import sys\n"
        "from bootd.__main__ import main\n"
        f"rc = main(['boot', '--scan', {str(disk)!r}, '--console', 'ttyS0', '--dry-run', '--json', "
        f"'--hooks-dir', {str(tmp_path / 'none')!r}])\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('dbus_fast', 'urwid', 'pyudev'))\n"
        "print('HEAVY', heavy, rc, file=sys.stderr)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert "HEAVY [] 0" in r.stderr, r.stderr


@requires_root
def test_boot_scan_from_an_image_file_dry_run(tmp_path: Path) -> None:
    disk = bls_disk(tmp_path / "disk")
    image = tmp_path / "boot.img"
    subprocess.run(["truncate", "-s", "16M", str(image)], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-d", str(disk), "-U", UUID, str(image)], check=True)
    before = image.read_bytes()
    r = bootd(
        "boot",
        "--scan",
        f"{image},id=img",
        "--name",
        "Demo Linux",
        "--console",
        "ttyS0",
        "--dry-run",
        "--json",
        "--hooks-dir",
        tmp_path / "none",
    )
    assert r.returncode == 0, r.stderr
    plan = json.loads(r.stdout)
    assert plan["kexec_load"][1] == "-l" and plan["kexec_load"][2].endswith("/boot/vmlinuz-6.1")
    assert image.read_bytes() == before  # mounted read-only, nothing written
    mounts = Path("/proc/self/mounts").read_text()
    assert plan["kexec_load"][2].rsplit("/boot/", 1)[0] not in mounts  # unmounted afterwards
