"""Typed settings (layer L1): TOML layers, validation, atomic writes.

Every setting is declared once, in :mod:`bootd.settings_table`; this module
reads the layers by that table (pass ``table=`` for an extended one).

Layers, later ones win, each optional:

1. the built-in defaults (documented in ``config/bootd.toml``);
2. ``<root>/usr/lib/bootd/bootd.toml`` (the distribution's defaults);
3. Petitboot's NVRAM keys (every one Petitboot defines:
   :data:`~bootd.settings_table.PETITBOOT_NVRAM`) when the machine has them;
4. ``<root>/etc/bootd/bootd.toml`` (what the API writes);
5. ``<root>/etc/bootd/bootd.toml.d/*.toml`` in name order.

So what the admin wrote in /etc beats NVRAM, and NVRAM beats the vendor's
defaults.  :attr:`LoadState.origins` names the layer each setting in force
came from (``bootd settings show --origin``).

A layer that cannot be read or parsed, or holds an invalid value, is skipped
with a loud warning: bootd always starts.  It never starts unprotected,
though (:func:`load_state`): while any layer is broken, or holds an invalid
``password``/``restrict``, the protection in force is the last one read from
intact files (kept in :attr:`Paths.protection` each time every layer reads
cleanly); without such a record the password is :data:`LOCKED` (no password
opens it) until the file is repaired.  Writes go through
:mod:`bootd.settings_write`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bootd.errors import ConfigError
from bootd.model import N_, Text
from bootd.settings_table import (
    BOOT_ORDER_TYPES,
    MAX_BOOT_ORDER,
    MAX_TIMEOUT,
    RESTRICT_VALUES,
    SIGNED_BOOT_VALUES,
    TABLE,
    NvramValues,
    Settings,
    Table,
    is_password_hash,
    validate_boot_order_item,
)

log = logging.getLogger(__name__)

MAX_FILE = 256 * 1024
PROTECTION = ("password", "restrict")
"""The settings that guard the machine: never dropped because a file is broken."""
LOCKED = "locked$settings-file-unreadable"
"""The password in force when the settings are broken and nothing records the
protection that was in force: it matches no password."""

KEYS = TABLE.keys
TABLES = frozenset({"network"})
"""Tables that their own part reads (``[network]``: bootd.discovery.network_settings)."""
DEFAULTS = TABLE.defaults()


@dataclass(frozen=True)
class Layer:
    name: str
    values: Mapping[str, Any] = field(default_factory=dict)


def validate(key: str, value: Any, table: Table = TABLE) -> Any:
    """The typed value of ``key``; ConfigError says what is wrong."""
    return table.validate(key, value)


def merge(
    layers: list[Layer],
    warn: Callable[[Text], None] | None = None,
    *,
    problems: list[str] | None = None,
    origins: dict[str, str] | None = None,
    table: Table = TABLE,
) -> Settings:
    """Apply ``layers`` in order over the defaults; bad values are skipped
    (and, for :data:`PROTECTION` keys, noted in ``problems``).  ``origins``
    gets the name of the layer each setting came from (:data:`DEFAULT_ORIGIN`
    for a default; ``network.KEY`` for the keys of ``[network]`` tables)."""
    values: dict[str, Any] = {}
    tables: dict[str, dict[str, Any]] = {}
    if origins is not None:
        origins.update(dict.fromkeys(table.keys, DEFAULT_ORIGIN))
    for layer in layers:
        for key, raw in layer.values.items():
            if key in TABLES:
                if isinstance(raw, Mapping):
                    merge_table(tables.setdefault(key, {}), raw)
                    if origins is not None:
                        origins.update(_table_origins(key, raw, layer.name))
                        origins[key] = layer.name
                continue
            try:
                values[key] = table.validate(key, raw)
                if origins is not None:
                    origins[key] = layer.name
            except ConfigError as e:
                msg = Text.of(N_("{layer}: {error}; ignoring it"), layer=layer.name, error=Text.of_error(e))
                log.warning("%s", msg)
                if warn is not None:
                    warn(msg)
                if problems is not None and key in PROTECTION:
                    problems.append(msg.text)
    for key, raw in tables.items():
        if key in table:
            try:
                values[key] = table.validate(key, raw)
            except ConfigError as e:
                msg = Text.of(N_("[{key}]: {error}; using the defaults of its part"), key=key, error=Text.of_error(e))
                log.warning("%s", msg)
                if warn is not None:
                    warn(msg)
                if origins is not None:
                    origins[key] = DEFAULT_ORIGIN
    return replace(table.defaults(), **values)


def merge_table(into: dict[str, Any], raw: Mapping[str, Any]) -> None:
    """A later layer's table over an earlier one's: its keys win, and its
    ``interface`` tables are added to (and replace) the earlier ones."""
    for key, value in raw.items():
        if key == "interface" and isinstance(value, Mapping) and isinstance(into.get(key), dict):
            into[key].update(value)
        else:
            into[key] = dict(value) if key == "interface" and isinstance(value, Mapping) else value


DEFAULT_ORIGIN = "default"
NVRAM_ORIGIN = "NVRAM"
RECORD_ORIGIN = "protection record"


def _table_origins(name: str, data: Mapping[str, Any], origin: str) -> dict[str, str]:
    out = {}
    for key, value in data.items():
        if key == "interface" and isinstance(value, Mapping):
            out.update({f"{name}.interface.{iface}": origin for iface in value})
        else:
            out[f"{name}.{key}"] = origin
    return out


# -- passwords -------------------------------------------------------------------
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def hash_password(plain: str, *, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(plain.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def check_password(stored: str, plain: str) -> bool:
    """Whether ``plain`` matches the hash ``stored`` (no password: always)."""
    if not stored:
        return True
    try:
        _, n, r, p, salt, digest = stored.split("$")
        got = hashlib.scrypt(
            plain.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(base64.b64decode(digest)),
        )
    except (ValueError, TypeError):
        log.warning("the stored password hash is unreadable; refusing every password")
        return False
    return hmac.compare_digest(got, base64.b64decode(digest))


# -- NVRAM (Petitboot) ---------------------------------------------------------------
def parse_nvram(text: str, table: Table = TABLE) -> NvramValues:
    """Settings from ``nvram --print-config`` output (``key=value`` lines), by
    the NVRAM keys the table names (:meth:`~bootd.settings_table.Table.nvram_values`)."""
    raw: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            raw[key.strip()] = value.strip()
    return table.nvram_values(raw)


# -- files -------------------------------------------------------------------------
@dataclass(frozen=True)
class Paths:
    root: Path = Path("/")

    @property
    def vendor(self) -> Path:
        return self.root / "usr/lib/bootd/bootd.toml"

    @property
    def main(self) -> Path:
        return self.root / "etc/bootd/bootd.toml"

    @property
    def dropin_dir(self) -> Path:
        return self.root / "etc/bootd/bootd.toml.d"

    @property
    def protection(self) -> Path:
        """The password hash and ``restrict`` last read from intact files."""
        return self.root / "var/lib/bootd/protection.toml"

    def dropins(self) -> list[Path]:
        try:
            return sorted(p for p in self.dropin_dir.iterdir() if p.suffix == ".toml" and p.is_file())
        except OSError:
            return []


class Unreadable(ConfigError):
    """A settings file exists but cannot be used; the message says why."""


def parse_file(path: Path) -> dict[str, Any] | None:
    """A settings file's TOML (None when absent); :class:`Unreadable` otherwise."""
    try:
        if path.stat().st_size > MAX_FILE:
            raise Unreadable.of(N_("larger than {limit} bytes"), limit=MAX_FILE)
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except OSError as e:
        raise Unreadable.of(N_("cannot read it: {error}"), error=e.strerror or e) from None
    except UnicodeDecodeError as e:
        raise Unreadable.of(N_("not UTF-8 text: {error}"), error=e) from None
    except tomllib.TOMLDecodeError as e:  # the library's own words stay the {error}
        raise Unreadable.of(N_("not valid TOML: {error}"), error=e) from None


