"""Shared pieces of every screen: palette, glyphs, selectable text, the chrome
(title/countdown header, the screen, status and key hints)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import urwid

from ..i18n import N_, _

# name, foreground, background, monochrome
PALETTE: list[tuple[str, str, str, str]] = [
    ("header", "white,bold", "dark blue", "standout"),
    ("countdown", "yellow,bold", "dark blue", "standout,bold"),
    ("device", "light cyan,bold", "default", "bold"),
    ("group", "light cyan", "default", "underline"),
    ("option", "default", "default", ""),
    ("action", "light gray", "default", ""),
    ("focus", "black", "light gray", "standout"),
    ("hint", "light gray", "default", ""),
    ("info", "default", "default", ""),
    ("warning", "yellow,bold", "default", "bold"),
    ("error", "light red,bold", "default", "bold,underline"),
    ("field", "default", "dark gray", "underline"),
    ("field focus", "white", "dark blue", "standout"),
    ("pg normal", "default", "dark gray", ""),
    ("pg complete", "white", "dark green", "standout"),
]


class Glyphs:
    """Characters that differ between UTF-8 terminals and plain ASCII ones."""

    def __init__(self, *, utf8: bool) -> None:
        self.utf8 = utf8
        self.dash = "\u2014" if utf8 else "-"
        self.mark = "*"
        self.rule = "\u2500" if utf8 else "-"
        self.ellipsis = "\u2026" if utf8 else "..."


ASCII = Glyphs(utf8=False)

Size = tuple[()] | tuple[int] | tuple[int, int]


class SelectableText(urwid.Text):
    """A line of text that can hold the focus; keys pass through."""

    _selectable = True

    def keypress(self, size: Size, key: str) -> str | None:
        return key


class FieldEdit(urwid.Edit):
    """A one-line input field: moving onto it puts the cursor after its text;
    Ctrl-U deletes what is before the cursor, Ctrl-K what is after it (as in
    a shell), so a long path is replaced without holding Backspace."""

    def keypress(self, size: Size, key: str) -> str | None:
        pos = self.edit_pos
        if key == "ctrl u":
            self.set_edit_text(self.edit_text[pos:])
            self.set_edit_pos(0)
            return None
        if key == "ctrl k":
            self.set_edit_text(self.edit_text[:pos])
            return None
        return super().keypress(size, key)  # type: ignore[arg-type]  # urwid's Edit narrows size to (cols,)

    def move_cursor_to_coords(self, size: tuple[int], x: Any, y: int) -> bool:
        if y != 0:  # one line: up/down leave the field
            return False
        self.set_edit_pos(len(self.edit_text))
        return True


class FieldIntEdit(urwid.IntEdit):
    """A number field: moving onto it puts the cursor after its digits."""

    def move_cursor_to_coords(self, size: tuple[int], x: Any, y: int) -> bool:
        if y != 0:  # one line: up/down leave the field
            return False
        self.set_edit_pos(len(self.edit_text))
        return True


def field(widget: urwid.Widget) -> urwid.AttrMap[urwid.Widget]:
    """An input field; the cursor starts at the end of its text."""
    if isinstance(widget, urwid.Edit):
        widget.set_edit_pos(len(widget.edit_text))
    return urwid.AttrMap(widget, "field", "field focus")


def columns(text: str) -> int:
    """How many terminal columns ``text`` takes (a CJK character takes two)."""
    return int(urwid.calc_width(text, 0, len(text)))


def labelled(label: str, widget: urwid.Widget, width: int = 16) -> urwid.Columns:
    """``label`` then ``widget``; the label's column is ``width`` wide, or as
    wide as a longer (translated) label needs."""
    return urwid.Columns([(max(width, columns(label)), urwid.Text(label)), widget], dividechars=1)


def button_width(label: str) -> int:
    """The columns a ``< label >`` button needs."""
    return columns(label) + 4


def button(label: str, on_press: Callable[[], None]) -> urwid.AttrMap[urwid.Widget]:
    b = urwid.Button(label)
    urwid.connect_signal(b, "click", lambda _b: on_press())
    return urwid.AttrMap(b, "option", "focus")


class View(urwid.WidgetWrap[urwid.Widget]):
    """Base of every screen body: a title, key hints and a help text."""

    title = ""
    hints = N_("Esc=back  h=help")
    help = ""


class Chrome(urwid.WidgetWrap[urwid.Frame[Any, Any, Any]]):
    """Header (title or countdown), the current view, status line and key hints.

    ``on_help`` is called for ``h``/``?``/F1 that no widget wanted; ``on_back``
    for Esc; ``on_redraw`` for Ctrl-L.  A status message wraps (its end is
    usually the part that matters) rather than being cut at the edge.
    """

    def __init__(
        self,
        *,
        on_help: Callable[[], None],
        on_back: Callable[[], None],
        glyphs: Glyphs = ASCII,
        on_redraw: Callable[[], None] = lambda: None,
    ) -> None:
        self.glyphs = glyphs
        self._on_help = on_help
        self._on_back = on_back
        self._on_redraw = on_redraw
        self.header = urwid.Text("", wrap="clip")
        self.status = urwid.Text("", wrap="space")
        self.hint = urwid.Text("", wrap="clip")
        self._header_map = urwid.AttrMap(self.header, "header")
        self._status_map = urwid.AttrMap(self.status, "info")
        self.view: View = View(urwid.SolidFill(" "))
        footer = urwid.Pile([urwid.Divider(glyphs.rule), self._status_map, urwid.AttrMap(self.hint, "hint")])
        self.frame = urwid.Frame(self.view, header=self._header_map, footer=footer)
        super().__init__(self.frame)

    def show(self, view: View) -> None:
        self.view = view
        self.frame.body = view
        self.hint.set_text(_(view.hints))

    def set_header(self, text: str, *, countdown: bool = False) -> None:
        self.header.set_text(text)
        self._header_map.set_attr_map({None: "countdown" if countdown else "header"})

    def set_status(self, text: str, severity: str = "info") -> None:
        self.status.set_text(text)
        self._status_map.set_attr_map({None: severity if severity in ("warning", "error") else "info"})

    def keypress(self, size: Size, key: str) -> str | None:
        rest = super().keypress(size, key)
        if rest in ("h", "?", "f1"):
            self._on_help()
            return None
        if rest == "ctrl l":
            self._on_redraw()
            return None
        if rest == "esc":
            self._on_back()
            return None
        return rest
