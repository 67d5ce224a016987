"""The settings screen, derived from the settings table: one input per
setting that declares a menu widget (:class:`~bootd.settings_table.Widget`),
in table order.  Saved as one set of changes through ``on_save``.  The
table's labels and form help are marked there (``N_``) and translated here,
when the screen is built, with the menu's catalogue."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import urwid

from bootd.dbus.client import NetworkConfig, Setting, Table, Widget
from bootd.dbus.client import SettingsView as Values
from bootd.model import Console

from ..i18n import N_, _
from .common import FieldEdit, FieldIntEdit, SelectableText, Size, View, button, button_width, columns, field, labelled

LABEL_WIDTH = 15
"""The help screen's label column, at least (a longer translated label widens it)."""
SETTINGS_HELP_TAIL = N_("""\
Save  apply every change through the daemon, all or none; a refused
      value is named in the status line and the screen stays open
Esc   back without saving""")

UNCHANGED = object()
"""What :meth:`Input.change` returns when the field still holds the original."""


def settings_help(table: Table) -> str:
    """The screen's help text: each field's label and what it does."""
    lines = [_("Settings"), ""]
    labels = [_(row.label) for row in table.in_form]
    width = max([LABEL_WIDTH - 1, *map(columns, labels)]) + 1
    for row, label in zip(table.in_form, labels, strict=True):
        text = _(row.form_help).splitlines() or [""]
        lines.append((label + " " * (width - columns(label)) + text[0]).rstrip())
        lines += [" " * width + more for more in text[1:]]
    return "\n".join([*lines, "", _(SETTINGS_HELP_TAIL)])


class Input:
    """One setting's widgets on the form."""

    keys_row: int | None = None
    """Which of :meth:`rows` handles keys itself (see :meth:`keypress`)."""

    def __init__(self, row: Setting, value: object) -> None:
        self.row = row
        self.value = value

    def rows(self) -> list[urwid.Widget]:
        raise NotImplementedError

    def buttons(self) -> list[tuple[int, urwid.Widget]]:
        """Buttons this input adds to the Save/Cancel row."""
        return []

    def change(self) -> object:
        """The new value, or :data:`UNCHANGED`."""
        raise NotImplementedError

    def keypress(self, key: str) -> bool:
        """Keys on :attr:`keys_row`; True when handled."""
        return False

    def saved_elsewhere(self, value: object) -> None:
        """Another screen saved this setting: show ``value`` (only
        :class:`NetworkInput` has a screen of its own)."""


InputT = TypeVar("InputT", bound=Input)


class CheckInput(Input):
    def __init__(self, row: Setting, value: object) -> None:
        super().__init__(row, value)
        self.box = urwid.CheckBox(_(row.label), state=bool(value))

    def rows(self) -> list[urwid.Widget]:
        return [urwid.AttrMap(self.box, "option", "focus")]

    def change(self) -> object:
        return self.box.state if self.box.state != self.value else UNCHANGED


class SecondsInput(Input):
    def __init__(self, row: Setting, value: object) -> None:
        super().__init__(row, value)
        self.edit = FieldIntEdit("", int(str(value)))

    def rows(self) -> list[urwid.Widget]:
        return [labelled(_("{label} (s):").format(label=_(self.row.label)), field(self.edit))]

    def change(self) -> object:
        value = self.edit.value()
        return int(value) if value is not None and value != self.value else UNCHANGED


class OrderInput(Input):
    """A list: + or - moves the focused item, Del removes it, Add appends one."""

    keys_row = 2

    def __init__(self, row: Setting, value: object) -> None:
        super().__init__(row, value)
        self.order: list[str] = [str(x) for x in value] if isinstance(value, tuple | list) else []
        self.walker: urwid.SimpleFocusListWalker[Any] = urwid.SimpleFocusListWalker([])
        self.new_item = FieldEdit("", "")
        self._refresh()

    def rows(self) -> list[urwid.Widget]:
        return [
            urwid.Divider(),
            urwid.Text(_("{label} (+/- move, Del remove):").format(label=_(self.row.label))),
            urwid.BoxAdapter(urwid.ListBox(self.walker), max(1, min(6, len(self.order) or 1))),
            labelled(_("Add:"), field(self.new_item)),
        ]

    def _refresh(self, focus: int | None = None) -> None:
        items: list[urwid.Widget] = [
            urwid.AttrMap(SelectableText(f"{i + 1}. {item}"), "option", "focus") for i, item in enumerate(self.order)
        ]
        self.walker[:] = items or [urwid.Text(_("(any device)"))]
        if focus is not None and self.order:
            self.walker.set_focus(max(0, min(focus, len(self.order) - 1)))

    def move(self, index: int, delta: int) -> None:
        j = index + delta
        if 0 <= index < len(self.order) and 0 <= j < len(self.order):
            self.order[index], self.order[j] = self.order[j], self.order[index]
            self._refresh(j)

    def remove(self, index: int) -> None:
        if 0 <= index < len(self.order):
            del self.order[index]
            self._refresh(index)

    def keypress(self, key: str) -> bool:
        if not self.order:
            return False
        pos = self.walker.focus or 0
        if key in ("+", "-"):
            self.move(pos, -1 if key == "+" else 1)
            return True
        if key == "delete":
            self.remove(pos)
            return True
        return False

    def change(self) -> object:
        order = list(self.order)
        extra = self.new_item.edit_text.strip()
        if extra:
            order.append(extra)
        return tuple(order) if tuple(order) != self.value else UNCHANGED


