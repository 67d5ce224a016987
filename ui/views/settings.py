"""The settings screen: autoboot, timeout, boot order, default console,
password.  Saved as one set of changes through ``on_save``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import urwid

from bootd.model import Console

from ..backend import Settings
from .common import FieldEdit, FieldIntEdit, SelectableText, Size, View, button, field, labelled

SETTINGS_HELP = """\
Settings

Autoboot       boot the default entry by itself when nobody is there
Timeout        seconds of countdown before autoboot (0 = at once)
Boot order     which devices autoboot prefers, first match wins; on an
               item press + or - to move it up or down, Del to remove it;
               Add puts a device type (disk, usb, optical, network) or a
               uuid:/mac: selector at the end
Console        the console the booted system uses unless one is picked
Password       when set, booting, editing and changing settings ask for it;
               leave empty and choose Clear password to remove it

Save  apply the changes through the daemon, one by one; a refused
      value is named in the status line and the screen stays open
Esc   back without saving"""


class SettingsView(View):
    title = "Settings"
    hints = "Tab=next  +/-=move boot order item  Save  Esc=back  F1=help"
    help = SETTINGS_HELP

    def __init__(
        self,
        settings: Settings,
        consoles: Sequence[Console],
        on_save: Callable[[dict[str, object]], None],
        on_cancel: Callable[[], None],
    ) -> None:
        self._orig = settings
        self._on_save = on_save
        self.autoboot = urwid.CheckBox("Autoboot", state=settings.autoboot)
        self.timeout = FieldIntEdit("", settings.timeout)
        self.order: list[str] = list(settings.boot_order)
        self.order_walker: urwid.SimpleFocusListWalker[Any] = urwid.SimpleFocusListWalker([])
        self.new_item = FieldEdit("", "")
        self.console_group: list[urwid.RadioButton] = []
        self.console_names: list[str | None] = [None, *(c.name for c in consoles)]
        console_rows: list[urwid.Widget] = []
        for name in self.console_names:
            label = name if name is not None else "(none: the entry's own)"
            rb = urwid.RadioButton(self.console_group, label, state=name == settings.console)
            console_rows.append(urwid.AttrMap(rb, "option", "focus"))
        self.password = FieldEdit("", "", mask="*")
        self.clear_password = False
        pw_state = "set" if settings.password_set else "not set"
        self._refresh_order()
        rows: list[urwid.Widget] = [
            urwid.AttrMap(self.autoboot, "option", "focus"),
            labelled("Timeout (s):", field(self.timeout)),
            urwid.Divider(),
            urwid.Text("Boot order (+/- move, Del remove):"),
            urwid.BoxAdapter(urwid.ListBox(self.order_walker), max(1, min(6, len(self.order) or 1))),
            labelled("Add:", field(self.new_item)),
            urwid.Divider(),
            urwid.Text("Default console:"),
            *console_rows,
            urwid.Divider(),
            labelled(f"Password ({pw_state}):", field(self.password), 24),
            urwid.Columns(
                [
                    (10, button("Save", self.save)),
                    (20, button("Clear password", self.clear)),
                    (12, button("Cancel", on_cancel)),
                ],
                dividechars=2,
            ),
        ]
        self.walker: urwid.SimpleFocusListWalker[Any] = urwid.SimpleFocusListWalker(rows)
        self._order_box_index = 4
        super().__init__(urwid.ListBox(self.walker))

    def _refresh_order(self, focus: int | None = None) -> None:
        items: list[urwid.Widget] = [
            urwid.AttrMap(SelectableText(f"{i + 1}. {item}"), "option", "focus") for i, item in enumerate(self.order)
        ]
        self.order_walker[:] = items or [urwid.Text("(any device)")]
        if focus is not None and self.order:
            self.order_walker.set_focus(max(0, min(focus, len(self.order) - 1)))

    def move(self, index: int, delta: int) -> None:
        j = index + delta
        if 0 <= index < len(self.order) and 0 <= j < len(self.order):
            self.order[index], self.order[j] = self.order[j], self.order[index]
            self._refresh_order(j)

    def remove(self, index: int) -> None:
        if 0 <= index < len(self.order):
            del self.order[index]
            self._refresh_order(index)

    @property
    def changes(self) -> dict[str, object]:
        """What differs from the settings the screen opened with."""
        out: dict[str, object] = {}
        order = list(self.order)
        extra = self.new_item.edit_text.strip()
        if extra:
            order.append(extra)
        if self.autoboot.state != self._orig.autoboot:
            out["autoboot"] = self.autoboot.state
        timeout = self.timeout.value()
        if timeout is not None and timeout != self._orig.timeout:
            out["timeout"] = int(timeout)
        if tuple(order) != self._orig.boot_order:
            out["boot_order"] = tuple(order)
        console = next((n for rb, n in zip(self.console_group, self.console_names, strict=True) if rb.state), None)
        if console != self._orig.console:
            out["console"] = console
        if self.clear_password:
            out["password"] = ""
        elif self.password.edit_text:
            out["password"] = self.password.edit_text
        return out

    def save(self) -> None:
        self._on_save(self.changes)

    def clear(self) -> None:
        self.clear_password = True
        self.password.set_edit_text("")
        self.save()

    def keypress(self, size: Size, key: str) -> str | None:
        if self.walker.focus == self._order_box_index and self.order:
            pos = self.order_walker.focus or 0
            if key in ("+", "-"):
                self.move(pos, -1 if key == "+" else 1)
                return None
            if key == "delete":
                self.remove(pos)
                return None
        if key == "tab":
            key = "down"
        elif key == "shift tab":
            key = "up"
        return super().keypress(size, key)
