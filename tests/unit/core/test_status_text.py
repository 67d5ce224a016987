"""A daemon message as a template and its arguments (:class:`bootd.model.Text`):
the English text for every client, the translation where a catalogue has one,
and a Status signal from an older or a hostile daemon read safely."""

from __future__ import annotations

from bootd.dbus.client import _status_text
from bootd.model import MAX_TEXT_ARGS, N_, Text

GERMAN = {"Booting {name}": "{name} wird gestartet", "Boot of {name} failed: {error}": "Start: {name} {missing}"}


def german(message: str) -> str:
    return GERMAN.get(message, message)


def test_a_text_is_its_english_text_made_from_a_template() -> None:
    t = Text.of(N_("Booting {name}"), name="Fedora {40}")
    assert str(t) == t.text == "Booting Fedora {40}"
    assert t.template == "Booting {name}" and t.args == (("name", "Fedora {40}"),)


def test_a_client_translates_the_template_and_fills_in_the_arguments() -> None:
    assert Text.of("Booting {name}", name="Fedora {0} {name}").translated(german) == "Fedora {0} {name} wird gestartet"


def test_what_the_catalogue_does_not_know_stays_english() -> None:
    assert Text.of("Rescanning devices").translated(german) == "Rescanning devices"
    assert Text("a library's own words").translated(german) == "a library's own words"
    bad = Text.of("Boot of {name} failed: {error}", name="x", error="y")  # its translation names {missing}
    assert bad.translated(german) == "Boot of x failed: y"


def test_a_status_signal_of_an_older_daemon_has_no_template() -> None:
    assert _status_text(["info", "Booting Fedora"]) == Text("Booting Fedora")


def test_a_status_signal_is_read_within_bounds() -> None:
    many = {f"k{i}": "v" * 10 for i in range(1000)}
    t = _status_text(["info", "text", "Booting {name}", many])
    assert t.text == "text" and len(t.args) == MAX_TEXT_ARGS
    assert _status_text(["info", "text", "Booting {name}", ["not", "a", "dict"]]).args == ()
    # the template from the bus is only a key: a format string in it is never used
    hostile = _status_text(["info", "text", "{name:>999999999}", {"name": "x"}])
    assert hostile.translated(lambda m: m) == "text"


def test_a_text_inside_an_argument_is_translated_by_its_own_template() -> None:
    words = {
        "Autoboot now boots {name}: {reason}": "Autostart startet jetzt {name}: {reason}",
        "boot order {first} comes before {second}": "Bootreihenfolge: {first} vor {second}",
    }
    why = Text.of(N_("boot order {first} comes before {second}"), first="'network'", second="'disk'")
    t = Text.of(N_("Autoboot now boots {name}: {reason}"), name="eth0/d", reason=why)
    assert t.text == "Autoboot now boots eth0/d: boot order 'network' comes before 'disk'"
    assert (
        t.translated(lambda m: words.get(m, m))
        == "Autostart startet jetzt eth0/d: Bootreihenfolge: 'network' vor 'disk'"
    )
    # the outer message untranslated: all of it stays English
    assert t.translated(lambda m: m) == t.text
    # a nested template the catalogue lacks leaves that part English
    only_outer = {"Autoboot now boots {name}: {reason}": "Autostart startet jetzt {name}: {reason}"}
    assert t.translated(lambda m: only_outer.get(m, m)).endswith(": boot order 'network' comes before 'disk'")


def test_a_nested_template_from_the_bus_is_only_a_key() -> None:
    hostile = _status_text(
        ["info", "Booting x", "Booting {name}", {"name": "x", "name.template": "{a:>999999999}", "name.a": "y"}]
    )
    assert hostile.translated(german) == "x wird gestartet"
