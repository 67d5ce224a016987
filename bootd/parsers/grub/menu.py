"""From a GRUB menu tree to boot options: flattening and the default entry.

Submenus flatten into the option list in menu order; each option keeps its
submenu title as ``group``.  The default follows GRUB: ``default`` is an
index (a submenu counts as one entry), an id, or a title, optionally a path
``N>M`` into submenus; ``saved`` means ``$saved_entry``; ``next_entry`` from
grubenv wins; a default that names nothing means the first entry.  Exactly
one option is marked default.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bootd.model import N_, BootOption, Diagnostic, Severity, Source, Text
from bootd.parsers.grub.interpreter import Loaded, MenuItem

Path = tuple[int, ...]
_INDEX = re.compile(r"[0-9]+")


class Flat:
    """An entry of the flattened menu: its item, index path and submenu title."""

    __slots__ = ("item", "path", "group")

    def __init__(self, item: MenuItem, path: Path, group: str | None) -> None:
        self.item = item
        self.path = path
        self.group = group


def flatten(items: Sequence[MenuItem], prefix: Path = (), group: str | None = None) -> list[Flat]:
    """Entries in menu order, submenus opened in place (an explicit stack:
    no recursion, however deep the menus nest)."""
    out: list[Flat] = []
    todo: list[tuple[MenuItem, Path, str | None]] = [
        (item, (*prefix, i), group) for i, item in reversed(list(enumerate(items)))
    ]
    while todo:
        item, path, within = todo.pop()
        if item.kind == "submenu":
            title = item.title if within is None else f"{within} > {item.title}"
            todo.extend((child, (*path, i), title) for i, child in reversed(list(enumerate(item.children))))
        else:
            out.append(Flat(item, path, within))
    return out


def _find(items: Sequence[MenuItem], key: str) -> int | None:
    key = key.strip()
    if _INDEX.fullmatch(key):
        # Hidden entries (``hiddenentry``) are not counted, as in GRUB's menu.
        n = int(key) if len(key) <= 12 else len(items)
        visible = [i for i, item in enumerate(items) if not item.hidden]
        return visible[n] if n < len(visible) else None
    for i, item in enumerate(items):
        if item.entry_id == key:
            return i
    for i, item in enumerate(items):
        if item.title == key:
            return i
    return None


def split_path(spec: str) -> list[str]:
    """``1>2`` → ``["1", "2"]``; ``>>`` stands for a ``>`` inside a title."""
    parts: list[str] = []
    cur: list[str] = []
    i = 0
    while i < len(spec):
        if spec[i] == ">":
            if spec.startswith(">>", i):
                cur.append(">")
                i += 2
                continue
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(spec[i])
        i += 1
    parts.append("".join(cur))
    return parts


def resolve(items: Sequence[MenuItem], spec: str) -> Path | None:
    """The menu path ``spec`` names, descending into submenus as GRUB does."""
    if not spec.strip():
        return None
    path: list[int] = []
    level = items
    parts = split_path(spec)
    for n, part in enumerate(parts):
        i = _find(level, part)
        if i is None:
            if n == 0:
                return None
            break
        path.append(i)
        item = level[i]
        if item.kind != "submenu":
            return tuple(path)
        level = item.children
    # Landed on a submenu: its own default, else its first entry.
    while True:
        here = _at(items, tuple(path))
        if here is None or here.kind != "submenu" or not here.children:
            return tuple(path)
        inner = here.sub_ctx.vars.get("default", "") if here.sub_ctx is not None else ""
        j = _find(here.children, inner) if inner else None
        path.append(j if j is not None else 0)


def _at(items: Sequence[MenuItem], path: Path) -> MenuItem | None:
    level = items
    item: MenuItem | None = None
    for i in path:
        if i >= len(level):
            return None
        item = level[i]
        level = item.children
    return item


def default_spec(variables: dict[str, str], next_entry: str | None) -> list[str]:
    """The default specs to try, best first."""
    specs: list[str] = []
    if next_entry:
        specs.append(next_entry)
    default = variables.get("default", "")
    if default == "saved":
        default = variables.get("saved_entry", "")
    specs.append(default)
    return specs


def build_options(
    items: Sequence[MenuItem],
    variables: dict[str, str],
    next_entry: str | None,
    diagnostics: list[Diagnostic],
) -> list[BootOption]:
    flat = flatten(items)
    bootable: list[tuple[Flat, Loaded]] = []
    for f in flat:
        loaded = f.item.loaded
        if loaded is not None and loaded.kind == "chainloader":
            note = chainload_note(f.item.title)
            diagnostics.append(Diagnostic(Severity.INFO, note.text, None, None, note.template, note.args))
        if loaded is None or loaded.kind not in ("linux", "multiboot") or loaded.kernel is None:
            continue
        bootable.append((f, loaded))
    if not bootable:
        return []
    paths = [f.path for f, _ in bootable]
    chosen: int | None = None
    for spec in default_spec(variables, next_entry):
        path = resolve(items, spec)
        if path is None:
            continue
        hit = next((k for k, p in enumerate(paths) if p[: len(path)] == path), None)
        if hit is None:
            item = _at(items, path)
            title = item.title if item is not None else spec
            diagnostics.append(
                Diagnostic.of(
                    Severity.WARNING,
                    N_("default entry {title} cannot be booted here; using the first entry"),
                    title=repr(title),
                )
            )
            break
        chosen = hit
        break
    if chosen is None:
        chosen = 0
    # each option made once, the default one marked as it is made
    return [
        BootOption(
            id="",
            device="",
            name=f.item.title,
            kernel=loaded.kernel,
            initrds=tuple(loaded.initrds),
            dtb=loaded.dtb,
            args=loaded.args,
            source=Source.GRUB2,
            hidden=f.item.hidden,
            group=f.group,
            entry_id=f.item.entry_id,
            kind=loaded.kind,
            default=k == chosen,
        )
        for k, (f, loaded) in enumerate(bootable)
    ]


def chainload_note(title: str) -> Text:
    """Why an entry that hands over to another boot loader is not an option."""
    return Text.of(
        N_(
            "{title} starts another boot loader (chainloader); bootd boots Linux kernels "
            "with kexec and cannot start it, so it is not offered"
        ),
        title=repr(title[:80]),
    )
