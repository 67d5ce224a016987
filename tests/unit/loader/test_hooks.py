"""Boot hooks as real scripts, run through a sandbox platform."""

from __future__ import annotations

from pathlib import Path

import pytest

from bootd.errors import HookError
from bootd.loader import hooks
from bootd.platform import Platform
from bootd.platform.sandbox import sandbox_platform
from tests.unit.loader.helpers import executable, make_machine

VALUES = hooks.HookValues(image="/boot/vmlinuz", initrd="/boot/initrd", dtb="/tmp/boot.dtb", args="ro", console="hvc0")


@pytest.fixture
def platform(tmp_path: Path) -> Platform:
    return sandbox_platform(make_machine(tmp_path / "machine"), tmp_path / "state")


async def test_hooks_see_values_and_run_in_name_order(platform: Platform, tmp_path: Path) -> None:
    d = tmp_path / "boot.d"
    d.mkdir()
    log = tmp_path / "log"
    for name in ("20-second", "10-first"):
        executable(
            d / name, f'#!/bin/sh\necho "{name} $BOOT_IMAGE|$BOOT_INITRD|$BOOT_DTB|$BOOT_ARGS|$BOOT_CONSOLE" >> {log}\n'
        )
    (d / "05-not-executable").write_text("#!/bin/sh\nexit 1\n")
    executable(d / ".hidden", "#!/bin/sh\nexit 1\n")
    values, notes = await hooks.run_hooks(platform, d, VALUES)
    assert values == VALUES and notes == []
    assert log.read_text().splitlines() == [
        "10-first /boot/vmlinuz|/boot/initrd|/tmp/boot.dtb|ro|hvc0",
        "20-second /boot/vmlinuz|/boot/initrd|/tmp/boot.dtb|ro|hvc0",
    ]


async def test_exit_2_replaces_values_for_later_hooks(platform: Platform, tmp_path: Path) -> None:
    d = tmp_path / "boot.d"
    d.mkdir()
    executable(
        d / "10-edit", '#!/bin/sh\necho "BOOT_ARGS=$BOOT_ARGS quiet"\necho BOOT_CONSOLE=ttyS0\necho noise\nexit 2\n'
    )
    seen = tmp_path / "seen"
    executable(d / "20-look", f'#!/bin/sh\necho "$BOOT_ARGS/$BOOT_CONSOLE" > {seen}\n')
    values, notes = await hooks.run_hooks(platform, d, VALUES)
    assert values.args == "ro quiet" and values.console == "ttyS0" and values.image == "/boot/vmlinuz"
    assert seen.read_text().strip() == "ro quiet/ttyS0"
    assert notes == ["boot hook 10-edit changed args, console"]


async def test_exit_0_output_changes_nothing(platform: Platform, tmp_path: Path) -> None:
    d = tmp_path / "boot.d"
    d.mkdir()
    executable(d / "10-talk", "#!/bin/sh\necho BOOT_ARGS=ignored\n")
    values, _ = await hooks.run_hooks(platform, d, VALUES)
    assert values.args == "ro"


async def test_failing_hook_stops_the_boot(platform: Platform, tmp_path: Path) -> None:
    d = tmp_path / "boot.d"
    d.mkdir()
    executable(d / "10-fail", "#!/bin/sh\necho 'no space left for the kernel' >&2\nexit 1\n")
    after = tmp_path / "after"
    executable(d / "20-after", f"#!/bin/sh\ntouch {after}\n")
    with pytest.raises(HookError, match=r"boot hook 10-fail failed \(exit status 1\): no space left for the kernel"):
        await hooks.run_hooks(platform, d, VALUES)
    assert not after.exists()


async def test_missing_hooks_dir_is_no_hooks(platform: Platform, tmp_path: Path) -> None:
    assert await hooks.run_hooks(platform, tmp_path / "absent", VALUES) == (VALUES, [])
    assert await hooks.run_hooks(platform, None, VALUES) == (VALUES, [])
