"""GRUB's order of BLS entry files: gnulib's ``filevercmp`` on file names.

``blscfg`` lists the entries newest first by this comparison of their file
names (``.conf`` included), not by the specification's sort-key/version order.
The comparison, as gnulib documents it: equal names are equal; the empty
name, ``.`` and ``..`` come first, then names starting with a dot; then each
name loses its suffix (the longest tail matching
``(\\.[A-Za-z~][A-Za-z0-9~]*)*``) and the rests are compared as Debian versions
(runs of non-digits character by character, ``~`` before everything, letters
before other characters; runs of digits as numbers), the whole names again
when the rests are equal.
"""

from __future__ import annotations

import re
from functools import cmp_to_key

_SUFFIX = re.compile(r"(?:\.[A-Za-z~][A-Za-z0-9~]*)*$")


def _order(c: str) -> int:
    if c == "~":
        return -1
    if c.isascii() and c.isalpha():
        return ord(c)
    return ord(c) + 256


def _verrevcmp(a: str, b: str) -> int:
    i = j = 0
    while i < len(a) or j < len(b):
        first_diff = 0
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            ac = _order(a[i]) if i < len(a) and not a[i].isdigit() else 0
            bc = _order(b[j]) if j < len(b) and not b[j].isdigit() else 0
            if ac != bc:
                return ac - bc
            i += 1
            j += 1
        while i < len(a) and a[i] == "0":
            i += 1
        while j < len(b) and b[j] == "0":
            j += 1
        while i < len(a) and a[i].isdigit() and j < len(b) and b[j].isdigit():
            if not first_diff:
                first_diff = ord(a[i]) - ord(b[j])
            i += 1
            j += 1
        if i < len(a) and a[i].isdigit():
            return 1
        if j < len(b) and b[j].isdigit():
            return -1
        if first_diff:
            return first_diff
    return 0


def filevercmp(a: str, b: str) -> int:
    """Negative, zero or positive as ``a`` sorts before, with or after ``b``."""
    if a == b:
        return 0
    for special in ("", ".", ".."):
        if a == special:
            return -1
        if b == special:
            return 1
    if a.startswith(".") != b.startswith("."):
        return -1 if a.startswith(".") else 1
    if a.startswith("."):
        a, b = a[1:], b[1:]
    pa = a[: _SUFFIX.search(a).start()]  # type: ignore[union-attr]
    pb = b[: _SUFFIX.search(b).start()]  # type: ignore[union-attr]
    result = _verrevcmp(pa, pb)
    return result or _verrevcmp(a, b)


def newest_first(names: list[str]) -> list[str]:
    """File names in ``blscfg``'s menu order."""
    return sorted(names, key=cmp_to_key(filevercmp), reverse=True)
