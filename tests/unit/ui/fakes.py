"""An in-memory stand-in for the daemon, for tests of the App logic that do
not need a bus; the integration tests drive the real daemon."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from bootd.errors import AuthenticationRequired, InvalidArgument, PermissionDenied
from bootd.model import BootOption, Console, Device, StatusMessage
from ui import backend as be


@dataclass
class FakeBackend:
    options: list[BootOption] = field(default_factory=list)
    devices: list[Device] = field(default_factory=list)
    console_list: list[Console] = field(default_factory=list)
    state: be.DaemonState = field(default_factory=be.DaemonState)
    settings: be.Settings = field(default_factory=be.Settings)
    info: be.SystemInfo = field(default_factory=be.SystemInfo)
    password: str | None = None
    authenticated: bool = False
    boot_in_progress: bool = True
    restrict_cancel: bool = False
    calls: list[tuple[object, ...]] = field(default_factory=list)
    listeners: list[be.Listener] = field(default_factory=list)

    def subscribe(self, listener: be.Listener) -> None:
        self.listeners.append(listener)

    def emit(self, ev: be.Event) -> None:
        for listener in self.listeners:
            listener(ev)

    def _gate(self) -> None:
        if self.password is not None and not self.authenticated:
            raise AuthenticationRequired("a password is set: authenticate first")

    async def list_options(self) -> list[BootOption]:
        return list(self.options)

    async def list_devices(self) -> list[Device]:
        return list(self.devices)

    async def consoles(self) -> list[Console]:
        return list(self.console_list)

    async def get_state(self) -> be.DaemonState:
        return self.state

    async def system_info(self) -> be.SystemInfo:
        return self.info

    async def boot(self, option_id: str, console: str | None, args: str | None = None) -> None:
        if args is not None:
            self._gate()
        self.calls.append(("boot", option_id, console, args))

    async def boot_custom(self, option: BootOption, console: str | None) -> None:
        self._gate()
        self.calls.append(("boot_custom", option, console))

    async def cancel_autoboot(self) -> None:
        self.calls.append(("cancel_autoboot",))
        self.state = replace(self.state, countdown=None)

    async def cancel_boot(self) -> bool:
        if self.restrict_cancel:
            self._gate()
        self.calls.append(("cancel_boot",))
        return self.boot_in_progress

    async def rescan(self) -> None:
        self.calls.append(("rescan",))

    async def add_url(self, url: str) -> None:
        if "://" not in url:
            raise InvalidArgument(f"{url!r} is not a URL")
        self.calls.append(("add_url", url))

    async def authenticate(self, password: str) -> None:
        if password != self.password:
            raise PermissionDenied("wrong password")
        self.authenticated = True

    async def get_settings(self) -> be.Settings:
        return self.settings

    async def set_settings(self, changes: Mapping[str, object]) -> None:
        self._gate()
        self.calls.append(("set_settings", dict(changes)))
        known = {k: v for k, v in changes.items() if k in ("autoboot", "timeout", "boot_order", "console")}
        self.settings = self.settings.replace(**known)

    async def close(self) -> None:
        self.calls.append(("close",))

    def status(self, text: str) -> None:
        self.emit(be.StatusEvent(StatusMessage(be.Severity.INFO, text, 0.0)))
