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
from collections.abc import Mapping
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError

from bootd import settings
from bootd.errors import ConfigError

log = logging.getLogger(__name__)


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def render(text: str, typed: Mapping[str, Any]) -> str:
    """``text`` with ``typed`` written into its top-level table."""
    try:
        doc = tomlkit.parse(text)
    except TOMLKitError as e:
        raise settings.Unreadable(str(e)) from None
    for key, value in typed.items():
        doc[key] = _plain(value)
    return tomlkit.dumps(doc)


def write_settings(
    paths: settings.Paths, changes: Mapping[str, object], table: settings.Table = settings.TABLE
) -> dict[str, object]:
    """Validate ``changes`` by ``table`` and write them all into the main file, or none.

    Returns the typed values written.  :class:`~bootd.errors.ConfigError`
    says what is wrong; nothing is written then."""
    typed = {key: table.validate(key, value) for key, value in changes.items()}
    for key in typed:
        owner = settings.dropin_owner(paths, key)
        if owner is not None:
            raise ConfigError(f"{key} is set by {owner}, which overrides {paths.main}; change it there")
    main = paths.main
    try:
        settings.parse_file(main)
        text = main.read_text(encoding="utf-8") if main.exists() else ""
        new = render(text, typed)
    except (settings.Unreadable, OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{main} cannot be read ({e}); repair or remove it first: nothing was written") from None
    data = new.encode("utf-8")
    if len(data) > settings.MAX_FILE:
        raise ConfigError(
            f"{main} would be {len(data)} bytes, more than the {settings.MAX_FILE} bytes bootd reads back: "
            "nothing was written"
        )
    back = tomllib.loads(new)
    for key, value in back.items():
        if key not in settings.TABLES and key in table:
            table.validate(key, value)
    for key, value in typed.items():
        if table.validate(key, back.get(key)) != value:
            raise ConfigError(f"{key} would not read back as written: nothing was written")
    settings.atomic_write(main, data)
    log.info("settings written to %s: %s", main, ", ".join(typed))
    return typed


def write_setting(paths: settings.Paths, key: str, value: object, table: settings.Table = settings.TABLE) -> object:
    """One setting (see :func:`write_settings`)."""
    return write_settings(paths, {key: value}, table)[key]
