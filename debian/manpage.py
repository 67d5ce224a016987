#!/usr/bin/python3
"""Write a command's man page from its argparse definition (argparse-manpage's formatter).

manpage.py MODULE FUNCTION "SHORT DESCRIPTION": MODULE.FUNCTION() returns the
parser; the page gets the one-line NAME entry, the version, and the FILES and
SEE ALSO sections both commands share.
"""

import importlib
import sys

from build_manpages.manpage import Manpage

FILES = (
    "/usr/lib/bootd/bootd.toml: the distribution's default settings (documented).\n"
    "/etc/bootd/bootd.toml and /etc/bootd/bootd.toml.d/*.toml: the machine's settings "
    "(bootd settings and the D-Bus Settings1 interface write the first).\n"
    "/lib/systemd/system/bootd.service, bootd-menu@.service: the daemon and one menu per console."
)
SEE_ALSO = "bootd(1), bootd-menu(1), kexec(8), systemd.service(5)"


def main(module: str, function: str, short: str) -> int:
    parser = getattr(importlib.import_module(module), function)()
    parser.man_short_description = short
    parser._manpage = [{"heading": "Files", "content": FILES}, {"heading": "See also", "content": SEE_ALSO}]
    from bootd import __version__

    page = str(Manpage(parser))
    first, rest = page.split("\n", 1)
    assert first.startswith(".TH ")
    sys.stdout.write(f'.TH {parser.prog.upper()} 1 "" "bootd {__version__}" "User Commands"\n{rest}')
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
