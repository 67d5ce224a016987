"""GRUB's wildcard expansion of file names (``for f in /isos/*.iso``).

GRUB (its ``regexp`` module installs the expansion) expands an argument
after variables are substituted, when the argument:

* starts with ``/``, ``(`` or ``*`` (a relative name is never expanded);
* holds an unquoted ``*`` or ``?``, written in the script or coming from the
  value of an unquoted variable.  Quoted text, the value of a quoted
  variable and a character after a backslash in the script are literal; a
  backslash in a variable's value is itself a literal character (GRUB 2.06
  prints ``set v='/boot/vmlinuz-\\*'; echo $v`` as ``/boot/vmlinuz-\\*``).
  Brackets (``[…]``) are not wildcards: they match themselves.

Each path component holding a wildcard is matched, whole and case-sensitive,
against the names in its directory (``.`` and ``..`` excepted, other names
starting with a dot included): ``*`` is any run of characters, ``?`` any one.
Any component may hold wildcards (``/*/grub.cfg``); the components without
any that come after one must exist (``/*/grub.cfg`` gives only the
directories holding a ``grub.cfg``).  Matches keep the device as written
(``($root)/boot/vmlinuz-*`` gives ``(hd0,gpt1)/boot/vmlinuz-6.1``).  When
nothing matches, the argument stays as written.

Two deliberate differences (README, GRUB; the oracle's ``deliberate.py``):

* matches are in name order; GRUB gives them in the order the file system
  driver reads the directory.  Debian's GRUB on ext4 made by ``mke2fs -d``,
  ISO9660 (whose records are sorted) and FAT written in name order give the
  same; a directory whose entries were written in another order differs;
* a wildcard in the device part (``(hd*)``, ``*``) is not expanded: GRUB
  matches it against the firmware's disk names, which a scan does not know.

Expansion is always on: Debian's, Ubuntu's and Fedora's signed EFI images
(and ``grub-emu``) have ``regexp`` built in, where a GRUB that loads modules
from disk expands only once ``insmod regexp`` (or the ``regexp`` command)
has loaded it.

Directories are read through the device views (:meth:`Interpreter.locate`:
``$root``, ``search``'s devices, ``loopback`` images), each listing charged
as work, and one argument gives at most :data:`MAX_MATCHES` names and
lists at most :data:`MAX_LISTINGS` directories; past either, the rest are
left out and a message names the cap.
"""

from __future__ import annotations

import re
import time
import weakref
from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import Protocol

from bootd.model import N_, Severity, Text
from bootd.parsers.grub.budget import CPU_USED_UP, Meter
from bootd.parsers.grub.devices import Target
from bootd.parsers.grub.expand import expand_word
from bootd.parsers.grub.lexer import Lit, Var, Word
from bootd.parsers.grub.state import Context, Halt, Limits


class Interpreter(Protocol):
    """What expansion needs of :class:`bootd.parsers.grub.interpreter.Interpreter`."""

    steps: int
    step_limit: int
    ctx: Context
    limits: Limits
    meter: Meter
    cpu_deadline: float

    def get(self, name: str) -> str: ...

    def locate(self, text: str) -> tuple[Target, str]: ...

    def warn(self, message: str | Text, *, severity: Severity = ..., once: bool = ...) -> None: ...


MAX_MATCHES = 1024
"""Names one argument expands to at most."""
MAX_LISTINGS = 256
"""Directories one argument lists at most."""

_WILD = "*?"

_listings: weakref.WeakKeyDictionary[object, dict[str, list[str]]] = weakref.WeakKeyDictionary()
"""Per interpreter (one scan): each directory listed, by where it is (the
devices do not change while a scan runs, and a loop lists the same
directory again and again)."""
_existing: weakref.WeakKeyDictionary[object, dict[str, bool]] = weakref.WeakKeyDictionary()
"""Per interpreter: whether each path checked after a pattern exists."""


def _check_cpu(it: Interpreter) -> None:
    """Stop the script when its CPU time is used up (a pattern can do much
    file work inside one command, between two of the interpreter's checks)."""
    if time.process_time() > it.cpu_deadline:
        raise Halt(Text.of(CPU_USED_UP, seconds=f"{it.limits.cpu_seconds:g}"))


def has_wildcard(args: Sequence[str]) -> bool:
    """Whether any of ``args`` holds a wildcard character (a quick test first)."""
    return any("*" in a or "?" in a for a in args)


def is_pattern(text: str) -> bool:
    """Whether unquoted literal ``text`` may need expansion."""
    return ("*" in text or "?" in text) and text.startswith(("/", "("))


def _escape(text: str) -> str:
    """Quoted text made literal for the matcher."""
    if "*" not in text and "?" not in text and "\\" not in text:
        return text
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?")


def _unescape(text: str) -> str:
    """The argument as written when nothing is expanded."""
    if "\\" not in text:
        return text
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in "*?\\":
            out.append(text[i + 1])
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _plain(text: str) -> str:
    """A path part without wildcards: every escape removed."""
    return re.sub(r"\\(.)", r"\1", text, flags=re.DOTALL) if "\\" in text else text


def _is_wild(part: str) -> bool:
    i = 0
    n = len(part)
    while i < n:
        c = part[i]
        if c == "\\":
            i += 2
            continue
        if c in _WILD:
            return True
        i += 1
    return False


