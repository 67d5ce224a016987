"""What a controller needs from the menu application: the :class:`Host`
protocol :class:`ui.app.App` implements, and the :class:`Outcome` it ends
with.  Controllers depend on this, not on ``ui.app``, so the application can
import its controllers without a cycle."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from bootd.model import BootOption, Console, Severity, StatusMessage, Text

from .. import backend as be
from ..views.common import Glyphs, View
from .menu import MenuModel


@dataclass(frozen=True)
class Outcome:
    """How the menu ended: exit to shell, or a boot (with what was done)."""

    booted: bool = False
    summary: tuple[str, ...] = ()


class BootsLike(Protocol):
    def with_auth(self, call: Callable[[], Awaitable[None]], what: str) -> None: ...
    def boot(self, option: BootOption, custom: BootOption | None, args: str | None) -> None: ...


class MenuLike(Protocol):
    def focus_key(self, key: str) -> bool: ...


class Host(Protocol):
    backend: be.MenuBackend
    model: MenuModel
    glyphs: Glyphs
    version: str
    exit_on_boot: bool
    stack: list[View]
    status_log: list[StatusMessage]
    consoles: list[Console]
    console: str | None
    settings: be.Settings
    autoboot_reason: Text | None

    @property
    def boots(self) -> BootsLike: ...
    @property
    def menu(self) -> MenuLike: ...
    def show_help(self) -> None: ...
    def use_settings(self, settings: be.Settings) -> None: ...
    def spawn(self, coro: Awaitable[Any], what: str) -> None: ...
    def redraw(self) -> None: ...
    def quit(self, outcome: Outcome) -> None: ...
    def push(self, view: View) -> None: ...
    def back(self) -> None: ...
    def to_menu(self) -> None: ...
    def status(self, text: str, severity: Severity = Severity.INFO) -> None: ...
    def refresh_menu(self) -> None: ...
