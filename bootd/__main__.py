"""The ``bootd`` command line.

Each sub-command lives in ``bootd/cli/<name>.py`` with two functions:
``configure(parser)`` adds its arguments (cheap: argparse only) and
``run(args) -> int`` does the work, importing what it needs inside, so that
``bootd --help`` and ``bootd scan`` never load dbus-fast, pyudev or urwid.
Only the sub-command being run is imported and configured: ``bootd --help``
imports none of them (their one-line help is in COMMANDS), and logging is
set up only once a sub-command runs.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from types import ModuleType

from bootd import __version__, argparse_i18n
from bootd.cli import N_
from bootd.errors import BootdError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# name, module, one-line help
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("scan", "bootd.cli.scan", N_("list the boot options found on directories, images or block devices")),
    ("watch", "bootd.cli.watch", N_("follow device discovery on this machine and print events")),
    ("dtb", "bootd.cli.dtb", N_("show or patch a device tree blob the way the loader does")),
    ("pcr", "bootd.cli.pcr", N_("predict the TPM PCR values a measured boot leaves")),
    ("boot", "bootd.cli.boot", N_("boot an option (from a scanned source, or through the daemon)")),
    ("serve", "bootd.cli.serve", N_("run the daemon")),
    ("list", "bootd.cli.client", N_("list the daemon's boot options")),
    ("cancel", "bootd.cli.client", N_("stop the daemon's boot in progress or its autoboot countdown")),
    ("settings", "bootd.cli.client", N_("show or change the daemon's settings")),
    ("status", "bootd.cli.client", N_("show the daemon's state and status messages")),
    ("event", "bootd.cli.event", N_("report a network event (DHCP lease) to the daemon")),
    ("demo", "bootd.cli.demo", N_("run the whole product on a sandbox machine")),
)


ARGPARSE_WORDS = (
    N_("usage: "),
    N_("positional arguments"),
    N_("options"),
    N_("show this help message and exit"),
    N_("show program's version number and exit"),
)
"""argparse's own words in a help text, translated with ours."""


def _english() -> bool:
    """Whether the environment asks for English (or no language): then
    ``--help`` loads no catalogue.  The variables as gettext reads them."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            first = value.split(":")[0]
            return first in ("C", "POSIX") or first.startswith(("C.", "en"))
    return True


class HelpFormatter(argparse_i18n.HelpFormatter):
    """argparse's help, translated from bootd's catalogue while it is printed
    (:mod:`bootd.argparse_i18n`); under an English environment no catalogue is loaded."""

    @classmethod
    def translate(cls, text: str) -> str:
        if _english():
            return text
        from bootd.cli.i18n import _

        return _(text)


class Parser(argparse_i18n.Parser):
    """An ArgumentParser whose printed help and whose errors are in the user's
    language: argparse's own messages come from bootd/po while it parses."""

    formatter = HelpFormatter
    _checking = False

    @staticmethod
    def speak() -> str | None:
        if _english():
            return None
        from bootd.cli.i18n import speak_to_argparse

        return speak_to_argparse()

    # argparse makes a help formatter for every argument added, only to check
    # its metavar against its nargs; a formatter asks the terminal's width,
    # which imports shutil (and bz2, lzma).  That check needs no width: only a
    # formatter for printing asks for it.
    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        self._checking = True
        try:
            return super().add_argument(*args, **kwargs)
        finally:
            self._checking = False

    def _get_formatter(self) -> argparse.HelpFormatter:
        if self._checking:
            make: Any = self.formatter_class  # typeshed's type of it takes prog alone
            formatter: argparse.HelpFormatter = make(prog=self.prog, width=80)
            return formatter
        return super()._get_formatter()


def _module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name == name:
            return None
        raise


def command_of(argv: list[str]) -> str | None:
    """The sub-command ``argv`` names: its first word that is not an option
    (the top-level options take no value), or None."""
    for word in argv:
        if word == "--":
            return None
        if not word.startswith("-"):
            return word
    return None


def build_parser(only: str | None = None, *, lazy: bool = False) -> argparse.ArgumentParser:
    """The whole command line; with ``lazy``, only the sub-command ``only``
    is imported and configured (the others are listed with their help)."""
    parser = Parser(prog="bootd", description=N_("Boot menu daemon: find, show and kexec boot options."))
    parser.add_argument("--version", action="version", version=f"bootd {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help=N_("more log output (repeatable)"))
    parser.add_argument("--debug", action="store_true", help=N_("show tracebacks of internal errors"))
    # prog given: argparse would otherwise make a help formatter to word it,
    # which imports shutil (and bz2, lzma) to ask the terminal's width.
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", prog=parser.prog)
    for name, modname, help_text in COMMANDS:
        if lazy and name != only:
            if importlib.util.find_spec(modname) is None:
                continue
            p = sub.add_parser(name, help=help_text, description=help_text)
            p.set_defaults(_module=modname, _command=name)
            continue
        mod = _module(modname)
        if mod is None:
            continue
        p = sub.add_parser(name, help=help_text, description=help_text)
        configure = getattr(mod, f"configure_{name}", None) or mod.configure
        configure(p)
        p.set_defaults(_module=modname, _command=name)
    return parser


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    parser = build_parser(command_of(words), lazy=True)
    args = parser.parse_args(words)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    import logging

    log = logging.getLogger("bootd")
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    mod = importlib.import_module(args._module)
    runner = getattr(mod, f"run_{args._command}", None) or mod.run
    try:
        rc: int = runner(args)
        return rc
    except BootdError as e:
        from bootd.cli.i18n import error_text

        print(f"bootd {args.command}: {error_text(e)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:
        if args.debug:
            raise
        log.debug("internal error", exc_info=True)
        from bootd.cli.i18n import _

        message = _("internal error: {error} (run 'bootd --debug {command} …' for details)")
        print(f"bootd {args.command}: " + message.format(error=repr(e), command=args.command), file=sys.stderr)
        return 70


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
