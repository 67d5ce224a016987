"""The main menu: boot options grouped under device headers and submenu
titles, then the menu's own actions.  Rows come in as data; keys go out as
``on_action(action, option_id)`` calls."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import urwid

from ..i18n import N_
from .common import SelectableText, Size, View


class RowKind(StrEnum):
    DEVICE = "device"
    GROUP = "group"
    OPTION = "option"
    ACTION = "action"
    NOTE = "note"
    BLANK = "blank"

    def selectable(self) -> bool:
        return self in (RowKind.OPTION, RowKind.ACTION)


@dataclass(frozen=True)
class MenuRow:
    key: str
    """Unique and stable: ``opt:<option id>``, ``dev:<device id>``, ``act:<action>`` …"""
    kind: RowKind
    text: str
    marked: bool = False
    """The autoboot candidate."""
    indent: int = 0

    @property
    def option_id(self) -> str | None:
        return self.key[4:] if self.kind is RowKind.OPTION else None

    @property
    def action(self) -> str | None:
        return self.key[4:] if self.kind is RowKind.ACTION else None


# key -> action for option rows and everywhere
OPTION_KEYS = {"enter": "boot", "e": "edit"}
GLOBAL_KEYS = {
    "c": "settings",
    "s": "settings",
    "t": "console",
    "i": "info",
    "g": "log",
    "l": "language",
    "n": "new",
    "u": "url",
    "r": "rescan",
    "x": "exit",
}
"""Petitboot's keys (i, e, g, l, c, n, h, x, Ctrl-L) mean what they mean there;
bootd's own additions take keys Petitboot leaves free."""

MENU_HELP = N_("""\
Boot menu

Up/Down, PgUp/PgDn, Home/End  move between entries
Enter   boot the selected entry (on an action: run it)
e       edit the selected entry (device, kernel, initrds, device tree,
        arguments); OK puts the changed copy in the menu, Enter boots it;
        the disk is never changed
n       new entry: the same editor, empty
c       system configuration (autoboot, timeout, boot order, console,
        password, network); s does the same
i       system information (devices, network, platform)
g       status log
l       language
t       choose the console the booted system will use
u       retrieve a boot configuration from a URL
r       rescan devices
x       exit to a shell (when the settings allow it)
h, ?, F1  this help; Esc closes it
Ctrl-L  redraw the screen (after a serial-over-LAN console re-attaches)

The keys are Petitboot's.  Differences: t (console) and u, r, s are
bootd's own; the log is g, not l.  The entry marked * is the one
autoboot will boot; any key stops the countdown.  Entries appear and
vanish as devices come and go; [grub2], [kboot]... tell apart entries
of one device with the same title.""")


class RowWalker(urwid.ListWalker):  # type: ignore[type-arg]
    """The menu's rows for the list box, each row's widget made when the list
    box first asks for it (a screen's worth, not one per option up front) and
    kept while the row is shown."""

    def __init__(self, make: Callable[[MenuRow], urwid.Widget]) -> None:
        self._make = make
        self._rows: Sequence[MenuRow] = ()
        self._widgets: dict[MenuRow, urwid.Widget] = {}
        self._focus = 0

    def set_rows(self, rows: Sequence[MenuRow]) -> None:
        self._rows = rows
        live = set(rows)
        self._widgets = {r: w for r, w in self._widgets.items() if r in live}
        self._focus = min(self._focus, max(0, len(rows) - 1))
        self._modified()

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, position: int) -> urwid.Widget:
        if not 0 <= position < len(self._rows):
            raise IndexError(position)
        row = self._rows[position]
        w = self._widgets.get(row)
        if w is None:
            w = self._widgets[row] = self._make(row)
        return w

    @property
    def focus(self) -> int:
        return self._focus

    def set_focus(self, position: int) -> None:
        if self._rows and not 0 <= position < len(self._rows):
            raise IndexError(position)
        self._focus = position if self._rows else 0
        self._modified()

    def next_position(self, position: int) -> int:
        if position + 1 >= len(self._rows):
            raise IndexError(position)
        return position + 1

    def prev_position(self, position: int) -> int:
        if position <= 0:
            raise IndexError(position)
        return position - 1

    def positions(self, reverse: bool = False) -> Iterable[int]:
        return range(len(self._rows) - 1, -1, -1) if reverse else range(len(self._rows))


