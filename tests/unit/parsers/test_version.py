"""version_key against a direct step-by-step implementation of the UAPI
version comparison (the oracle below)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bootd.parsers._text import version_compare, version_key

_VALID = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789~-^.")


def _sign(x: int) -> int:
    return (x > 0) - (x < 0)


def oracle(a: str, b: str) -> int:
    """Walk both strings together, as the specification describes."""
    i = j = 0
    while True:
        while i < len(a) and a[i] not in _VALID:
            i += 1
        while j < len(b) and b[j] not in _VALID:
            j += 1
        ca, cb = a[i : i + 1], b[j : j + 1]
        if "~" in (ca, cb):
            if (ca == "~") != (cb == "~"):
                return -1 if ca == "~" else 1
            i, j = i + 1, j + 1
            ca, cb = a[i : i + 1], b[j : j + 1]
        if not ca or not cb:
            return _sign((a[i:] > b[j:]) - (a[i:] < b[j:]))
        for sep in "-^.":
            if sep in (ca, cb):
                if (ca == sep) != (cb == sep):
                    return -1 if ca == sep else 1
                i, j = i + 1, j + 1
                ca, cb = a[i : i + 1], b[j : j + 1]
        if ca.isdigit() or cb.isdigit():
            ei, ej = i, j
            while ei < len(a) and a[ei] in "0123456789":
                ei += 1
            while ej < len(b) and b[ej] in "0123456789":
                ej += 1
            if (ei > i) != (ej > j):
                return 1 if ei > i else -1
            na, nb = a[i:ei].lstrip("0"), b[j:ej].lstrip("0")
            if len(na) != len(nb):
                return 1 if len(na) > len(nb) else -1
            if na != nb:
                return 1 if na > nb else -1
        else:
            ei, ej = i, j
            while ei < len(a) and a[ei].isascii() and a[ei].isalpha():
                ei += 1
            while ej < len(b) and b[ej].isascii() and b[ej].isalpha():
                ej += 1
            if a[i:ei] != b[j:ej]:
                return 1 if a[i:ei] > b[j:ej] else -1
        i, j = ei, ej


VERSIONS = st.text(alphabet="0123456789ab~-^._+", max_size=10)


@settings(max_examples=2000, deadline=None)
@given(a=VERSIONS, b=VERSIONS)
def test_key_agrees_with_the_step_by_step_comparison(a: str, b: str) -> None:
    assert _sign(version_compare(a, b)) == oracle(a, b)


@settings(max_examples=300, deadline=None)
@given(a=st.text(max_size=12), b=st.text(max_size=12))
def test_any_text(a: str, b: str) -> None:
    assert _sign(version_compare(a, b)) == oracle(a, b)
    assert (version_key(a) == version_key(b)) == (oracle(a, b) == 0)
