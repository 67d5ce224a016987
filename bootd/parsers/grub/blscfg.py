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

GRUB 2.14's options (:func:`parse_options`):

* ``--path DIR`` (``-p``) reads the entries of ``DIR`` on ``$root``, or of
  ``(DEV)/DIR``; a path ending in ``.conf`` is one entry file; any other
  value means the standard place.  ``--enable-fallback`` (``-f``) reads the
  standard place when that finds no entry;
* ``--show-default`` (``-d``), ``--show-non-default`` (``-n``) and
  ``--entry FILE`` (``-e``) choose which entries become menu entries (any
  of them given: only those chosen; none: all).  The default entry is the
  one ``$default`` names when ``blscfg`` runs: by its file name (with
  ``.conf``), its title, or its index among the entries read (entries
  without ``linux`` count too); ``--entry`` names a file (with ``.conf``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from bootd.model import N_, Diagnostic, Text
from bootd.parsers._text import read_config
from bootd.parsers.grub.devices import Target, split_path
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


@dataclass(frozen=True, slots=True)
class Options:
    """What a ``blscfg`` command line asks for."""

    path: str | None = None
    fallback: bool = False
    show_default: bool = False
    show_non_default: bool = False
    entry: str | None = None

    @property
    def all(self) -> bool:
        return not (self.show_default or self.show_non_default or self.entry is not None)


_LONG = {"path": "p", "enable-fallback": "f", "show-default": "d", "show-non-default": "n", "entry": "e"}
_WITH_VALUE = {"p", "e"}


def parse_options(args: Sequence[str]) -> Options | str:
    """``blscfg``'s arguments as GRUB's option parser reads them (a later
    ``--path``/``--entry`` replaces an earlier one; words that are not
    options are ignored), or a message saying what is wrong."""
    got: dict[str, str | bool] = {}
    i = 0
    words = list(args)

    def take(short: str, value: str | None, shown: str) -> str | None:
        """Set option ``short`` to ``value``, or (None) to the next word; a
        message when there is none."""
        nonlocal i
        if value is None:
            if i >= len(words):
                return f"missing mandatory option for `{shown}'"
            value = words[i]
            i += 1
        got[short] = value
        return None

    while i < len(words):
        arg = words[i]
        i += 1
        if arg == "--":
            break
        if arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
            short = _LONG.get(name)
            if short is None:
                return f"unknown argument `{arg}'"
            if short in _WITH_VALUE:
                if (problem := take(short, value if eq else None, name)) is not None:
                    return problem
            elif eq:
                return f"`{name}' takes no value"
            else:
                got[short] = True
        elif arg.startswith("-") and len(arg) > 1:
            flags = arg[1:]
            for n, c in enumerate(flags):
                if c not in _LONG.values():
                    return f"unknown argument `-{c}'"
                if c in _WITH_VALUE:
                    if (problem := take(c, flags[n + 1 :] or None, f"-{c}")) is not None:
                        return problem
                    break
                got[c] = True
    path, entry = got.get("p"), got.get("e")
    return Options(
        path=path if isinstance(path, str) else None,
        fallback=bool(got.get("f")),
        show_default=bool(got.get("d")),
        show_non_default=bool(got.get("n")),
        entry=entry if isinstance(entry, str) else None,
    )


_INDEX = re.compile(r"[ \t]*\+?(?:0[xX](?P<hex>[0-9a-fA-F]+)|(?P<oct>0[0-7]*)|(?P<dec>[1-9][0-9]*))")
INT_MAX = 2**31 - 1


def is_default(default: str | None, name: str, title: str | None, index: int) -> bool:
    """Whether ``$default`` names this entry for ``--show-default``: its file
    name (``NAME.conf``), its title, or its index (a whole number as GRUB
    reads one: decimal, ``0x`` hex, ``0`` octal)."""
    if not default:
        return False
    if default == name or (title is not None and default == title):
        return True
    m = _INDEX.fullmatch(default)
    if m is None:
        return False
    value = int(m["hex"], 16) if m["hex"] else int(m["oct"], 8) if m["oct"] else int(m["dec"])
    return value <= INT_MAX and value == index


@dataclass(frozen=True, slots=True)
class _File:
    name: str
    text: str
    path: str


def _read_directory(it: Interpreter, target: Target, directories: Sequence[str]) -> list[_File]:
    from bootd.parsers import bls

    assert target.view is not None
    entries, diags = bls.load_entries(target.view, directories)
    for d in diags:
        it.warn(Text(d.message, d.template, d.args))
    if target.view is it.table.view and entries:
        # The plain BLS parser would list these same entries again.
        it.used_blscfg = True
    return [_File(PurePosixPath(e.path).name or f"{e.file_stem}.conf", e.text, e.path) for e in entries]


def _standard(it: Interpreter) -> list[_File]:
    """The entries of the standard place: ``$blsdir`` (else the entry
    directories) on ``$boot`` (else ``$root``)."""
    device = it.get("boot") or it.get("root")
    target = it.table.target(device)
    if target.view is None:
        # The device $root names is not known (a search for a UUID nobody
        # carries yet): the entries GRUB would read sit beside the config
        # that runs blscfg, on the device being scanned.
        it.warn(
            Text.of(
                N_("blscfg: {device} is not a known device; reading the entries of the scanned device"), device=device
            ),
            once=True,
        )
        target = it.table.self_target
    blsdir = it.get("blsdir")
    return _read_directory(it, target, (blsdir,) if blsdir else _bls_directories())


def _bls_directories() -> tuple[str, ...]:
    from bootd.parsers import bls

    return bls.DIRECTORIES


def _load(it: Interpreter, opts: Options) -> list[_File]:
    path = opts.path
    if path is None:
        return _standard(it)
    root = it.get("root")
    if path.endswith(".conf"):
        target, where = it.table.locate(path, root)
        if target.view is None:
            it.warn(Text.of(BLSCFG_UNKNOWN, path=path))
            return []
        diags: list[Diagnostic] = []
        text = read_config(target.view, where, diags)
        for d in diags:
            it.warn(Text.of(N_("blscfg: {diagnostic}"), diagnostic=Text(d.message, d.template, d.args)))
        if text is None:
            return []
        if target.view is it.table.view:
            it.used_blscfg = True
        return [_File(PurePosixPath(where).name, text, where)]
    if path.startswith("("):
        dev, rest = split_path(path)
        if dev is None:
            it.warn(Text.of(N_("blscfg: invalid file name `{path}'"), path=path))
            return []
        target, directory = it.table.target(dev), rest
    elif path.startswith("/"):
        target, directory = it.table.target(root), path
    else:
        return _standard(it)
    found = _read_directory(it, target, (directory,)) if target.view is not None else []
    if target.view is None:
        it.warn(Text.of(BLSCFG_UNKNOWN, path=path))
    if not found and opts.fallback:
        return _standard(it)
    return found


BLSCFG_UNKNOWN = N_("blscfg: {path}: the device is not known")


def run_blscfg(it: Interpreter, args: list[str]) -> int:
    opts = parse_options(args)
    if isinstance(opts, str):
        it.warn(f"blscfg: {opts}")
        return 1
    files = _load(it, opts)
    by_name: dict[str, _File] = {}
    for f in files:
        by_name.setdefault(f.name, f)
    default = it.get("default")
    for index, name in enumerate(newest_first(list(by_name))):
        entry = by_name[name]
        pairs = grub_keys(entry.text)
        title = _first(pairs, "title")
        if not opts.all:
            chosen_default = is_default(default, name, title, index)
            wanted = (
                (opts.show_default and chosen_default)
                or (opts.show_non_default and not chosen_default)
                or (opts.entry is not None and opts.entry == name)
            )
            if not wanted:
                continue
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
                title=title or linux,
                entry_id=name[:-5] if name.endswith(".conf") else name,
                args=_all(pairs, "grub_arg"),
                body=body.body,
                ctx=it.ctx,
                classes=tuple(_all(pairs, "grub_class")),
                file=entry.path,
            )
        )
    return 0
