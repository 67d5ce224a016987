"""POSIX extended regular expressions (GRUB's ``regexp``) on Python's ``re``.

Bracket expressions are translated (``[[:digit:]]``, a leading ``]``, a
literal backslash); constructs that only Python knows (``(?``) are refused.
Patterns that could backtrack for ages (a repeated group that itself holds a
repetition, like ``(a*)*``) are refused too, and lengths are capped, so a
hostile config cannot stall the scan.
"""

from __future__ import annotations

import re

MAX_PATTERN = 1024
MAX_SUBJECT = 4096

_CLASSES = {
    "alpha": "a-zA-Z",
    "digit": "0-9",
    "alnum": "a-zA-Z0-9",
    "upper": "A-Z",
    "lower": "a-z",
    "space": r" \t\n\r\f\v",
    "blank": r" \t",
    "punct": r"!-/:-@\[-`{-~",
    "xdigit": "0-9A-Fa-f",
    "cntrl": r"\x00-\x1f\x7f",
    "print": r"\x20-\x7e",
    "graph": r"\x21-\x7e",
}
_QUANT = "*+?{"


class RegexError(ValueError):
    """The pattern is not accepted."""


def translate(pattern: str) -> str:
    if len(pattern) > MAX_PATTERN:
        raise RegexError("pattern too long")
    out: list[str] = []
    groups: list[bool] = []  # per open group: does it contain a repetition?
    i = 0
    n = len(pattern)
    while i < n:
        c = pattern[i]
        if c == "[":
            j = i + 1
            body: list[str] = []
            if j < n and pattern[j] == "^":
                body.append("^")
                j += 1
            if j < n and pattern[j] == "]":
                body.append(r"\]")
                j += 1
            while j < n and pattern[j] != "]":
                if pattern.startswith("[:", j):
                    end = pattern.find(":]", j + 2)
                    if end < 0:
                        raise RegexError("unterminated character class")
                    name = pattern[j + 2 : end]
                    if name not in _CLASSES:
                        raise RegexError(f"unknown character class {name!r}")
                    body.append(_CLASSES[name])
                    j = end + 2
                    continue
                ch = pattern[j]
                body.append("\\" + ch if ch in "\\[" else ch)
                j += 1
            if j >= n:
                raise RegexError("unterminated bracket expression")
            out.append("[" + "".join(body) + "]")
            i = j + 1
            continue
        if c == "\\":
            if i + 1 >= n:
                raise RegexError("trailing backslash")
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if c == "(":
            if pattern.startswith("(?", i):
                raise RegexError("'(?' is not POSIX syntax")
            groups.append(False)
        elif c == ")":
            if not groups:
                raise RegexError("unmatched ')'")
            inner = groups.pop()
            if inner and i + 1 < n and pattern[i + 1] in _QUANT:
                raise RegexError("nested repetition is refused (it can take too long)")
            if groups:
                groups[-1] = groups[-1] or inner
        elif c in _QUANT + "|" and groups:
            groups[-1] = True
        out.append(c)
        i += 1
    if groups:
        raise RegexError("unmatched '('")
    return "".join(out)


def search(pattern: str, subject: str) -> list[str | None] | None:
    """Group 0 and every subexpression of the first match, or None."""
    try:
        compiled = re.compile(translate(pattern))
    except (re.error, OverflowError, RecursionError, ValueError) as e:
        raise RegexError(str(e)) from None
    m = compiled.search(subject[:MAX_SUBJECT])
    if m is None:
        return None
    return [m.group(0), *m.groups()]
