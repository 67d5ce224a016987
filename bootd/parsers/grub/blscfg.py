"""GRUB's ``blscfg`` command: Boot Loader Specification entries as menu entries.

Entries come from ``$blsdir`` (else the standard entry directories) on the
``$boot`` device (else ``$root``), as Fedora's GRUB looks for them.  Each file
becomes a menu entry the way GRUB 2.14's ``blscfg`` makes it (the oracle in
tests/integration/grub_oracle/ checks this against real GRUB):

* the file is read line by line, ``key value``; a ``#`` line is skipped, and
  an empty line or a key without a value ends the file;
* a key that may appear once counts the first time (``options`` too: a
  second ``options`` line is not used); ``initrd`` and ``grub_class`` and
  ``grub_arg`` collect every line;
* entries are listed newest first by their file names
  (:mod:`bootd.parsers.grub.filevercmp`), not by sort-key or version;
* the title is ``title``, else the ``linux`` path; the id is the file name
  without ``.conf``; an entry without ``linux`` is left out;
* ``$name`` in ``options`` and ``devicetree`` is replaced when ``blscfg``
  runs, as GRUB does it (:func:`expand`); the entry's body is then the script
  ``linux PATH OPTIONS`` / ``initrd PATHS`` / ``devicetree PATH`` that runs
  when the entry is chosen, so quoting and the variables left in the paths
  work as in any GRUB script; ``grub_arg`` values are the entry's arguments.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from bootd.model import Severity
from bootd.parsers.grub.filevercmp import newest_first
from bootd.parsers.grub.parser import parse_script
from bootd.parsers.grub.state import MenuItem

if TYPE_CHECKING:
    from bootd.parsers.grub.interpreter import Interpreter

MAX_KEYS = 10000
"""GRUB's own limit of key/value lines in one entry file."""


def _is_name_char(c: str) -> bool:
    return c == "_" or (c.isascii() and c.isalnum())


def expand(it: Interpreter, text: str) -> str | None:
    """``text`` with its variables replaced as GRUB 2.14's ``blscfg`` does it.

    ``$name`` (letters, digits, ``_``) becomes the variable's value followed
    by a space, and one space right after the name is dropped; an unset
    variable becomes nothing.  A piece of text one character long after the
    last variable is lost, and ``${`` is not a variable.  None when nothing
    is left (GRUB then writes no options at all)."""
    out: str | None = None
    start = end = 0
    in_var = False

    def append(piece: str, var: bool) -> None:
        nonlocal out
        if var:
            if piece not in it.ctx.vars:
                return
            piece = it.ctx.vars[piece] + " "
        out = (out or "") + piece

    for i, c in enumerate(text):
        if c == "$":
            if start != end:
                append(text[start : end + 1], in_var)
            in_var, start = True, i + 1
        elif in_var and not _is_name_char(c):
            append(text[start : end + 1], True)
            in_var, start = False, i
            if c == " ":
                start += 1
        end = i
    if start != end:
        append(text[start : end + 1], in_var)
    return out


def grub_keys(text: str) -> list[tuple[str, str]]:
    """An entry file's key/value pairs as GRUB reads them."""
    pairs: list[tuple[str, str]] = []
    for raw in text.split("\n"):
        line = raw.rstrip("\r")
        stripped = line.lstrip(" \t")
        if not stripped:
            break
        key, *more = re.split(r"[ \t]", stripped, maxsplit=1)
        rest = more[0] if more else ""
        if key.startswith("#"):
            continue
        value = rest.lstrip(" \t")
        if not value:
            break
        pairs.append((key, value))
        if len(pairs) >= MAX_KEYS:
            break
    return pairs


def _first(pairs: list[tuple[str, str]], key: str) -> str | None:
    return next((v for k, v in pairs if k == key), None)


def _all(pairs: list[tuple[str, str]], key: str) -> list[str]:
    return [v for k, v in pairs if k == key]


def run_blscfg(it: Interpreter, args: list[str]) -> int:
    try:
        from bootd.parsers import bls
    except ImportError:  # the BLS parser is part of bootd; guard anyway
        it.warn("blscfg: the BLS parser is not available", severity=Severity.ERROR, once=True)
        return 1
    device = it.get("boot") or it.get("root")
    target = it.table.target(device)
    if target.view is None:
        # The device $root names is not known (a search for a UUID nobody
        # carries yet): the entries GRUB would read sit beside the config
        # that runs blscfg, on the device being scanned.
        it.warn(f"blscfg: {device} is not a known device; reading the entries of the scanned device", once=True)
        target = it.table.self_target
    assert target.view is not None
    blsdir = it.get("blsdir")
    directories = (blsdir,) if blsdir else bls.DIRECTORIES
    entries, diags = bls.load_entries(target.view, directories)
    for d in diags:
        it.warn(d.message)
    if target.view is it.table.view and entries:
        # The plain BLS parser would list these same entries again.
        it.used_blscfg = True
    by_name = {PurePosixPath(e.path).name or f"{e.file_stem}.conf": e for e in entries}
    for name in newest_first(list(by_name)):
        entry = by_name[name]
        pairs = grub_keys(entry.text)
        linux = _first(pairs, "linux")
        if linux is None:
            continue
        script = [f"linux {linux}" + (f" {options}" if (options := expand(it, _first(pairs, "options") or "")) else "")]
        initrds = _all(pairs, "initrd")
        if initrds:
            script.append("initrd " + " ".join(initrds))
        dtb = _first(pairs, "devicetree")
        dtb_path = expand(it, dtb) if dtb is not None else None
        if dtb_path is not None:
            script.append(f"devicetree {dtb_path}")
        body = parse_script("\n".join(script) + "\n")
        for issue in body.issues:
            it.warn(f"{entry.path}: {issue.message}")
        it.add_item(
            MenuItem(
                kind="entry",
                title=_first(pairs, "title") or linux,
                entry_id=name[:-5] if name.endswith(".conf") else name,
                args=_all(pairs, "grub_arg"),
                body=body.body,
                ctx=it.ctx,
                classes=tuple(_all(pairs, "grub_class")),
                file=entry.path,
            )
        )
    return 0
