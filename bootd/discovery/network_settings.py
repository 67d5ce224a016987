"""Network discovery settings: what to do with each interface.

:func:`network_settings` reads the ``[network]`` table of bootd.toml;
:func:`load_network_settings` gathers it from every settings layer (at the
daemon's start), :func:`checked_network_settings` strictly (a settings write,
which the running daemon then applies at once).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from bootd.errors import ConfigError
from bootd.model import N_, Text
from bootd.platform.net import Interface, StaticAddress
from bootd.settings import Paths, read_layer

log = logging.getLogger(__name__)


class Method(StrEnum):
    DHCP = "dhcp"
    STATIC = "static"
    IGNORE = "ignore"


@dataclass(frozen=True)
class InterfaceSettings:
    method: Method = Method.DHCP
    static: StaticAddress | None = None


@dataclass(frozen=True)
class NetworkSettings:
    """What network discovery does; the daemon builds it from its settings."""

    enabled: bool = True
    bring_up: bool = True
    """Bring interfaces up administratively; if False only interfaces already up are used."""
    interfaces: Mapping[str, InterfaceSettings] = field(default_factory=dict)
    """Per-interface settings by name or MAC; others get ``default``."""
    default: InterfaceSettings = InterfaceSettings()
    lease_reports: str = "direct"
    """``direct``: the DHCP client reports to this object; ``dbus``: its lease
    script runs ``bootd event`` and the daemon forwards to :meth:`handle_event`."""
    proxy: str = ""
    """HTTP(S) proxy URL for downloads; '' = the ``http_proxy``/``https_proxy`` environment."""
    https_proxy: str = ""
    """The proxy for https:// downloads when it is not ``proxy``; '' = ``proxy``."""
    nameservers: tuple[str, ...] = ()
    """DNS servers of a static interface that names none (Petitboot's global list)."""
    dns: bool = False
    """Write the DNS servers of a lease to the resolver configuration (``/etc/resolv.conf``)."""
    timeout: float = 30.0
    """Seconds without progress before a configuration download gives up."""
    max_config_bytes: int = 1024 * 1024
    poll_interval: float = 2.0

    def for_interface(self, iface: Interface) -> InterfaceSettings:
        return self.interfaces.get(iface.name) or self.interfaces.get(iface.mac) or self.default


def describe(conf: InterfaceSettings) -> str:
    """An interface's settings for people: ``DHCP``, ``static 10.0.0.5/24 via 10.0.0.1``, ``ignored``."""
    if conf.method is Method.STATIC and conf.static is not None:
        static = conf.static
        return f"static {static.address}/{static.prefix}" + (f" via {static.gateway}" if static.gateway else "")
    return "DHCP" if conf.method is Method.DHCP else "ignored"


def switch_message(
    name: str, before: InterfaceSettings, after: InterfaceSettings, *, had_options: bool, failed: str | None = None
) -> str:
    """What changing ``name`` from ``before`` to ``after`` did, for the status line."""
    if after.method is Method.IGNORE:
        return f"{name}: ignored" + ("; its network boot options are removed" if had_options else "")
    what = f"{name}: {describe(after)}"
    if before.method is Method.STATIC and after.method is Method.STATIC and before.static is not None:
        what += f" (was {before.static.address}/{before.static.prefix})"
    elif before.method is Method.DHCP:
        what += " (DHCP stopped" + (", its boot options removed)" if had_options else ")")
    return what + (f", but it cannot be configured: {failed}" if failed else "")


def general_changes(old: NetworkSettings, new: NetworkSettings) -> list[str]:
    """What changed besides the interfaces, for the status line."""
    out = []
    if (old.proxy, old.https_proxy) != (new.proxy, new.https_proxy):
        https = f", https {new.https_proxy}" if new.https_proxy else ""
        out.append(f"proxy {new.proxy or '(environment)'}{https} for the next download")
    if old.nameservers != new.nameservers:
        out.append(f"DNS servers {' '.join(new.nameservers) or '(none)'}")
    return out


def live_notes(old: NetworkSettings, new: NetworkSettings) -> list[str | Text]:
    """What a change of ``bring_up`` or ``lease_reports`` does (and does not do) at once, and
    that interface settings wait while network discovery is off, for the status line."""
    out: list[str | Text] = []
    if not old.enabled and not new.enabled and (old.interfaces, old.default) != (new.interfaces, new.default):
        out.append(Text.of(N_("network discovery is off (network.enabled = false): no interface is touched")))
    if old.bring_up and not new.bring_up:
        out.append(Text.of(N_("network.bring_up = false: no link is brought down; a link that is down is left alone")))
    if old.lease_reports != new.lease_reports:
        text = N_("network.lease_reports = {value} applies to the DHCP clients started from now on")
        out.append(Text.of(text, value=new.lease_reports))
    return out


