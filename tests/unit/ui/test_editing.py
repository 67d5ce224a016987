"""The editor as Petitboot's: a device field, Up/Down between fields, Enter on a
field moves on, OK puts the copy in the menu (selected) and only Enter there
boots it; ``n`` makes a new entry the same way."""

from __future__ import annotations

from tests.unit.ui import helpers as h
from tests.unit.ui.sample import UBUNTU
from tests.unit.ui.test_app import daemon, settle, started
from ui.views.editor import EditFields, EditorView

DEVICES = [("sda2", "Disk: sda2"), ("sdb1", "USB: STICK (sdb1)")]


def editor(got: list[EditFields]) -> EditorView:
    fields = EditFields("Ubuntu", "/boot/vmlinuz", "/boot/initrd.img", "", "root=/dev/sda2 ro", device="sda2")
    return EditorView(fields, got.append, lambda: None, devices=DEVICES)


def test_the_editor_shows_the_device_field_and_fits_80x24() -> None:
    text = h.screen(editor([]))
    assert "Device:" in text and "(X) sda2 [Disk: sda2]" in text and "( ) sdb1 [USB: STICK (sdb1)]" in text
    assert "( ) Specify paths/URLs manually" in text
    assert "< OK >" in text and "< Help >" in text and "< Cancel >" in text


def test_up_and_down_move_between_fields_and_enter_never_submits() -> None:
    got: list[EditFields] = []
    view = editor(got)
    assert view.walker.focus == view.first_field + 3, "the editor opens on Arguments"
    h.press(view, "up")
    assert view.walker.focus == view.first_field + 2, "Up: onto Device tree"
    h.press(view, "up", "up")
    assert view.walker.focus == view.first_field, "on Kernel"
    h.press(view, "enter", "enter", "enter", "enter")
    assert got == [], "Enter on the fields moves on, down to the buttons, and never submits"
    assert view.walker.focus == view.buttons_row
    h.press(view, "up")
    assert view.walker.focus == view.first_field + 3, "Up from the buttons: Arguments"


def test_choosing_another_device_moves_the_paths_there() -> None:
    got: list[EditFields] = []
    view = editor(got)
    view.walker.set_focus(3)  # the second device
    h.press(view, " ")
    view.submit()
    assert got[-1].device == "sdb1" and got[-1].kernel == "/boot/vmlinuz"


async def test_ok_puts_the_copy_in_the_menu_and_enter_boots_it() -> None:
    b = daemon()
    app = await started(b)
    h.press(app.chrome, "e")
    view = app.stack[-1]
    assert isinstance(view, EditorView)
    view.walker.set_focus(3)  # sdb1
    h.press(app.chrome, " ")
    view.walker.set_focus(view.buttons_row)
    h.press(app.chrome, " ")  # Space on OK
    await settle(app)
    assert not any(str(c[0]).startswith("boot") for c in b.calls)
    assert app.stack == [app.menu]
    assert app.menu.focused_key == f"opt:{UBUNTU.id}#edited"
    assert "press Enter to boot it" in h.screen(app.chrome)
    h.press(app.chrome, "enter")
    await settle(app)
    call = b.calls[-1]
    assert call[0] == "boot_custom"
    custom = call[1]
    assert custom.device == "sdb1" and custom.kernel is not None  # type: ignore[attr-defined]
    assert str(custom.kernel.path) == "/boot/vmlinuz"  # type: ignore[attr-defined]


async def test_n_makes_a_new_entry_under_its_device() -> None:
    b = daemon()
    app = await started(b)
    h.press(app.chrome, "n")
    view = app.stack[-1]
    assert isinstance(view, EditorView) and view.walker.focus == view.first_field
    h.type_text(app.chrome, "/vmlinuz-rescue")
    view.args.set_edit_text("init=/bin/sh")
    view.submit()
    await settle(app)
    assert app.menu.focused_key == "opt:user/1"
    assert "User item 1" in h.focus_line(app.menu)
    h.press(app.chrome, "enter")
    await settle(app)
    assert b.calls[-1][0] == "boot_custom"
    new = b.calls[-1][1]
    assert new.device == "sda2" and new.args == "init=/bin/sh"  # type: ignore[attr-defined]


async def test_manual_paths_must_say_where_they_are() -> None:
    b = daemon()
    app = await started(b)
    h.press(app.chrome, "n")
    view = app.stack[-1]
    assert isinstance(view, EditorView)
    view.group[-1].set_state(True)  # Specify paths/URLs manually
    view.kernel.set_edit_text("/vmlinuz")
    view.submit()
    await settle(app)
    assert app.stack[-1] is view, "the editor stays, with what was typed"
    assert "write a URL or (DEVICE)/path" in h.screen(app.chrome)
    view.kernel.set_edit_text("http://10.0.0.1/vmlinuz")
    view.submit()
    await settle(app)
    assert app.menu.focused_key == "opt:user/1"
