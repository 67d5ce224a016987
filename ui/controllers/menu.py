"""The menu's picture of the daemon's inventory, and the rows it shows:
devices in a stable order, each with its options in menu order, submenus
as sub-groups, then the menu's own actions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from bootd.model import BootOption, Device, DeviceType, Trust

from ..i18n import N_, _
from ..views.menu import MenuRow, RowKind

ACTIONS: tuple[tuple[str, str], ...] = (
    ("info", N_("System information")),
    ("settings", N_("System configuration")),
    ("language", N_("Language")),
    ("log", N_("Status log")),
    ("url", N_("Retrieve config from URL")),
    ("rescan", N_("Rescan devices")),
    ("exit", N_("Exit to shell")),
)

_TYPE_ORDER = {DeviceType.DISK: 0, DeviceType.USB: 1, DeviceType.OPTICAL: 2, DeviceType.NETWORK: 3, DeviceType.ANY: 4}


@dataclass
class MenuModel:
    """Options and devices as the daemon last reported them."""

    options: dict[str, BootOption] = field(default_factory=dict)
    devices: dict[str, Device] = field(default_factory=dict)
    candidate: str | None = None
    local: dict[str, BootOption] = field(default_factory=dict)
    """Entries made or changed in this menu's editor (not the daemon's)."""

    def reset(self, devices: Iterable[Device], options: Iterable[BootOption]) -> None:
        self.devices = {d.id: d for d in devices}
        self.options = {o.id: o for o in options}

    def add_option(self, option: BootOption) -> None:
        self.options[option.id] = option

    def remove_option(self, option_id: str) -> None:
        self.options.pop(option_id, None)

    def add_device(self, device: Device) -> None:
        self.devices[device.id] = device

    def remove_device(self, device_id: str) -> None:
        self.devices.pop(device_id, None)
        for oid in [o.id for o in self.options.values() if o.device == device_id]:
            del self.options[oid]
        for oid in [o.id for o in self.local.values() if o.device == device_id]:
            del self.local[oid]

    def option(self, option_id: str) -> BootOption | None:
        return self.options.get(option_id) or self.local.get(option_id)

    def rows(self, *, allow_shell: bool = True) -> list[MenuRow]:
        options = [*self.options.values(), *(o for oid, o in self.local.items() if oid not in self.options)]
        return build_rows(self.devices, options, self.candidate, allow_shell=allow_shell)


def shown_names(options: Iterable[BootOption]) -> dict[str, str]:
    """Each option's menu text: its title, with its loader (``[kboot]``) when
    another option of the same device has the same title, and its entry id
    too when even the loader is the same."""
    opts = list(options)
    by_title: dict[tuple[str, str], list[BootOption]] = {}
    for o in opts:
        by_title.setdefault((o.device, o.name), []).append(o)
    names: dict[str, str] = {}
    for same in by_title.values():
        if len(same) == 1:
            names[same[0].id] = same[0].name
            continue
        sources = [o.source for o in same]
        for o in same:
            tag = str(o.source)
            if sources.count(o.source) > 1:
                tag += f" {o.entry_id or o.id.rpartition('/')[2]}"
            names[o.id] = f"{o.name} [{tag}]"
    return names


def build_rows(
    devices: dict[str, Device], options: Iterable[BootOption], candidate: str | None, *, allow_shell: bool = True
) -> list[MenuRow]:
    by_device: dict[str, list[BootOption]] = {}
    for o in options:
        if not o.hidden:
            by_device.setdefault(o.device, []).append(o)

    def device_key(did: str) -> tuple[int, str]:
        d = devices.get(did)
        return (_TYPE_ORDER.get(d.type, 9) if d else 9, did)

    names = shown_names(o for group in by_device.values() for o in group)
    rows: list[MenuRow] = []
    for did in sorted(by_device, key=device_key):
        d = devices.get(did)
        rows.append(MenuRow(f"dev:{did}", RowKind.DEVICE, f"[{d.title if d else did}]"))
        group: str | None = None
        for o in sorted(by_device[did], key=lambda o: (o.order, o.name)):
            if o.group != group:
                group = o.group
                if group is not None:
                    rows.append(MenuRow(f"grp:{did}:{group}", RowKind.GROUP, f"{group}:", indent=2))
            mark = trust_mark(o.trust)  # signed boot's verdict
            text = f"{names[o.id]}  {mark}" if mark else names[o.id]
            indent = 4 if group else 2
            rows.append(MenuRow(f"opt:{o.id}", RowKind.OPTION, text, marked=o.id == candidate, indent=indent))
    if not rows:
        rows.append(MenuRow("note:empty", RowKind.NOTE, _("No boot options found yet; devices are being scanned.")))
    rows.append(MenuRow("blank:actions", RowKind.BLANK, ""))
    for action, text in ACTIONS:
        if action == "exit" and not allow_shell:
            continue
        rows.append(MenuRow(f"act:{action}", RowKind.ACTION, _(text)))
    return rows


TRUST_MARKS = {
    Trust.VERIFIED: N_("[verified]"),
    Trust.UNSIGNED: N_("[unsigned]"),
    Trust.BAD_SIGNATURE: N_("[bad signature]"),
    Trust.TAMPERED: N_("[TAMPERED]"),
    Trust.ERROR: N_("[not checked]"),
}


def trust_mark(trust: Trust) -> str:
    """The menu's tag for an option's trust state, in the menu's language ('' when unchecked)."""
    mark = TRUST_MARKS.get(trust)
    return _(mark) if mark is not None else ""
