"""Screens that show text or progress: system information, the status log,
help, booting (a progress bar), failure, and one-line prompts (URL, password)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import urwid

from bootd.model import Transfer

from ..i18n import N_, _
from .common import FieldEdit, SelectableText, Size, View, button, field, labelled


class TextView(View):
    """A scrollable page of lines; ``(attr, text)`` pairs pick a colour."""

    hints = N_("Up/Down/PgUp/PgDn=scroll  Esc=back  h=help")

    def __init__(
        self, title: str, lines: Sequence[str | tuple[str, str]], help: str = "", *, end: bool = False
    ) -> None:
        self.title = title
        self.help = help or f"{_(title)}\n\n" + _("Up/Down, PgUp/PgDn, Home/End scroll; Esc goes back.")
        self.walker: urwid.SimpleFocusListWalker[Any] = urwid.SimpleFocusListWalker([])
        super().__init__(urwid.ListBox(self.walker))
        self.set_lines(lines, end=end)

    def set_lines(self, lines: Sequence[str | tuple[str, str]], *, end: bool = False) -> None:
        items: list[urwid.Widget] = []
        for line in lines:
            attr, text = ("info", line) if isinstance(line, str) else line
            items.append(urwid.AttrMap(SelectableText(text), attr, "focus"))
        self.walker[:] = items or [SelectableText(_("(nothing yet)"))]
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


BOOT_HELP = N_("""\
Booting

The loader fetches the kernel, initrds and device tree, runs the boot
hooks, patches the device tree for the chosen console and loads the new
kernel with kexec.  If a step fails you return to the menu.

Esc asks the boot daemon to cancel the boot (until the new kernel is
being started) and returns to the menu.""")


class Bar(urwid.Widget):
    """A progress bar drawn with characters (``[####----] 45 %``) so that it
    shows on every terminal, colours or not, at any width."""

    _sizing = frozenset([urwid.Sizing.FLOW])
    ignore_focus = True

    def __init__(self) -> None:
        super().__init__()
        self.fraction = 0.0

    def set_completion(self, fraction: float) -> None:
        self.fraction = max(0.0, min(1.0, fraction))
        self._invalidate()

    def rows(self, size: tuple[int], focus: bool = False) -> int:
        return 1

    def render(self, size: Size, focus: bool = False) -> urwid.Canvas:
        maxcol = size[0] if size else 80
        percent = f" {int(self.fraction * 100)} %"
        inner = max(0, maxcol - 2 - len(percent))
        filled = int(inner * self.fraction)
        markup: list[str | tuple[str, str]] = [
            "[",
            ("pg complete", "#" * filled),
            ("pg normal", "-" * (inner - filled)),
            "]" + percent,
        ]
        return urwid.Text(markup, wrap="clip").render((maxcol,))


def describe_transfer(t: Transfer) -> str:
    """:meth:`Transfer.describe` in the menu's catalogue."""
    return t.describe(_)


class ProgressView(View):
    """The step in progress, a bar and what is known of the time left.  While
    a file downloads, the bar is that file's and the line below it says the
    bytes, the rate and the time left; otherwise the bar is the whole boot's."""

    title = N_("Booting")
    hints = N_("Booting - please wait  Esc=cancel the boot")
    help = BOOT_HELP

    def __init__(self, name: str) -> None:
        self.label = urwid.Text(_("Booting {name}").format(name=name), align="center")
        self.step = urwid.Text("", align="center")
        self.bar = Bar()
        self.left = urwid.Text("", align="center")
        self.stage = ""
        self.transfer: Transfer | None = None
        pile = urwid.Pile([self.label, urwid.Divider(), self.step, urwid.Divider(), self.bar, self.left])
        super().__init__(urwid.Filler(urwid.Padding(pile, left=4, right=4), valign="middle"))

    def _step(self, message: str) -> None:
        if message != self.stage:
            self.stage, self.transfer = message, None
            self.step.set_text(message)

    def update(self, message: str, fraction: float, left: str = "") -> None:
        """``left``: how long the boot still needs, when that is known."""
        self._step(message)
        if self.transfer is not None:  # the download's own report says more
            return
        self.bar.set_completion(fraction)
        self.left.set_text(_("about {left} left").format(left=left) if left else "")

    def download(self, message: str, fraction: float, transfer: Transfer) -> None:
        """A report of the download of step ``message`` (``fraction``: of the boot)."""
        self._step(message)
        self.transfer = transfer
        part = transfer.fraction
        self.bar.set_completion(part if part is not None else fraction)
        self.left.set_text(describe_transfer(transfer))


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
        self.help = help or f"{_(title)}\n\n" + _("Type the value and press Enter; Esc cancels.")
        self._on_ok = on_ok
        self.edit = FieldEdit("", "", mask="*" if secret else None)
        self.message = urwid.Text(message)
        pile = urwid.Pile(
            [
                urwid.Text(_(title)),
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
