"""``bootd serve`` takes its bus name before it loads what only the first scan,
check or boot needs: a real daemon on a private bus whose name another
connection already holds asks for the name and stops there, and the modules it
held at that moment are listed."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.daemon.helpers import Entry, MachineDevice, PrivateBus, make_machine
from tests.unit.core.test_cli_imports import EXACT
from tests.unit.parsers.helpers import ROOT

# Loaded at the first option checked (trust), booted or parsed, never before the name.
DEFERRED = ("bootd.loader.verify", "bootd.loader.resources", "bootd.parsers", "bootd.loader.download")

HOLDER = """
import asyncio, sys
from dbus_fast.aio import MessageBus
async def main():
    bus = await MessageBus(bus_address=sys.argv[1]).connect()
    await bus.request_name("org.bootd")
    print("held", flush=True)
    await asyncio.sleep(600)
asyncio.run(main())
"""


@pytest.fixture
def held_bus(tmp_path: Path) -> Iterator[PrivateBus]:
    """A private bus on which another connection owns org.bootd."""
    bus = PrivateBus.start(tmp_path / "bus", system_like=False)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, bus.address], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield bus
    finally:
        holder.terminate()
        holder.wait(20)
        if holder.stdout is not None:
            holder.stdout.close()
        bus.stop()


def test_the_daemon_asks_for_its_name_before_loading_the_checks_and_parsers(
    held_bus: PrivateBus, tmp_path: Path
) -> None:
    machine = make_machine(tmp_path / "machine", [MachineDevice("sda1", entries=[Entry("6.1", "Linux")])]).root
    argv = ["serve", "--bus", held_bus.address, "--sandbox", str(machine), "--state-dir", str(tmp_path / "state")]
    proc = subprocess.run(
        [sys.executable, "-c", EXACT, *argv], capture_output=True, text=True, cwd=ROOT, timeout=60, check=False
    )
    assert "already owns org.bootd" in proc.stderr, proc.stderr[-2000:]  # it got as far as the name request
    held = next(line.split()[1:] for line in proc.stderr.splitlines() if line.startswith("MODULES "))
    assert "bootd.dbus.service" in held and "bootd.daemon" in held
    assert sorted(n for n in held if n in DEFERRED or n.startswith("bootd.parsers.")) == []
