"""Which entry is the default: GRUB's rules, exactly one default."""

from __future__ import annotations

import pytest

from bootd.parsers.grub import grubenv
from tests.unit.grub.conftest import Run

MENU = """
menuentry 'Debian' --id deb { linux /deb }
submenu 'Advanced options' --id adv {
  menuentry 'Debian 6.1' --id deb-6.1 { linux /6.1 }
  menuentry 'Debian 6.1 (recovery)' --id deb-6.1-rec { linux /6.1 single }
  submenu 'Older' --id old { menuentry 'Debian 5.10' --id deb-5.10 { linux /5.10 } }
}
menuentry 'Other' --id other { linux /other }
"""


def default_of(run: Run, setup: str, **kwargs: object) -> str:
    out = run(setup + "\n" + MENU, **kwargs)
    defaults = [o.name for o in out.options if o.default]
    assert len(defaults) == 1
    return defaults[0]


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("", "Debian"),
        ("set default=0", "Debian"),
        ("set default=2", "Other"),
        ("set default=1", "Debian 6.1"),
        ("set default='1>1'", "Debian 6.1 (recovery)"),
        ("set default='1>2>0'", "Debian 5.10"),
        ("set default='1>2'", "Debian 5.10"),
        # A bare id is looked up in the top menu only, as GRUB does (hence 'adv>id').
        ("set default=deb-6.1-rec", "Debian"),
        ("set default='adv>deb-6.1-rec'", "Debian 6.1 (recovery)"),
        ("set default='Advanced options>Debian 6.1 (recovery)'", "Debian 6.1 (recovery)"),
        ("set default='Other'", "Other"),
        ("set default=other", "Other"),
        ("set default=7", "Debian"),
        ("set default=no-such-entry", "Debian"),
        ("set default='1>9'", "Debian 6.1"),
        ("set saved_entry=other\nset default=saved", "Other"),
        ('set saved_entry=adv>deb-6.1\nset default="${saved_entry}"', "Debian 6.1"),
    ],
)
def test_default_forms(run: Run, setup: str, expected: str) -> None:
    assert default_of(run, setup) == expected


DEBIAN_HEADER = """
if [ -s $prefix/grubenv ]; then
  set have_grubenv=true
  load_env
fi
if [ "${next_entry}" ] ; then
   set default="${next_entry}"
   set next_entry=
   save_env next_entry
   set boot_once=true
else
   set default="0"
fi
"""


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "Debian"),
        ({"next_entry": "adv>deb-6.1-rec"}, "Debian 6.1 (recovery)"),
        ({"next_entry": "1>0"}, "Debian 6.1"),
        ({"next_entry": "gone"}, "Debian"),
    ],
)
def test_next_entry_from_grubenv_wins(run: Run, env: dict[str, str], expected: str) -> None:
    files = {"/boot/grub/grubenv": grubenv.render(env)}
    assert default_of(run, DEBIAN_HEADER, files=files) == expected


def test_next_entry_wins_even_without_header_logic(run: Run) -> None:
    files = {"/boot/grub/grubenv": grubenv.render({"next_entry": "other", "saved_entry": "deb"})}
    assert default_of(run, 'load_env\nset default="${saved_entry}"', files=files) == "Other"


def test_default_entry_that_cannot_boot_falls_back_to_first(run: Run) -> None:
    out = run("set default=1\nmenuentry A { linux /a }\nmenuentry Win { chainloader +1 }\nmenuentry B { linux /b }")
    assert [(o.name, o.default) for o in out.options] == [("A", True), ("B", False)]
    assert any("cannot be booted" in d.message for d in out.diagnostics)


def test_submenu_default_inside_submenu(run: Run) -> None:
    out = run("set default=0\nsubmenu S { set default=1\n menuentry A { linux /a }\n menuentry B { linux /b } }")
    assert [(o.name, o.default) for o in out.options] == [("A", False), ("B", True)]


def test_greater_than_inside_titles_is_doubled(run: Run) -> None:
    out = run(
        "set default='Menu>>1>Entry >> x'\nmenuentry A { linux /a }\n"
        "submenu 'Menu>1' { menuentry 'Entry > x' { linux /x } }"
    )
    assert [(o.name, o.default) for o in out.options] == [("A", False), ("Entry > x", True)]


def test_hidden_entries_do_not_count_in_indices(run: Run) -> None:
    out = run(
        "set default=1\nhiddenentry 'Text mode' --hotkey t { linux /text }\n"
        "menuentry A { linux /a }\nmenuentry B { linux /b }"
    )
    assert [(o.name, o.default, o.hidden) for o in out.options] == [
        ("Text mode", False, True),
        ("A", False, False),
        ("B", True, False),
    ]
