"""The menu application: one screen stack over a :class:`~ui.backend.MenuBackend`.

Daemon events update the model and the screens; keys become backend calls,
run as stored asyncio tasks; a BootdError from the daemon becomes a status
line (or, for AuthenticationRequired, a password prompt and a retry).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import urwid

from bootd.errors import BootdError
from bootd.model import Console, Severity, StatusMessage, Text

from . import backend as be
from . import i18n
from .controllers.boot import BootController
from .controllers.host import Outcome
from .controllers.menu import MenuModel
from .i18n import N_, _, error_text
from .views.common import Chrome, Glyphs, View
from .views.console import ConsolePickerView
from .views.language import LanguageView
from .views.menu import MainMenuView
from .views.text import ProgressView, PromptView, TextView

if TYPE_CHECKING:
    from .controllers.editing import EditController
    from .controllers.system import SystemController

log = logging.getLogger(__name__)

HEADER_WIDTH = 79
"""The countdown line fits an 80-column console: long entry names are shortened."""

URL_TITLE = N_("Retrieve config from URL")
URL_HELP = N_("""\
Retrieve config from URL

Type the address of a PXELINUX-style boot configuration and press Enter;
its entries appear under "Retrieved from URL".  http://, https://, tftp://
and file:// addresses work, e.g.
    tftp://10.0.0.1/pxelinux.cfg/default
    http://boot.example.com/install/menu.cfg
