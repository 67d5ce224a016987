"""The daemon's API as the core offers it: the :class:`DaemonApi` protocol
that :class:`bootd.daemon.Daemon` implements, and the events it reports.

Everything here speaks the model (:mod:`bootd.model`, :mod:`bootd.settings`);
nothing speaks D-Bus.  The edges adapt it: :mod:`bootd.dbus.service` exports it
on the bus, turning D-Bus values into these types and back, and maps each
:class:`Fact` to the properties that show it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Protocol

from bootd.autoboot import Countdown
from bootd.inventory import Inventory
from bootd.model import (
    BootOption,
    BootOverrides,
    BootRecord,
    Console,
    DaemonInfo,
    Record,
    Severity,
    State,
    Text,
    Transfer,
    record,
)
from bootd.settings import Settings, Table

_set = object.__setattr__

log = logging.getLogger(__name__)


class Fact(StrEnum):
    """A fact about the daemon that can change (each has its own properties at the edge)."""

    STATE = "state"
    COUNTDOWN = "countdown"
    """The autoboot candidate or the time left (and with it the state)."""
    NEXT_BOOT = "next-boot"
    LAST_BOOT = "last-boot"
    AUTH_REQUIRED = "auth-required"
    """Whether a password is set."""


@record
class StatusEvent(Record):
    """A message for every UI (and the journal)."""

    severity: Severity
    message: str
    """In English, as the journal and every client that does not translate show it."""
    text: Text | None = None
    """The template and arguments ``message`` was made from (clients translate it)."""

    def __init__(self, severity: Severity, message: str, text: Text | None = None) -> None:
        _set(self, "severity", severity)
        _set(self, "message", message)
        _set(self, "text", text)


@record
class ProgressEvent(Record):
    """The boot in progress reached ``stage``; ``fraction`` of the whole is done."""

    stage: str
    fraction: float
    text: Text | None = None
    """The template and arguments ``stage`` was made from (clients translate it)."""

    def __init__(self, stage: str, fraction: float, text: Text | None = None) -> None:
        _set(self, "stage", stage)
        _set(self, "fraction", fraction)
        _set(self, "text", text)


@record
class DownloadEvent(Record):
    """A download of the boot in progress (step ``stage``, ``fraction`` of the
    boot done): its bytes, total, rate and time left."""

    stage: str
    fraction: float
    transfer: Transfer
    text: Text | None = None
    """The template and arguments ``stage`` was made from."""

    def __init__(self, stage: str, fraction: float, transfer: Transfer, text: Text | None = None) -> None:
        _set(self, "stage", stage)
        _set(self, "fraction", fraction)
        _set(self, "transfer", transfer)
        _set(self, "text", text)


@record
class DaemonChanged(Record):
    """These facts have new values."""

    facts: tuple[Fact, ...]

    def __init__(self, facts: tuple[Fact, ...]) -> None:
        _set(self, "facts", facts)


@record
class SettingsChanged(Record):
    """These settings (:class:`~bootd.settings.Settings` field names) have new values."""

    keys: tuple[str, ...]

    def __init__(self, keys: tuple[str, ...]) -> None:
        _set(self, "keys", keys)


DaemonEvent = StatusEvent | ProgressEvent | DownloadEvent | DaemonChanged | SettingsChanged


class EventHub:
    """Where the daemon's parts report: every listener gets every event."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[DaemonEvent], None]] = []

    def subscribe(self, listener: Callable[[DaemonEvent], None]) -> None:
        self._listeners.append(listener)

    def emit(self, event: DaemonEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("listener failed on %s", type(event).__name__)

    def status(self, severity: Severity, message: str | Text, *, logged: bool = False) -> None:
        """Tell every UI (a :class:`StatusEvent`) and the journal, unless
        ``logged``; a :class:`Text` (made with ``Text.of(N_(...), ...)``) can
        be translated by each client."""
        if not logged:
            level = {Severity.INFO: logging.INFO, Severity.WARNING: logging.WARNING}.get(severity, logging.ERROR)
            log.log(level, "%s", message)
        text = message if isinstance(message, Text) else Text(message)
        self.emit(StatusEvent(severity, text.text, text))

    def status_logged(self, severity: Severity, message: str | Text) -> None:
        """For parts that log their own messages (discovery)."""
        self.status(severity, message, logged=True)


class BootsApi(Protocol):
    """The boot state machine, as the edges see it."""

    @property
    def state(self) -> State: ...
    @property
    def last_boot(self) -> BootRecord: ...
    def cancel(self) -> bool:
        """Cancel the boot in progress (False: none); Busy once the kernel is starting."""
        ...


class OptionsApi(Protocol):
    """What the daemon keeps besides the inventory: the one-shot next boot and the consoles."""

    @property
    def next_boot(self) -> str | None: ...
    def set_next_boot(self, option_id: str | None) -> None: ...
    def consoles(self) -> list[Console]: ...


class DaemonApi(Protocol):
    """What the daemon offers its edges (the D-Bus service)."""

    @property
    def inventory(self) -> Inventory: ...
    @property
    def boots(self) -> BootsApi: ...
    @property
    def options(self) -> OptionsApi: ...
    @property
    def settings(self) -> Settings: ...
    @property
    def settings_table(self) -> Table:
        """The table the settings are declared by (what Settings1 carries)."""
        ...

    @property
    def settings_problems(self) -> tuple[str, ...]:
        """Why the settings in force are not those of the files (broken files)."""
        ...

    @property
    def settings_origins(self) -> Mapping[str, str]:
        """The layer each setting in force came from, by key (``default``, a file, ``NVRAM``)."""
        ...

    @property
    def countdown(self) -> Countdown: ...
    def info(self) -> DaemonInfo: ...

    def subscribe(self, listener: Callable[[DaemonEvent], None]) -> None: ...
    async def boot(self, option_id: str, console: str, overrides: BootOverrides) -> None: ...
    async def boot_custom(self, option: BootOption, console: str) -> None:
        """Boot ``option`` (a user option; the daemon gives it its id)."""
        ...

    def cancel_autoboot(self) -> None: ...
    async def rescan(self) -> None: ...
    async def add_url(self, url: str) -> list[BootOption]: ...
    async def handle_event(self, event: str, params: Mapping[str, str]) -> None: ...
    async def set_setting(self, key: str, value: object) -> None: ...
    async def set_settings(self, changes: Mapping[str, object]) -> None:
        """Write all of ``changes`` or none of them."""
        ...
