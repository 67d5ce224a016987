from __future__ import annotations

from pathlib import Path

import pytest

from ui.__main__ import build_parser, console_of, wants_colour, wants_utf8


def test_tty_names_the_console() -> None:
    assert console_of(Path("/dev/hvc0")) == "hvc0"
    assert console_of(Path("/dev/tty1")) == "tty1"


def test_ascii_for_old_terminals_and_explicitly() -> None:
    assert not wants_utf8("vt100", ascii_only=False)
    assert not wants_utf8("vt220", ascii_only=False)
    assert not wants_utf8("xterm-256color", ascii_only=True)


def test_colour_off_for_mono_terminals_flag_and_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert wants_colour("xterm-256color", mono=False)
    assert wants_colour("linux", mono=False)
    assert not wants_colour("vt100", mono=False)
    assert not wants_colour("xterm", mono=True)
    monkeypatch.setenv("NO_COLOR", "1")
    assert not wants_colour("xterm", mono=False)


def test_arguments() -> None:
    args = build_parser().parse_args(["--tty", "/dev/hvc0", "--bus", "unix:path=/run/x", "--exit-on-boot"])
    assert args.tty == Path("/dev/hvc0") and args.bus == "unix:path=/run/x" and args.exit_on_boot


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "bootd-menu: the menu needs a terminal: run it on a console, or give --tty DEV\n"),
        (["--tty", "/nonexistent/tty9"], "bootd-menu: cannot open /nonexistent/tty9: No such file or directory\n"),
        (["--tty", "/dev/null"], "bootd-menu: /dev/null is not a terminal\n"),
    ],
)
def test_without_a_terminal_a_clear_message(argv: list[str], message: str) -> None:
    import subprocess
    import sys

    r = subprocess.run(
        [sys.executable, "-m", "ui", "--bus", "unix:path=/nonexistent/bus", *argv],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (r.returncode, r.stderr, r.stdout) == (1, message, "")


@pytest.mark.parametrize(
    ("env", "utf8"),
    [
        ({"LANG": "C"}, False),
        ({"LANG": "C", "LC_CTYPE": "C.UTF-8"}, False),  # what Python itself makes of a C locale
        ({"LANG": "POSIX"}, False),
        ({}, False),
        ({"LANG": "de_DE.UTF-8"}, True),
        ({"LANG": "C", "LC_ALL": "en_US.utf8"}, True),
        ({"LANG": "en_US.UTF-8", "LC_ALL": "C"}, False),
        ({"LANG": "de_DE@euro"}, False),
    ],
)
def test_utf8_follows_the_locale_the_person_chose(env: dict[str, str], utf8: bool) -> None:
    assert wants_utf8("linux", ascii_only=False, env=env) is utf8
