"""Settings over D-Bus fail closed: a write the reader would refuse is never
written, and a broken settings file never turns the password off."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.integration.daemon.helpers import ROOT, DaemonProcess, PrivateBus, busctl

SETTINGS = ("org.bootd", "/org/bootd", "org.bootd.Settings1")


def bootd(bus: PrivateBus, *args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, BOOTD_BUS=bus.address)
    env.pop("BOOTD_PASSWORD", None)
    if password is not None:
        env["BOOTD_PASSWORD"] = password
    argv = [sys.executable, "-m", "bootd", *args]
    return subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT, stdin=subprocess.DEVNULL)


def test_a_huge_boot_order_is_refused_with_the_reason_and_nothing_written(
    serve: DaemonProcess, system_bus: PrivateBus, config_root: Path
) -> None:
    main = config_root / "etc/bootd/bootd.toml"
    before = main.read_text()
    r = busctl(system_bus, "set-property", *SETTINGS, "BootOrder", "as", "40000", *(["disk"] * 40_000), check=False)
    assert r.returncode != 0 and "40000 items; at most 64" in r.stderr, r.stderr
    assert "overrides" not in r.stderr
    assert main.read_text() == before
    assert bootd(system_bus, "settings", "get", "autoboot").stdout.strip() == "false"


def test_a_corrupt_settings_file_keeps_the_password_after_a_restart(
    serve: DaemonProcess, system_bus: PrivateBus, config_root: Path, tmp_path: Path, machine: Path,
    daemon_factory: list[DaemonProcess],
) -> None:  # fmt: skip
    r = subprocess.run(
        [sys.executable, "-m", "bootd", "settings", "set", "password", "-"],
        input="hunter2\n", capture_output=True, text=True, cwd=ROOT,
        env={**os.environ, "BOOTD_BUS": system_bus.address},
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    main = config_root / "etc/bootd/bootd.toml"
    main.write_text(main.read_text() + "\nboot_order = [\n")  # a half-written edit by hand
    serve.stop()
    again = DaemonProcess(system_bus, machine, tmp_path / "state2", config_root=config_root)
    daemon_factory.append(again)
    again.wait_ready()
    r = bootd(system_bus, "settings", "set", "timeout", "4")
    assert r.returncode == 1 and "authenticate first" in r.stderr, r.stderr
    r = bootd(system_bus, "settings", "set", "timeout", "4", password="hunter2")
    # authenticated, but the broken file is not rewritten: the admin repairs it first
    assert r.returncode == 1 and "repair or remove it first" in r.stderr, r.stderr
    status = bootd(system_bus, "status").stdout
    assert f"settings: settings file {main} is unreadable" in status, status
    assert "the password and restrict last read from intact files stay in force" in status
    shown = bootd(system_bus, "settings")
    assert "password = (set)" in shown.stdout and "stay in force" in shown.stderr