def joined(parts: Sequence[str | Text]) -> str | Text:
    """``parts`` joined by "; ", each part that is a Text still translatable."""
    out: str | Text = parts[0]
    for part in parts[1:]:
        out = Text.of("{first}; {rest}", first=out, rest=part)
    return out


def _address(text: str) -> tuple[str, int]:
    try:
        iface = ipaddress.IPv4Interface(text)
    except ValueError:
        raise ConfigError.of(N_("network: {value} is not an IPv4 ADDRESS/PREFIX"), value=repr(text)) from None
    return str(iface.ip), iface.network.prefixlen


def _interface_settings(key: str, data: Mapping[str, Any], nameservers: tuple[str, ...] = ()) -> InterfaceSettings:
    known = {"method", "address", "gateway", "dns"}
    unknown = set(data) - known
    if unknown:
        raise ConfigError.of(
            N_("network.interface.{key}: unknown key(s) {keys}"), key=key, keys=", ".join(sorted(unknown))
        )
    try:
        method = Method(str(data.get("method", "dhcp")))
    except ValueError:
        raise ConfigError.of(N_("network.interface.{key}: method must be dhcp, static or ignore"), key=key) from None
    if method is not Method.STATIC:
        return InterfaceSettings(method)
    if not isinstance(data.get("address"), str):
        raise ConfigError.of(
            N_('network.interface.{key}: a static interface needs address = "ADDRESS/PREFIX"'), key=key
        )
    address, prefix = _address(data["address"])
    gateway = data.get("gateway")
    dns = data.get("dns", [])
    if gateway is not None and not isinstance(gateway, str):
        raise ConfigError.of(N_("network.interface.{key}: gateway must be a string"), key=key)
    if not isinstance(dns, list) or not all(isinstance(d, str) for d in dns):
        raise ConfigError.of(N_("network.interface.{key}: dns must be a list of addresses"), key=key)
    return InterfaceSettings(method, StaticAddress(address, prefix, gateway, tuple(dns) or nameservers))


def network_settings(data: Mapping[str, Any]) -> NetworkSettings:
    """The ``[network]`` table of bootd.toml as :class:`NetworkSettings`; ConfigError says what is wrong::

    [network]
    enabled = true            # false: no interface is touched
    bring_up = true           # bring interfaces up (false: only those already up)
    timeout = 30              # seconds without progress before a config download gives up
    method = "dhcp"           # for interfaces not listed below
    [network.interface.eth0]  # by name, or by MAC: [network.interface."52:54:00:12:34:56"]
    method = "static"         # dhcp | static | ignore
    address = "192.168.1.5/24"
    gateway = "192.168.1.1"
    dns = ["192.168.1.1"]
    """
    known = {
        "enabled",
        "bring_up",
        "dns",
        "proxy",
        "https_proxy",
        "nameservers",
        "timeout",
        "method",
        "interface",
        "lease_reports",
    }
    unknown = set(data) - known
    if unknown:
        raise ConfigError.of(N_("network: unknown key(s) {keys}"), keys=", ".join(sorted(unknown)))
    for key in ("enabled", "bring_up", "dns"):
        if not isinstance(data.get(key, key != "dns"), bool):
            raise ConfigError.of(N_("network.{key} must be true or false"), key=key)
    timeout = data.get("timeout", 30)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 3600:
        raise ConfigError.of(N_("network.timeout must be a number of seconds between 0 and 3600"))
    proxy, https_proxy = data.get("proxy", ""), data.get("https_proxy", "")
    for key, value in (("proxy", proxy), ("https_proxy", https_proxy)):
        if not isinstance(value, str) or (value and not value.startswith(("http://", "https://"))):
            raise ConfigError.of(N_("network.{key} must be an http:// or https:// URL"), key=key)
    nameservers = data.get("nameservers", [])
    if not isinstance(nameservers, list) or not all(isinstance(d, str) for d in nameservers):
        raise ConfigError.of(N_("network.nameservers must be a list of addresses"))
    reports = data.get("lease_reports", "direct")
    if reports not in ("direct", "dbus"):
        raise ConfigError.of(N_("network.lease_reports must be direct or dbus"))
    table = data.get("interface", {})
    if not isinstance(table, dict):
        raise ConfigError.of(N_("network.interface must be a table of interface names or MACs"))
    interfaces: dict[str, InterfaceSettings] = {}
    for key, value in table.items():
        if not isinstance(value, dict):
            raise ConfigError.of(N_("network.interface.{key} must be a table"), key=key)
        interfaces[key.lower() if ":" in key else key] = _interface_settings(key, value, tuple(nameservers))
    return NetworkSettings(
        enabled=data.get("enabled", True),
        bring_up=data.get("bring_up", True),
        dns=data.get("dns", False),
        proxy=proxy,
        https_proxy=https_proxy,
        nameservers=tuple(nameservers),
        interfaces=interfaces,
        default=_interface_settings("(default)", {"method": data.get("method", "dhcp")}),
        lease_reports=reports,
        timeout=float(timeout),
    )


