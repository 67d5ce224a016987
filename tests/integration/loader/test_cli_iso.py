"""``bootd boot --scan`` of a multi-ISO stick (dry run: kexec recorded, never
run): the plan loads the kernel and initrd copied out of the ISO image, and
their bytes are the ones put in the image."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.loader.test_cli import bootd
from tests.isobuild import INITRD, ISO_DIRECT, KERNEL, make_stick


def test_boot_dry_run_stages_the_files_inside_the_image(tmp_path: Path) -> None:
    stick = make_stick(tmp_path / "stick", ISO_DIRECT)
    work = tmp_path / "work"
    r = bootd(
        "boot", "--scan", f"{stick},id=usb1", "--name", "Ubuntu live (ISO)", "--console", "ttyS0",
        "--dry-run", "--json", "--hooks-dir", tmp_path / "none", "--work-dir", work,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    plan = json.loads(r.stdout)
    load = plan["kexec_load"]
    assert str(work / "kernel") in load, load
    assert f"--initrd={work / 'initrd-0'}" in load, load
    assert any("boot=casper iso-scan/filename=/isos/ubuntu.iso quiet" in a for a in load), load
    assert (work / "kernel").read_bytes() == KERNEL
    assert (work / "initrd-0").read_bytes() == INITRD
