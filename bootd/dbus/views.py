"""What :class:`~bootd.dbus.client.BootdClient` hands out about the daemon
itself: :class:`DaemonState` (the Manager interface's properties) and
:class:`SettingsView` (the Settings interface's properties), built from the
plain property dicts the client keeps (D-Bus variants already unwrapped).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from bootd.dbus import codec, names
from bootd.model import BootRecord, Console, State
from bootd.settings_table import TABLE, Setting, Table


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


class SettingsView:
    """The settings a client sees (those ``Settings1`` carries), read as
    attributes by their ``bootd.toml`` names (``view.timeout``); a secret
    shows only whether it is set (``view.password_set``).  Unknown names raise
    AttributeError; settings not given are the table's defaults."""

    __slots__ = ("_values", "problems", "table")

    def __init__(
        self,
        values: Mapping[str, object] | None = None,
        *,
        problems: tuple[str, ...] = (),
        table: Table = TABLE,
        **more: object,
    ) -> None:
        given = {**(values or {}), **more}
        out: dict[str, object] = {}
        for s in table.on_bus:
            key = f"{s.name}_set" if s.secret else s.name
            out[key] = given.pop(key, False if s.secret else s.default)
        if given:
            raise TypeError(f"not settings a client sees: {', '.join(sorted(given))}")
        object.__setattr__(self, "_values", out)
        object.__setattr__(self, "problems", tuple(problems))
        object.__setattr__(self, "table", table)

    def __getattr__(self, name: str) -> Any:
        try:
            return object.__getattribute__(self, "_values")[name]
        except KeyError:
            raise AttributeError(f"no setting {name!r} on the bus") from None

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("a SettingsView is read-only; use replace()")

    def get(self, key: str) -> object:
        """The value of ``key`` (``<secret>_set`` for a secret)."""
        return self.__getattr__(key)

    def items(self) -> Iterator[tuple[str, object]]:
        return iter(self._values.items())

    def replace(self, **changes: object) -> SettingsView:
        return SettingsView({**self._values, **changes}, problems=self.problems, table=self.table)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SettingsView) and (self._values, self.problems) == (other._values, other.problems)

    def __hash__(self) -> int:
        return hash((tuple(self._values.items()), self.problems))

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self._values.items())
        return f"SettingsView({inner}, problems={self.problems!r})"


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
