"""Writing settings into the admin's file, format-preserving (tomlkit).

A write changes only the keys it names: comments, blank lines, key order,
tables such as ``[network]`` and keys bootd does not know are kept byte for
byte.  It is all or nothing: every value is validated first, the new file is
read back with the reader's own parser and limits (size cap, every value
valid, each written key holding what was asked), and only then does it
replace the old one atomically (temporary file, fsync, rename, fsync of the
directory), so a crash leaves the old file or the new one, never a mix.

A file that cannot be read is never overwritten: the write is refused until
it is repaired (rewriting it would drop the admin's lines, and a broken file
may hide the password; see :func:`bootd.settings.load_state`).
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Callable, Mapping
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError

from bootd import settings
from bootd.errors import ConfigError
from bootd.model import N_
from bootd.settings_table import NetworkConfig

log = logging.getLogger(__name__)


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def render(text: str, typed: Mapping[str, Any]) -> str:
    """``text`` with ``typed`` written into its top-level table (a
    :class:`~bootd.settings_table.NetworkConfig` into its own table)."""
    try:
        doc = tomlkit.parse(text)
    except TOMLKitError as e:
        raise settings.Unreadable(str(e)) from None
    for key, value in typed.items():
        if isinstance(value, NetworkConfig):
            _write_network(doc, key, value)
        else:
            doc[key] = _plain(value)
    return tomlkit.dumps(doc)


def _set_keys(table: Any, want: Mapping[str, Any], owned: tuple[str, ...]) -> None:
    """``table``'s keys in ``owned`` made ``want``'s: a changed one set, a
    missing one removed, an equal one left as the admin wrote it."""
    for key in owned:
        if key not in want:
            if key in table:
                del table[key]
        elif key not in table or table[key].unwrap() != want[key]:
            table[key] = want[key]


def _write_network(doc: Any, key: str, cfg: NetworkConfig) -> None:
    """The network screen's part of ``[network]``: its keys and the interface
    tables; every other key, comment and table in it is kept."""
    want = cfg.toml()
    if key not in doc:
        if not want:
            return
        doc[key] = tomlkit.table()
    net = doc[key]
    _set_keys(net, want, NetworkConfig.KEYS)
    interfaces = want.get("interface", {})
    if "interface" not in net:
        if not interfaces:
            return
        net["interface"] = tomlkit.table(is_super_table=True)
    tables = net["interface"]
    for name in [n for n in tables if n not in interfaces]:
        del tables[name]
    for name, keys in interfaces.items():
        if name not in tables:
            tables[name] = tomlkit.table()
        _set_keys(tables[name], keys, ("method", "address", "gateway", "dns"))


Check = Callable[[Mapping[str, Any]], object]
"""Called with the new main file's values before it replaces the old one;
raises ConfigError to refuse the write (network discovery checks its table)."""


def write_settings(
    paths: settings.Paths,
    changes: Mapping[str, object],
    table: settings.Table = settings.TABLE,
    *,
    check: Check | None = None,
) -> dict[str, object]:
    """Validate ``changes`` by ``table`` (and ``check``) and write them all into the main file, or none.

    Returns the typed values written.  :class:`~bootd.errors.ConfigError`
    says what is wrong; nothing is written then."""
    typed = {key: table.validate(key, value) for key, value in changes.items()}
    for key in typed:
        owner = settings.dropin_owner(paths, key)
        if owner is not None:
            raise ConfigError.of(
                N_("{key} is set by {owner}, which overrides {file}; change it there"),
                key=key,
                owner=owner,
                file=paths.main,
            )
    main = paths.main
    try:
        settings.parse_file(main)
        text = main.read_text(encoding="utf-8") if main.exists() else ""
        new = render(text, typed)
    except (settings.Unreadable, OSError, UnicodeDecodeError) as e:
        raise ConfigError.of(
            N_("{file} cannot be read ({error}); repair or remove it first: nothing was written"), file=main, error=e
        ) from None
    data = new.encode("utf-8")
    if len(data) > settings.MAX_FILE:
        raise ConfigError.of(
            N_("{file} would be {size} bytes, more than the {limit} bytes bootd reads back: nothing was written"),
            file=main,
            size=len(data),
            limit=settings.MAX_FILE,
        )
    back = tomllib.loads(new)
    for key, value in back.items():
        if key not in settings.TABLES and key in table:
            table.validate(key, value)
    for key, value in typed.items():
        if table.validate(key, back.get(key)) != value:
            raise ConfigError.of(N_("{key} would not read back as written: nothing was written"), key=key)
    if check is not None:
        check(back)
    settings.atomic_write(main, data)
    log.info("settings written to %s: %s", main, ", ".join(typed))
    return typed


def write_setting(paths: settings.Paths, key: str, value: object, table: settings.Table = settings.TABLE) -> object:
    """One setting (see :func:`write_settings`)."""
    return write_settings(paths, {key: value}, table)[key]
