"""The autoboot reason and the settings warnings the daemon reports carry
their templates, and the menu's and ``bootd status``'s catalogues translate
them (German and Simplified Chinese, from ui/po and bootd/po as written)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bootd import settings
from bootd.discovery.network_settings import load_network_settings
from bootd.model import N_, Text
from bootd.policy import choose
from tests.unit.daemon.test_policy import ALL, DEVICES
from tests.unit.ui.test_translations import catalogue


def _in(lang: str, folder: str = "ui") -> Callable[[str], str]:
    table = catalogue(lang, folder)
    return lambda m: table.get(m) or m


@pytest.mark.parametrize("folder", ["ui", "bootd"])
def test_the_reason_a_higher_candidate_replaces_the_countdown_is_translated(folder: str) -> None:
    c = choose(ALL, DEVICES, ["network", "disk"], incumbent="sda1/a")
    assert c is not None and c.reason.template
    message = Text.of(N_("Autoboot now boots {name}: {reason}"), name=c.option.name, reason=c.reason)
    de = message.translated(_in("de", folder))
    assert de == (
        "Autostart startet jetzt eth0/d: Standardeintrag, Startreihenfolge 'network'; ersetzt sda1/a (sda1/a): "
        "in der Startreihenfolge steht 'network' vor 'disk'"
    )
    zh = message.translated(_in("zh_CN", folder))
    assert "eth0/d" in zh and "'network'" in zh and "boot order" not in zh and "Autoboot" not in zh


@pytest.mark.parametrize(
    ("order", "incumbent", "english"),
    [
        (["any"], "eth0/d", "device sda1 comes before eth0 (boot order 'any')"),
        (["any"], None, "default entry, boot order 'any'"),
    ],
)
def test_every_autoboot_reason_has_a_template_both_catalogues_know(
    order: list[str], incumbent: str | None, english: str
) -> None:
    c = choose(ALL, DEVICES, order, incumbent=incumbent)
    assert c is not None and english in c.reason.text
    for lang in ("de", "zh_CN"):
        for folder in ("ui", "bootd"):
            said = c.reason.translated(_in(lang, folder))
            assert said != c.reason.text and "'any'" in said


@pytest.mark.parametrize("folder", ["ui", "bootd"])
def test_the_settings_warnings_carry_templates_and_are_translated(tmp_path: Path, folder: str) -> None:
    p = settings.Paths(tmp_path)
    p.main.parent.mkdir(parents=True, exist_ok=True)
    p.main.write_text('timeout = -1\ncolour = "red"\nautoboot = "maybe"\n')
    warnings: list[Text] = []
    settings.load(p, warn=warnings.append)
    english = [w.text for w in warnings]
    assert f"{p.main}: timeout must be a whole number of seconds from 0 to 86400, not -1; ignoring it" in english
    assert all(w.template for w in warnings)
    de = [w.translated(_in("de", folder)) for w in warnings]
    # the menu's catalogue breaks its lines at 78 columns; the command line's does not
    wrap = "\n" if folder == "ui" else " "
    assert (
        f"{p.main}: timeout muss eine ganze Zahl von Sekunden zwischen 0 und 86400 sein, nicht{wrap}-1; wird ignoriert"
        in de
    )
    assert f"{p.main}: autoboot muss true oder false sein, nicht 'maybe'; wird ignoriert" in de
    assert any(s.startswith(f"{p.main}: unbekannte Einstellung 'colour' (bekannt: ") for s in de)
    zh = [w.translated(_in("zh_CN", folder)) for w in warnings]
    assert f"{p.main}：autoboot 必须是 true 或 false，而不是 'maybe'；已忽略" in zh


def test_a_broken_network_table_warns_in_the_menus_language(tmp_path: Path) -> None:
    p = settings.Paths(tmp_path)
    p.main.parent.mkdir(parents=True, exist_ok=True)
    p.main.write_text("network = 5\n")
    warnings: list[Text] = []
    load_network_settings(p, warnings.append)
    assert [w.text for w in warnings] == [f"{p.main}: [network] must be a table; ignoring it"]
    assert warnings[0].translated(_in("de")) == f"{p.main}: [network] muss eine Tabelle sein; wird ignoriert"