def read_layer(
    path: Path, warn: Callable[[Text], None] | None = None, *, problems: list[str] | None = None
) -> Layer | None:
    """One TOML file as a layer; None when absent; corrupt -> warning and None."""
    try:
        data = parse_file(path)
    except Unreadable as e:
        msg = Text.of(
            N_("settings file {path} is unreadable ({error}); using the other layers and the defaults"),
            path=path,
            error=e,
        )
        log.warning("%s", msg)
        if warn is not None:
            warn(msg)
        if problems is not None:
            problems.append(msg.text)
        return None
    return None if data is None else Layer(str(path), data)


@dataclass(frozen=True)
class LoadState:
    settings: Settings
    problems: tuple[str, ...] = ()
    """Why the protection in force did not come from the files as they are."""
    origins: Mapping[str, str] = field(default_factory=dict)
    """The layer each setting came from, by key (see :func:`merge`)."""


def _recorded_protection(paths: Paths) -> dict[str, str] | None:
    try:
        data = parse_file(paths.protection)
        if data is None:
            return None
        return {key: validate(key, data[key]) for key in PROTECTION}
    except (ConfigError, KeyError):
        return None


def _record_protection(paths: Paths, s: Settings) -> None:
    want = {key: getattr(s, key) for key in PROTECTION}
    if _recorded_protection(paths) == want:
        return
    text = "".join(f'{key} = "{value}"\n' for key, value in want.items())
    try:
        atomic_write(paths.protection, ("# bootd's record of the protection in force; do not edit\n" + text).encode())
    except OSError as e:
        log.warning("cannot record the protection in force in %s: %s", paths.protection, e.strerror)


