"""The console picker: which console the booted system will use."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import urwid

from bootd.model import Console

from ..i18n import N_, _
from .common import Size, View

CONSOLE_HELP = N_("""\
Console

The booted system will print its messages on, and offer its login on, the
console chosen here.  The loader points /chosen/stdout-path at its
device-tree node (shown next to each console); where the device tree cannot
be changed it puts console= on the kernel command line instead.

Up/Down  move    Enter/Space  choose and go back    Esc  back unchanged

The preselected console is the one this menu runs on, else the console
setting.""")


def describe(c: Console) -> str:
    parts = [c.name, f"({c.kind})"]
    if c.description:
        parts.append(c.description)
    if c.dt_path:
        parts.append(c.dt_path)
    return "  ".join(parts)


class ConsolePickerView(View):
    title = N_("Console")
    hints = N_("Enter=choose  Esc=back  h=help")
    help = CONSOLE_HELP

    def __init__(self, consoles: Sequence[Console], selected: str | None, on_choose: Callable[[str], None]) -> None:
        self._on_choose = on_choose
        self.group: list[urwid.RadioButton] = []
        items: list[urwid.Widget] = []
        focus = 0
        for i, c in enumerate(consoles):
            rb = urwid.RadioButton(self.group, describe(c), state=c.name == selected, user_data=c.name)
            items.append(urwid.AttrMap(rb, "option", "focus"))
            if c.name == selected:
                focus = i
        if not consoles:
            items.append(urwid.Text(_("The daemon reports no consoles; the kernel's own default will be used.")))
        self.names = [c.name for c in consoles]
        self.walker: urwid.SimpleFocusListWalker[Any] = urwid.SimpleFocusListWalker(items)
        self.walker.set_focus(focus)
        header = urwid.Pile([urwid.Text(_("Console for the booted system:")), urwid.Divider()])
        super().__init__(urwid.Frame(urwid.ListBox(self.walker), header=header))

    @property
    def selected(self) -> str | None:
        for rb, name in zip(self.group, self.names, strict=True):
            if rb.state:
                return name
        return None

    def keypress(self, size: Size, key: str) -> str | None:
        if key in ("enter", " ") and self.names:
            pos = self.walker.focus
            if pos is not None and 0 <= pos < len(self.names):
                name = self.names[pos]
                self.group[pos].set_state(True)
                self._on_choose(name)
                return None
        return super().keypress(size, key)
