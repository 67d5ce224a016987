"""What the menu needs from the daemon, as one typed Protocol.

The controllers speak only to a :class:`MenuBackend`; :mod:`ui.dbus_backend`
implements it over :mod:`bootd.dbus.client`.  Events the daemon sends arrive
as the small frozen dataclasses below, in order, through one listener.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from bootd.dbus.client import SettingsView
from bootd.model import BootOption, Console, Device, Record, Severity, StatusMessage, Text, Transfer, record

_set = object.__setattr__

Settings = SettingsView
"""The settings the menu shows and edits: those the daemon's Settings1
carries, by their bootd.toml names, with the table they are declared by."""


@record
class SystemInfo(Record):
    """Facts for the system information screen."""

    platform: str = ""
    arch: str = ""
    firmware: str = ""
    lockdown: str = ""
    version: str = ""
    interfaces: tuple[tuple[str, str], ...] = ()
    """(name, MAC or address) of each network interface."""
    extra: tuple[tuple[str, str], ...] = ()

    def __init__(
        self,
        platform: str = "",
        arch: str = "",
        firmware: str = "",
        lockdown: str = "",
        version: str = "",
        interfaces: tuple[tuple[str, str], ...] = (),
        extra: tuple[tuple[str, str], ...] = (),
    ) -> None:
        _set(self, "platform", platform)
        _set(self, "arch", arch)
        _set(self, "firmware", firmware)
        _set(self, "lockdown", lockdown)
        _set(self, "version", version)
        _set(self, "interfaces", interfaces)
        _set(self, "extra", extra)


@record
class DaemonState(Record):
    """A snapshot of what the daemon is doing."""

    state: str = "idle"
    """``idle``, ``countdown``, ``booting``, ``booted`` or ``failed``."""
    autoboot_option: str | None = None
    """The option autoboot would boot (the candidate), when there is one."""
    countdown: float | None = None
    """Seconds left before autoboot, when counting down."""
    auth_required: bool = False
    """Whether a password is set and this connection has not authenticated."""
    status: tuple[StatusMessage, ...] = ()

    def __init__(
        self,
        state: str = "idle",
        autoboot_option: str | None = None,
        countdown: float | None = None,
        auth_required: bool = False,
        status: tuple[StatusMessage, ...] = (),
    ) -> None:
        _set(self, "state", state)
        _set(self, "autoboot_option", autoboot_option)
        _set(self, "countdown", countdown)
        _set(self, "auth_required", auth_required)
        _set(self, "status", status)


# Events, in the order the daemon sent them.


@record
class OptionAdded(Record):
    option: BootOption

    def __init__(self, option: BootOption) -> None:
        _set(self, "option", option)


@record
class OptionRemoved(Record):
    option_id: str

    def __init__(self, option_id: str) -> None:
        _set(self, "option_id", option_id)


@record
class DeviceAdded(Record):
    device: Device

    def __init__(self, device: Device) -> None:
        _set(self, "device", device)


@record
class DeviceRemoved(Record):
    device_id: str

    def __init__(self, device_id: str) -> None:
        _set(self, "device_id", device_id)


@record
class StatusEvent(Record):
    message: StatusMessage

    def __init__(self, message: StatusMessage) -> None:
        _set(self, "message", message)


@record
class CountdownChanged(Record):
    option_id: str | None
    """Candidate; ``None`` when there is none."""
    remaining: float | None
    """Seconds left; ``None`` when the countdown stopped or never ran."""

    def __init__(self, option_id: str | None, remaining: float | None) -> None:
        _set(self, "option_id", option_id)
        _set(self, "remaining", remaining)


@record
class BootProgress(Record):
    message: str
    fraction: float
    """0..1; a negative value means the boot failed and ``message`` says why."""
    transfer: Transfer | None = None
    """The download of this step: bytes, total, rate and time left."""
    text: Text | None = None
    """The daemon's step as a template and arguments (the menu shows it in its language)."""

    def __init__(
        self,
        message: str,
        fraction: float,
        transfer: Transfer | None = None,
        text: Text | None = None,
    ) -> None:
        _set(self, "message", message)
        _set(self, "fraction", fraction)
        _set(self, "transfer", transfer)
        _set(self, "text", text)


@dataclass(frozen=True)
class BootFinished:
    """The kexec was carried out (recorded, on a sandbox machine)."""

    summary: tuple[str, ...] = field(default_factory=tuple)
    """Lines that say exactly what was done (kexec command line, console, tree diff)."""


@record
class BootFailed(Record):
    reason: str
    text: Text | None = None
    """The daemon's status that said why (the menu shows it in its language)."""

    def __init__(self, reason: str, text: Text | None = None) -> None:
        _set(self, "reason", reason)
        _set(self, "text", text)


@dataclass(frozen=True)
class BootCancelled:
    """The boot in progress was cancelled (from this menu or elsewhere)."""


@dataclass(frozen=True)
class ConnectionLost:
    pass


@dataclass(frozen=True)
class Reconnected:
    pass


@record
class SettingsChanged(Record):
    """The daemon's settings changed (by anyone); the settings now in force."""

    settings: Settings

    def __init__(self, settings: Settings) -> None:
        _set(self, "settings", settings)


Event = (
    OptionAdded
    | OptionRemoved
    | DeviceAdded
    | DeviceRemoved
    | StatusEvent
    | CountdownChanged
    | BootProgress
    | BootFinished
    | BootFailed
    | BootCancelled
    | ConnectionLost
    | Reconnected
    | SettingsChanged
)
Listener = Callable[[Event], None]


class MenuBackend(Protocol):
    """The daemon, as the menu sees it.  Methods raise BootdError subclasses
    (AuthenticationRequired, PermissionDenied, InvalidArgument …) with
    messages written for people."""

    def subscribe(self, listener: Listener) -> None: ...

    async def list_options(self) -> list[BootOption]: ...

    async def list_devices(self) -> list[Device]: ...

    async def consoles(self) -> list[Console]: ...

    async def get_state(self) -> DaemonState: ...

    async def system_info(self) -> SystemInfo: ...

    async def boot(self, option_id: str, console: str | None, args: str | None = None) -> None: ...

    async def boot_custom(self, option: BootOption, console: str | None) -> None: ...

    async def cancel_autoboot(self) -> None: ...

    async def cancel_boot(self) -> bool:
        """Cancel the boot in progress; False when there was none."""
        ...

    async def rescan(self) -> None: ...

    async def add_url(self, url: str) -> None: ...

    async def authenticate(self, password: str) -> None: ...

    async def get_settings(self) -> Settings: ...

    async def set_settings(self, changes: Mapping[str, object]) -> None:
        """Apply ``changes`` (keys are :class:`Settings` field names, ``password``
        for a new password, empty to clear)."""
        ...

    async def close(self) -> None: ...


__all__ = [
    "MenuBackend",
    "BootCancelled",
    "BootFailed",
    "BootFinished",
    "BootProgress",
    "ConnectionLost",
    "CountdownChanged",
    "DaemonState",
    "DeviceAdded",
    "DeviceRemoved",
    "Event",
    "Listener",
    "OptionAdded",
    "OptionRemoved",
    "Reconnected",
    "Settings",
    "SettingsChanged",
    "Severity",
    "StatusEvent",
    "SystemInfo",
]
