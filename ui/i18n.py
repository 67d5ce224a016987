"""The menu's languages (gettext).  Every string a person reads is looked up
when it is shown, so the language can change while the menu runs (``l``).

The catalogues are ``ui/po/<language>.po``, compiled with ``msgfmt`` into
``<localedir>/<language>/LC_MESSAGES/bootd-menu.mo`` when the menu is built
or tested (``make locale``).  The directory is ``$BOOTD_LOCALEDIR``, else the
``locale`` folder beside this module, else ``/usr/share/locale``.  The
language is the one chosen in the menu (``l``), else the daemon's ``language``
setting (:meth:`ui.app.App.use_settings`), else the ``LANGUAGE``, ``LC_ALL``,
``LC_MESSAGES`` or ``LANG`` of the environment, as gettext reads them.
"""

from __future__ import annotations

import gettext
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

DOMAIN = "bootd-menu"
LANGUAGES: tuple[tuple[str, str, str], ...] = (
    ("en", "English", "English"),
    ("de", "Deutsch", "German"),
    ("zh_CN", "\u7b80\u4f53\u4e2d\u6587", "Chinese (Simplified)"),
)
"""(code, name in that language, name in ASCII) of the languages shipped."""

_current: gettext.NullTranslations = gettext.NullTranslations()
_code = "en"
_used = False


def localedirs() -> list[Path]:
    dirs = [Path(os.environ["BOOTD_LOCALEDIR"])] if os.environ.get("BOOTD_LOCALEDIR") else []
    return [*dirs, Path(__file__).resolve().parent / "locale", Path("/usr/share/locale")]


def _find(languages: list[str] | None) -> gettext.NullTranslations | None:
    for d in localedirs():
        try:
            return gettext.translation(DOMAIN, d, languages=languages)
        except OSError:
            continue
    return None


def use(code: str | None = None) -> str:
    """Switch to ``code`` (``None``: the environment's); returns the language used."""
    global _current, _code, _used
    _used = True
    found = None if code == "en" else _find([code] if code else None)
    if found is None:
        if code and code != "en":
            log.warning("no %s translation of the menu (looked in %s)", code, ", ".join(map(str, localedirs())))
        _current, _code = gettext.NullTranslations(), "en"
    else:
        _current, _code = found, str(found.info().get("language", code or ""))
    return _code


def environment() -> gettext.NullTranslations:
    """The catalogue of the environment's language, for the command line
    (``--help``, argparse's errors), before the daemon's setting is known."""
    return _find(None) or gettext.NullTranslations()


def speak_to_argparse() -> str | None:
    """Make gettext's module-level functions, which argparse calls for its own
    messages ("usage:", "error:", "the following arguments are required" …),
    read the menu's catalogue (which translates them too) for the environment's
    language: binds the ``bootd-menu`` domain to its directory and makes it the
    current one.  Returns the domain it replaced, None when there is no catalogue."""
    for d in localedirs():
        if gettext.find(DOMAIN, d):
            gettext.bindtextdomain(DOMAIN, str(d))
            previous = gettext.textdomain()
            gettext.textdomain(DOMAIN)
            return previous
    return None


def used() -> bool:
    """Whether :func:`use` chose a language yet (the menu started)."""
    return _used


def current() -> str:
    return _code


def _(message: str) -> str:
    """``message`` in the menu's language."""
    return _current.gettext(message) if message else message


def N_(message: str) -> str:  # noqa: N802  # gettext's name for "mark, translate later"
    """Mark ``message`` for translation where it is defined; ``_`` translates it when shown."""
    return message


def error_text(error: BaseException) -> str:
    """What ``error`` says, in the menu's language: a daemon's error sent with its
    template (:meth:`bootd.errors.BootdError.of`, carried in the D-Bus error reply)
    or one the menu made with a template; other errors as they are."""
    from bootd.model import Text

    return Text.of_error(error).translated(_)
