"""Network settings put in force while network discovery runs (a settings
write: the menu's network screen, ``bootd settings set``): part of
:class:`bootd.discovery.network.NetworkDiscovery`, which provides the
interface life cycle this builds on."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from bootd.discovery.network_settings import (
    InterfaceSettings,
    Method,
    NetworkSettings,
    check_applicable,
    checked_network_settings,
    describe,
    general_changes,
    joined,
    live_notes,
    network_settings,
    switch_message,
)
from bootd.discovery.pxe_fetch import PxeConfigLoader
from bootd.errors import BootdError, ConfigError
from bootd.inventory import Inventory
from bootd.loader.download import set_default_proxies
from bootd.model import N_, Device, DeviceType, Severity, Text
from bootd.platform import Platform
from bootd.platform.net import DhcpClient, Interface
from bootd.settings import Paths

log = logging.getLogger(__name__)


def interface_device(iface: Interface, lease: Mapping[str, str] | None = None) -> Device:
    """An interface as a network device (its lease's facts as properties)."""
    props = [("mac", iface.mac), ("link", "up" if iface.carrier else "down")]
    for key in ("ip", "router", "dns", "domain", "serverid"):
        if lease and lease.get(key):
            props.append((key, lease[key]))
    return Device(id=iface.name, type=DeviceType.NETWORK, uuid=iface.mac, properties=tuple(props))


def use_proxies(settings: NetworkSettings) -> None:
    """The proxies of ``settings`` for every later download (none set: the environment's)."""
    https = settings.https_proxy or settings.proxy
    proxies = {k: v for k, v in (("http", settings.proxy), ("https", https)) if v}
    set_default_proxies(proxies or None)


class SettingsApply:
    """Applying settings; the attributes and the methods below the line are
    :class:`~bootd.discovery.network.NetworkDiscovery`'s."""

    platform: Platform
    inventory: Inventory
    settings: NetworkSettings
    _paths: Paths | None
    _nvram: Mapping[str, Any] | None
    _loader: PxeConfigLoader
    _interfaces: dict[str, Interface]
    _clients: dict[str, DhcpClient]
    _leases: dict[str, dict[str, str]]
    _configured: set[str]
    _sync_lock: asyncio.Lock

    def _checked(self, main: Mapping[str, Any] | None) -> NetworkSettings:
        if self._paths is None:
            table = (main or {}).get("network", {})
            return check_applicable(network_settings(table if isinstance(table, dict) else {}))
        return checked_network_settings(self._paths, nvram=self._nvram, main=main)

    def check_settings(self, main: Mapping[str, Any]) -> NetworkSettings:
        """The network settings the main file's values ``main`` would give with
        the other layers (ConfigError says what is wrong: the write is refused)."""
        try:
            return self._checked(main)
        except ConfigError as e:
            raise ConfigError(f"{e}: nothing was written or applied") from None

    def check_files(self) -> NetworkSettings:
        """The network settings the files give, strictly (a reload: ConfigError keeps the old ones)."""
        return self._checked(None)

    async def apply_settings(self) -> list[str | Text]:
        """Read the network settings again and :meth:`apply` them; says what was done."""
        try:
            new = await asyncio.to_thread(self._checked, None)
        except ConfigError as e:
            self._say(Severity.WARNING, Text.of(N_("network settings not applied: {error}"), error=e))
            return []
        try:
            done = await self.apply(new)
        except BootdError as e:
            self._say(Severity.WARNING, Text.of(N_("network settings only partly applied: {error}"), error=e))
            return []
        failed = any(" cannot " in str(d) for d in done)
        summary: str | Text = joined(done) if done else "nothing to change"
        text = Text.of(N_("Network settings applied: {summary}"), summary=summary)
        self._say(Severity.WARNING if failed else Severity.INFO, text)
        return done

    async def apply(self, new: NetworkSettings) -> list[str | Text]:
        """Put ``new`` in force at once (a settings write); what was done, for people.

        An interface whose method or address changed is reconfigured: leaving
        DHCP stops its client and removes its lease's options, leaving a static
        address removes it, ``ignore`` drops the interface (and its options),
        and an interface no longer ignored is taken up.  Proxies apply to the
        next download, DNS servers to the next resolver write.  ``enabled``
        false stops network discovery (every interface left as ``ignore``
        leaves it), true starts it; ``bring_up`` true brings up and configures
        the interfaces that waited for their link; ``bring_up`` false brings
        no link down and ``lease_reports`` applies to the DHCP clients started
        from then on (both are said in the status line)."""
        old = self.settings
        done: list[str | Text] = []
        async with self._sync_lock:
            self.settings = self._loader.settings = new
            if (old.proxy, old.https_proxy) != (new.proxy, new.https_proxy):
                use_proxies(new)
            if old.enabled and not new.enabled:
                done.append(await self._disable(old))
            elif old.enabled and new.enabled:
                for iface in await self.platform.net.interfaces():
                    before, after = old.for_interface(iface), new.for_interface(iface)
                    if iface.name not in self._interfaces:
                        if before.method is Method.IGNORE and after.method is not Method.IGNORE and iface.usable():
                            done.append(f"{iface.name}: {describe(after)}")  # taken up by the sync below
                    elif before != after:
                        self._interfaces[iface.name] = iface
                        done.append(await self._switch(iface, before, after))
                if new.bring_up and not old.bring_up:
                    done += await self._bring_up_waiting()
        if new.enabled:
            if not old.enabled:
                use_proxies(new)
            await self.sync()
            if not old.enabled:
                self._start_watch()
                done.append(Text.of(N_("network discovery started")))
        return done + live_notes(old, new) + general_changes(old, new)

    async def _disable(self, old: NetworkSettings) -> Text:
        """``enabled = false`` while running: stop watching, and leave every
        interface as ``ignore`` does (client stopped, address removed, options gone)."""
        await self._stop_watch()
        names = list(self._interfaces)
        for name in names:
            await self._leave(name, old.for_interface(self._interfaces[name]))
            await self._remove(name)
        if not names:
            return Text.of(N_("network discovery stopped"))
        text = N_("network discovery stopped: {interfaces} no longer used, their boot options removed")
        return Text.of(text, interfaces=", ".join(names))

    async def _bring_up_waiting(self) -> list[str | Text]:
        """``bring_up`` turned on: the interfaces left alone because their link was down are taken up now."""
        done: list[str | Text] = []
        for name, iface in list(self._interfaces.items()):
            if name in self._configured:
                continue
            failed = await self._configure(iface)
            conf = self.settings.for_interface(iface)
            if failed:
                text = N_("{interface}: cannot be brought up: {error}")
                done.append(Text.of(text, interface=name, error=failed))
            else:
                done.append(Text.of(N_("{interface}: brought up ({method})"), interface=name, method=describe(conf)))
        return done

    async def _switch(self, iface: Interface, before: InterfaceSettings, after: InterfaceSettings) -> str:
        had_options = await self._leave(iface.name, before)
        if after.method is Method.IGNORE:
            await self._remove(iface.name)
            return switch_message(iface.name, before, after, had_options=had_options)
        self._configured.discard(iface.name)
        self.inventory.add_device(interface_device(iface))
        failed = await self._configure(iface)
        return switch_message(iface.name, before, after, had_options=had_options, failed=failed)

    async def _leave(self, name: str, before: InterfaceSettings) -> bool:
        """Undo what ``before`` did on ``name``: its DHCP client and lease, or
        its static address; whether it had boot options."""
        self._cancel(name)
        client = self._clients.pop(name, None)
        if client is not None:
            await client.stop()
        self._leases.pop(name, None)
        had = bool(self.inventory.options_of(name))
        self.inventory.set_options(name, [])
        if before.method is not Method.IGNORE:
            try:
                await self.platform.net.deconfigure(name)
            except BootdError as e:
                self._say(
                    Severity.WARNING,
                    Text.of(N_("{interface}: cannot remove its address: {error}"), interface=name, error=e),
                )
        return had

    # -- NetworkDiscovery's ---------------------------------------------------
    def _say(self, severity: Severity, message: str | Text) -> None:
        raise NotImplementedError

    async def sync(self) -> None:
        raise NotImplementedError

    def _start_watch(self) -> None:
        raise NotImplementedError

    async def _stop_watch(self) -> None:
        raise NotImplementedError

    async def _configure(self, iface: Interface) -> str | None:
        raise NotImplementedError

    async def _remove(self, name: str) -> None:
        raise NotImplementedError

    def _cancel(self, name: str) -> None:
        raise NotImplementedError
