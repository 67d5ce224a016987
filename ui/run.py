"""Compose the menu: terminal screen, urwid main loop on asyncio, the App and
its backend; run until the person leaves or a boot ends the menu."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from typing import IO, Any, TextIO

import urwid

from bootd import __version__

from . import i18n
from .app import App
from .backend import MenuBackend
from .controllers.host import Outcome
from .views.common import PALETTE, Glyphs

log = logging.getLogger(__name__)


def make_screen(*, colour: bool, input: IO[bytes] | None, output: TextIO | None) -> urwid.display.raw.Screen:
    screen = urwid.display.raw.Screen(input=input or sys.stdin, output=output or sys.stdout)
    screen.set_terminal_properties(colors=16 if colour else 1)
    return screen


def run_menu(
    address: str,
    *,
    tty_console: str | None = None,
    utf8: bool = True,
    colour: bool = True,
    exit_on_boot: bool = False,
    input: IO[bytes] | None = None,
    output: TextIO | None = None,
    backend_factory: Callable[[str], MenuBackend] | None = None,
) -> Outcome:
    """Run the menu on a terminal until it ends; returns how it ended."""
    i18n.use()  # the environment's language (LANGUAGE, LC_ALL, LC_MESSAGES, LANG)
    if not utf8:
        urwid.set_encoding("ascii")
    if backend_factory is None:
        from .dbus_backend import DBusBackend

        backend_factory = DBusBackend
    aloop = asyncio.new_event_loop()
    asyncio.set_event_loop(aloop)
    backend = backend_factory(address)
    glyphs = Glyphs(utf8=utf8)
    app = App(backend, tty_console=tty_console, glyphs=glyphs, exit_on_boot=exit_on_boot, version=__version__)
    screen = make_screen(colour=colour, input=input, output=output)
    loop = urwid.MainLoop(
        app.chrome,
        PALETTE,
        screen=screen,
        event_loop=urwid.AsyncioEventLoop(loop=aloop),
        input_filter=app.input_filter,
        handle_mouse=False,
    )
    app.attach(loop)

    def leave(*_: object) -> None:
        raise urwid.ExitMainLoop()

    app.on_quit = lambda _outcome: loop.set_alarm_in(0, leave)
    starter: list[asyncio.Task[Any]] = [aloop.create_task(app.start())]
    try:
        loop.run()
    finally:
        for task in [*starter, *app.tasks]:
            task.cancel()
        aloop.run_until_complete(_close(backend, [*starter, *app.tasks]))
        aloop.close()
        asyncio.set_event_loop(None)
    return app.outcome or Outcome()


async def _close(backend: MenuBackend, tasks: list[asyncio.Task[Any]]) -> None:
    await asyncio.gather(*tasks, return_exceptions=True)
    try:
        await backend.close()
    except Exception:
        log.debug("closing the backend failed", exc_info=True)
