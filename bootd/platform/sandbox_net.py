"""Network interfaces of a sandbox machine: its ``[[interface]]`` entries.

Commands that would change this machine (``ip link set …``) go to the
recording runner.  An interface may carry a simulated DHCP lease in
``machine.toml``; the sandbox "DHCP client" reports it ``lease_after`` seconds
after it starts (``{machine}`` in a value is replaced by the machine
directory, so a lease can point at ``file://{machine}/tftp/``)::

    [[interface]]
    name = "eth0"
    mac = "52:54:00:12:34:56"
    lease_after = 1.0
    [interface.lease]
    ip = "192.168.0.10"
    pxepathprefix = "file://{machine}/tftp/"
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bootd.platform.machine import MachineSpec
from bootd.platform.net import DhcpClient, Interface, LeaseCallback, StaticAddress, lease_params
from bootd.platform.run import Runner

log = logging.getLogger(__name__)


def _lease_table(spec: MachineSpec) -> dict[str, tuple[float, dict[str, str]]]:
    try:
        data = tomllib.loads((spec.root / "machine.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}
    out: dict[str, tuple[float, dict[str, str]]] = {}
    for entry in data.get("interface", []):
        lease = entry.get("lease")
        name = entry.get("name")
        if not isinstance(lease, dict) or not isinstance(name, str):
            continue
        after = entry.get("lease_after", 0.5)
        delay = float(after) if isinstance(after, int | float) and not isinstance(after, bool) else 0.5
        # absolute: a file:// URL cannot name a relative path (--sandbox config/demo)
        params = {str(k): str(v).replace("{machine}", str(spec.root.resolve())) for k, v in lease.items()}
        out[name] = (delay, params)
    return out


class SandboxDhcp:
    """A simulated DHCP client: reports the machine's lease once."""

    def __init__(self, name: str, task: asyncio.Task[None] | None, on_event: LeaseCallback | None = None) -> None:
        self._name = name
        self._task = task
        self._on_event = on_event

    async def release(self) -> None:
        if self._on_event is not None:
            await self._on_event("deconfig", {"interface": self._name})

    @property
    def interface(self) -> str:
        return self._name

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class SandboxNet:
    """The sandbox machine's interfaces; nothing here touches this machine's network."""

    def __init__(self, spec: MachineSpec, runner: Runner, state_dir: Path) -> None:
        self.spec = spec
        self.runner = runner
        self.state_dir = state_dir
        self.lease_files: Path | None = spec.root.resolve()
        """The simulated leases point at the machine's own files (``{machine}``), only there."""
        self._leases = _lease_table(spec)
        self._up: set[str] = set()

    async def interfaces(self) -> list[Interface]:
        return sorted(
            (
                Interface(name=i.name, mac=i.mac.lower(), up=i.name in self._up, carrier=True, hw_type=1)
                for i in self.spec.interfaces
            ),
            key=lambda i: i.name,
        )

    async def wait_for_change(self, timeout: float) -> None:
        await asyncio.sleep(timeout)

    async def link_up(self, name: str) -> None:
        await self.runner.run(["ip", "link", "set", "dev", name, "up"])
        self._up.add(name)

    async def configure_static(self, name: str, config: StaticAddress) -> None:
        await self.link_up(name)
        await self.runner.run(["ip", "addr", "add", f"{config.address}/{config.prefix}", "dev", name])
        if config.gateway:
            await self.runner.run(["ip", "route", "replace", "default", "via", config.gateway, "dev", name])
        if config.dns:
            await self.set_dns(config.dns, None)

    async def deconfigure(self, name: str) -> None:
        await self.runner.run(["ip", "-4", "addr", "flush", "dev", name])

    async def set_dns(self, servers: Sequence[str], search: str | None) -> None:
        text = "".join([f"search {search}\n" if search else "", *(f"nameserver {s}\n" for s in servers)])
        await asyncio.to_thread((self.state_dir / "resolv.conf").write_text, text, encoding="utf-8")

    def close(self) -> None:
        pass

    async def start_dhcp(self, name: str, mac: str, on_event: LeaseCallback | None) -> DhcpClient:
        await self.runner.run(["udhcpc", "-i", name])
        lease = self._leases.get(name)
        if lease is None or on_event is None:
            return SandboxDhcp(name, None)
        delay, params = lease
        task = asyncio.create_task(self._report(delay, name, mac, params, on_event), name=f"sandbox-dhcp-{name}")
        return SandboxDhcp(name, task, on_event)

    async def _report(
        self, delay: float, name: str, mac: str, params: Mapping[str, Any], on_event: LeaseCallback
    ) -> None:
        await asyncio.sleep(delay)
        env = {"interface": name, **{k: str(v) for k, v in params.items()}}
        await on_event("bound", lease_params(env, mac=mac))