class MainMenuView(View):
    title = N_("Boot menu")
    hints = N_("Enter=boot e=edit n=new c=config g=log i=info l=language x=exit h=help")
    help = MENU_HELP

    def __init__(self, on_action: Callable[[str, str | None], None]) -> None:
        self._on_action = on_action
        self._rows: list[MenuRow] = []
        self.walker = RowWalker(self._widget)
        self.listbox = urwid.ListBox(self.walker)
        self._show_from_top = False
        self._moved = False  # a key has moved the cursor: it no longer follows the marked entry
        super().__init__(self.listbox)

    # data in

    @property
    def menu_rows(self) -> list[MenuRow]:
        return list(self._rows)

    def _widget(self, row: MenuRow) -> urwid.Widget:
        pad = " " * row.indent
        w: urwid.Widget
        if row.kind is RowKind.OPTION:
            mark = "*" if row.marked else " "
            w = urwid.AttrMap(SelectableText(f"{pad}{mark} {row.text}", wrap="ellipsis"), "option", "focus")
        elif row.kind is RowKind.ACTION:
            w = urwid.AttrMap(SelectableText(f"{pad}  {row.text}", wrap="ellipsis"), "action", "focus")
        elif row.kind is RowKind.BLANK:
            w = urwid.Divider()
        elif row.kind is RowKind.NOTE:
            w = urwid.AttrMap(urwid.Text(f"{pad}{row.text}", wrap="ellipsis"), "hint")
        else:
            attr = "device" if row.kind is RowKind.DEVICE else "group"
            w = urwid.AttrMap(urwid.Text(f"{pad}{row.text}", wrap="ellipsis"), attr)
        return w

    def set_rows(self, rows: Sequence[MenuRow]) -> None:
        """Show ``rows``; the cursor stays on the entry it was on when that
        entry is still there, else on its nearest neighbour."""
        old_key = self.focused_key
        old_pos = self.walker.focus if self.walker else 0
        first = not any(r.kind is RowKind.OPTION for r in self._rows)
        self._rows = list(rows)
        self.walker.set_rows(self._rows)
        has_options = any(r.kind is RowKind.OPTION for r in self._rows)
        if not self._rows:
            return
        index = {r.key: i for i, r in enumerate(self._rows)}
        marked = next((i for i, r in enumerate(self._rows) if r.marked), None)
        if has_options and not self._moved and marked is not None:
            target = marked  # until a key moves it, the cursor is on the entry autoboot would boot
        elif first and has_options and (old_key is None or old_key.startswith("act:")):
            target = next(i for i, r in enumerate(self._rows) if r.kind is RowKind.OPTION)
        elif old_key is not None and old_key in index:
            target = index[old_key]
        else:
            target = self._nearest_selectable(min(old_pos or 0, len(self._rows) - 1))
        self.walker.set_focus(target)
        if has_options and (first or not self._moved):
            self._show_from_top = True

    def render(self, size: tuple[int, int], focus: bool = False) -> urwid.Canvas:  # type: ignore[override]
        """On first show, keep the rows above the cursor (device headers) in view."""
        if self._show_from_top and len(size) == 2:
            self._show_from_top = False
            pos = self.walker.focus or 0
            if pos < size[1]:
                self.listbox.change_focus(size, pos, offset_inset=pos)
        return super().render(size, focus)

    def _nearest_selectable(self, pos: int) -> int:
        n = len(self._rows)
        for d in range(n):
            for p in (pos + d, pos - d):
                if 0 <= p < n and self._rows[p].kind.selectable():
                    return p
        return 0

    def focus_key(self, key: str) -> bool:
        for i, r in enumerate(self._rows):
            if r.key == key:
                self._moved = True
                self.walker.set_focus(i)
                return True
        return False

    @property
    def focused_row(self) -> MenuRow | None:
        if not self._rows or self.walker.focus is None:
            return None
        pos = self.walker.focus
        return self._rows[pos] if 0 <= pos < len(self._rows) else None

    @property
    def focused_key(self) -> str | None:
        row = self.focused_row
        return row.key if row else None

    def selectable(self) -> bool:
        return True

    # keys out

    def keypress(self, size: Size, key: str) -> str | None:
        self._moved = True
        row = self.focused_row
        if key in OPTION_KEYS and row is not None:
            if row.kind is RowKind.OPTION:
                self._on_action(OPTION_KEYS[key], row.option_id)
                return None
            if row.kind is RowKind.ACTION and key == "enter":
                self._on_action(row.action or "", None)
                return None
        if key in GLOBAL_KEYS:
            self._on_action(GLOBAL_KEYS[key], row.option_id if row else None)
            return None
        if key == "home" and len(size) == 2 and self._rows:
            first = self._nearest_selectable(0)
            self.listbox.change_focus(size, first, offset_inset=min(first, size[1] - 1))
            return None
        rest = super().keypress(size, key)
        row = self.focused_row
        if row is not None and not row.kind.selectable():
            pos = self.walker.focus or 0
            below = [i for i in range(pos, len(self._rows)) if self._rows[i].kind.selectable()]
            target = below[0] if below else self._nearest_selectable(pos)
            if len(size) == 2 and target < size[1]:
                self.listbox.change_focus(size, target, offset_inset=target)  # keep the headers above in view
            else:
                self.walker.set_focus(target)
        return rest
