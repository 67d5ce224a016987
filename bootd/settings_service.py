"""The daemon's settings service: the settings in force (the TOML layers and
NVRAM read by :mod:`bootd.settings`), a write of one setting, and a reload
that tells every listener which settings changed.  Part of
:class:`bootd.daemon.Daemon`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from bootd import settings
from bootd.api import DaemonChanged, EventHub, Fact, SettingsChanged
from bootd.errors import ConfigError
from bootd.model import N_, Severity, Text

log = logging.getLogger(__name__)


class SettingsService:
    def __init__(
        self,
        paths: settings.Paths,
        events: EventHub,
        *,
        nvram: Mapping[str, object] | None = None,
        reloaded: Callable[[], None] = lambda: None,
        table: settings.Table = settings.TABLE,
    ) -> None:
        self.paths = paths
        self.table = table
        self.events = events
        self.nvram = dict(nvram or {})
        self._reloaded = reloaded
        state = settings.load_state(paths, nvram=self.nvram, warn=self._warn, table=table)
        self._settings, self._problems, self._origins = state.settings, state.problems, state.origins
        self._read = self._read_files()

    @property
    def current(self) -> settings.Settings:
        return self._settings

    @property
    def problems(self) -> tuple[str, ...]:
        """Why the settings in force are not those of the files (see :func:`bootd.settings.load_state`)."""
        return self._problems

    @property
    def origins(self) -> Mapping[str, str]:
        """The layer each setting in force came from (see :attr:`bootd.settings.LoadState.origins`)."""
        return self._origins

    async def write(self, key: str, value: object) -> object:
        """Write ``key`` to the admin's file and reload; the value written (a password hashed)."""
        return (await self.write_many({key: value}))[key]

    async def write_many(
        self, changes: Mapping[str, object], *, check: Callable[[Mapping[str, Any]], object] | None = None
    ) -> dict[str, object]:
        """Write all of ``changes`` to the admin's file, or none, and reload;
        the values written (a password hashed).  ``check`` sees the new file's
        values first and may refuse them (see :func:`bootd.settings_write.write_settings`)."""
        values = dict(changes)
        await asyncio.to_thread(self.refuse_unread_edits)
        for key, value in values.items():
            if key in self.table and self.table.row(key).secret:
                values[key] = settings.hash_password(str(value)) if value else ""
        from bootd import settings_write  # tomlkit: loaded by the first write, not at the daemon's start

        await asyncio.to_thread(settings_write.write_settings, self.paths, values, self.table, check=check)
        self.reload()
        return values

    def require_in_force(self, key: str, written: object) -> None:
        """ConfigError when another layer still overrides what was written."""
        if self._settings != replace(self._settings, **{key: self.table.validate(key, written)}):
            raise ConfigError.of(N_("{key} was written but another layer overrides it"), key=key)

    def check_files(self) -> dict[str, Any]:
        """Every settings file, strictly (what a reload puts in force): ConfigError
        names the first file that cannot be read or holds a value the start would
        skip; else the main file's values."""
        main: dict[str, Any] = {}
        tables: dict[str, dict[str, Any]] = {}
        for path in [self.paths.vendor, self.paths.main, *self.paths.dropins()]:
            try:
                data = settings.parse_file(path)
                for key, value in (data or {}).items():
                    if key in settings.TABLES:
                        if not isinstance(value, Mapping):
                            raise ConfigError.of(N_("{key} must be a table ([{key}])"), key=key)
                        settings.merge_table(tables.setdefault(key, {}), value)
                    else:
                        self.table.validate(key, value)
                for key, raw in tables.items():
                    if key in self.table:
                        self.table.validate(key, raw)
            except ConfigError as e:
                raise ConfigError.of(N_("{path}: {error}"), path=path, error=e) from None
            if path == self.paths.main:
                main = data or {}
        return main

    def refuse_unread_edits(self) -> None:
        """ConfigError when a settings file was edited since the daemon read it.

        A write reloads every layer after it: it would put such a hand edit in
        force without the reload's strict check, and a ``[network]`` edit in the
        settings while the interfaces stay as they are (a write of ``network``
        would even replace the edited interface tables with the daemon's copy).
        The admin reloads first (SIGHUP), which checks and applies the edit."""
        now = self._read_files()
        if now != self._read:
            path = next(p for p in {**self._read, **now} if now.get(p) != self._read.get(p))
            raise ConfigError.of(
                N_(
                    "{path} was edited since the daemon read it; reload the daemon first "
                    "(systemctl reload bootd): nothing was written or applied"
                ),
                path=path,
            )

    def _read_files(self) -> dict[str, object]:
        """Every settings file's values as they read now (a string when one cannot be read; absent: not listed)."""
        out: dict[str, object] = {}
        for path in [self.paths.vendor, self.paths.main, *self.paths.dropins()]:
            try:
                data = settings.parse_file(path)
            except settings.Unreadable as e:
                out[str(path)] = f"unreadable: {e}"
                continue
            if data is not None:
                out[str(path)] = data
        return out

    def reload(self) -> None:
        old = self._settings
        state = settings.load_state(self.paths, nvram=self.nvram, warn=self._warn, table=self.table)
        self._settings, self._problems, self._origins = state.settings, state.problems, state.origins
        self._read = self._read_files()
        changed = tuple(k for k in self.table.keys if getattr(old, k) != getattr(self._settings, k))
        if changed:
            self.events.emit(SettingsChanged(changed))
        if "password" in changed:
            self.events.emit(DaemonChanged((Fact.AUTH_REQUIRED,)))
        self._reloaded()

    def _warn(self, message: Text) -> None:
        self.events.status(Severity.WARNING, message)