def _split(text: str) -> list[str]:
    """``text`` split at the slashes that are not escaped."""
    parts: list[str] = []
    cur: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n:
            cur.append(text[i : i + 2])
            i += 2
            continue
        if c == "/":
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    parts.append("".join(cur))
    return parts


def _matcher(part: str) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    n = len(part)
    while i < n:
        c = part[i]
        if c == "\\" and i + 1 < n:
            out.append(re.escape(part[i + 1]))
            i += 2
            continue
        out.append(".*" if c == "*" else "." if c == "?" else re.escape(c))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def escaped_fields(it: Interpreter, word: Word) -> list[str] | None:
    """The word's arguments with quoted wildcards escaped, or None when no
    unquoted ``*``/``?`` can be in it (then it needs no expansion)."""
    wild = False
    pieces: list[Lit | Var] = []
    for piece in word:
        if isinstance(piece, Lit):
            if piece.quoted:
                pieces.append(Lit(_escape(piece.text), True))
            else:
                wild = wild or "*" in piece.text or "?" in piece.text
                pieces.append(piece)
        elif piece.quoted:
            if piece.name == "@":
                pieces.append(piece)
            else:
                pieces.append(Lit(_escape(it.get(piece.name)), True))
        else:
            value = it.get(piece.name)
            wild = wild or "*" in value or "?" in value
            pieces.append(piece)
    if not wild:
        return None

    def unquoted(name: str) -> str:  # its wildcards are wildcards, its backslashes are text
        return it.get(name).replace("\\", "\\\\")

    positional = [_escape(p) for p in it.ctx.positional]
    return expand_word(tuple(pieces), unquoted, positional, it.limits.max_value)


def expand(it: Interpreter, word: Word) -> list[str] | None:
    """The arguments one word gives after wildcard expansion, or None when
    it holds no unquoted wildcard (the caller expands it as usual)."""
    fields = escaped_fields(it, word)
    if fields is None:
        return None
    out: list[str] = []
    for field in fields:
        found = match(it, field)
        out.extend([_unescape(field)] if found is None else found)
    return out


def match(it: Interpreter, text: str) -> list[str] | None:
    """The names an argument (quoted wildcards escaped) stands for, or None
    when it is no pattern or nothing matches."""
    if not text.startswith(("/", "(")) or not _is_wild(text):
        return None
    device = ""
    path = text
    if text.startswith("("):
        end = text.find(")")
        if end < 0:
            return None
        device, path = text[: end + 1], text[end + 1 :]
        if _is_wild(device):
            return None  # firmware disk names: not expanded (see the module's text)
        device = _plain(device)
        if not path.startswith("/"):
            return None
    parts = _split(path)[1:]
    # the directories found so far, each as written ("(dev)/a/b") and ending in "/"
    found = [device + "/"]
    listings = 0
    i = 0
    capped = False
    while i < len(parts):
        part = parts[i]
        if not _is_wild(part):
            # the plain parts up to the next pattern (or the end)
            j = i
            while j < len(parts) and not _is_wild(parts[j]):
                j += 1
            tail = "/".join(_plain(p) for p in parts[i:j])
            last = j == len(parts)
            joined = [f + tail + ("" if last else "/") for f in found]
            if i > 0:  # after a pattern, only what exists is kept
                _check_cpu(it)
                joined = [p for p in joined if _exists(it, p)]
            found = joined
            i = j
            continue
        pattern = _matcher(part)
        last = i == len(parts) - 1
        nxt: list[str] = []
        for base in found:
            if listings >= MAX_LISTINGS or len(nxt) >= MAX_MATCHES:
                capped = True
                break
            if it.steps > it.step_limit:
                break  # the next step stops the script and names the budget
            _check_cpu(it)
            listings += 1
            names = _listdir(it, base)
            it.steps += len(names)  # matching each name (the listing itself is metered)
            for name in names:
                if pattern.fullmatch(name):
                    if len(nxt) >= MAX_MATCHES:
                        capped = True
                        break
                    nxt.append(base + name + ("" if last else "/"))
        found = nxt
        i += 1
        if not found:
            break
    if capped:
        it.warn(
            Text.of(
                N_(
                    "{pattern}: wildcard expansion stopped at {names} names or {directories} directories "
                    "(MAX_MATCHES, MAX_LISTINGS); the rest are left out"
                ),
                pattern=_unescape(text)[:200],
                names=MAX_MATCHES,
                directories=MAX_LISTINGS,
            ),
            once=True,
        )
    return found or None


def _listdir(it: Interpreter, where: str) -> list[str]:
    target, path = it.locate(where)
    if target.view is None:
        return []
    key = target.where(path)
    cache = _listings.setdefault(it, {})
    names = cache.get(key)
    if names is None:
        names = cache[key] = target.view.listdir(PurePosixPath(path))
        it.steps += it.meter.take()
    return names


def _exists(it: Interpreter, where: str) -> bool:
    target, path = it.locate(where)
    if target.view is None:
        return False
    key = target.where(path) + ("/" if where.endswith("/") else "")
    cache = _existing.setdefault(it, {})
    found = cache.get(key)
    if found is None:
        p = PurePosixPath(path)
        found = cache[key] = target.view.is_dir(p) or (not where.endswith("/") and target.view.is_file(p))
        it.steps += it.meter.take()
    return found
