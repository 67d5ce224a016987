"""The types and checks of the settings (layer L0', pure): each setting's
validator, the structured ``network`` value (:class:`NetworkConfig`) and
Petitboot's NVRAM keys (:data:`PETITBOOT_NVRAM`, :func:`nvram_network`).
The table itself, which names them, is :mod:`bootd.settings_table`."""

from __future__ import annotations

import ipaddress
import logging
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bootd.errors import ConfigError
from bootd.model import N_, DeviceType, Record, record

_set = object.__setattr__

log = logging.getLogger(__name__)

NvramTable = dict[str, Any]
NvramValues = dict[str, str | list[str] | NvramTable]
"""Settings read from Petitboot's NVRAM keys, still to validate (a list for a
list-valued key; ``network``: a ``[network]`` table, see :func:`nvram_network`)."""

RESTRICT_VALUES = ("changes", "all")
SIGNED_BOOT_VALUES = ("off", "warn", "enforce")
BOOT_ORDER_TYPES = tuple(str(t) for t in DeviceType)
MAX_TIMEOUT = 24 * 3600
MAX_BOOT_ORDER = 64
"""The most ``boot_order`` items (a real machine has a handful)."""


# -- validation ----------------------------------------------------------------
def check_bool(key: str, v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.lower() in ("true", "yes", "on", "1", "false", "no", "off", "0"):
        return v.lower() in ("true", "yes", "on", "1")
    raise ConfigError.of(N_("{key} must be true or false, not {value}"), key=key, value=repr(v))


def check_seconds(key: str, v: Any) -> int:
    if isinstance(v, str) and v.strip().isdigit():
        v = int(v.strip())
    if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= MAX_TIMEOUT:
        raise ConfigError.of(
            N_("{key} must be a whole number of seconds from 0 to {most}, not {value}"),
            key=key,
            most=MAX_TIMEOUT,
            value=repr(v),
        )
    return v


def validate_boot_order_item(item: str) -> str:
    item = item.strip()
    low = item.lower()
    if low in BOOT_ORDER_TYPES:
        return low
    if low == "cdrom":
        return "optical"
    kind, sep, value = item.partition(":")
    if sep and kind.lower() in ("uuid", "mac") and value:
        return f"{kind.lower()}:{value.lower() if kind.lower() == 'mac' else value}"
    raise ConfigError.of(
        N_("boot_order item {item} is not one of {types} or a uuid:…/mac:… selector"),
        item=repr(item),
        types=", ".join(BOOT_ORDER_TYPES),
    )


def check_boot_order(key: str, v: Any) -> tuple[str, ...]:
    if isinstance(v, str):
        v = [x for x in v.replace(",", " ").split() if x]
    if not isinstance(v, list | tuple) or not all(isinstance(x, str) for x in v):
        raise ConfigError.of(N_("{key} must be a list of strings, not {value}"), key=key, value=repr(v))
    if len(v) > MAX_BOOT_ORDER:
        raise ConfigError.of(
            N_("{key} has {count} items; at most {max} are allowed"), key=key, count=len(v), max=MAX_BOOT_ORDER
        )
    return tuple(validate_boot_order_item(x) for x in v)


def check_text(key: str, v: Any) -> str:
    if not isinstance(v, str) or len(v) > 1024 or "\0" in v or "\n" in v:
        raise ConfigError.of(N_("{key} must be a one-line string, not {value}"), key=key, value=repr(v))
    return v


def one_of(*values: str) -> Callable[[str, Any], str]:
    """A validator that takes exactly one of ``values``."""

    def check(key: str, v: Any) -> str:
        if v not in values:
            raise ConfigError.of(
                N_("{key} must be one of {values}, not {value}"), key=key, values=", ".join(values), value=repr(v)
            )
        return str(v)

    return check


LANGUAGE_MAX = 32


def check_language(key: str, v: Any) -> str:
    """A gettext language code (``de``, ``zh_CN``; "" = the environment's).
    An encoding or modifier (Petitboot stores ``en_US.utf8``) is dropped."""
    v = check_text(key, v).strip()
    code = v.split(".", 1)[0].split("@", 1)[0]
    lang, sep, country = code.partition("_")
    ok = (
        v == ""
        or code == "C"
        or (
            2 <= len(lang) <= 3
            and lang.isascii()
            and lang.isalpha()
            and lang.islower()
            and (not sep or (len(country) == 2 and country.isascii() and country.isalpha() and country.isupper()))
        )
    )
    if not ok or len(v) > LANGUAGE_MAX:
        raise ConfigError.of(N_("{key} must be a language code like de or zh_CN, not {value}"), key=key, value=repr(v))
    return str(code)


# -- network (the [network] table's part the menu edits) ------------------------------
NETWORK_METHODS = ("dhcp", "static", "ignore")
MAX_INTERFACES = 64
MAX_SERVERS = 8


@record
class InterfaceConfig(Record):
    """One ``[network.interface.NAME]`` table: NAME is an interface name or a MAC."""

    name: str
    method: str = "dhcp"
    address: str = ""
    """ADDRESS/PREFIX (static only)."""
    gateway: str = ""
    dns: tuple[str, ...] = ()

    def __init__(
        self,
        name: str,
        method: str = "dhcp",
        address: str = "",
        gateway: str = "",
        dns: tuple[str, ...] = (),
    ) -> None:
        _set(self, "name", name)
        _set(self, "method", method)
        _set(self, "address", address)
        _set(self, "gateway", gateway)
        _set(self, "dns", dns)

    def toml(self) -> dict[str, Any]:
        """Its table's keys (those with a value)."""
        out: dict[str, Any] = {"method": self.method}
        if self.method == "static":
            out["address"] = self.address
            if self.gateway:
                out["gateway"] = self.gateway
            if self.dns:
                out["dns"] = list(self.dns)
        return out


@dataclass(frozen=True)
class NetworkConfig:
    """What the menu's network screen edits, kept in ``bootd.toml``'s ``[network]``
    table (its other keys belong to network discovery alone): each interface's
    method and static address, the DNS servers and the proxies."""

    interfaces: tuple[InterfaceConfig, ...] = ()
    nameservers: tuple[str, ...] = ()
    proxy: str = ""
    https_proxy: str = ""

    DBUS_SIGNATURE: typing.ClassVar[str] = "(ssasa(ssssas))"
    """(proxy, https_proxy, nameservers, [(name, method, address, gateway, dns)])."""

    KEYS: typing.ClassVar[tuple[str, ...]] = ("proxy", "https_proxy", "nameservers")
    """The ``[network]`` keys it owns, besides ``interface``."""

    def __post_init__(self) -> None:
        # the interfaces are a table by name: their order is no part of the value
        object.__setattr__(self, "interfaces", tuple(sorted(self.interfaces, key=lambda i: i.name)))

    def interface(self, name: str) -> InterfaceConfig | None:
        return next((i for i in self.interfaces if i.name == name), None)

    def toml(self) -> dict[str, Any]:
        """Its ``[network]`` keys (those with a value; ``interface`` a table of tables)."""
        out: dict[str, Any] = {}
        if self.proxy:
            out["proxy"] = self.proxy
        if self.https_proxy:
            out["https_proxy"] = self.https_proxy
        if self.nameservers:
            out["nameservers"] = list(self.nameservers)
        if self.interfaces:
            out["interface"] = {i.name: i.toml() for i in self.interfaces}
        return out

    def to_bus(self) -> list[Any]:
        return [
            self.proxy,
            self.https_proxy,
            list(self.nameservers),
            [[i.name, i.method, i.address, i.gateway, list(i.dns)] for i in self.interfaces],
        ]

    @classmethod
    def from_bus(cls, value: Any) -> NetworkConfig:
        return check_network("network", value)

    def __str__(self) -> str:
        parts = [f"{i.name}:{i.method}" + (f" {i.address}" if i.method == "static" else "") for i in self.interfaces]
        if self.nameservers:
            parts.append("dns " + ",".join(self.nameservers))
        if self.proxy:
            parts.append(f"proxy {self.proxy}")
        if self.https_proxy:
            parts.append(f"https_proxy {self.https_proxy}")
        return "; ".join(parts) or "(defaults)"


def _ip(key: str, text: Any) -> str:
    try:
        return str(ipaddress.ip_address(check_text(key, text).strip()))
    except ValueError:
        raise ConfigError.of(N_("{key}: {value} is not an IP address"), key=key, value=repr(text)) from None


def _servers(key: str, v: Any) -> tuple[str, ...]:
    if isinstance(v, str):
        v = v.replace(",", " ").split()
    if not isinstance(v, list | tuple) or len(v) > MAX_SERVERS:
        raise ConfigError.of(N_("{key} must be a list of at most {max} IP addresses"), key=key, max=MAX_SERVERS)
    return tuple(_ip(key, x) for x in v)


def _proxy(key: str, v: Any) -> str:
    v = check_text(key, v).strip()
    if v and not v.startswith(("http://", "https://")):
        raise ConfigError.of(N_("{key} must be an http:// or https:// URL, not {value}"), key=key, value=repr(v))
    return str(v)


def check_interface(name: str, data: Mapping[str, Any]) -> InterfaceConfig:
    """One ``[network.interface.NAME]`` table."""
    where = f"network.interface.{name}"
    if not name or len(name) > 64 or not all(c.isalnum() or c in ":._-@" for c in name):
        raise ConfigError.of(N_("network.interface: {name} is not an interface name or MAC"), name=repr(name))
    unknown = set(data) - {"method", "address", "gateway", "dns"}
    if unknown:
        raise ConfigError.of(N_("{where}: unknown key(s) {keys}"), where=where, keys=", ".join(sorted(unknown)))
    method = data.get("method", "dhcp")
    if method not in NETWORK_METHODS:
        raise ConfigError.of(
            N_("{where}: method must be {methods}, not {method}"),
            where=where,
            methods=", ".join(NETWORK_METHODS),
            method=repr(method),
        )
    if method != "static":
        return InterfaceConfig(name.lower() if ":" in name else name, method)
    address = check_text(f"{where}.address", data.get("address", "")).strip()
    try:
        iface = ipaddress.IPv4Interface(address)
    except ValueError:
        raise ConfigError.of(
            N_("{where}: a static interface needs address = ADDRESS/PREFIX, not {address}"),
            where=where,
            address=repr(address),
        ) from None
    if "/" not in address:
        raise ConfigError.of(
            N_("{where}: the address needs its prefix (ADDRESS/PREFIX), not {address}"),
            where=where,
            address=repr(address),
        )
    gateway = data.get("gateway") or ""
    return InterfaceConfig(
        name.lower() if ":" in name else name,
        "static",
        f"{iface.ip}/{iface.network.prefixlen}",
        _ip(f"{where}.gateway", gateway) if gateway else "",
        _servers(f"{where}.dns", data.get("dns", [])),
    )


def check_network(key: str, v: Any) -> NetworkConfig:
    """A ``[network]`` table (TOML), its D-Bus struct, or a :class:`NetworkConfig`,
    validated; the keys it does not own are network discovery's to check."""
    if isinstance(v, NetworkConfig):
        v = v.to_bus()
    if isinstance(v, list | tuple):
        if len(v) != 4 or not isinstance(v[3], list | tuple):
            raise ConfigError.of(N_("{key} must be (proxy, https_proxy, nameservers, interfaces)"), key=key)
        rows = []
        for item in v[3]:
            if not isinstance(item, list | tuple) or len(item) != 5:
                raise ConfigError.of(N_("{key}: an interface is (name, method, address, gateway, dns)"), key=key)
            name, method, address, gateway, dns = item
            rows.append((str(name), {"method": method, "address": address, "gateway": gateway, "dns": list(dns)}))
        v = {"proxy": v[0], "https_proxy": v[1], "nameservers": list(v[2]), "interface": dict(rows)}
        if len(rows) != len(v["interface"]):
            raise ConfigError.of(N_("{key}: an interface is named twice"), key=key)
    if not isinstance(v, Mapping):
        raise ConfigError.of(N_("{key} is a table ([network] in bootd.toml, or the menu's network screen)"), key=key)
    table = v.get("interface", {})
    if not isinstance(table, Mapping) or len(table) > MAX_INTERFACES:
        raise ConfigError.of(
            N_("{key}.interface must be a table of at most {max} interfaces"), key=key, max=MAX_INTERFACES
        )
    interfaces = []
    for name, data in table.items():
        if not isinstance(data, Mapping):
            raise ConfigError.of(N_("{key}.interface.{name} must be a table"), key=key, name=name)
        interfaces.append(check_interface(str(name), data))
    return NetworkConfig(
        tuple(interfaces),
        _servers(f"{key}.nameservers", v.get("nameservers", [])),
        _proxy(f"{key}.proxy", v.get("proxy", "")),
        _proxy(f"{key}.https_proxy", v.get("https_proxy", "")),
    )


def check_abspath(key: str, v: Any) -> str:
    v = check_text(key, v)
    if not v.startswith("/"):
        raise ConfigError.of(N_("{key} must be an absolute path, not {value}"), key=key, value=repr(v))
    return str(v)


def is_password_hash(text: str) -> bool:
    parts = text.split("$")
    return len(parts) == 6 and parts[0] == "scrypt" and all(p.isdigit() for p in parts[1:4])


def check_password_hash(key: str, v: Any) -> str:
    v = check_text(key, v)
    if v and not is_password_hash(v):
        raise ConfigError.of(
            N_("{key} must be a scrypt hash made by bootd (set it through the API or `bootd settings`)"), key=key
        )
    return str(v)


# -- Petitboot's NVRAM keys ---------------------------------------------------------
PETITBOOT_NVRAM: tuple[tuple[str, str, str], ...] = (
    ("auto-boot?", "autoboot", ""),
    ("petitboot,timeout", "timeout", ""),
    ("petitboot,bootdevs", "boot_order", "space-separated; uuid:, mac: and device types"),
    ("petitboot,bootdev", "boot_order", "an older Petitboot's single boot device; read when bootdevs is absent"),
    ("petitboot,console", "console", ""),
    ("petitboot,tty", "console", "an older Petitboot's name for console; read when console is absent"),
    ("petitboot,language", "language", "the encoding is dropped: en_US.utf8 reads as en_US"),
    (
        "petitboot,network",
        "[network]",
        "MAC,dhcp / MAC,static,ADDRESS/PREFIX[,GATEWAY] / MAC,ignore entries become "
        '[network.interface."MAC"] tables; a dns,SERVER,... entry becomes nameservers',
    ),
    ("petitboot,http_proxy", "[network] proxy", ""),
    ("petitboot,https_proxy", "[network] https_proxy", ""),
    ("petitboot,debug?", "", "not used: the daemon's log level is its --verbose option and the journal's"),
    ("petitboot,write?", "", "not used: bootd mounts every device read-only and never writes to one"),
    ("petitboot,snapshots?", "", "not used: it only matters when a device may be written (see write?)"),
)
"""Every NVRAM key Petitboot defines: (key, what bootd reads it as, note); an
empty second field means bootd has no use for it (the README shows this table)."""

_MAC_LEN = len("00:00:00:00:00:00")


def _nvram_interface(entry: str) -> tuple[str, dict[str, str]] | None:
    parts = entry.split(",")
    mac = parts[0].lower()
    if len(mac) != _MAC_LEN or any(c not in "0123456789abcdef:" for c in mac) or mac.count(":") != 5:
        return None
    method = parts[1] if len(parts) > 1 else ""
    if method in ("", "ignore"):
        return mac, {"method": "ignore"}
    if method == "dhcp":
        return mac, {"method": "dhcp"}
    if method == "static" and len(parts) > 2 and parts[2]:
        out = {"method": "static", "address": parts[2]}
        if len(parts) > 3 and parts[3]:
            out["gateway"] = parts[3]
        return mac, out
    return None


def nvram_network(raw: Mapping[str, str]) -> NvramTable:
    """The ``[network]`` table Petitboot's network keys in ``raw`` give (values
    still to validate; an entry that cannot be read is left out, logged)."""
    out: NvramTable = {}
    interfaces: dict[str, dict[str, str]] = {}
    for entry in raw.get("petitboot,network", "").split():
        if entry.startswith("dns,"):
            out["nameservers"] = [d for d in entry.split(",")[1:] if d]
            continue
        parsed = _nvram_interface(entry)
        if parsed is None:
            log.warning("NVRAM petitboot,network: cannot read %r; ignoring it", entry)
            continue
        interfaces[parsed[0]] = parsed[1]
    if interfaces:
        out["interface"] = interfaces
    for key, name in (("petitboot,http_proxy", "proxy"), ("petitboot,https_proxy", "https_proxy")):
        if raw.get(key):
            out[name] = raw[key]
    return out