An address ending in / is a path prefix: pxelinux.cfg/ below it is searched
as PXELINUX does (MAC address, IP address in hex, then default).
Relative kernel and initrd names are fetched from beside the config (or
below the path prefix).  Esc cancels.""")


HELP_TITLE = N_("Help")
AUTOBOOT_CHOICE = "Autoboot now boots {name}: {reason}"
"""The daemon's template of the status that says what autoboot boots and why
(the countdown itself carries no reason): the menu keeps the last one for the
system information screen."""
LOG_TITLE = N_("Status log")


class App:
    def __init__(
        self,
        backend: be.MenuBackend,
        *,
        tty_console: str | None = None,
        glyphs: Glyphs | None = None,
        exit_on_boot: bool = False,
        version: str = "",
    ) -> None:
        self.backend = backend
        self.glyphs = glyphs or Glyphs(utf8=False)
        self.tty_console = tty_console
        self.exit_on_boot = exit_on_boot
        self.version = version
        self.model = MenuModel()
        self.chrome = Chrome(on_help=self.show_help, on_back=self.back, glyphs=self.glyphs, on_redraw=self.redraw_all)
        self.menu = MainMenuView(self.on_menu_action)
        self.stack: list[View] = [self.menu]
        self.chrome.show(self.menu)
        self.consoles: list[Console] = []
        self.console: str | None = None
        self.console_chosen = False
        self.language_chosen = False
        """``l`` chose this console's language: the setting no longer changes it."""
        self.settings = be.Settings()
        self.status_log: list[StatusMessage] = []
        self.autoboot_reason: Text | None = None
        """The daemon's last word on what autoboot boots and why."""
        self.deadline: float | None = None
        self.connected = False
        self.boots = BootController(self)
        self.outcome: Outcome | None = None
        self.loop: urwid.MainLoop | None = None
        self.tasks: set[asyncio.Task[Any]] = set()
        self._tick_handle: Any = None
        self._draw_pending = False
        self._refresh_pending = False
        self.on_quit: Callable[[Outcome], None] | None = None
        self.set_header()

    # the entry editor and the system screens (their views, the network and
    # settings forms) are loaded when first used, not before the first paint

    @functools.cached_property
    def system(self) -> SystemController:
        from .controllers.system import SystemController

        return SystemController(self)

    @functools.cached_property
    def edits(self) -> EditController:
        from .controllers.editing import EditController

        return EditController(self)

    # plumbing

    def attach(self, loop: urwid.MainLoop) -> None:
        self.loop = loop

    def spawn(self, coro: Awaitable[Any], what: str) -> None:
        async def guarded() -> None:
            try:
                await coro
            except BootdError as e:
                self.status(f"{_(what)}: {error_text(e)}", Severity.ERROR)
            except Exception as e:  # a bug must not take the menu down
                log.exception("%s failed", what)
                self.status(_("{what}: internal error: {error}").format(what=_(what), error=repr(e)), Severity.ERROR)

        task = asyncio.get_running_loop().create_task(guarded())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def redraw(self) -> None:
        if self.loop is None or self._draw_pending:
            return
        self._draw_pending = True

        def draw(*_: object) -> None:
            self._draw_pending = False
            if self.loop is not None:
                self.loop.draw_screen()

        self.loop.set_alarm_in(0, draw)

    def redraw_all(self) -> None:
        """Ctrl-L: forget what the terminal shows and paint every cell again."""
        if self.loop is not None:
            self.loop.screen.clear()
            self.loop.draw_screen()

    def quit(self, outcome: Outcome) -> None:
        self.outcome = outcome
        if self.on_quit is not None:
            self.on_quit(outcome)

    # screens

    def push(self, view: View) -> None:
        self.stack.append(view)
        self.chrome.show(view)
        self.redraw()

    def back(self) -> None:
        if isinstance(self.stack[-1], ProgressView):
            self.boots.cancel()
            return
        if len(self.stack) > 1:
            self.stack.pop()
            self.chrome.show(self.stack[-1])
            self.redraw()

    def to_menu(self) -> None:
        del self.stack[1:]
        self.boots.progress = None
        self.chrome.show(self.menu)
        self.refresh_menu()

    def show_help(self) -> None:
        view = self.stack[-1]
        if isinstance(view, TextView) and view.title == HELP_TITLE:
            return
        self.push(TextView(HELP_TITLE, _(view.help).splitlines() or [_("No help for this screen.")]))

    def status(self, text: str, severity: Severity = Severity.INFO) -> None:
        self.add_status(StatusMessage(severity, text, time.time()))

    def add_status(self, msg: StatusMessage) -> None:
        self.status_log.append(msg)
        if msg.text is not None and msg.text.template == AUTOBOOT_CHOICE:
            self.autoboot_reason = msg.text
        del self.status_log[:-500]
        self.chrome.set_status(msg.translated(_), str(msg.severity))
        top = self.stack[-1]
        if isinstance(top, TextView) and top.title == LOG_TITLE:
            top.append(self.log_line(msg))
        self.redraw()

    def set_header(self) -> None:
        if not self.connected:
            title = f"bootd {self.version}".strip()
            waiting = _("connecting to the boot daemon")
            self.chrome.set_header(f"{title} {self.glyphs.dash} {waiting}{self.glyphs.ellipsis}")
            return
        if self.deadline is not None and self.model.candidate in self.model.options:
            left = max(0, round(self.deadline - time.monotonic()))
            name = self.model.options[self.model.candidate].name
            line = _('Booting "{name}" in {left} s {dash} press any key to stop')
            room = max(12, HEADER_WIDTH - len(line.format(name="", left=left, dash=self.glyphs.dash)))
            if len(name) > room:
                name = name[: room - len(self.glyphs.ellipsis)] + self.glyphs.ellipsis
            self.chrome.set_header(line.format(name=name, left=left, dash=self.glyphs.dash), countdown=True)
            return
        console = f"  {_('console:')} {self.console}" if self.console else ""
        self.chrome.set_header(f"bootd {self.version} {self.glyphs.dash} {_('boot menu')}{console}")

    def schedule_refresh(self) -> None:
        """Rebuild the menu once for a burst of inventory events."""
        if self._refresh_pending:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.refresh_menu()
            return
        self._refresh_pending = True
        loop.call_soon(self.refresh_menu)

    def refresh_menu(self) -> None:
        self._refresh_pending = False
        self.menu.set_rows(self.model.rows(allow_shell=self.settings.allow_shell))
        self.set_header()
        self.redraw()

    # connection and events

    async def start(self) -> None:
        self.backend.subscribe(self.on_event)
        try:
            await self.reload()
        except BootdError as e:
            self.status(_("Cannot reach the boot daemon: {error}").format(error=error_text(e)), Severity.ERROR)

    async def reload(self) -> None:
        options, devices, consoles, state, settings = await asyncio.gather(
            self.backend.list_options(),
            self.backend.list_devices(),
            self.backend.consoles(),
            self.backend.get_state(),
            self.backend.get_settings(),
        )
        self.connected = True
        self.model.reset(devices, options)
        self.consoles = consoles
        self.use_settings(settings)
        if not self.console_chosen:
            self.console = self.default_console()
        self.apply_countdown(state.autoboot_option, state.countdown)
        for msg in state.status[-20:]:
            if msg not in self.status_log:
                self.add_status(msg)
        self.refresh_menu()
        if state.state == "booting" and self.boots.progress is None:
            self.boots.show_progress(be.BootProgress("booting", 0.0))

    def use_settings(self, settings: be.Settings) -> None:
        """Take the daemon's settings; the ``language`` setting is the menu's
        language unless ``l`` chose one here (``""``: the environment's)."""
        old = str(self.settings.language)
        self.settings = settings
        language = str(settings.language)
        if not self.language_chosen and language != old:
            i18n.use(language or None)
            self.chrome.show(self.stack[-1])  # its key legend, in the new language
            self.set_header()
            self.redraw()

    def default_console(self) -> str | None:
        names = {c.name for c in self.consoles}
        if self.tty_console in names:
            return self.tty_console
        console = str(self.settings.console or "")
        if console in names or (console and not names):
            return console
        return None

    def apply_countdown(self, candidate: str | None, remaining: float | None) -> None:
        if candidate is not None or remaining is not None:
            self.model.candidate = candidate  # a stopped countdown keeps its entry marked
        self.deadline = time.monotonic() + remaining if remaining is not None else None
        if self.loop is not None and self._tick_handle is not None:
            self.loop.remove_alarm(self._tick_handle)
            self._tick_handle = None
        if self.deadline is not None:
            self._tick()

    def _tick(self, *_: object) -> None:
        self._tick_handle = None
        self.set_header()
        self.redraw()
        if self.deadline is not None and self.loop is not None:
            left = self.deadline - time.monotonic()
            self._tick_handle = self.loop.set_alarm_in(max(0.05, left - int(left) or 1.0), self._tick)

    def on_event(self, ev: be.Event) -> None:
        match ev:
            case be.OptionAdded(option=o):
                self.model.add_option(o)
                self.schedule_refresh()
            case be.OptionRemoved(option_id=oid):
                self.model.remove_option(oid)
                self.schedule_refresh()
            case be.DeviceAdded(device=d):
                self.model.add_device(d)
                self.schedule_refresh()
            case be.DeviceRemoved(device_id=did):
                self.model.remove_device(did)
                self.schedule_refresh()
            case be.StatusEvent(message=m):
                self.add_status(m)
            case be.CountdownChanged(option_id=oid, remaining=rem):
                self.apply_countdown(oid, rem)
                self.schedule_refresh()
            case be.BootProgress():
                self.boots.show_progress(ev)
            case be.BootFailed(reason=reason, text=text):
                self.boots.show_failure(text.translated(_) if text is not None else reason)
            case be.BootCancelled():
                self.boots.show_cancelled()
            case be.BootFinished(summary=summary):
                self.boots.show_finished(summary)
            case be.ConnectionLost():
                self.connected = False
                self.deadline = None
                self.status(
                    _("Lost the connection to the boot daemon; reconnecting") + self.glyphs.ellipsis, Severity.ERROR
                )
                self.set_header()
            case be.SettingsChanged(settings=s):
                self.use_settings(s)
                self.schedule_refresh()
            case be.Reconnected():
                self.status(_("Connected to the boot daemon again"))
                self.spawn(self.reload(), N_("Reload"))

    # keys

    def input_filter(self, keys: list[Any], raw: list[int]) -> list[Any]:
        if keys and self.deadline is not None:
            self.deadline = None
            self.set_header()
            self.spawn(self.backend.cancel_autoboot(), N_("Stop autoboot"))
        return keys

    def on_menu_action(self, action: str, option_id: str | None) -> None:
        option = self.model.option(option_id) if option_id else None
        if action == "boot" and option is not None:
            if not self.edits.boot(option.id):
                self.boots.boot(option, None, None)
        elif action == "edit" and option is not None:
            self.edits.edit(option)
        elif action == "new":
            self.edits.new()
        elif action == "language":
            names = [(code, native if self.glyphs.utf8 else ascii_name) for code, native, ascii_name in i18n.LANGUAGES]
            self.push(LanguageView(names, i18n.current(), self.choose_language))
        elif action == "console":
            self.push(ConsolePickerView(self.consoles, self.console, self.choose_console))
        elif action == "info":
            self.spawn(self.system.show_info(), N_("System information"))
        elif action == "settings":
            self.spawn(self.system.show_settings(), N_("Settings"))
        elif action == "log":
            lines = [self.log_line(m) for m in self.status_log]
            self.push(TextView(LOG_TITLE, lines, end=True))
        elif action == "url":
            self.push(PromptView(URL_TITLE, _("URL:"), self.add_url, self.back, help=URL_HELP))
        elif action == "rescan":
            self.status(_("Rescanning devices") + self.glyphs.ellipsis)
            self.spawn(self.backend.rescan(), N_("Rescan"))
        elif action == "exit":
            if self.settings.allow_shell:
                self.quit(Outcome())
            else:
                self.status(_("Exit to shell is disabled in the settings"), Severity.WARNING)

    def log_line(self, m: StatusMessage) -> tuple[str, str]:
        stamp = time.strftime("%H:%M:%S", time.localtime(m.timestamp)) if m.timestamp else "--:--:--"
        attr = str(m.severity) if m.severity is not Severity.INFO else "info"
        return attr, f"{stamp} {m.severity:7} {m.translated(_)}"

    def choose_language(self, code: str) -> None:
        """Show the menu in ``code`` from now on (this console only)."""
        self.language_chosen = True
        i18n.use(code)
        self.to_menu()
        self.set_header()

    def choose_console(self, name: str) -> None:
        self.console = name
        self.console_chosen = True
        self.back()
        self.status(_("The booted system will use console {name}").format(name=name))
        self.set_header()

    def add_url(self, url: str) -> None:
        self.back()
        self.status(_("Retrieving {url}").format(url=url) + self.glyphs.ellipsis)
        self.spawn(self.backend.add_url(url), N_("Retrieve config"))
