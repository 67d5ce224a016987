"""A private bus and ``bootd serve --sandbox`` for the menu's tests."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.daemon.helpers import DaemonProcess, PrivateBus
from tests.integration.ui.machine import make_menu_machine
from tests.integration.ui.tmux import Tmux

needs_tools = pytest.mark.skipif(
    not (shutil.which("dbus-daemon") and shutil.which("busctl")), reason="needs dbus-daemon and busctl"
)


@dataclass
class Stack:
    bus: PrivateBus
    daemon: DaemonProcess
    machine: Path
    state: Path

    def restart(self) -> None:
        self.daemon.stop()
        self.daemon = DaemonProcess(self.bus, self.machine, self.state)
        self.daemon.wait_ready()


@pytest.fixture
def plug_after() -> float:
    """Seconds after the daemon starts until the USB stick appears."""
    return 4.0


@pytest.fixture
def machine(tmp_path: Path, plug_after: float) -> Path:
    return make_menu_machine(tmp_path / "machine", plug_after=plug_after)


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A directory with a short path, for sockets (108-byte limit)."""
    d = Path(tempfile.mkdtemp(prefix="bm-"))
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def stack(tmp_path: Path, short_dir: Path, machine: Path) -> Iterator[Stack]:
    bus = PrivateBus.start(short_dir / "bus", system_like=False)
    try:
        daemon = DaemonProcess(bus, machine, tmp_path / "state")
        s = Stack(bus, daemon, machine, tmp_path / "state")
        try:
            daemon.wait_ready()
            yield s
        finally:
            s.daemon.stop()
    finally:
        bus.stop()


@pytest.fixture
def tmux(short_dir: Path) -> Iterator[Tmux]:
    if not shutil.which("tmux"):
        pytest.skip("needs tmux")
    t = Tmux(short_dir / "tmux.sock")
    try:
        yield t
    finally:
        t.kill()


@pytest.fixture(scope="session")
def locale_dir() -> Path:
    """The menu's and the client commands' catalogues, compiled with msgfmt as ``make locale`` does."""
    if not shutil.which("msgfmt"):
        pytest.skip("needs msgfmt (gettext)")
    root = Path(__file__).resolve().parents[3]
    out = root / "tests" / ".cache" / "locale"
    for folder, domain in (("ui", "bootd-menu"), ("bootd", "bootd")):
        for po in sorted((root / folder / "po").glob("*.po")):
            dest = out / po.stem / "LC_MESSAGES"
            dest.mkdir(parents=True, exist_ok=True)
            argv = ["msgfmt", "--check-format", "-o", str(dest / f"{domain}.mo"), str(po)]
            subprocess.run(argv, check=True, timeout=60)
    return out
