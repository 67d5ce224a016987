"""A real daemon in the lab's client namespace whose settings the tests write
(over Settings1, by ``bootd settings``, by hand + SIGHUP), and what it did read
back from the namespace (``ip -j addr``, udhcpc processes) and its objects.

The lab's server namespace runs dnsmasq (DHCP with the PXE options, TFTP);
the daemon runs on a sandbox machine whose network is the namespace's real
one (``daemon_driver``), on a private system-like bus."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bootd.dbus.client import BootdClient, InterfaceConfig, NetworkConfig
from tests.integration.daemon.helpers import PrivateBus, make_machine
from tests.integration.network.lab import Lab
from tests.integration.network.netns_daemon import served

OPTION = "eth0/pxe/net"
STATIC = NetworkConfig(
    interfaces=(InterfaceConfig("eth0", "static", "10.77.0.200/24", "10.77.0.1"),), nameservers=("10.77.0.53",)
)
DHCP = NetworkConfig(interfaces=(InterfaceConfig("eth0", "dhcp"),))
CONFIG = "autoboot = false\n[network]\ntimeout = 5  # the lab's TFTP server is near\n"


@dataclass
class Daemon:
    lab: Lab
    client: BootdClient
    config: Path
    state: Path
    log: Path
    pid: int
    bus: str
    statuses: list[str] = field(default_factory=list)

    def addresses(self) -> list[str]:
        """eth0's IPv4 addresses as the namespace has them (ADDRESS/PREFIX)."""
        links = json.loads(self.lab.client(["ip", "-j", "-4", "addr", "show", "dev", "eth0"]))  # [] with none
        return sorted(f"{a['local']}/{a['prefixlen']}" for link in links for a in link.get("addr_info", []))

    def link_up(self) -> bool:
        [link] = json.loads(self.lab.client(["ip", "-j", "link", "show", "dev", "eth0"]))
        return "UP" in link.get("flags", [])

    def dhcp_pids(self) -> list[int]:
        """The udhcpc processes of eth0 in the client namespace."""
        pids = subprocess.run(
            ["ip", "netns", "pids", self.lab.client_ns], capture_output=True, text=True, check=True
        ).stdout.split()
        found = []
        for pid in pids:
            try:
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if any(b"udhcpc" in a for a in argv) and b"eth0" in argv:
                found.append(int(pid))
        return found

    def dhcp_clients(self) -> int:
        return len(self.dhcp_pids())

    async def options(self) -> set[str]:
        return {o.id for o in await self.client.list_options() if o.device == "eth0"}

    async def devices(self) -> set[str]:
        return {d.id for d in await self.client.list_devices()}

    async def reload(self) -> str:
        """SIGHUP (``systemctl reload bootd``); the daemon's status line about it."""
        self.statuses.clear()
        os.kill(self.pid, signal.SIGHUP)
        await self.until("the reload's status line", lambda: any("reloaded" in s for s in self.statuses))
        return next(s for s in self.statuses if "reloaded" in s)

    async def applied(self) -> str:
        """The status line of the network settings just applied."""
        await self.until("the status line", lambda: any("Network settings applied" in s for s in self.statuses))
        return next(s for s in self.statuses if "Network settings applied" in s)

    async def until(self, what: str, pred: Callable[[], object], timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            result = pred()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return
            assert time.monotonic() < deadline, f"{what}:\n{self.log.read_text()}"
            await asyncio.sleep(0.1)


@contextmanager
def pxe_lab(tmp_path: Path) -> Iterator[Lab]:
    """The lab with dnsmasq handing out leases that name a pxelinux config of one entry (``net``)."""
    with Lab(tmp_path / "lab") as lab:
        (lab.tftp / "pxelinux.cfg").mkdir()
        (lab.tftp / "pxelinux.cfg" / "default").write_text(
            "DEFAULT net\nLABEL net\n  MENU LABEL Network install\n  KERNEL Image\n  APPEND console=ttyS0\n"
        )
        lab.start_dnsmasq(["--dhcp-option=66,10.77.0.1", "--dhcp-option=67,pxelinux.0"])
        yield lab


@asynccontextmanager
async def running_daemon(lab: Lab, tmp_path: Path, config_text: str = CONFIG) -> AsyncIterator[Daemon]:
    """The daemon in the lab's client namespace, its main settings file holding ``config_text``."""
    bus = PrivateBus.start(tmp_path / "bus", system_like=True)
    machine = make_machine(tmp_path / "machine", []).root
    config_root = tmp_path / "root"
    (config_root / "etc/bootd").mkdir(parents=True)
    config = config_root / "etc/bootd/bootd.toml"
    config.write_text(config_text)
    state = tmp_path / "state"
    args = ["--machine", str(machine), "--state-dir", str(state), "--config-root", str(config_root)]
    try:
        async with served(lab, bus, "tests.integration.network.daemon_driver", args, tmp_path / "serve.log") as s:
            running = Daemon(lab, s.client, config, state, s.log, s.process.pid, bus.address)
            s.client.on_status(lambda _level, message: running.statuses.append(message))
            yield running
    finally:
        bus.stop()


def leased(addresses: list[str]) -> bool:
    """One address, from dnsmasq's range (10.77.0.50-99)."""
    return len(addresses) == 1 and addresses[0].startswith("10.77.0.") and 50 <= int(addresses[0][8:-3]) <= 99
