"""A daemon process inside the lab's client namespace, on a private bus: the
start (wait for its bus name), the client, and the stop (SIGTERM, then
SIGKILL) that the network integration tests share."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bootd.dbus.client import BootdClient
from tests.integration.daemon.helpers import PrivateBus
from tests.integration.network.lab import ROOT, Lab


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    client: BootdClient
    log: Path


@asynccontextmanager
async def served(lab: Lab, bus: PrivateBus, module: str, args: Sequence[str], log_path: Path) -> AsyncIterator[Served]:
    """``python -m MODULE ARGS --bus BUS`` in the client namespace, its output
    in ``log_path``; yields once its bus name is taken, with a client."""
    log = log_path.open("wb")
    process = subprocess.Popen(
        ["ip", "netns", "exec", lab.client_ns, sys.executable, "-m", module, *args, "--bus", bus.address],
        stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
    )  # fmt: skip
    client: BootdClient | None = None
    try:
        deadline = time.monotonic() + 20
        while subprocess.run(["busctl", f"--address={bus.address}", "status", "org.bootd"], capture_output=True,
                             check=False).returncode:  # fmt: skip
            assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()
            await asyncio.sleep(0.05)
        client = await BootdClient.connect(bus.address)
        yield Served(process, client, log_path)
    finally:
        if client is not None:
            client.close()
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
