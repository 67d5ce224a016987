"""Small text helpers shared by the line-oriented parsers (syslinux, BLS,
yaboot, kboot): reading a config through a view without raising, and
version comparison as the Boot Loader Specification defines it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePosixPath

from bootd.model import N_, Diagnostic, Severity, Text
from bootd.parsers.view import MAX_LIST_ENTRIES, DeviceView, ViewError, _normal_parts, normalize

MAX_LINES = 100_000
"""The most lines of one configuration file a parser looks at."""


def read_config(view: DeviceView, path: str | PurePosixPath, diags: list[Diagnostic]) -> str | None:
    """The text of ``path`` on ``view``, or None with a diagnostic saying why.

    Binary files (NUL bytes) are refused: no boot loader config contains them.
    """
    try:
        data = view.read_bytes(path)
    except ViewError as e:
        diags.append(Diagnostic.of(Severity.WARNING, N_("skipped: {error}"), str(path), error=e))
        return None
    except Exception as e:  # a view must not take a parser down
        diags.append(Diagnostic.of(Severity.WARNING, N_("skipped: cannot read: {error}"), str(path), error=e))
        return None
    return config_text(data, path, diags)


def config_text(data: bytes | ViewError, path: str | PurePosixPath, diags: list[Diagnostic]) -> str | None:
    """:func:`read_config` of bytes already read (or the reason they could not be)."""
    if isinstance(data, ViewError):
        diags.append(Diagnostic.of(Severity.WARNING, N_("skipped: {error}"), str(path), error=data))
        return None
    if b"\0" in data:
        diags.append(Diagnostic.of(Severity.WARNING, N_("skipped: binary data, not a configuration file"), str(path)))
        return None
    text = data.decode("utf-8", errors="replace")
    if "\ufffd" in text and "\ufffd".encode() not in data:
        diags.append(Diagnostic.of(Severity.INFO, N_("bytes that are not UTF-8 were replaced"), str(path)))
    return text


def not_regular(view: DeviceView, path: str | PurePosixPath) -> Text | None:
    """Why ``path`` cannot be a configuration file although something is there
    (a FIFO, a device, a socket, a directory), or None when it is a regular file
    or absent.  Only looks at the directory entry: never opens the file, so a
    FIFO cannot block a scan."""
    if view.is_file(path) or view.find(path) != normalize(path):
        return None  # a regular file, nothing, or only another letter case
    return Text.of(N_("{path}: not a regular file; skipped"), path=path)


def note_not_regular(view: DeviceView, path: str | PurePosixPath, diags: list[Diagnostic]) -> bool:
    """Whether ``path`` is a regular file; when something else is there, a
    warning saying so is added to ``diags`` (once per path)."""
    if view.is_file(path):
        return True
    if view.find(path) != normalize(path):
        return False  # nothing there, or only another letter case
    note = Diagnostic.of(Severity.WARNING, N_("not a regular file; skipped"), str(path))
    if note not in diags:
        diags.append(note)
    return False


def lines_of(text: str) -> list[str]:
    """Lines of ``text`` (any newline convention), capped at :data:`MAX_LINES`."""
    lines = text.splitlines()
    if len(lines) > MAX_LINES:
        del lines[MAX_LINES:]
    return lines


# One step of the comparison: skip other characters, an optional "~", then
# optional "-", "^", ".", and a run of digits or letters.  The steps of a
# string follow each other without a gap and every one but the last is not
# empty; the last, at the end, is always empty (:func:`version_key`).
_STEP = re.compile(r"[^A-Za-z0-9~^.\-]*~?-?\^?\.?(?:[0-9]+|[A-Za-z]*)", re.DOTALL)
# A step that only skips (and may hold a "~"): where it ends the string, the
# string's end is in it (a "~" right before the end is a pre-release mark).
_TAIL = re.compile(r"[^A-Za-z0-9~^.\-]*~?", re.DOTALL)

VersionKey = tuple[tuple[object, ...], ...]

_END = (1, 0)
"""The key of the end of a string."""
_TILDE_END = (0, 0)
"""The key of a "~" right before the end of a string."""


class _StepKeys(dict[str, tuple[object, ...]]):
    """The key of each step (its text) already seen; steps repeat across the
    versions of one menu (``.``, ``6``, ``.fc41``, ``_64``); bounded by
    :data:`_MAX_STEP_KEYS`."""

    def __missing__(self, step: str) -> tuple[object, ...]:
        key = _step_key(step)
        if len(self) < _MAX_STEP_KEYS:
            self[step] = key
        return key


_MAX_STEP_KEYS = 4096
_STEP_KEYS = _StepKeys()


def _step_key(step: str) -> tuple[object, ...]:
    """The key of one step that does not end the string."""
    i, n = 0, len(step)
    while i < n and not (step[i].isascii() and (step[i].isalnum() or step[i] in "~^.-")):
        i += 1  # the characters that only separate
    tilde = step[i : i + 1] == "~"
    i += tilde
    dash = step[i : i + 1] == "-"
    i += dash
    caret = step[i : i + 1] == "^"
    i += caret
    dot = step[i : i + 1] == "."
    i += dot
    seg = step[i:]
    if seg[:1].isdigit():
        digits = seg.lstrip("0")
        part: tuple[object, ...] = (1, len(digits), digits)
    else:
        part = (0, seg)
    return (0 if tilde else 1, 1, 0 if dash else 1, 0 if caret else 1, 0 if dot else 1, part)


def version_key(version: str) -> VersionKey:
    """A sort key that orders version strings the way the UAPI Version Format
    Specification compares them (the comparison BLS sorting uses): older first.

    The comparison walks both strings a step at a time; every step of one
    string becomes one tuple here, so comparing keys equals comparing strings:
    ``~`` sorts before everything (pre-releases: ``1~rc1`` < ``1``), then the
    end of the string (a longer string is newer), then ``-`` (version/release
    separator), ``^`` (patched release), ``.``; then a run of digits
    (numeric; newer than letters) or of letters (bytewise, longer is newer).
    Other characters only separate.

    The string is cut into its steps by one regular expression; the last is
    the empty one at the end, unless the one before it only skips to the end
    (then that one holds the end, with or without a ``~``).
    """
    steps = _STEP.findall(version)
    steps.pop()  # the empty step at the end
    end = _END
    if steps and _TAIL.fullmatch(steps[-1]):
        end = _TILDE_END if steps.pop()[-1:] == "~" else _END
    return (*map(_STEP_KEYS.__getitem__, steps), end)


def version_compare(a: str, b: str) -> int:
    """Negative when ``a`` is older than ``b``, positive when newer, 0 when equal."""
    ka, kb = version_key(a), version_key(b)
    return (ka > kb) - (ka < kb)


class Finder:
    """Case-insensitive path lookup (FAT, ISO 9660) for one parse, listing
    each directory at most once."""

    def __init__(self, view: DeviceView) -> None:
        self.view = view
        self._lists: dict[str, tuple[frozenset[str], dict[str, str]]] = {}

    def _names(self, directory: str) -> tuple[frozenset[str], dict[str, str]]:
        listed = self._lists.get(directory)
        if listed is None:
            names = self.view.listdir(directory)
            lower: dict[str, str] = {}
            for name in names:
                lower.setdefault(name.lower(), name)
            listed = self._lists[directory] = (frozenset(names), lower)
        return listed

    def absent(self, path: str | PurePosixPath) -> bool:
        """Whether ``path`` surely exists in no letter case: a directory on the
        way was listed in full (not empty, not cut at ``MAX_LIST_ENTRIES``)
        and holds no such name.  False when unsure (an exact lookup may still
        find what a listing does not show)."""
        current = "/"
        for part in _normal_parts(str(path)):  # (normalize(path).parts[1:], without the path object)
            exact, lower = self._names(current)
            real = part if part in exact else lower.get(part.lower())
            if real is None:
                return 0 < len(exact) < MAX_LIST_ENTRIES
            current = current.rstrip("/") + "/" + real
        return False

    def find(self, path: str | PurePosixPath) -> PurePosixPath | None:
        """The real spelling of ``path`` when it exists in any letter case
        (an exact match first)."""
        current = "/"
        for part in normalize(path).parts[1:]:
            exact, lower = self._names(current)
            real = part if part in exact else lower.get(part.lower())
            if real is None:
                return None
            current = current.rstrip("/") + "/" + real
        return PurePosixPath(current)

    def find_file(self, path: str | PurePosixPath, diags: list[Diagnostic] | None = None) -> PurePosixPath | None:
        """:meth:`find` when it is a regular file; something else there (a FIFO,
        a device) is reported in ``diags`` when given, and never opened."""
        found = self.find(path)
        if found is None:
            return None
        if self.view.is_file(found):
            return found
        if diags is not None:
            note_not_regular(self.view, found, diags)
        return None


def first_config(view: DeviceView, candidates: Iterable[str], diags: list[Diagnostic]) -> tuple[str, str] | None:
    """Path and text of the first of ``candidates`` that is a readable config
    file on ``view`` (any letter case), or None with diagnostics saying why."""
    finder = Finder(view)
    path = next((str(p) for p in (finder.find_file(c, diags) for c in candidates) if p is not None), None)
    if path is None:
        return None
    text = read_config(view, path, diags)
    return None if text is None else (path, text)
