"""Shell-style globs (``*``, ``?``, ``[…]``, ``[!…]``) on hostile patterns.

:mod:`fnmatch` reads a pattern in time that grows with the square of its
``[`` count (each one looks for its ``]`` to the end), and its cache keeps
whatever it compiled.  Here a pattern is translated in one pass (where the
next ``]`` is, is known before the pass starts), its length is capped, and
every ``*`` but the last becomes an atomic group: the text between two stars
is taken at its first match and never tried again, which is the right
answer for a glob and keeps matching to one scan per star in the regular
expression engine.  The meaning is the one :func:`fnmatch.fnmatchcase` gives.
"""

from __future__ import annotations

import re
from collections.abc import Callable

MAX_PATTERN = 4096
"""Characters in one pattern; a longer one matches nothing."""

Matcher = Callable[[str], bool]


class GlobTooLong(ValueError):
    """The pattern is longer than :data:`MAX_PATTERN`."""


def _next_close(pattern: str) -> list[int]:
    """For each position, the index of the first ``]`` at or after it (or -1)."""
    out = [-1] * (len(pattern) + 1)
    nxt = -1
    for i in range(len(pattern) - 1, -1, -1):
        if pattern[i] == "]":
            nxt = i
        out[i] = nxt
    return out


def _bracket(body: str) -> str:
    negate = body.startswith("!")
    if negate:
        body = body[1:]
    parts: list[str] = []
    i = 0
    while i < len(body):
        if i + 2 < len(body) and body[i + 1] == "-":
            lo, hi = body[i], body[i + 2]
            if lo <= hi:  # an empty range (z-a) matches nothing, as in fnmatch
                parts.append(f"{re.escape(lo)}-{re.escape(hi)}")
            i += 3
        else:
            parts.append(re.escape(body[i]))
            i += 1
    if not parts:
        return "(?!)" if not negate else "."
    return "[" + ("^" if negate else "") + "".join(parts) + "]"


def translate(pattern: str) -> str:
    """The regular expression for ``pattern`` (linear in its length)."""
    return _translate(pattern)[0]


def _translate(pattern: str) -> tuple[str, int]:
    """The regular expression and the number of characters a match needs at least."""
    if len(pattern) > MAX_PATTERN:
        raise GlobTooLong(f"{len(pattern)} characters (at most {MAX_PATTERN})")
    closes = _next_close(pattern)
    segments: list[list[str]] = [[]]
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        i += 1
        if c == "*":
            if segments[-1] or len(segments) == 1:
                segments.append([])
            continue
        if c == "?":
            segments[-1].append(".")
            continue
        if c == "[":
            k = i
            if k < n and pattern[k] == "!":
                k += 1
            if k < n and pattern[k] == "]":
                k += 1
            j = closes[k] if k <= n else -1
            if j < 0:
                segments[-1].append(r"\[")
                continue
            segments[-1].append(_bracket(pattern[i:j]))
            i = j + 1
            continue
        segments[-1].append(re.escape(c))
    need = sum(len(s) for s in segments)
    if len(segments) == 1:
        return "(?s:" + "".join(segments[0]) + r")\Z", need
    head, *middle, tail = ("".join(s) for s in segments)
    return "(?s:" + head + "".join(f"(?>.*?{m})" for m in middle) + ".*" + tail + r")\Z", need


def compile_glob(pattern: str) -> Matcher:
    """A function telling whether a name matches ``pattern`` (whole name, case kept).

    Raises :class:`GlobTooLong` for a pattern over :data:`MAX_PATTERN`."""
    regex, need = _translate(pattern)
    match = re.compile(regex).match
    return lambda name: len(name) >= need and match(name) is not None
