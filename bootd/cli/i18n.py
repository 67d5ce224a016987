"""The ``bootd`` client commands' messages in the user's language (gettext,
domain ``bootd``; catalogues ``bootd/po/<language>.po`` compiled by ``make
locale``, looked for in ``$BOOTD_LOCALEDIR``, ``bootd/locale``,
``/usr/share/locale``).  Only messages for people are translated (errors,
prompts, the scan's text menu, the boot plan's labels, download progress):
lines that scripts read stay as they are (``state: …``, ``KEY = VALUE``,
JSON, ``bootd watch``'s event lines, ``PCR n sha256:…``, device-tree dumps
and diffs, kexec command lines).  The daemon's own Status messages arrive in
English with their template and arguments (:class:`bootd.model.Text`): the
catalogue translates the template.  ``--help`` is translated only as it is
printed (``bootd.__main__.HelpFormatter``): the parser keeps the English texts
the man page and the shell completion are built from; argparse's own messages
come from the catalogue while the command line is parsed (:func:`speak_to_argparse`)."""

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
        # gettext.translation() would do the same, but its caching imports copy
        # and costs ~4 ms of a translated --help's budget
        found: gettext.NullTranslations | None = None
        for mo in gettext.find(DOMAIN, d, all=True):
            try:
                with open(mo, "rb") as f:
                    t = gettext.GNUTranslations(f)
            except OSError:
                continue
            if found is None:
                found = t
            else:
                found.add_fallback(t)
        if found is not None:
            return found
    return gettext.NullTranslations()


def _(message: str) -> str:
    return _translation().gettext(message)


def localedir() -> Path | None:
    """The first catalogue directory with a ``bootd`` catalogue for the environment's language."""
    dirs = [Path(os.environ["BOOTD_LOCALEDIR"])] if os.environ.get("BOOTD_LOCALEDIR") else []
    for d in [*dirs, Path(__file__).resolve().parents[1] / "locale", Path("/usr/share/locale")]:
        if gettext.find(DOMAIN, d):
            return d
    return None


def speak_to_argparse() -> str | None:
    """Make gettext's module-level functions, which argparse calls for its own
    messages ("usage:", "error:", "the following arguments are required", "invalid
    choice" …), read our catalogue, which translates them too: binds the ``bootd``
    domain to its directory and makes it the current one.  Returns the domain it
    replaced (for :func:`gettext.textdomain` to restore), None when there is no
    catalogue for the environment's language."""
    found = localedir()
    if found is None:
        return None
    gettext.bindtextdomain(DOMAIN, str(found))
    return _switch(DOMAIN)


def _switch(domain: str) -> str:
    previous = gettext.textdomain()
    gettext.textdomain(domain)
    return previous


def error_text(error: BaseException) -> str:
    """What ``error`` says in the user's language: the daemon's errors (and the
    loader's, in ``bootd boot --scan``) carry their template; others stay as they are."""
    from bootd.model import Text

    return Text.of_error(error).translated(_)