def load_state(
    paths: Paths,
    *,
    nvram: Mapping[str, object] | None = None,
    warn: Callable[[Text], None] | None = None,
    table: Table = TABLE,
) -> LoadState:
    """The settings in force, failing closed (see the module docstring)."""
    layers: list[Layer] = []
    problems: list[str] = []
    vendor = read_layer(paths.vendor, warn, problems=problems)
    if vendor is not None:
        layers.append(vendor)
    if nvram:
        layers.append(Layer(NVRAM_ORIGIN, nvram))
    for path in [paths.main, *paths.dropins()]:
        layer = read_layer(path, warn, problems=problems)
        if layer is not None:
            layers.append(layer)
    origins: dict[str, str] = {}
    merged = merge(layers, warn, problems=problems, origins=origins, table=table)
    if not problems:
        _record_protection(paths, merged)
        return LoadState(merged, origins=origins)
    recorded = _recorded_protection(paths)
    if recorded is not None:
        msg = Text.of(
            N_("the settings are broken: the password and restrict last read from intact files stay in force")
        )
        kept = replace(merged, password=recorded["password"], restrict=recorded["restrict"])
        origins.update(dict.fromkeys(PROTECTION, RECORD_ORIGIN))
    else:
        msg = Text.of(
            N_(
                "the settings are broken and no earlier protection is recorded: "
                "no password is accepted until they are repaired"
            )
        )
        kept = replace(merged, password=LOCKED)
        origins["password"] = RECORD_ORIGIN
    log.warning("%s", msg)
    if warn is not None:
        warn(msg)
    return LoadState(kept, (*problems, msg.text), origins)


def load(
    paths: Paths,
    *,
    nvram: Mapping[str, object] | None = None,
    warn: Callable[[Text], None] | None = None,
    table: Table = TABLE,
) -> Settings:
    return load_state(paths, nvram=nvram, warn=warn, table=table).settings


def dropin_owner(paths: Paths, key: str) -> Path | None:
    """The drop-in that fixes ``key`` (a write to the main file would not show)."""
    owner = None
    for path in paths.dropins():
        layer = read_layer(path)
        if layer is not None and key in layer.values:
            owner = path
    return owner


def atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


__all__ = [
    "BOOT_ORDER_TYPES",
    "DEFAULTS",
    "DEFAULT_ORIGIN",
    "KEYS",
    "LOCKED",
    "MAX_BOOT_ORDER",
    "MAX_FILE",
    "MAX_TIMEOUT",
    "NVRAM_ORIGIN",
    "NvramValues",
    "PROTECTION",
    "RESTRICT_VALUES",
    "SIGNED_BOOT_VALUES",
    "TABLE",
    "TABLES",
    "Layer",
    "LoadState",
    "Paths",
    "Settings",
    "Table",
    "Unreadable",
    "atomic_write",
    "check_password",
    "dropin_owner",
    "hash_password",
    "is_password_hash",
    "load",
    "load_state",
    "merge",
    "parse_nvram",
    "validate",
    "validate_boot_order_item",
]