def load_network_settings(
    paths: Paths, warn: Callable[[Text], None] | None = None, *, nvram: Mapping[str, Any] | None = None
) -> NetworkSettings:
    """The ``[network]`` tables of bootd.toml's layers (vendor, NVRAM's ``network``
    table, main, drop-ins; later keys win, ``interface`` entries merge); an invalid
    table is reported through ``warn`` and the defaults are used."""
    try:
        return network_settings(_merged(paths, nvram, _FROM_FILE, warn))
    except ConfigError as e:
        _warn(warn, Text.of(N_("{error}; using the default network settings"), error=Text.of_error(e)))
        return NetworkSettings()


_FROM_FILE: Mapping[str, Any] = {}
"""``main`` of :func:`_merged`: read the main file."""


def checked_network_settings(
    paths: Paths, *, nvram: Mapping[str, Any] | None = None, main: Mapping[str, Any] | None = None
) -> NetworkSettings:
    """The settings :func:`load_network_settings` would give, strictly: any
    problem (a layer's bad ``[network]``, an address given to two interfaces, a
    gateway outside its interface's network) raises ConfigError instead of
    falling back to the defaults.  ``main``: the main file's values to use
    instead of the file's (a write about to be made); None: the file's.

    A settings write is checked with this before anything is written or applied."""
    return check_applicable(network_settings(_merged(paths, nvram, _FROM_FILE if main is None else main, None)))


def check_applicable(settings: NetworkSettings) -> NetworkSettings:
    """``settings`` if they can be put on the interfaces as they are: ConfigError
    for an address given to two interfaces or a gateway outside its interface's network."""
    seen: dict[tuple[str, int], str] = {}
    for key, conf in settings.interfaces.items():
        static = conf.static
        if conf.method is not Method.STATIC or static is None:
            continue
        net = ipaddress.IPv4Interface(f"{static.address}/{static.prefix}").network
        if static.gateway is not None:
            try:
                gateway = ipaddress.IPv4Address(static.gateway)
            except ValueError:
                raise ConfigError.of(
                    N_("network.interface.{key}: gateway {gateway} is not IPv4"), key=key, gateway=repr(static.gateway)
                ) from None
            if gateway not in net:
                raise ConfigError.of(
                    N_("network.interface.{key}: gateway {gateway} is outside {network}"),
                    key=key,
                    gateway=static.gateway,
                    network=f"{static.address}/{static.prefix}",
                )
        other = seen.setdefault((static.address, static.prefix), key)
        if other != key:
            raise ConfigError.of(
                N_("network.interface.{key}: {address} is already the address of {other}"),
                key=key,
                address=static.address,
                other=other,
            )
    return settings


def _merged(
    paths: Paths, nvram: Mapping[str, Any] | None, main: Mapping[str, Any], warn: Callable[[Text], None] | None
) -> dict[str, Any]:
    """The layers' ``[network]`` tables merged; a layer's table that is not a
    table is reported through ``warn`` and skipped (raises ConfigError with no ``warn``)."""
    merged: dict[str, Any] = {}
    interfaces: dict[str, Any] = {}
    layers: list[tuple[str, Mapping[str, Any] | None]] = [(str(paths.vendor), _file_values(paths.vendor))]
    if nvram and nvram.get("network"):
        layers.append(("NVRAM", {"network": nvram["network"]}))
    layers.append((str(paths.main), _file_values(paths.main) if main is _FROM_FILE else main))
    layers += [(str(path), _file_values(path)) for path in paths.dropins()]
    for path, values in layers:
        table = values.get("network") if values is not None else None
        if table is None:
            continue
        if not isinstance(table, dict):
            if warn is None:
                raise ConfigError.of(N_("{path}: [network] must be a table"), path=path)
            _warn(warn, Text.of(N_("{path}: [network] must be a table; ignoring it"), path=path))
            continue
        for key, value in table.items():
            if key == "interface" and isinstance(value, dict):
                interfaces.update(value)
            else:
                merged[key] = value
    if interfaces:
        merged["interface"] = interfaces
    return merged


def _file_values(path: Path) -> Mapping[str, Any] | None:
    layer = read_layer(path)  # an unreadable file is reported by the settings loader
    return None if layer is None else layer.values


def _warn(warn: Callable[[Text], None] | None, message: Text) -> None:
    log.warning("%s", message)
    if warn is not None:
        warn(message)
