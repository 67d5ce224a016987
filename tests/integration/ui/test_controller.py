"""The App and its D-Bus backend against the real daemon on a private bus
(no terminal): what the controllers ask for is what the daemon does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from bootd.dbus.client import BootdClient
from tests.integration.ui.conftest import Stack, needs_tools
from tests.unit.ui import helpers as h
from ui.app import App
from ui.dbus_backend import DBusBackend
from ui.views.common import Glyphs
from ui.views.editor import EditorView
from ui.views.settings import ConsoleInput, OrderInput, SecondsInput, SettingsView
from ui.views.text import PromptView

pytestmark = needs_tools


async def until(cond: Callable[[], bool], timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


@pytest.fixture
async def app(stack: Stack) -> AsyncIterator[App]:
    backend = DBusBackend(stack.bus.address)
    a = App(backend, tty_console="hvc1", glyphs=Glyphs(utf8=False), version="test")
    await a.start()
    try:
        yield a
    finally:
        for t in list(a.tasks):
            t.cancel()
        await backend.close()


async def test_menu_mirrors_the_daemon_and_follows_hotplug(app: App) -> None:
    await until(
        lambda: app.model.candidate is not None and "opt:sda2/bls/fedora" in [r.key for r in app.menu.menu_rows]
    )
    keys = [r.key for r in app.menu.menu_rows]
    assert "opt:sda2/bls/fedora" in keys and "dev:sda2" in keys
    assert app.model.candidate == "sda2/bls/fedora"
    assert 'Booting "Fedora Linux 40' in h.render(app.chrome)[0]
    assert app.console == "hvc1", "the console the menu runs on comes first"
    await until(lambda: app.menu.focus_key("opt:sda2/bls/fedora-old"))
    await until(lambda: "dev:sdb1" in [r.key for r in app.menu.menu_rows])
    assert app.menu.focused_key == "opt:sda2/bls/fedora-old"


async def test_a_key_stops_autoboot_for_everyone(app: App, stack: Stack) -> None:
    app.input_filter(["down"], [])
    client = await BootdClient.connect(stack.bus.address)
    try:
        await until(lambda: app.deadline is None)
        for _ in range(100):
            if (await client.get_state()).state == "idle":
                break
            await asyncio.sleep(0.05)
        assert (await client.get_state()).autoboot_remaining is None
    finally:
        client.close()


async def test_edited_boot_behind_a_password(app: App, stack: Stack) -> None:
    app.input_filter(["x"], [])
    await app.backend.set_settings({"password": "hunter2"})
    client = await BootdClient.connect(stack.bus.address)
    try:
        assert (await client.get_settings()).password_set
        await until(lambda: app.menu.focus_key("opt:sda2/bls/fedora"))
        h.press(app.chrome, "e")
        editor = app.stack[-1]
        assert isinstance(editor, EditorView)
        editor.args.set_edit_text("root=UUID=2f6c7c4e ro edited=1")
        editor.submit()
        h.press(app.chrome, "enter")  # OK put the copy in the menu, selected; Enter boots it
        await until(lambda: isinstance(app.stack[-1], PromptView))
        prompt = app.stack[-1]
        assert isinstance(prompt, PromptView)
        prompt.edit.set_edit_text("hunter2")
        prompt.submit()
        await until(lambda: app.stack[-1].title == "Booted", timeout=30)
        rec = (await client.get_state()).last_boot
        assert rec.args == "root=UUID=2f6c7c4e ro edited=1"
        assert rec.console == "hvc1" and rec.dt_console_path == "/ibm,opal/consoles/serial@1"
        assert "Booted:" in h.screen(app.chrome)
    finally:
        client.close()


async def test_daemon_errors_are_shown_not_raised(app: App) -> None:
    h.press(app.chrome, "u")
    prompt = app.stack[-1]
    assert isinstance(prompt, PromptView)
    prompt.edit.set_edit_text("gopher://example.invalid/x")
    prompt.submit()
    await until(lambda: "Retrieve config:" in h.screen(app.chrome))


async def test_a_failed_boot_shows_why_and_returns_to_the_menu(app: App) -> None:
    await until(lambda: "opt:sdb1/bls/broken" in [r.key for r in app.menu.menu_rows])
    assert app.menu.focus_key("opt:sdb1/bls/broken")
    h.press(app.chrome, "enter")
    await until(lambda: app.stack[-1].title == "Boot failed", timeout=30)
    text = h.screen(app.chrome)
    assert "not an ELF file" in text and "Esc to return to the menu" in text
    h.press(app.chrome, "esc")
    assert app.stack[-1] is app.menu
    assert app.menu.focused_key == "opt:sdb1/bls/broken"


async def test_settings_screen_saves_through_the_daemon(app: App, stack: Stack) -> None:
    app.input_filter(["s"], [])
    h.press(app.chrome, "s")
    await until(lambda: isinstance(app.stack[-1], SettingsView))
    view = app.stack[-1]
    assert isinstance(view, SettingsView)
    view.input("timeout", SecondsInput).edit.set_edit_text("25")
    view.input("boot_order", OrderInput).new_item.set_edit_text("usb")
    console = view.input("console", ConsoleInput)
    console.group[console.names.index("hvc0")].set_state(True)
    view.save()
    await until(lambda: app.stack[-1] is app.menu)
    client = await BootdClient.connect(stack.bus.address)
    try:
        s = await client.get_settings()
        assert s.timeout == 25 and s.console == "hvc0" and s.boot_order[-1] == "usb"
        # a value the daemon refuses: the reason is shown and the screen stays
        h.press(app.chrome, "s")
        await until(lambda: isinstance(app.stack[-1], SettingsView))
        view = app.stack[-1]
        assert isinstance(view, SettingsView)
        view.input("boot_order", OrderInput).new_item.set_edit_text("floppy")
        view.save()
        await until(lambda: "Save settings:" in h.screen(app.chrome))
        assert isinstance(app.stack[-1], SettingsView)
        assert "floppy" not in (await client.get_settings()).boot_order
    finally:
        client.close()


async def test_esc_on_the_progress_screen_cancels_a_stalled_boot(app: App, stack: Stack) -> None:
    from bootd.errors import Cancelled
    from tests.integration.daemon.stalling import StallingServer
    from ui.views.text import ProgressView

    app.input_filter(["x"], [])
    server = StallingServer()
    client = await BootdClient.connect(stack.bus.address)
    try:
        boot = asyncio.create_task(
            client.boot_custom(kernel=f"http://127.0.0.1:{server.port}/vmlinuz", name="Stalled install")
        )
        await until(lambda: isinstance(app.stack[-1], ProgressView) and server.requests > 0)
        assert "Esc=cancel the boot" in h.screen(app.chrome)
        h.press(app.chrome, "esc")
        await until(lambda: app.stack[-1] is app.menu)
        await until(lambda: any(m.message == "Boot cancelled: Stalled install" for m in app.status_log))
        assert (await client.get_state()).state == "idle"
        with pytest.raises(Cancelled, match="cancelled"):
            await asyncio.wait_for(boot, 10)
        await asyncio.sleep(0.5)  # a late failure report must not cover the menu
        assert app.stack[-1] is app.menu
    finally:
        client.close()
        server.close()
