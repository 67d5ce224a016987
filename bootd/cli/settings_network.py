"""``bootd settings set network...``: the words of the command line made into
the ``network`` setting, which the settings table's own validator
(:func:`bootd.settings_table.check_network`, the one behind ``[network]`` in
bootd.toml and the menu's network screen) then checks.  Nothing here parses
addresses or proxies itself.

The keys:

* ``network.interface.NAME WORD...`` (NAME an interface name or MAC): the
  words are a method (``dhcp``, ``static``, ``ignore``), ``address=A/P``,
  ``gateway=G``, ``dns=D[,D...]`` (an empty value clears one), or
  ``delete`` (the interface's table goes: it is back to the default, DHCP);
  the interface's other keys stay as they were;
* ``network.nameservers LIST``, ``network.proxy URL``,
  ``network.https_proxy URL`` (an empty value clears it);
* ``network TABLE``: the whole table as a TOML inline table, e.g.
  ``{interface = {eth0 = {method = "dhcp"}}, nameservers = ["10.0.0.53"]}``.

With a daemon on the bus the change goes through its ``Settings1`` (applied at
once); with none, :func:`write_offline` writes it into the main file with the
same checks, for the daemon's next start.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bootd.errors import ConfigError
from bootd.settings_table import NetworkConfig, Table
from bootd.settings_types import NETWORK_METHODS

PREFIX = "network."
INTERFACE = "network.interface."
INTERFACE_KEYS = ("address", "gateway", "dns")
MAX_WORDS = 16
MAX_TEXT = 64 * 1024


def is_network_key(key: str | None) -> bool:
    return key is not None and (key == "network" or key.startswith(PREFIX))


def network_value(current: NetworkConfig, key: str, words: Sequence[str], table: Table) -> NetworkConfig:
    """``current`` with ``key`` set to ``words``, validated by ``table``'s
    ``network`` row; ConfigError says what is wrong."""
    if len(words) > MAX_WORDS or sum(len(w) for w in words) > MAX_TEXT:
        raise ConfigError(f"{key}: too many or too long values")
    data: dict[str, Any] = current.toml()
    if key == "network":
        data = _whole_table(words)
    elif key.startswith(INTERFACE):
        name = key[len(INTERFACE) :]
        interfaces = dict(data.get("interface", {}))
        changed = _interface(key, interfaces.get(name), words)
        if changed is None:
            if name not in interfaces:
                raise ConfigError(f"{key}: no such interface in the network settings")
            del interfaces[name]
        else:
            interfaces[name] = changed
        data["interface"] = interfaces
    elif key[len(PREFIX) :] in NetworkConfig.KEYS:
        name = key[len(PREFIX) :]
        data[name] = " ".join(words)
    else:
        known = ", ".join([f"{PREFIX}{k}" for k in NetworkConfig.KEYS] + [f"{INTERFACE}NAME"])
        raise ConfigError(f"unknown network setting {key!r} (known: network, {known})")
    value = table.validate("network", data)
    assert isinstance(value, NetworkConfig)
    return value


def network_lines(cfg: NetworkConfig) -> list[str]:
    """``cfg`` as the keys and words :func:`network_value` takes."""
    lines = [f"{PREFIX}{key} = {' '.join(getattr(cfg, key)) if key == 'nameservers' else getattr(cfg, key)}"
             for key in NetworkConfig.KEYS]  # fmt: skip
    for i in cfg.interfaces:
        words = [i.method]
        if i.method == "static":
            words.append(f"address={i.address}")
            words += [f"gateway={i.gateway}"] if i.gateway else []
            words += [f"dns={','.join(i.dns)}"] if i.dns else []
        lines.append(f"{INTERFACE}{i.name} = {' '.join(words)}")
    return lines


def _whole_table(words: Sequence[str]) -> dict[str, Any]:
    text = " ".join(words).strip()
    try:
        value = tomllib.loads(f"network = {text}")["network"]
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(
            f'network: not a TOML inline table ({e}); e.g. {{interface = {{eth0 = {{method = "dhcp"}}}}}}'
        ) from None
    if not isinstance(value, dict):
        raise ConfigError('network: give a TOML inline table, e.g. {nameservers = ["10.0.0.53"]}')
    return value


def _interface(key: str, old: dict[str, Any] | None, words: Sequence[str]) -> dict[str, Any] | None:
    """The interface's new table (None: remove it)."""
    if not words:
        raise ConfigError(
            f"usage: bootd settings set {key} dhcp|static|ignore|delete [address=A/P] [gateway=G] [dns=D,...]"
        )
    if list(words) == ["delete"]:
        return None
    table = dict(old or {})
    for word in words:
        name, eq, value = word.partition("=")
        if not eq and word in NETWORK_METHODS:
            name, value = "method", word
        elif not eq or name not in ("method", *INTERFACE_KEYS):
            raise ConfigError(
                f"{key}: {word!r} is not a method ({', '.join(NETWORK_METHODS)}) "
                f"or {', '.join(k + '=' for k in INTERFACE_KEYS)}VALUE"
            )
        if name == "dns":
            table[name] = value.replace(",", " ").split()
        elif value:
            table[name] = value
        else:
            table.pop(name, None)
    return table


def write_offline(root: Path, key: str, words: Sequence[str], table: Table) -> Path:
    """No daemon to ask: ``key`` set to ``words`` in the network settings the
    files under ``root`` give (NVRAM is the daemon's to read), written into the
    main file all or nothing, with the check a daemon's write passes first
    (:func:`~bootd.discovery.network_settings.checked_network_settings`).  The file written."""
    from bootd import settings, settings_write  # tomlkit: only for this write
    from bootd.discovery.network_settings import checked_network_settings

    paths = settings.Paths(root)
    layers = [settings.read_layer(p) for p in (paths.vendor, paths.main, *paths.dropins())]
    current = settings.merge([layer for layer in layers if layer is not None], table=table).network
    value = network_value(current, key, words, table)

    def check(main: Mapping[str, Any]) -> object:
        try:
            return checked_network_settings(paths, main=main)
        except ConfigError as e:
            raise ConfigError(f"{e}: nothing was written") from None

    settings_write.write_settings(paths, {"network": value}, table, check=check)
    return paths.main
