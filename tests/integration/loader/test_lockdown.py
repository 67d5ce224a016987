"""Under lockdown the loader uses kexec_file_load and says that the running
kernel checks the new kernel's signature (progress and the boot's notes); a
kernel that check refuses is a refusal with that reason, and nothing runs.
The lockdown mode comes through the platform: /sys/kernel/security/lockdown
on Linux (tests/unit/loader/test_linux_boot.py), machine.toml in a sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from bootd.errors import ConfigError, SignatureRefused
from bootd.loader.boot import boot
from bootd.model import BootRequest
from bootd.platform import Platform
from bootd.platform.sandbox import sandbox_platform
from tests.integration.loader.test_boot_flow import disk, kexec_log
from tests.unit.loader.helpers import ARM64_DTS, ARM_TOML, make_machine


def machine(tmp_path: Path, lockdown: str, signature: str = "accept") -> Platform:
    extra = f'kexec_signature = "{signature}"\n{ARM_TOML}'
    return sandbox_platform(make_machine(tmp_path / "m", dts=ARM64_DTS, lockdown=lockdown, extra=extra), tmp_path / "s")


@pytest.mark.parametrize("lockdown", ["integrity", "confidentiality"])
async def test_lockdown_reports_the_kernels_own_signature_check(tmp_path: Path, lockdown: str) -> None:
    platform = machine(tmp_path, lockdown)
    assert platform.boot.lockdown() == lockdown
    opt, devices = disk(tmp_path)
    progress: list[str] = []
    plan = await boot(
        platform,
        BootRequest(opt, console="ttyAMA0"),
        devices,
        work_dir=tmp_path / "w",
        hooks_dir=None,
        progress=lambda message, _f: progress.append(str(message)),
    )
    assert plan.kexec_load_argv[:2] == ("kexec", "-s")
    assert f"Loading the kernel; the running kernel checks its signature (lockdown: {lockdown})" in progress
    assert any("checks the new kernel's signature against its own trusted keys" in n for n in plan.notes)


async def test_without_lockdown_nothing_is_said_about_the_kernels_check(tmp_path: Path) -> None:
    opt, devices = disk(tmp_path)
    progress: list[str] = []
    plan = await boot(
        machine(tmp_path, "none", "reject"),
        BootRequest(opt, console="ttyAMA0"),
        devices,
        work_dir=tmp_path / "w",
        hooks_dir=None,
        progress=lambda message, _f: progress.append(str(message)),
    )
    assert plan.kexec_load_argv[:2] == ("kexec", "-l") and "Loading the kernel" in progress
    assert not any("signature" in n for n in plan.notes)


async def test_a_kernel_the_locked_down_kernel_refuses_is_refused_with_the_reason(tmp_path: Path) -> None:
    opt, devices = disk(tmp_path)
    with pytest.raises(SignatureRefused) as refused:
        await boot(
            machine(tmp_path, "integrity", "reject"), BootRequest(opt), devices, work_dir=tmp_path / "w", hooks_dir=None
        )
    message = str(refused.value)
    assert message.startswith("the running kernel is locked down (integrity) and refused to load ")
    assert "its signature does not verify against the kernel's trusted keys" in message
    assert "Key was rejected by service" in message
    assert [list(e["argv"])[1] for e in kexec_log(tmp_path / "s")] == ["-s"], "loaded once, never executed"  # type: ignore[call-overload]


def test_a_machine_names_its_kernels_signature_check_correctly(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="kexec_signature must be accept or reject"):
        machine(tmp_path, "integrity", "maybe")