class ConsoleInput(Input):
    """One of the machine's consoles, or none (the entry's own)."""

    def __init__(self, row: Setting, value: object, consoles: Sequence[Console]) -> None:
        super().__init__(row, value or None)
        self.group: list[urwid.RadioButton] = []
        self.names: list[str | None] = [None, *(c.name for c in consoles)]
        none = _("(none: the entry's own)")
        self.radios = [
            urwid.RadioButton(self.group, none if name is None else name, state=name == self.value)
            for name in self.names
        ]

    def rows(self) -> list[urwid.Widget]:
        return [
            urwid.Divider(),
            urwid.Text(_("Default {label}:").format(label=_(self.row.label))),
            *(urwid.AttrMap(rb, "option", "focus") for rb in self.radios),
        ]

    def change(self) -> object:
        chosen = next((n for rb, n in zip(self.group, self.names, strict=True) if rb.state), None)
        return chosen if chosen != self.value else UNCHANGED


class SecretInput(Input):
    """A masked field; Clear removes the secret (and saves)."""

    def __init__(self, row: Setting, value: object, save: Callable[[], None]) -> None:
        super().__init__(row, value)
        self.edit = FieldEdit("", "", mask="*")
        self.cleared = False
        self._save = save

    def rows(self) -> list[urwid.Widget]:
        state = _("{label} (set):") if self.value else _("{label} (not set):")
        return [urwid.Divider(), labelled(state.format(label=_(self.row.label)), field(self.edit), 24)]

    def buttons(self) -> list[tuple[int, urwid.Widget]]:
        label = _("Clear {label}").format(label=_(self.row.label))
        return [(button_width(label), button(label, self.clear))]

    def clear(self) -> None:
        self.cleared = True
        self.edit.set_edit_text("")
        self._save()

    def change(self) -> object:
        if self.cleared:
            return ""
        return self.edit.edit_text or UNCHANGED


def network_summary(value: object) -> str:
    """The network setting in one line: its TOML words (interface:method,
    dns, proxy), which stay as written; only "nothing set" is translated."""
    return _("(defaults)") if value == NetworkConfig() or not str(value) else str(value)


class NetworkInput(Input):
    """What the network settings are, and a button to their own screen."""

    def __init__(self, row: Setting, value: object, open_screen: Callable[[], None] | None) -> None:
        super().__init__(row, value)
        self._open = open_screen
        self.summary = urwid.Text(network_summary(value))

    def saved_elsewhere(self, value: object) -> None:
        self.value = value
        self.summary.set_text(network_summary(value))

    def rows(self) -> list[urwid.Widget]:
        label = _(self.row.label)
        out: list[urwid.Widget] = [urwid.Divider(), labelled(_("{label}:").format(label=label), self.summary)]
        if self._open is not None:
            text = _("{label} settings").format(label=label)
            out.append(urwid.Columns([(button_width(text), button(text, self._open))]))
        return out

    def change(self) -> object:
        return UNCHANGED  # its screen saves it


class SettingsView(View):
    title = N_("Settings")
    hints = N_("Tab=next  +/-=move boot order item  Save  Esc=back  F1=help")

    def __init__(
        self,
        settings: Values,
        consoles: Sequence[Console],
        on_save: Callable[[dict[str, object]], None],
        on_cancel: Callable[[], None],
        on_network: Callable[[], None] | None = None,
    ) -> None:
        """``on_network`` opens the network settings screen."""
        self._on_save = on_save
        self.table = settings.table
        self.help = settings_help(self.table)
        self.inputs: dict[str, Input] = {}
        rows: list[urwid.Widget] = []
        extra: list[tuple[int, urwid.Widget]] = []
        self._keys_at: dict[int, Input] = {}
        for row in self.table.in_form:
            if row.secret:
                inp: Input = SecretInput(row, settings.get(f"{row.name}_set"), self.save)
            elif row.widget is Widget.CONSOLE:
                inp = ConsoleInput(row, settings.get(row.name), consoles)
            elif row.widget is Widget.NETWORK:
                inp = NetworkInput(row, settings.get(row.name), on_network)
            else:
                inp = INPUTS[Widget(row.widget)](row, settings.get(row.name))
            if inp.keys_row is not None:
                self._keys_at[len(rows) + inp.keys_row] = inp
            self.inputs[row.name] = inp
            rows += inp.rows()
            extra += inp.buttons()
        rows.append(
            urwid.Columns(
                [
                    (button_width(_("Save")), button(_("Save"), self.save)),
                    *extra,
                    (button_width(_("Cancel")), button(_("Cancel"), on_cancel)),
                ],
                dividechars=2,
            )
        )
        self.walker: urwid.SimpleFocusListWalker[Any] = urwid.SimpleFocusListWalker(rows)
        super().__init__(urwid.ListBox(self.walker))

    def input(self, name: str, kind: type[InputT]) -> InputT:
        """The input of setting ``name``, which must be a ``kind``."""
        inp = self.inputs[name]
        if not isinstance(inp, kind):
            raise TypeError(f"{name} is edited by a {type(inp).__name__}, not a {kind.__name__}")
        return inp

    @property
    def changes(self) -> dict[str, object]:
        """What differs from the settings the screen opened with."""
        out: dict[str, object] = {}
        for name, inp in self.inputs.items():
            value = inp.change()
            if value is not UNCHANGED:
                out[name] = value
        return out

    def save(self) -> None:
        self._on_save(self.changes)

    def keypress(self, size: Size, key: str) -> str | None:
        owner = self._keys_at.get(self.walker.focus or 0)
        if owner is not None and owner.keypress(key):
            return None
        if key == "tab":
            key = "down"
        elif key == "shift tab":
            key = "up"
        return super().keypress(size, key)


INPUTS: dict[Widget, Callable[[Setting, object], Input]] = {
    Widget.CHECK: CheckInput,
    Widget.SECONDS: SecondsInput,
    Widget.ORDER: OrderInput,
}
