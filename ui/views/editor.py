"""The option editor: kernel, initrds, device tree and arguments of a copy
of one entry.  The disk's own configuration never changes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import urwid

from .common import FieldEdit, Size, View, button, field, labelled

EDITOR_HELP = """\
Edit entry

Change what is booted for this one boot only; the configuration on the
disk stays as it is.

Kernel, Device tree   a path on the entry's device (/boot/vmlinuz), on
                      another device ((sda2)/boot/vmlinuz) or a URL
Initrds               several, separated by spaces
Arguments             the kernel command line

Ctrl-U deletes before the cursor, Ctrl-K after it; Home/End jump.

Tab/Up/Down move between fields    Boot  boot the changed entry
Esc  back to the menu without booting"""


@dataclass(frozen=True)
class EditFields:
    name: str
    kernel: str
    initrds: str
    dtb: str
    args: str


class EditorView(View):
    title = "Edit entry"
    hints = "Tab=next field  Enter on Boot=boot  Esc=cancel  F1=help"
    help = EDITOR_HELP

    def __init__(
        self, fields: EditFields, on_boot: Callable[[EditFields], None], on_cancel: Callable[[], None]
    ) -> None:
        self._name = fields.name
        self._on_boot = on_boot
        self.kernel = FieldEdit("", fields.kernel)
        self.initrds = FieldEdit("", fields.initrds)
        self.dtb = FieldEdit("", fields.dtb)
        self.args = FieldEdit("", fields.args)
        self.buttons = urwid.Columns(
            [(10, button("Boot", self.submit)), (12, button("Cancel", on_cancel))],
            dividechars=2,
        )
        rows: list[urwid.Widget] = [
            urwid.Text(f"Entry: {fields.name}"),
            urwid.Divider(),
            labelled("Kernel:", field(self.kernel)),
            labelled("Initrds:", field(self.initrds)),
            labelled("Device tree:", field(self.dtb)),
            labelled("Arguments:", field(self.args)),
            urwid.Divider(),
            self.buttons,
        ]
        self.walker: urwid.SimpleFocusListWalker[Any] = urwid.SimpleFocusListWalker(rows)
        super().__init__(urwid.ListBox(self.walker))
        self.walker.set_focus(5)

    @property
    def value(self) -> EditFields:
        return EditFields(
            name=self._name,
            kernel=self.kernel.edit_text.strip(),
            initrds=self.initrds.edit_text.strip(),
            dtb=self.dtb.edit_text.strip(),
            args=self.args.edit_text.strip(),
        )

    def submit(self) -> None:
        self._on_boot(self.value)

    def keypress(self, size: Size, key: str) -> str | None:
        if key == "tab":
            key = "down"
        elif key == "shift tab":
            key = "up"
        elif key == "enter" and self.walker.focus is not None and self.walker.focus < 7:
            key = "down"
        before = self.walker.focus
        rest = super().keypress(size, key)
        if before != self.walker.focus and self.walker.focus == 7:
            self.buttons.focus_position = 0
        return rest
