"""What the settings table documents is what it declares: the shipped
config/bootd.toml, the README's settings table and Settings1 in
org.bootd.xml are its renderings (``make settings-docs`` rewrites them)."""

from __future__ import annotations

import tomllib

from bootd import settings, settings_table
from tests import settings_docs


def test_the_documented_defaults_are_the_table_rendered() -> None:
    assert settings_docs.CONFIG.read_text(encoding="utf-8") == settings_docs.config_text(), "run make settings-docs"


def test_the_readme_settings_table_is_the_table_rendered() -> None:
    readme = settings_docs.README.read_text(encoding="utf-8")
    assert readme == settings_docs.readme_text(readme), "run make settings-docs"
    for row in settings_table.TABLE:
        assert f"| `{row.name}` |" in readme


def test_the_shipped_settings1_introspection_is_the_table_rendered() -> None:
    xml = settings_docs.XML.read_text(encoding="utf-8")
    assert xml == settings_docs.xml_text(xml), "run make settings-docs"


def test_the_rendered_defaults_read_back_as_the_defaults() -> None:
    data = tomllib.loads(settings_docs.config_text())
    assert tuple(data) == settings.KEYS
    assert settings.merge([settings.Layer("rendered", data)]) == settings.DEFAULTS


def test_a_stale_readme_is_caught() -> None:
    readme = settings_docs.README.read_text(encoding="utf-8")
    stale = readme.replace("| `timeout` | seconds | `10` |", "| `timeout` | seconds | `11` |")
    assert stale != readme and settings_docs.readme_text(stale) == readme
