"""Measured boot measures the command line the next kernel gets: where the
mode puts the console on it (kexec -s under lockdown, a machine without a
device tree), PCR 12 has the console= argument too, so `bootd pcr predict
--args "$(cat /proc/cmdline)"` in the booted system agrees."""

from __future__ import annotations

import hashlib
from pathlib import Path

from bootd.loader import measure
from bootd.loader.boot import boot
from bootd.model import BootRequest
from bootd.platform.sandbox import sandbox_platform
from tests.integration.loader.test_boot_flow import disk
from tests.unit.loader.helpers import ARM64_DTS, ARM_TOML, make_machine


def utf16(text: str) -> str:
    return hashlib.sha256((text + "\0").encode("utf-16-le")).hexdigest()


async def test_the_console_on_the_command_line_is_measured(tmp_path: Path) -> None:
    machine = make_machine(tmp_path / "m", dts=ARM64_DTS, lockdown="integrity", extra=ARM_TOML)
    platform = sandbox_platform(machine, tmp_path / "s")
    opt, devices = disk(tmp_path)
    plan = await boot(
        platform,
        BootRequest(opt, console="ttyAMA0"),
        devices,
        work_dir=tmp_path / "w",
        hooks_dir=None,
        measured_boot=measure.Tpm(),
    )
    assert plan.args == f"{opt.args} console=ttyAMA0"
    calls = [c for c in platform.runner.calls if c[0] == "tpm2_pcrextend"]  # type: ignore[attr-defined]
    assert ("tpm2_pcrextend", f"12:sha256={utf16(plan.args)}") in calls
