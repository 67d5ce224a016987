"""Every string the menu marks for translation (``_()``/``N_()`` in ui/, and
the settings form's labels and help that bootd/settings_table.py marks) has a
German and a Simplified Chinese translation, keeps its ``{placeholders}``, and
every translated line fits an 80-column console."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import urwid

from bootd.settings_table import TABLE

ROOT = Path(__file__).resolve().parents[3]
LANGS = ("de", "zh_CN")


def marked(folder: str = "ui") -> set[str]:
    found: set[str] = set()
    where = ROOT / folder
    for path in [where] if where.is_file() else where.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("_", "N_")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.add(node.args[0].value)
    return found


def form_strings() -> set[str]:
    """The settings table's labels and form help, as the menu looks them up
    (``setting()`` dedents the help)."""
    return {text for row in TABLE.in_form for text in (row.label, row.form_help)}


def test_the_settings_tables_form_texts_are_marked() -> None:
    """Each label is marked with N_ where it is declared (the help texts are
    dedented when declared, so they are checked through the table above)."""
    assert marked("bootd/settings_table.py") >= {row.label for row in TABLE.in_form}


def _unquote(parts: list[str]) -> str:
    return "".join(ast.literal_eval(p) for p in parts)


def catalogue(lang: str, folder: str = "ui") -> dict[str, str]:
    """msgid -> msgstr of FOLDER/po/LANG.po."""
    entries: dict[str, str] = {}
    key: list[str] = []
    value: list[str] = []
    current: list[str] | None = None
    for line in [*(ROOT / folder / "po" / f"{lang}.po").read_text().splitlines(), ""]:
        if line.startswith("msgid "):
            if key or value:
                entries[_unquote(key)] = _unquote(value)
            key, value, current = [line[6:]], [], None
            current = key
        elif line.startswith("msgstr "):
            value = [line[7:]]
            current = value
        elif line.startswith('"') and current is not None:
            current.append(line)
    if key:
        entries[_unquote(key)] = _unquote(value)
    entries.pop("", None)
    return entries


@pytest.mark.parametrize("lang", LANGS)
def test_every_marked_string_is_translated(lang: str) -> None:
    strings = marked() | marked("bootd/model.py")  # Transfer.describe speaks in the menu's words too | form_strings()
    assert len(strings) > 25
    table = catalogue(lang)
    missing = sorted(s for s in strings if not table.get(s))
    assert missing == [], f"{lang}.po lacks translations of {missing}"


@pytest.mark.parametrize("lang", LANGS)
def test_translations_keep_placeholders_and_fit_80_columns(lang: str) -> None:
    for msgid, msgstr in catalogue(lang).items():
        assert sorted(re.findall(r"\{\w+\}", msgid)) == sorted(re.findall(r"\{\w+\}", msgstr)), msgid
        for line in msgstr.splitlines():
            assert urwid.calc_width(line, 0, len(line)) <= 78, (lang, line)


@pytest.mark.parametrize("lang", LANGS)
def test_the_client_commands_messages_are_translated(lang: str) -> None:
    strings = marked("bootd/cli") | marked("bootd/__main__.py") | marked("bootd/model.py")
    assert len(strings) >= 60
    table = catalogue(lang, "bootd")
    assert sorted(s for s in strings if not table.get(s)) == []
    for msgid, msgstr in table.items():
        assert sorted(re.findall(r"\{\w+\}", msgid)) == sorted(re.findall(r"\{\w+\}", msgstr)), msgid


def daemon_marked() -> set[str]:
    """The daemon's status messages: what ``N_()`` marks in bootd/ beside the
    client commands, the settings table and the model (checked above)."""
    skip = ("bootd/cli/", "bootd/__main__.py", "bootd/settings_table.py", "bootd/model.py")
    found: set[str] = set()
    for path in sorted((ROOT / "bootd").rglob("*.py")):
        if not str(path.relative_to(ROOT)).startswith(skip):
            found |= marked(str(path.relative_to(ROOT)))
    # the settings table's own messages (an unknown setting: templates with fields), beside
    # its form labels and help checked above
    own = {s for s in marked("bootd/settings_table.py") if "{" in s} - {row.label for row in TABLE.rows}
    return found | own


@pytest.mark.parametrize("folder", ["ui", "bootd"])
@pytest.mark.parametrize("lang", LANGS)
def test_the_daemons_status_messages_are_in_both_catalogues(lang: str, folder: str) -> None:
    """The menu (ui/po) and ``bootd status`` (bootd/po) each translate the daemon's status templates."""
    strings = daemon_marked()
    assert {"Booting {name}", "Boot of {name} failed: {error}", "Autoboot cancelled"} <= strings
    # why autoboot boots what it boots, and the settings warnings of the status line
    assert {
        "default entry, boot order {selector}; replaces {old} ({old_id}): {why}",
        "device {first} comes before {second} (boot order {selector})",
        "{device} (next boot only)",
        "{layer}: {error}; ignoring it",
        "{key} must be true or false, not {value}",
        "unknown setting {key} (known: {known})",
        "{path}: [network] must be a table; ignoring it",
    } <= strings
    table = catalogue(lang, folder)
    assert sorted(s for s in strings if not table.get(s)) == []
    for s in strings:
        assert sorted(re.findall(r"\{\w+\}", s)) == sorted(re.findall(r"\{\w+\}", table[s])), s
