"""The settings table: one row per Settings field, what each part derives
from it, and the mistakes it refuses when it is built."""

from __future__ import annotations

from dataclasses import dataclass, fields

import pytest

from bootd import settings
from bootd.dbus import names, schema
from bootd.dbus.views import SettingsView
from bootd.errors import ConfigError
from bootd.settings_table import TABLE, Setting, Settings, Table, Widget, check_bool, setting
from ui.views.settings import settings_help


def test_every_settings_field_is_a_row_with_its_type_and_default() -> None:
    assert TABLE.keys == tuple(f.name for f in fields(Settings)) == settings.KEYS
    assert TABLE.row("timeout").type is int and TABLE.row("timeout").default == 10
    assert TABLE.row("boot_order").signature == "as" and TABLE.row("boot_order").default == ("any",)
    assert settings.DEFAULTS == Settings()


def test_what_settings1_carries_is_what_it_always_carried() -> None:
    assert names.SETTING_PROPERTIES == {
        "autoboot": ("Autoboot", "b"),
        "timeout": ("Timeout", "u"),
        "boot_order": ("BootOrder", "as"),
        "console": ("Console", "s"),
        "restrict": ("Restrict", "s"),
        "password": ("Password", "s"),
        "scan_loop_devices": ("ScanLoopDevices", "b"),
        "allow_shell": ("AllowShell", "b"),
        "auth_timeout": ("AuthTimeout", "u"),
    }
    props = {p.name: (p.sig, p.access) for p in schema.SETTINGS.properties}
    assert props["Password"] == ("s", "write") and props["PasswordSet"] == ("b", "read")
    assert props["Problems"] == ("as", "read")


def test_the_nvram_keys_are_petitboots() -> None:
    assert {r.nvram: r.name for r in TABLE if r.nvram} == {
        "auto-boot?": "autoboot",
        "petitboot,timeout": "timeout",
        "petitboot,bootdevs": "boot_order",
        "petitboot,console": "console",
    }
    assert TABLE.nvram_values({"petitboot,console": "", "petitboot,timeout": ""}) == {"timeout": ""}


def test_an_unknown_key_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown setting 'colour' \(known: autoboot, timeout, boot_order"):
        TABLE.validate("colour", "red")


def test_a_field_declared_without_setting_is_refused() -> None:
    @dataclass(frozen=True)
    class Loose(Settings):
        colour: str = "red"

    with pytest.raises(TypeError, match="not declared with"):
        Table(Loose)


def test_two_settings_cannot_claim_one_property() -> None:
    twin = Setting(check_bool, "twin", name="twin", type=bool, default=False, dbus="Autoboot")
    with pytest.raises(TypeError, match="Autoboot"):
        TABLE.extend(twin)
    shadow = Setting(check_bool, "shadow", name="shadow", type=bool, default=False, dbus="PasswordSet")
    with pytest.raises(TypeError, match="PasswordSet"):
        TABLE.extend(shadow)


def test_a_type_the_bus_cannot_carry_is_refused() -> None:
    ratio = Setting(lambda _k, v: float(v), "ratio", name="ratio", type=float, default=0.5, dbus="Ratio")
    with pytest.raises(TypeError, match="no D-Bus signature"):
        schema.settings_interface(TABLE.extend(ratio))


def test_an_extended_table_keeps_the_built_in_rows_and_types() -> None:
    extended = TABLE.extend(Setting(check_bool, "beep", name="beep", type=bool, default=True))
    assert extended.keys == (*TABLE.keys, "beep")
    s = extended.defaults()
    assert isinstance(s, Settings) and s.timeout == 10
    assert settings.merge([settings.Layer("t", {"beep": "off"})], table=extended) == extended.cls(beep=False)  # type: ignore[call-arg]


def test_the_view_reads_settings_by_name_and_hides_secrets() -> None:
    view = SettingsView(timeout=5, password_set=True)
    assert (view.timeout, view.autoboot, view.password_set) == (5, True, True)
    with pytest.raises(AttributeError):
        _ = view.password
    with pytest.raises(AttributeError):
        _ = view.signed_boot  # the files only: a client never sees it
    with pytest.raises(TypeError, match="not settings a client sees"):
        SettingsView(measured_boot=True)
    assert view.replace(timeout=6).timeout == 6 and view.timeout == 5


def test_the_form_help_lists_each_field_of_the_form() -> None:
    text = settings_help(TABLE).splitlines()
    assert [line.split("  ")[0] for line in text if line and not line[0].isspace()][1:6] == [
        r.label for r in TABLE.in_form
    ]
    assert "Boot order     which devices autoboot prefers, first match wins; on an" in text
    assert "               item press + or - to move it up or down, Del to remove it;" in text
    assert [r.widget for r in TABLE.in_form] == [
        Widget.CHECK,
        Widget.SECONDS,
        Widget.ORDER,
        Widget.CONSOLE,
        Widget.SECRET,
    ]


def test_setting_declares_a_field_with_its_row() -> None:
    @dataclass(frozen=True)
    class More(Settings):
        beep: bool = setting(False, check_bool, "  Beep.\n", dbus="Beep")

    row = Table(More).row("beep")
    assert (row.name, row.type, row.default, row.help, row.signature) == ("beep", bool, False, "Beep.", "b")
