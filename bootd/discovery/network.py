"""Network interfaces as boot sources: DHCP leases → PXE configs → options.

Each usable interface (Ethernet-like; not ``lo``, not ``tun*``, not a second
interface with a MAC already seen) is a :class:`~bootd.model.Device` of type
``network`` with id = interface name and uuid = MAC.  Per the settings it is
brought up and configured by DHCP (the default), a static address, or left
alone (``ignore``: not listed).

A DHCP event (from the platform's client, or from the daemon's ``Event``
D-Bus method) is handled by :meth:`NetworkDiscovery.handle_event`: ``bound``
and ``renew`` fetch the PXE configuration through the search order of
:mod:`bootd.parsers.pxe` and put its options on the interface; ``deconfig``,
``leasefail`` and ``nak`` end the lease and remove them.  When no
configuration could be loaded and the lease carries ``reboottime`` (option
211), the search runs again after that many seconds instead of rebooting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bootd.discovery.network_apply import SettingsApply, interface_device, use_proxies
from bootd.discovery.network_settings import (
    InterfaceSettings,
    Method,
    NetworkSettings,
    checked_network_settings,
    load_network_settings,
    network_settings,
)
from bootd.discovery.pxe_fetch import PxeConfigLoader, Status
from bootd.discovery.url_configs import UrlConfigs
from bootd.errors import BootdError, InvalidArgument
from bootd.inventory import Inventory
from bootd.model import N_, BootOption, Severity, Text
from bootd.parsers import pxe
from bootd.platform import Platform
from bootd.platform.net import DhcpClient, Interface
from bootd.settings import Paths

log = logging.getLogger(__name__)

LEASE_EVENTS = frozenset({"bound", "renew"})
END_EVENTS = frozenset({"deconfig", "leasefail", "nak", "release", "expire"})


class NetworkDiscovery(SettingsApply):
    """Follows interfaces and leases; puts PXE options into the inventory."""

    def __init__(
        self,
        platform: Platform,
        inventory: Inventory,
        settings: NetworkSettings | None = None,
        *,
        status: Status | None = None,
        work_dir: Path | None = None,
        paths: Paths | None = None,
        nvram: Mapping[str, Any] | None = None,
    ) -> None:
        """``paths`` and ``nvram``: where the settings come from, for
        :meth:`check_settings` and :meth:`apply_settings` (a settings write)."""
        self.platform = platform
        self._paths = paths
        self._nvram = nvram
        self.inventory = inventory
        self.settings = settings or NetworkSettings()
        self._status = status
        self._work_dir = work_dir
        self._own_work_dir = False
        self._interfaces: dict[str, Interface] = {}
        self._clients: dict[str, DhcpClient] = {}
        self._leases: dict[str, dict[str, str]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._requery: dict[str, asyncio.Task[None]] = {}
        self._watch: asyncio.Task[None] | None = None
        self._sync_lock = asyncio.Lock()
        self._configured: set[str] = set()
        self._loader = PxeConfigLoader(platform, self.settings, self._say, self.work_dir)
        self._urls = UrlConfigs(self._loader, inventory)

    # -- life cycle --------------------------------------------------------
    async def start(self) -> None:
        if not self.settings.enabled:
            log.info("network discovery is disabled")
            return
        use_proxies(self.settings)
        await self.sync()
        self._start_watch()

    def _start_watch(self) -> None:
        if self._watch is None:
            self._watch = asyncio.create_task(self._watch_loop(), name="network-watch")

    async def _stop_watch(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
            self._watch = None

    async def stop(self) -> None:
        await self._stop_watch()
        for task in [*self._tasks.values(), *self._requery.values()]:
            task.cancel()
        for task in [*self._tasks.values(), *self._requery.values()]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        self._requery.clear()
        for client in list(self._clients.values()):
            await client.stop()
        self._clients.clear()
        for name in list(self._interfaces):
            self.inventory.remove_device(name)
        self._interfaces.clear()
        self._configured.clear()
        self.platform.net.close()
        if self._own_work_dir and self._work_dir is not None:
            await asyncio.to_thread(shutil.rmtree, self._work_dir, True)
            self._work_dir = None
            self._own_work_dir = False

    async def wait_idle(self) -> None:
        """Wait until no configuration is being fetched (tests, ``bootd watch``)."""
        while True:
            pending = [t for t in self._tasks.values() if not t.done()]
            if not pending:
                return
            await asyncio.wait(pending)

    async def release(self, name: str) -> None:
        """Give back the DHCP lease of ``name``; its options go with it."""
        client = self._clients.get(name)
        if client is None:
            raise InvalidArgument(f"{name} has no DHCP client")
        await client.release()

    def _say(self, severity: Severity, message: str | Text) -> None:
        log.log(logging.ERROR if severity is Severity.ERROR else logging.INFO, "%s", message)
        if self._status is not None:
            try:
                self._status(severity, message)
            except Exception:
                log.exception("status callback failed")

    def work_dir(self) -> Path:
        if self._work_dir is None:
            self._work_dir = Path(tempfile.mkdtemp(prefix="bootd-pxe-"))
            self._own_work_dir = True
        return self._work_dir

    # -- interfaces --------------------------------------------------------
    async def _watch_loop(self) -> None:
        while True:
            await self.platform.net.wait_for_change(self.settings.poll_interval)
            try:
                await self.sync()
            except BootdError as e:
                self._say(Severity.WARNING, f"network: {e}")
            except Exception:  # keep watching whatever one round hit
                log.exception("network interface scan failed")

    async def sync(self) -> None:
        """Compare the machine's interfaces with what we know; act on changes."""
        async with self._sync_lock:
            seen_macs: dict[str, str] = {}
            current: dict[str, Interface] = {}
            for iface in await self.platform.net.interfaces():
                if not iface.usable():
                    continue
                if iface.mac in seen_macs:
                    log.debug("ignoring %s: MAC %s already seen on %s", iface.name, iface.mac, seen_macs[iface.mac])
                    continue
                seen_macs[iface.mac] = iface.name
                if self.settings.for_interface(iface).method is Method.IGNORE:
                    continue
                current[iface.name] = iface
            for name in [n for n in self._interfaces if n not in current]:
                await self._remove(name)
            for name, iface in current.items():
                known = self._interfaces.get(name)
                self._interfaces[name] = iface
                if known is None:
                    self.inventory.add_device(interface_device(iface, self._leases.get(name)))
                    await self._configure(iface)
                elif known != iface:
                    self.inventory.add_device(interface_device(iface, self._leases.get(name)))
                    if name not in self._configured:
                        await self._configure(iface)

    async def _configure(self, iface: Interface) -> str | None:
        """Configure ``iface`` by the settings; why it failed, or None."""
        conf = self.settings.for_interface(iface)
        if not iface.up and not self.settings.bring_up:
            return None  # configured once it is up
        self._configured.add(iface.name)
        try:
            if conf.method is Method.STATIC and conf.static is not None:
                await self.platform.net.configure_static(iface.name, conf.static)
                static = {"interface": iface.name, "mac": iface.mac, "ip": conf.static.address}
                if conf.static.gateway:
                    static["router"] = conf.static.gateway
                self._leases[iface.name] = static
                self.inventory.add_device(interface_device(iface, static))
                return None
            if not iface.up:
                await self.platform.net.link_up(iface.name)
            if conf.method is Method.DHCP and iface.name not in self._clients:
                on_event = self.handle_event if self.settings.lease_reports == "direct" else None
                self._clients[iface.name] = await self.platform.net.start_dhcp(iface.name, iface.mac, on_event)
        except BootdError as e:
            self._say(
                Severity.WARNING,
                Text.of(N_("{interface}: cannot configure the interface: {error}"), interface=iface.name, error=e),
            )
            return str(e)
        return None

    async def _remove(self, name: str) -> None:
        self._interfaces.pop(name, None)
        self._configured.discard(name)
        self._cancel(name)
        client = self._clients.pop(name, None)
        if client is not None:
            await client.stop()
        self._leases.pop(name, None)
        self.inventory.remove_device(name)

    def _cancel(self, name: str) -> None:
        for table in (self._tasks, self._requery):
            task = table.pop(name, None)
            if task is not None and task is not asyncio.current_task():
                task.cancel()

    # -- leases ------------------------------------------------------------
    async def handle_event(self, event: str, params: Mapping[str, str]) -> None:
        """A DHCP client event for ``params["interface"]``; returns at once,
        the configuration is fetched in the background."""
        name = params.get("interface", "").strip()
        if not name or "/" in name or len(name) > 64:
            raise InvalidArgument(f"network event {event!r} names no valid interface")
        event = event.strip().lower()
        known = self._interfaces.get(name) or Interface(name, params.get("mac", "").lower())
        method = self.settings.for_interface(known).method
        if method is not Method.DHCP:
            log.info("ignoring %s for %s: the settings say %s", event, name, method)
            return
        if event in LEASE_EVENTS:
            lease = dict(params)
            self._leases[name] = lease
            self._ensure_device(name, lease)
            await self._apply_dns(name, lease)
            self._cancel(name)
            self._tasks[name] = asyncio.create_task(self._resolve(name, lease), name=f"pxe-{name}")
        elif event in END_EVENTS:
            self._cancel(name)
            had = self._leases.pop(name, None)
            if self.inventory.options_of(name):
                text = N_("{interface}: lease ended ({event}); its network boot options are gone")
                self._say(Severity.INFO, Text.of(text, interface=name, event=event))
            self.inventory.set_options(name, [])
            iface = self._interfaces.get(name)
            if iface is not None and had is not None:
                self.inventory.add_device(interface_device(iface))
        else:
            log.debug("ignoring network event %s for %s", event, name)

    async def _apply_dns(self, name: str, lease: Mapping[str, str]) -> None:
        servers = lease.get("dns", "").split()
        if not self.settings.dns or not servers:
            return
        try:
            await self.platform.net.set_dns(servers, lease.get("domain") or None)
        except (BootdError, OSError) as e:
            self._say(
                Severity.WARNING,
                Text.of(N_("{interface}: cannot apply the DNS servers of the lease: {error}"), interface=name, error=e),
            )

    def _ensure_device(self, name: str, lease: Mapping[str, str]) -> None:
        iface = self._interfaces.get(name)
        if iface is None:
            mac = lease.get("mac", "").lower()
            iface = Interface(name=name, mac=mac, up=True, carrier=True)
            self._interfaces[name] = iface
        self.inventory.add_device(interface_device(iface, lease))

    def lease_may_use(self, url: str) -> bool:
        """Whether a URL that came from a DHCP lease may be used (see :meth:`PxeConfigLoader.lease_may_use`)."""
        return self._loader.lease_may_use(url)

    async def _resolve(self, name: str, params: Mapping[str, str]) -> None:
        lease = pxe.Lease.from_params(params)
        candidates, diags = pxe.config_candidates(lease)
        for d in diags:
            self._say(d.severity, f"{name}: {d.message}")
        refused = [c.url for c in candidates if not self.lease_may_use(c.url)]
        if refused:
            self._loader.refuse(
                name, refused[0] if len(refused) == 1 else f"{refused[0]} (and {len(refused) - 1} more)"
            )
            candidates = [c for c in candidates if self.lease_may_use(c.url)]
        options = await self._loader.load_first(name, candidates, lease=lease, key_prefix="")
        if options is not None:
            options = self._loader.lease_options(name, options) or None
        if options is None:
            single = pxe.bootfile_option(lease, device=name)
            if single is not None and not self._loader.lease_options(name, [single]):
                single = None
            if single is not None:
                options = [single]
                text = N_("{interface}: no PXE configuration; offering the boot file {file}")
                self._say(Severity.INFO, Text.of(text, interface=name, file=single.kernel))
        if self._leases.get(name) is not params:
            return  # a newer event replaced this lease
        self.inventory.set_options(name, options or [])
        if options is None and lease.reboottime:
            text = N_("{interface}: asking again in {seconds} s (reboottime)")
            self._say(Severity.INFO, Text.of(text, interface=name, seconds=lease.reboottime))
            self._requery[name] = asyncio.create_task(self._again(name, params, lease.reboottime))

    async def _again(self, name: str, params: Mapping[str, str], delay: int) -> None:
        await asyncio.sleep(delay)
        if self._leases.get(name) is params:
            self._tasks[name] = asyncio.create_task(self._resolve(name, params), name=f"pxe-{name}")

    async def fetch_text(self, url: str) -> str:
        """A configuration file's text (size-capped); raises like :func:`fetch`."""
        return await self._loader.fetch_text(url)

    # -- retrieve config from URL -------------------------------------------
    async def add_url(self, url: str) -> list[BootOption]:
        """Parse a remote config ("retrieve config from URL") and add its options
        (see :meth:`UrlConfigs.add`; a current lease names the MAC and address)."""
        lease = next((pxe.Lease.from_params(p) for p in self._leases.values()), None)
        return await self._urls.add(url, lease)


__all__ = [
    "InterfaceSettings",
    "Method",
    "NetworkDiscovery",
    "NetworkSettings",
    "checked_network_settings",
    "interface_device",
    "load_network_settings",
    "network_settings",
]
