"""What the daemon offers the D-Bus service (layer L4): the :class:`Backend`
protocol ``bootd.daemon.Daemon`` implements and the events it reports."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from bootd.autoboot import Countdown
from bootd.dbus import codec, names
from bootd.inventory import Inventory
from bootd.model import BootOption, Console
from bootd.settings import Settings


@dataclass(frozen=True)
class StatusEvent:
    level: str
    message: str


@dataclass(frozen=True)
class ProgressEvent:
    stage: str
    fraction: float


@dataclass(frozen=True)
class ManagerChanged:
    """Manager1 properties whose values changed."""

    names: tuple[str, ...]


@dataclass(frozen=True)
class SettingsChanged:
    keys: tuple[str, ...]


BackendEvent = StatusEvent | ProgressEvent | ManagerChanged | SettingsChanged


class Backend(Protocol):
    inventory: Inventory

    @property
    def settings(self) -> Settings: ...
    @property
    def state(self) -> names.State: ...
    @property
    def countdown(self) -> Countdown: ...
    @property
    def next_boot(self) -> str | None: ...
    @property
    def last_boot(self) -> codec.BootRecord: ...
    def consoles(self) -> list[Console]: ...
    def info(self) -> dict[str, str]:
        """Keys ``platform``, ``arch``, ``firmware``, ``lockdown``, ``version``."""
        ...

    def subscribe(self, listener: Callable[[BackendEvent], None]) -> None: ...
    async def boot(self, option_id: str, console: str, overrides: codec.Overrides) -> None: ...
    async def boot_custom(self, spec: dict[str, Any], console: str) -> None: ...
    def cancel_autoboot(self) -> None: ...
    def cancel_boot(self) -> bool:
        """Cancel the boot in progress (False: none); Busy once the kernel is starting."""
        ...

    async def rescan(self) -> None: ...
    async def add_url(self, url: str) -> list[BootOption]: ...
    async def handle_event(self, event: str, params: dict[str, str]) -> None: ...
    def set_next_boot(self, option_id: str | None) -> None: ...
    async def set_setting(self, key: str, value: Any) -> None: ...
