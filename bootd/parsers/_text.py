"""Small text helpers shared by the line-oriented parsers (syslinux, BLS,
yaboot, kboot): reading a config through a view without raising, and
version comparison as the Boot Loader Specification defines it."""

from __future__ import annotations

from pathlib import PurePosixPath

from bootd.model import Diagnostic, Severity
from bootd.parsers.view import DeviceView, ViewError

MAX_LINES = 100_000
"""The most lines of one configuration file a parser looks at."""


def read_config(view: DeviceView, path: str | PurePosixPath, diags: list[Diagnostic]) -> str | None:
    """The text of ``path`` on ``view``, or None with a diagnostic saying why.

    Binary files (NUL bytes) are refused: no boot loader config contains them.
    """
    try:
        data = view.read_bytes(path)
    except ViewError as e:
        diags.append(Diagnostic(Severity.WARNING, f"skipped: {e}", file=str(path)))
        return None
    except Exception as e:  # a view must not take a parser down
        diags.append(Diagnostic(Severity.WARNING, f"skipped: cannot read: {e}", file=str(path)))
        return None
    if b"\0" in data:
        diags.append(Diagnostic(Severity.WARNING, "skipped: binary data, not a configuration file", file=str(path)))
        return None
    text = data.decode("utf-8", errors="replace")
    if "\ufffd" in text and "\ufffd".encode() not in data:
        diags.append(Diagnostic(Severity.INFO, "bytes that are not UTF-8 were replaced", file=str(path)))
    return text


def lines_of(text: str) -> list[str]:
    """Lines of ``text`` (any newline convention), capped at :data:`MAX_LINES`."""
    lines = text.splitlines()
    if len(lines) > MAX_LINES:
        del lines[MAX_LINES:]
    return lines


def _valid_version_char(c: str) -> bool:
    return (c.isascii() and c.isalnum()) or c in "~-^."


def _is_digit(c: str) -> bool:
    return "0" <= c <= "9"


def _is_alpha(c: str) -> bool:
    return ("a" <= c <= "z") or ("A" <= c <= "Z")


def _cmp(a: int | str | bool, b: int | str | bool) -> int:
    return (a > b) - (a < b)  # type: ignore[operator]


def version_compare(a: str, b: str) -> int:
    """Compare two version strings the way the UAPI Version Format
    Specification says (the comparison BLS sorting uses): negative when ``a``
    is older, positive when newer, 0 when equal.

    Segments are runs of digits (compared numerically) or letters (compared
    bytewise, longer is newer); ``~`` sorts before everything (pre-releases),
    ``-`` separates version and release, ``^`` marks a patched release, ``.``
    separates segments; other characters are ignored.
    """
    i, j = 0, 0
    la, lb = len(a), len(b)
    while True:
        while i < la and not _valid_version_char(a[i]):
            i += 1
        while j < lb and not _valid_version_char(b[j]):
            j += 1
        ca = a[i] if i < la else ""
        cb = b[j] if j < lb else ""
        if ca == "~" or cb == "~":
            r = _cmp(ca != "~", cb != "~")
            if r:
                return r
            i, j = i + 1, j + 1
            ca = a[i] if i < la else ""
            cb = b[j] if j < lb else ""
        if not ca or not cb:
            return _cmp(a[i:], b[j:])
        for sep in "-^.":
            if ca == sep or cb == sep:
                r = _cmp(ca != sep, cb != sep)
                if r:
                    return r
                i, j = i + 1, j + 1
                ca = a[i] if i < la else ""
                cb = b[j] if j < lb else ""
        if _is_digit(ca) or _is_digit(cb):
            ei = i
            while ei < la and _is_digit(a[ei]):
                ei += 1
            ej = j
            while ej < lb and _is_digit(b[ej]):
                ej += 1
            r = _cmp(ei != i, ej != j)
            if r:
                return r
            na = a[i:ei].lstrip("0")
            nb = b[j:ej].lstrip("0")
            r = _cmp(len(na), len(nb)) or _cmp(na, nb)
            if r:
                return r
        else:
            ei = i
            while ei < la and _is_alpha(a[ei]):
                ei += 1
            ej = j
            while ej < lb and _is_alpha(b[ej]):
                ej += 1
            sa, sb = a[i:ei], b[j:ej]
            n = min(len(sa), len(sb))
            r = _cmp(sa[:n], sb[:n]) or _cmp(len(sa), len(sb))
            if r:
                return r
        i, j = ei, ej
