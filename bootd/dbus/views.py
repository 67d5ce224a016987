"""What :class:`~bootd.dbus.client.BootdClient` hands out about the daemon
itself: :class:`DaemonState` (the Manager interface's properties) and
:class:`~bootd.settings_table.SettingsView` (the Settings interface's properties), built from the
plain property dicts the client keeps (D-Bus variants already unwrapped).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bootd.dbus import codec, names
from bootd.model import BootRecord, Console, State
from bootd.settings_table import TABLE, Setting, SettingsView, Table


@dataclass(frozen=True)
class DaemonState:
    state: str = State.IDLE
    autoboot_option: str | None = None
    """Id of the option the countdown will boot."""
    autoboot_remaining: float | None = None
    """Seconds left; None when no countdown runs."""
    next_boot: str | None = None
    version: str = ""
    platform: str = ""
    arch: str = ""
    firmware: str = ""
    lockdown: str = ""
    auth_required: bool = False
    consoles: tuple[Console, ...] = ()
    last_boot: BootRecord = field(default_factory=BootRecord)


def state_from_props(p: Mapping[str, Any]) -> DaemonState:
    """The Manager interface's properties as a :class:`DaemonState`."""
    opt = p.get("AutobootOption", names.NO_OBJECT)
    nxt = p.get("NextBoot", names.NO_OBJECT)
    rem = float(p.get("AutobootRemaining", -1.0))
    return DaemonState(
        state=str(p.get("State", "idle")),
        autoboot_option=names.option_id_from_path(opt) if opt != names.NO_OBJECT else None,
        autoboot_remaining=rem if rem >= 0 else None,
        next_boot=names.option_id_from_path(nxt) if nxt != names.NO_OBJECT else None,
        version=str(p.get("Version", "")),
        platform=str(p.get("Platform", "")),
        arch=str(p.get("Architecture", "")),
        firmware=str(p.get("Firmware", "")),
        lockdown=str(p.get("Lockdown", "")),
        auth_required=bool(p.get("AuthRequired", False)),
        consoles=tuple(codec.consoles_from_dbus(p.get("Consoles", []))),
        last_boot=codec.boot_record_from_dbus(p.get("LastBoot", {})),
    )


def _typed(row: Setting, value: Any) -> object:
    kind = {"b": bool, "u": int, "s": str, "as": tuple}[row.signature]
    return kind(value)


def settings_from_props(p: Mapping[str, Any], table: Table = TABLE) -> SettingsView:
    """The Settings interface's properties as a :class:`SettingsView` (by the table)."""
    values: dict[str, object] = {}
    for row in table.on_bus:
        if row.secret:
            values[f"{row.name}_set"] = bool(p.get(row.set_property, False))
        elif row.dbus in p:
            values[row.name] = _typed(row, p[row.dbus])
    return SettingsView(values, problems=tuple(str(x) for x in p.get(names.PROBLEMS_PROPERTY, ())), table=table)


__all__ = ["DaemonState", "SettingsView", "settings_from_props", "state_from_props"]
