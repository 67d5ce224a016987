"""``bootd-menu``: the console boot menu.

Runs on the terminal it is started on, or on ``--tty DEV`` (one per console
under systemd: ``bootd-menu@hvc0.service``), and talks to the daemon on the
system bus, or on ``--bus ADDRESS`` (default ``$BOOTD_BUS``, as the ``bootd`` client).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TextIO

from bootd import __version__
from bootd.errors import BootdError

from .i18n import N_

log = logging.getLogger("ui")

ASCII_TERMS = ("vt100", "vt102", "vt220", "vt52", "dumb", "ansi")
MONO_TERMS = ("vt100", "vt102", "vt220", "vt52", "dumb")


def build_parser() -> argparse.ArgumentParser:
    """The command line, in English (the man page's); ``--help`` and argparse's
    errors are translated as they are printed (:mod:`ui.cli_help`)."""
    from .cli_help import Parser

    p = Parser(prog="bootd-menu", description=N_("The bootd console boot menu."))
    p.add_argument("--version", action="version", version=f"bootd-menu {__version__}")
    p.add_argument("--tty", type=Path, metavar="DEV", help=N_("run on this terminal device (/dev/hvc0, /dev/tty1)"))
    p.add_argument(
        "--bus",
        metavar="ADDRESS",
        help=N_("D-Bus address of the daemon's bus (default: $BOOTD_BUS, else the system bus)"),
    )
    p.add_argument("--session", action="store_true", help=N_("use the session bus"))
    p.add_argument("--ascii", action="store_true", help=N_("draw with ASCII only (also when the locale is not UTF-8)"))
    p.add_argument("--mono", action="store_true", help=N_("no colours (also when NO_COLOR is set or TERM is vt100)"))
    p.add_argument("--exit-on-boot", action="store_true", help=N_("leave once a boot was carried out (demo)"))
    p.add_argument(
        "--shell",
        metavar="PROGRAM",
        help=N_(
            "run PROGRAM on the terminal when the person exits to the shell (it replaces the menu; "
            "under systemd the menu comes back when it ends); default: just leave"
        ),
    )
    p.add_argument("--log", type=Path, metavar="FILE", help=N_("write log messages to FILE (never to the screen)"))
    return p


def console_of(tty: Path | None) -> str | None:
    """The kernel console name of the terminal the menu runs on."""
    if tty is not None:
        return tty.name
    try:
        name = os.ttyname(0)
    except OSError:
        return None
    return Path(name).name if not name.startswith("/dev/pts/") else None


def locale_name(env: Mapping[str, str]) -> str:
    """The character-type locale the person chose: LC_ALL, else LC_CTYPE, else
    LANG.  Python itself turns a C locale into C.UTF-8 (it sets LC_CTYPE and
    its UTF-8 mode, PEP 538/540), which says nothing about the terminal: a
    C.UTF-8 LC_CTYPE over a C (or no) LANG counts as the C locale."""
    if env.get("LC_ALL"):
        return env["LC_ALL"]
    ctype = env.get("LC_CTYPE", "")
    coerced = ctype in ("C.UTF-8", "C.utf8", "UTF-8") and env.get("LANG", "C") in ("C", "POSIX")
    if ctype and not coerced:
        return ctype
    return env.get("LANG", "") or "C"


def wants_utf8(term: str, *, ascii_only: bool, env: Mapping[str, str] | None = None) -> bool:
    """UTF-8 lines and marks only where the locale says the terminal shows them."""
    if ascii_only or term.split("-")[0] in ASCII_TERMS:
        return False
    name = locale_name(os.environ if env is None else env)
    charset = name.partition(".")[2].partition("@")[0].lower().replace("-", "")
    return charset == "utf8"


def wants_colour(term: str, *, mono: bool) -> bool:
    return not (mono or os.environ.get("NO_COLOR") or term.split("-")[0] in MONO_TERMS)


SERIAL_SIZE = (24, 80)
"""Rows and columns assumed on a terminal that does not know its size (a serial line)."""


def serial_size(fd: int) -> None:
    """A serial line reports 0x0 (nothing would be drawn): give it the VT100 size."""
    import termios

    rows, cols = termios.tcgetwinsize(fd)
    if rows <= 0 or cols <= 0:
        termios.tcsetwinsize(fd, SERIAL_SIZE)


def said(message: str) -> str:
    """``message`` (marked with ``N_``) in the menu's language once the menu ran,
    before that in the environment's."""
    from . import i18n

    return i18n._(message) if i18n.used() else i18n.environment().gettext(message)


@contextmanager
def terminal(tty: Path | None) -> Iterator[tuple[IO[bytes] | None, TextIO | None]]:
    if tty is None:
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            raise OSError(said(N_("the menu needs a terminal: run it on a console, or give --tty DEV")))
        yield None, None
        return
    try:
        fd = os.open(tty, os.O_RDWR | os.O_NOCTTY)
    except OSError as e:
        raise OSError(said(N_("cannot open {tty}: {error}")).format(tty=tty, error=e.strerror)) from None
    if not os.isatty(fd):
        os.close(fd)
        raise OSError(said(N_("{tty} is not a terminal")).format(tty=tty))
    serial_size(fd)
    inp = os.fdopen(fd, "rb", buffering=0)
    out = open(os.dup(fd), "w", encoding="utf-8", errors="replace")  # noqa: SIM115
    try:
        yield inp, out
    finally:
        out.close()
        inp.close()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.log:
        logging.basicConfig(filename=args.log, level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    else:
        logging.basicConfig(level=logging.CRITICAL)
    term = os.environ.get("TERM", "vt100")
    utf8 = wants_utf8(term, ascii_only=args.ascii)
    colour = wants_colour(term, mono=args.mono)
    address = args.bus or ("session" if args.session else os.environ.get("BOOTD_BUS") or "system")

    from .run import run_menu

    try:
        with terminal(args.tty) as (inp, out):
            outcome = run_menu(
                address,
                tty_console=console_of(args.tty),
                utf8=utf8,
                colour=colour,
                exit_on_boot=args.exit_on_boot,
                input=inp,
                output=out,
            )
    except BootdError as e:
        from .i18n import error_text

        print(f"bootd-menu: {error_text(e)}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"bootd-menu: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    if outcome.booted:
        print("\n".join(outcome.summary))
    elif args.shell:
        exec_shell(args.shell, args.tty)
    return 0


def exec_shell(program: str, tty: Path | None) -> None:
    """Replace this process with ``program`` on the menu's terminal."""
    if tty is not None:
        fd = os.open(tty, os.O_RDWR)
        for target in (0, 1, 2):
            os.dup2(fd, target)
        os.close(fd)
    print(said(N_("Leaving the boot menu; exit the shell to return.")), flush=True)
    try:
        os.execvp(program, [program])
    except OSError as e:
        print(
            "bootd-menu: " + said(N_("cannot run {program}: {error}")).format(program=program, error=e), file=sys.stderr
        )


def without_openssl() -> None:
    """Keep OpenSSL (libssl and libcrypto, about 5 MB resident) out of the menu's
    process: it talks to the daemon over a local socket and never needs TLS.
    asyncio then runs without TLS support and hashlib uses Python's own digests.
    Only for a process of its own (``bootd-menu``), before anything imports them."""
    for name in ("ssl", "_hashlib"):
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]  # None: "import fails"


def entry() -> None:
    without_openssl()
    sys.exit(main())


if __name__ == "__main__":
    entry()
