"""``bootd boot --scan --signed-boot MODE --keyring FILE`` on a sandbox machine,
against real gpgv (the rescue-shell path, which reads no settings)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bootd.cli import boot as cli_boot
from bootd.loader import verify
from tests.conftest import ROOT
from tests.integration.loader.test_signed_boot import Keys, keys, sign, sign_text
from tests.unit.loader.helpers import ARM64_DTS, ARM_TOML, bls_disk, make_machine

__all__ = ["keys"]
pytestmark = pytest.mark.skipif(
    shutil.which("gpg") is None or shutil.which("gpgv") is None, reason="gnupg/gpgv are not installed"
)
ARGS = "root=/dev/vda2 ro"


def boot(tmp_path: Path, disk: Path, *policy: str | Path) -> subprocess.CompletedProcess[str]:
    machine = make_machine(tmp_path / "m", dts=ARM64_DTS, extra=ARM_TOML)
    argv = ["boot", "--scan", f"{disk},id=vda2", "--name", "Demo Linux", "--machine", machine,
            "--state-dir", tmp_path / "state", "--work-dir", tmp_path / "w", "--hooks-dir", tmp_path / "n",
            *policy]  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "bootd", *map(str, argv)], capture_output=True, text=True, cwd=ROOT, timeout=60
    )


def signed_disk(tmp_path: Path, keys: Keys) -> Path:
    disk = bls_disk(tmp_path / "disk")
    sign(keys.owner, disk / "boot/vmlinuz-6.1")
    sign(keys.owner, disk / "boot/initrd-6.1.img")
    sign_text(keys.owner, ARGS, disk / "boot/vmlinuz-6.1.cmdline.sig")
    return disk


def test_enforce_boots_a_correctly_signed_option(tmp_path: Path, keys: Keys) -> None:
    r = boot(tmp_path, signed_disk(tmp_path, keys), "--signed-boot", "enforce", "--keyring", keys.keyring)
    assert r.returncode == 0, r.stderr
    verified = [line for line in r.stdout.splitlines() if line.startswith("note:        signature verified: ")]
    assert len(verified) == 3, r.stdout  # kernel, initrd, command line
    assert any(f"command line {ARGS!r}: signed by " in line for line in verified)
    assert len((tmp_path / "state/kexec.log").read_text().splitlines()) == 2


def test_enforce_refuses_an_unsigned_kernel_with_the_reason_and_loads_nothing(tmp_path: Path, keys: Keys) -> None:
    disk = signed_disk(tmp_path, keys)
    (disk / "boot/vmlinuz-6.1.sig").unlink()
    r = boot(tmp_path, disk, "--signed-boot", "enforce", "--keyring", keys.keyring)
    assert r.returncode == 1
    assert r.stderr.splitlines()[-1].startswith(
        "bootd boot: signed_boot = enforce refuses Demo Linux: kernel /boot/vmlinuz-6.1: no usable signature: "
    ), r.stderr
    assert "kexec load:" not in r.stdout
    assert not (tmp_path / "state/kexec.log").exists()


def test_warn_boots_and_says_what_does_not_verify(tmp_path: Path, keys: Keys) -> None:
    disk = signed_disk(tmp_path, keys)
    sign(keys.stranger, disk / "boot/initrd-6.1.img")
    r = boot(tmp_path, disk, "--signed-boot", "warn", "--keyring", keys.keyring)
    assert r.returncode == 0, r.stderr
    assert "note:        signature NOT verified: initrd /boot/initrd-6.1.img: signed by key " in r.stdout
    assert "which is not in the keyring" in r.stderr


def test_without_the_flag_nothing_is_checked(tmp_path: Path) -> None:
    r = boot(tmp_path, bls_disk(tmp_path / "disk"))
    assert r.returncode == 0, r.stderr
    assert "signature" not in r.stdout + r.stderr


def test_the_flag_offers_the_setting_s_modes_and_keyring() -> None:
    assert cli_boot.SIGNED_BOOT_MODES == verify.MODES
    assert cli_boot.DEFAULT_KEYRING == verify.DEFAULT_KEYRING
