"""The option editor, as Petitboot's: the device the files are on, kernel,
initrds, device tree and arguments of a copy of one entry (or of a new one).
OK puts the copy in the menu, selected, and Enter there boots it; nothing
in the editor boots by itself.  The disk's own configuration never changes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import urwid

from ..i18n import N_, _
from .common import FieldEdit, Size, View, button, field, labelled


def w(label: str) -> int:
    """The width of a ``< label >`` button."""
    return int(urwid.calc_width(label, 0, len(label))) + 4


EDITOR_HELP = N_("""\
Edit entry

Change what is booted, for one boot only; the configuration on the disk
stays as it is.  OK puts the changed copy in the menu under its device,
selected: press Enter there to boot it.  Cancel (or Esc) leaves the menu
as it was.

Device        the device the kernel, initrds and device tree are on, or
              "Specify paths/URLs manually": then each path is a URL or
              names its device, (sda2)/boot/vmlinuz
Kernel        the kernel to boot (needed), e.g. /boot/vmlinuz
Initrds       several, separated by spaces (may be empty)
Device tree   a .dtb to boot with (empty: the running system's tree)
Arguments     the kernel command line

Up/Down, Tab/Shift-Tab move between fields; Enter on a field moves to the
next one (it never boots).  Ctrl-U deletes before the cursor, Ctrl-K after
it.  Enter or Space on a device chooses it.""")

MANUAL = ""
"""The device choice "Specify paths/URLs manually"."""


@dataclass(frozen=True)
class EditFields:
    name: str
    kernel: str
    initrds: str
    dtb: str
    args: str
    device: str = MANUAL
    """The device id the paths are on; MANUAL: URLs or (device)/path."""


class EditorView(View):
    title = N_("Edit entry")
    hints = N_("Up/Down/Tab=move  OK=put in the menu  Esc=cancel  h=help")
    help = EDITOR_HELP

    def __init__(
        self,
        fields: EditFields,
        on_ok: Callable[[EditFields], None],
        on_cancel: Callable[[], None],
        *,
        devices: Sequence[tuple[str, str]] = (),
        on_help: Callable[[], None] = lambda: None,
        trust: str = "",
    ) -> None:
        """``devices``: ``(id, title)`` of the devices the files may be on;
        ``trust``: signed boot's verdict on the entry, shown under its name."""
        self._name = fields.name
        self._on_ok = on_ok
        self.group: list[urwid.RadioButton] = []
        self.device_ids: list[str] = []
        choices = list(devices)
        if fields.device and fields.device not in {d for d, _t in choices}:
            choices.insert(0, (fields.device, fields.device))
        choices.append((MANUAL, _("Specify paths/URLs manually")))
        radios: list[urwid.Widget] = []
        for did, title in choices:
            label = f"{did} [{title}]" if did and title != did else title
            rb = urwid.RadioButton(self.group, label, state=did == fields.device)
            radios.append(urwid.AttrMap(rb, "option", "focus"))
            self.device_ids.append(did)
        self.kernel = FieldEdit("", fields.kernel)
        self.initrds = FieldEdit("", fields.initrds)
        self.dtb = FieldEdit("", fields.dtb)
        self.args = FieldEdit("", fields.args)
        self.buttons = urwid.Columns(
            [
                (w(_("OK")), button(_("OK"), self.submit)),
                (w(_("Help")), button(_("Help"), on_help)),
                (w(_("Cancel")), button(_("Cancel"), on_cancel)),
            ],  # fmt: skip
            dividechars=2,
        )
        rows: list[urwid.Widget] = [urwid.Text(f"{_('Entry:')} {fields.name}")]
        if trust:
            rows.append(urwid.Text(f"{_('Signature:')} {trust}"))
        rows.append(urwid.Divider())
        for i, radio in enumerate(radios):
            rows.append(labelled(_("Device:") if i == 0 else "", radio))
        rows.append(urwid.Divider())
        self.first_field = len(rows)
        rows += [
            labelled(_("Kernel:"), field(self.kernel)),
            labelled(_("Initrds:"), field(self.initrds)),
            labelled(_("Device tree:"), field(self.dtb)),
            labelled(_("Arguments:"), field(self.args)),
            urwid.Divider(),
            self.buttons,
        ]
        self.buttons_row = len(rows) - 1
        self.walker: urwid.SimpleFocusListWalker[Any] = urwid.SimpleFocusListWalker(rows)
        super().__init__(urwid.ListBox(self.walker))
        self.walker.set_focus(self.first_field + 3)  # Arguments: what is changed most often

    @property
    def device(self) -> str:
        for rb, did in zip(self.group, self.device_ids, strict=True):
            if rb.state:
                return did
        return MANUAL

    @property
    def value(self) -> EditFields:
        return EditFields(
            name=self._name,
            kernel=self.kernel.edit_text.strip(),
            initrds=self.initrds.edit_text.strip(),
            dtb=self.dtb.edit_text.strip(),
            args=self.args.edit_text.strip(),
            device=self.device,
        )

    def submit(self) -> None:
        self._on_ok(self.value)

    def _is_field_row(self, pos: int | None) -> bool:
        return pos is not None and self.first_field <= pos < self.first_field + 4

    def _is_device_row(self, pos: int | None) -> bool:
        return pos is not None and 2 <= pos < 2 + len(self.group)

    def keypress(self, size: Size, key: str) -> str | None:
        pos = self.walker.focus
        if key == "tab":
            key = "down"
        elif key == "shift tab":
            key = "up"
        elif key == "enter" and self._is_field_row(pos):
            key = "down"  # Enter on a field goes on to the next one; it never boots
        elif key in ("enter", " ") and self._is_device_row(pos):
            assert pos is not None
            self.group[pos - 2].set_state(True)
            return None
        rest = super().keypress(size, key)
        if pos != self.walker.focus and self.walker.focus == self.buttons_row:
            self.buttons.focus_position = 0
        return rest
