"""Editing and making entries, as Petitboot does: the editor's OK puts the
changed copy (or the new entry) in the menu, selected, and Enter there
boots it.  The copies live in this menu only; the daemon learns of one when
it is booted."""

from __future__ import annotations

from dataclasses import dataclass, replace

from bootd.errors import BootdError
from bootd.model import BootOption, DeviceType, Severity, Trust

from ..i18n import _, error_text
from ..views.editor import MANUAL, EditFields, EditorView
from .edit import edited, fields_of, new_option
from .host import Host
from .menu import trust_mark


@dataclass(frozen=True)
class LocalEntry:
    """An entry made in this menu: what it shows and how it boots."""

    shown: BootOption
    original: BootOption
    custom: BootOption | None
    """Booted with BootCustom; None: boot ``original`` with ``args``."""
    args: str | None


class EditController:
    def __init__(self, app: Host) -> None:
        self.app = app
        self.entries: dict[str, LocalEntry] = {}
        self._made = 0

    def devices(self) -> list[tuple[str, str]]:
        """The devices files can be on (not network interfaces: those are URLs)."""
        devs = [d for d in self.app.model.devices.values() if d.type is not DeviceType.NETWORK]
        return [(d.id, d.title) for d in sorted(devs, key=lambda d: d.id)]

    def edit(self, option: BootOption) -> None:
        entry = self.entries.get(option.id)
        base = entry.original if entry is not None else option
        ids = [d for d, _t in self.devices()]
        fields = fields_of(option if entry is None or entry.custom is None else entry.custom, ids)
        if entry is not None and entry.custom is None:
            fields = replace(fields, args=entry.args or "")
        fields = replace(fields, name=base.name)
        view = EditorView(
            fields,
            lambda f: self.save(base, f),
            self.app.back,
            devices=self.devices(),
            on_help=self.app.show_help,
            trust=trust_text(base),
        )
        self.app.push(view)

    def new(self) -> None:
        devices = self.devices()
        fields = EditFields(
            name="", kernel="", initrds="", dtb="", args="", device=devices[0][0] if devices else MANUAL
        )
        view = EditorView(fields, self.save_new, self.app.back, devices=devices, on_help=self.app.show_help)
        view.walker.set_focus(view.first_field)
        self.app.push(view)

    def save(self, option: BootOption, fields: EditFields) -> None:
        try:
            custom, args = edited(option, fields, [d for d, _t in self.devices()])
        except BootdError as e:
            self.app.status(error_text(e), Severity.ERROR)
            return
        shown = custom or replace(
            option,
            id=f"{option.id}#edited",
            name=_("{name} (edited)").format(name=option.name),
            args=args or "",
            default=False,
        )
        # an edited copy is not what was checked: no trust mark (the daemon checks it when it boots)
        shown = replace(shown, order=option.order, trust=Trust.UNCHECKED, trust_reason="")
        self._put(LocalEntry(shown, option, custom, args))

    def save_new(self, fields: EditFields) -> None:
        self._made += 1
        try:
            option = new_option(fields, self._made)
        except BootdError as e:
            self._made -= 1
            self.app.status(error_text(e), Severity.ERROR)
            return
        self._put(LocalEntry(option, option, option, None))

    def _put(self, entry: LocalEntry) -> None:
        self.entries[entry.shown.id] = entry
        self.app.model.local[entry.shown.id] = entry.shown
        self.app.to_menu()
        self.app.menu.focus_key(f"opt:{entry.shown.id}")
        self.app.status(_("{name}: press Enter to boot it (the disk is not changed)").format(name=entry.shown.name))

    def boot(self, option_id: str) -> bool:
        """Boot a local entry; False when ``option_id`` is none of them."""
        entry = self.entries.get(option_id)
        if entry is None:
            return False
        if entry.shown.device and entry.shown.device not in self.app.model.devices:
            self.app.status(_("{name}: its device is gone").format(name=entry.shown.name), Severity.ERROR)
            return True
        self.app.boots.boot(entry.original if entry.custom is None else entry.custom, entry.custom, entry.args)
        return True


def trust_text(option: BootOption) -> str:
    """Signed boot's verdict for the editor: ``[TAMPERED] kernel …: BAD signature …``."""
    return f"{trust_mark(option.trust)} {option.trust_reason}".strip()
