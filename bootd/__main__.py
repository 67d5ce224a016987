"""The ``bootd`` command line.

Each sub-command lives in ``bootd/cli/<name>.py`` with two functions:
``configure(parser)`` adds its arguments (cheap: argparse only) and
``run(args) -> int`` does the work, importing what it needs inside, so that
``bootd --help`` and ``bootd scan`` never load dbus-fast, pyudev or urwid.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from types import ModuleType

from bootd import __version__
from bootd.errors import BootdError

log = logging.getLogger("bootd")

# name, module, one-line help
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("scan", "bootd.cli.scan", "list the boot options found on directories, images or block devices"),
    ("watch", "bootd.cli.watch", "follow device discovery on this machine and print events"),
    ("dtb", "bootd.cli.dtb", "show or patch a device tree blob the way the loader does"),
    ("pcr", "bootd.cli.pcr", "predict the TPM PCR values a measured boot leaves"),
    ("boot", "bootd.cli.boot", "boot an option (from a scanned source, or through the daemon)"),
    ("serve", "bootd.cli.serve", "run the daemon"),
    ("list", "bootd.cli.client", "list the daemon's boot options"),
    ("cancel", "bootd.cli.client", "stop the daemon's boot in progress or its autoboot countdown"),
    ("settings", "bootd.cli.client", "show or change the daemon's settings"),
    ("status", "bootd.cli.client", "show the daemon's state and status messages"),
    ("event", "bootd.cli.event", "report a network event (DHCP lease) to the daemon"),
    ("demo", "bootd.cli.demo", "run the whole product on a sandbox machine"),
)


def _module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name == name:
            return None
        raise


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bootd", description="Boot menu daemon: find, show and kexec boot options.")
    parser.add_argument("--version", action="version", version=f"bootd {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (repeatable)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, modname, help_text in COMMANDS:
        mod = _module(modname)
        if mod is None:
            continue
        p = sub.add_parser(name, help=help_text, description=help_text)
        configure = getattr(mod, f"configure_{name}", None) or mod.configure
        configure(p)
        p.set_defaults(_module=modname, _command=name)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    mod = importlib.import_module(args._module)
    runner = getattr(mod, f"run_{args._command}", None) or mod.run
    try:
        rc: int = runner(args)
        return rc
    except BootdError as e:
        print(f"bootd {args.command}: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:
        if args.debug:
            raise
        log.debug("internal error", exc_info=True)
        print(
            f"bootd {args.command}: internal error: {e!r} (run 'bootd --debug {args.command} …' for details)",
            file=sys.stderr,
        )
        return 70


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
