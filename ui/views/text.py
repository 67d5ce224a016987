"""Screens that show text or progress: system information, the status log,
help, booting (a progress bar), failure, and one-line prompts (URL, password)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import urwid

from ..i18n import N_, _
from .common import FieldEdit, SelectableText, Size, View, button, field, labelled


class TextView(View):
    """A scrollable page of lines; ``(attr, text)`` pairs pick a colour."""

    hints = N_("Up/Down/PgUp/PgDn=scroll  Esc=back  h=help")

    def __init__(
        self, title: str, lines: Sequence[str | tuple[str, str]], help: str = "", *, end: bool = False
    ) -> None:
        self.title = title
        self.help = help or f"{title}\n\nUp/Down, PgUp/PgDn, Home/End scroll; Esc goes back."
        self.walker: urwid.SimpleFocusListWalker[Any] = urwid.SimpleFocusListWalker([])
        super().__init__(urwid.ListBox(self.walker))
        self.set_lines(lines, end=end)

    def set_lines(self, lines: Sequence[str | tuple[str, str]], *, end: bool = False) -> None:
        items: list[urwid.Widget] = []
        for line in lines:
            attr, text = ("info", line) if isinstance(line, str) else line
            items.append(urwid.AttrMap(SelectableText(text), attr, "focus"))
        self.walker[:] = items or [SelectableText("(nothing yet)")]
        self.walker.set_focus(len(self.walker) - 1 if end else 0)

    def append(self, line: str | tuple[str, str]) -> None:
        attr, text = ("info", line) if isinstance(line, str) else line
        at_end = self.walker.focus is not None and self.walker.focus >= len(self.walker) - 1
        self.walker.append(urwid.AttrMap(SelectableText(text), attr, "focus"))
        if at_end:
            self.walker.set_focus(len(self.walker) - 1)

    @property
    def text(self) -> str:
        out = []
        for w in self.walker:
            base = w.base_widget
            if isinstance(base, urwid.Text):
                out.append(str(base.text))
        return "\n".join(out)


BOOT_HELP = """\
Booting

The loader fetches the kernel, initrds and device tree, runs the boot
hooks, patches the device tree for the chosen console and loads the new
kernel with kexec.  If a step fails you return to the menu.

Esc asks the boot daemon to cancel the boot (until the new kernel is
being started) and returns to the menu."""


class ProgressView(View):
    title = "Booting"
    hints = N_("Booting - please wait  Esc=cancel the boot")
    help = BOOT_HELP

    def __init__(self, name: str) -> None:
        self.label = urwid.Text(f"Booting {name}", align="center")
        self.step = urwid.Text("", align="center")
        self.bar = urwid.ProgressBar("pg normal", "pg complete", 0, 100)
        self.left = urwid.Text("", align="center")
        pile = urwid.Pile([self.label, urwid.Divider(), self.step, urwid.Divider(), self.bar, self.left])
        super().__init__(urwid.Filler(urwid.Padding(pile, left=4, right=4), valign="middle"))

    def update(self, message: str, fraction: float, left: str = "") -> None:
        """``left``: how long the boot still needs, when that is known."""
        self.step.set_text(message)
        self.bar.set_completion(max(0.0, min(1.0, fraction)) * 100)
        self.left.set_text(_("about {left} left").format(left=left) if left else "")


class PromptView(View):
    """One line of input (a URL, a password) with OK and Cancel."""

    hints = N_("Enter=OK  Esc=cancel  F1=help")

    def __init__(
        self,
        title: str,
        label: str,
        on_ok: Callable[[str], None],
        on_cancel: Callable[[], None],
        *,
        secret: bool = False,
        help: str = "",
        message: str = "",
    ) -> None:
        self.title = title
        self.help = help or f"{title}\n\nType the value and press Enter; Esc cancels."
        self._on_ok = on_ok
        self.edit = FieldEdit("", "", mask="*" if secret else None)
        self.message = urwid.Text(message)
        pile = urwid.Pile(
            [
                urwid.Text(title),
                urwid.Divider(),
                labelled(label, field(self.edit)),
                urwid.Divider(),
                urwid.AttrMap(self.message, "error"),
                urwid.Columns([(8, button(_("OK"), self.submit)), (12, button(_("Cancel"), on_cancel))], dividechars=2),
            ]
        )
        pile.focus_position = 2
        self.pile = pile
        super().__init__(urwid.Filler(urwid.Padding(pile, left=2, right=2), valign="top", top=1))

    def submit(self) -> None:
        self._on_ok(self.edit.edit_text)

    def keypress(self, size: Size, key: str) -> str | None:
        if key == "enter" and self.pile.focus_position == 2:
            if self.edit.edit_text:
                self.submit()
            else:
                self.message.set_text(_("Type a value first, or press Esc to cancel."))
            return None
        return super().keypress(size, key)
