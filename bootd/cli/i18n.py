"""The ``bootd`` client commands' messages in the user's language (gettext,
domain ``bootd``; catalogues ``bootd/po/<language>.po`` compiled by ``make
locale``, looked for in ``$BOOTD_LOCALEDIR``, ``bootd/locale``,
``/usr/share/locale``).  Only messages for people are translated (errors,
prompts, the scan's text menu, the boot plan's labels, download progress):
lines that scripts read stay as they are (``state: …``, ``KEY = VALUE``,
JSON, ``bootd watch``'s event lines, ``PCR n sha256:…``, device-tree dumps
and diffs, kexec command lines), and so do the daemon's own Status messages,
which arrive as the daemon wrote them, and ``--help`` (the man page and the
shell completion are built from the same parser)."""

from __future__ import annotations

import gettext
import os
from functools import cache
from pathlib import Path

DOMAIN = "bootd"


@cache
def _translation() -> gettext.NullTranslations:
    dirs = [Path(os.environ["BOOTD_LOCALEDIR"])] if os.environ.get("BOOTD_LOCALEDIR") else []
    for d in [*dirs, Path(__file__).resolve().parents[1] / "locale", Path("/usr/share/locale")]:
        try:
            return gettext.translation(DOMAIN, d)
        except OSError:
            continue
    return gettext.NullTranslations()


def _(message: str) -> str:
    return _translation().gettext(message)
