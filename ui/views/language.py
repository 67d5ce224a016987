"""The language screen (``l``): the menu's language on this console."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import urwid

from ..i18n import N_, _
from .common import Size, View

LANGUAGE_HELP = N_("""\
Language

The language of this menu on this console.  Up/Down move, Enter or Space
chooses, Esc goes back unchanged.  Messages from the boot daemon and the
boot loaders' own entry titles stay as they are.""")


class LanguageView(View):
    title = N_("Language")
    hints = N_("Enter=choose  Esc=back  h=help")
    help = LANGUAGE_HELP

    def __init__(self, languages: Sequence[tuple[str, str]], current: str, on_choose: Callable[[str], None]) -> None:
        """``languages``: (code, name as shown)."""
        self._on_choose = on_choose
        self.codes = [code for code, _name in languages]
        self.group: list[urwid.RadioButton] = []
        items: list[urwid.Widget] = [
            urwid.AttrMap(urwid.RadioButton(self.group, name, state=code == current), "option", "focus")
            for code, name in languages
        ]
        self.walker: urwid.SimpleFocusListWalker[Any] = urwid.SimpleFocusListWalker(items)
        if current in self.codes:
            self.walker.set_focus(self.codes.index(current))
        header = urwid.Pile([urwid.Text(_("Language of this menu:")), urwid.Divider()])
        super().__init__(urwid.Frame(urwid.ListBox(self.walker), header=header))

    def keypress(self, size: Size, key: str) -> str | None:
        pos = self.walker.focus
        if key in ("enter", " ") and pos is not None:
            self.group[pos].set_state(True)
            self._on_choose(self.codes[pos])
            return None
        return super().keypress(size, key)
