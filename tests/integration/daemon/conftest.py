"""Fixtures: a private system-like dbus-daemon (shipped policy included), a
permissive one, sandbox machines, ``bootd serve`` processes, a throw-away user."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.daemon.helpers import DaemonProcess, Entry, MachineDevice, PrivateBus, busctl, make_machine

if shutil.which("dbus-daemon") is None or shutil.which("busctl") is None:
    pytest.skip("needs dbus-daemon and busctl", allow_module_level=True)


def _bus(system_like: bool) -> Iterator[PrivateBus]:
    directory = Path(tempfile.mkdtemp(prefix="bootd-bus-"))
    bus = PrivateBus.start(directory, system_like=system_like)
    try:
        yield bus
    finally:
        bus.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def system_bus() -> Iterator[PrivateBus]:
    """A bus with a system bus's default-deny policy plus config/dbus-1/org.bootd.conf."""
    yield from _bus(True)


@pytest.fixture
def open_bus() -> Iterator[PrivateBus]:
    """A bus that lets everyone do everything (so only the service's own checks apply)."""
    yield from _bus(False)


STANDARD = [
    MachineDevice("sda1", entries=[Entry("6.1", "Debian"), Entry("5.10", "Debian old")], uuid="0a1b-2c3d"),
    MachineDevice("sdb1", type="usb", entries=[Entry("rescue", "Rescue stick", args="rescue")], label="STICK"),
]


@pytest.fixture
def machine(tmp_path: Path) -> Path:
    return make_machine(tmp_path / "machine", STANDARD).root


@pytest.fixture
def config_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "etc/bootd").mkdir(parents=True)
    return root


def set_config(root: Path, text: str) -> None:
    (root / "etc/bootd/bootd.toml").write_text(text)


@pytest.fixture
def daemon_factory(tmp_path: Path) -> Iterator[list[DaemonProcess]]:
    started: list[DaemonProcess] = []
    yield started
    for d in started:
        d.stop()


@pytest.fixture
def serve(
    system_bus: PrivateBus, machine: Path, tmp_path: Path, config_root: Path, daemon_factory: list[DaemonProcess]
) -> DaemonProcess:
    """``bootd serve --sandbox`` on the system-like bus, autoboot off."""
    set_config(config_root, "autoboot = false\n")
    d = DaemonProcess(system_bus, machine, tmp_path / "state", config_root=config_root)
    daemon_factory.append(d)
    d.wait_ready()
    wanted = {"sda1/bls/6_2e1", "sda1/bls/5_2e10", "sdb1/bls/rescue"}
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        tree = busctl(system_bus, "tree", "--list", "org.bootd").stdout.split()
        if {f"/org/bootd/options/{w}" for w in wanted} <= set(tree):
            break
        time.sleep(0.05)
    else:
        raise AssertionError(f"the sandbox devices were not scanned:\n{d.output()}")
    return d


@pytest.fixture
def test_user() -> Iterator[str]:
    """A user made for this test (removed afterwards)."""
    if os.geteuid() != 0 or shutil.which("useradd") is None:
        pytest.skip("needs root and useradd")
    name = f"bootdt{os.getpid() % 100000}"
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["userdel", name], check=False)
