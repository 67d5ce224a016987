"""Network interfaces and DHCP: enumerate, follow link changes, run the client.

The Protocol every implementation (``linux_net``, ``sandbox_net``) meets.
Layer-3 code (:mod:`bootd.discovery.network`) decides *what* to do with an
interface; an implementation only does it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

from bootd.model import Record, record

_set = object.__setattr__

LeaseCallback = Callable[[str, Mapping[str, str]], Awaitable[None]]
"""``callback(event, params)`` for each DHCP client event (``bound``,
``renew``, ``deconfig``, ``leasefail``, ``nak``); params as
:func:`lease_params` names them."""

IGNORED_PREFIXES = ("tun",)
"""Interface name prefixes that are never boot sources."""

LEASE_KEYS = (
    "interface",
    "mac",
    "ip",
    "subnet",
    "mask",
    "router",
    "dns",
    "domain",
    "hostname",
    "serverid",
    "siaddr",
    "sname",
    "boot_file",
    "tftp",
    "bootfile",
    "pxeconffile",
    "pxepathprefix",
    "reboottime",
    "lease",
)
"""The lease facts a DHCP event carries (busybox udhcpc's names): ``tftp`` is
option 66, ``bootfile`` 67, ``pxeconffile`` 209, ``pxepathprefix`` 210,
``reboottime`` 211; ``siaddr``/``sname``/``boot_file`` are the BOOTP header
fields."""

_NUMERIC_KEYS = {"opt209": "pxeconffile", "opt210": "pxepathprefix", "opt211": "reboottime"}


def lease_params(env: Mapping[str, str], *, mac: str | None = None) -> dict[str, str]:
    """The lease facts from a DHCP client's environment (udhcpc's variables).

    Options a client only knows by number arrive as ``optNNN`` in hex and are
    decoded; empty values are dropped."""
    out: dict[str, str] = {}
    for key in LEASE_KEYS:
        value = env.get(key, "").strip()
        if value:
            out[key] = value
    for numeric, name in _NUMERIC_KEYS.items():
        raw = env.get(numeric, "").strip()
        if raw and name not in out:
            try:
                data = bytes.fromhex(raw)
            except ValueError:
                continue
            if name == "reboottime":
                out[name] = str(int.from_bytes(data[:4], "big")) if data else ""
            else:
                out[name] = data.split(b"\0", 1)[0].decode("utf-8", "replace")
    if mac and "mac" not in out:
        out["mac"] = mac
    return {k: v for k, v in out.items() if v}


@record
class Interface(Record):
    """A network interface as the machine reports it."""

    name: str
    mac: str
    """Lower-case ``aa:bb:cc:dd:ee:ff``."""
    up: bool = False
    """Administratively up (``IFF_UP``)."""
    carrier: bool = False
    """Link detected."""
    hw_type: int = 1
    """ARPHRD type: 1 = Ethernet, 772 = loopback, 65534 = none (tun)."""

    def __init__(
        self,
        name: str,
        mac: str,
        up: bool = False,
        carrier: bool = False,
        hw_type: int = 1,
    ) -> None:
        _set(self, "name", name)
        _set(self, "mac", mac)
        _set(self, "up", up)
        _set(self, "carrier", carrier)
        _set(self, "hw_type", hw_type)

    def usable(self) -> bool:
        """Whether this can be a boot source: Ethernet-like, not lo/tun, has a MAC."""
        if self.name == "lo" or self.name.startswith(IGNORED_PREFIXES):
            return False
        if self.hw_type not in (1, 32):  # Ethernet, InfiniBand
            return False
        return bool(self.mac) and self.mac != "00:00:00:00:00:00"


@record
class StaticAddress(Record):
    """A fixed IPv4 configuration for one interface."""

    address: str
    prefix: int = 24
    gateway: str | None = None
    dns: tuple[str, ...] = ()

    def __init__(
        self,
        address: str,
        prefix: int = 24,
        gateway: str | None = None,
        dns: tuple[str, ...] = (),
    ) -> None:
        _set(self, "address", address)
        _set(self, "prefix", prefix)
        _set(self, "gateway", gateway)
        _set(self, "dns", dns)


class DhcpClient(Protocol):
    """A running DHCP client on one interface."""

    @property
    def interface(self) -> str: ...

    async def release(self) -> None:
        """Give the lease back; the client reports ``deconfig`` and keeps running."""
        ...

    async def stop(self) -> None:
        """Stop the client; its lease is left to expire."""
        ...


class NetPlatform(Protocol):
    """Network side effects."""

    lease_files: Path | None
    """The directory below which a DHCP lease's ``file://`` URLs may point (a
    sandbox machine's own directory); None: nowhere (a lease comes from the
    network, and a rogue DHCP server must not make bootd read local files)."""

    async def interfaces(self) -> list[Interface]:
        """Every interface the machine has now, usable or not, sorted by name."""
        ...

    async def wait_for_change(self, timeout: float) -> None:
        """Return when interfaces may have changed (udev net event), or after ``timeout``."""
        ...

    async def link_up(self, name: str) -> None:
        """Bring the interface up administratively."""
        ...

    async def configure_static(self, name: str, config: StaticAddress) -> None:
        """Give the interface a fixed address, default route and DNS servers."""
        ...

    async def deconfigure(self, name: str) -> None:
        """Remove the interface's IPv4 addresses (and so the routes through them):
        a static address or DHCP lease that the settings no longer want."""
        ...

    async def start_dhcp(self, name: str, mac: str, on_event: LeaseCallback | None) -> DhcpClient:
        """Start a DHCP client asking for the PXE options (66, 67, 209, 210, 211).

        The client's lease script reports each event through ``bootd event``:
        to ``on_event`` when given, else to the daemon over D-Bus."""
        ...

    async def set_dns(self, servers: Sequence[str], search: str | None) -> None:
        """Use these DNS servers for name lookups (where bootd manages them)."""
        ...

    def close(self) -> None:
        """Stop watching for interface changes (called when discovery stops)."""
        ...
