"""GRUB legacy ``menu.lst`` / ``grub.conf``: title, root, kernel, initrd, default.

The legacy format is a flat list: global commands (``default``, ``timeout``,
``hiddenmenu``…) then ``title`` lines, each followed by its commands.  A
command and its arguments are separated by blanks or ``=``.  Device names
like ``(hd0,0)`` mean the scanned device.
"""

from __future__ import annotations

import re
from dataclasses import replace

from bootd.model import N_, BootOption, Diagnostic, Resource, Severity, Source
from bootd.parsers.view import normalize

MAX_ENTRIES = 10_000
_SPLIT = re.compile(r"\s*(?:=|\s)\s*")


class _Entry:
    __slots__ = ("title", "kernel", "args", "initrds", "multiboot", "line")

    def __init__(self, title: str, line: int = 0) -> None:
        self.title = title
        self.kernel: str | None = None
        self.args = ""
        self.initrds: list[str] = []
        self.multiboot = False
        self.line = line


def _path(spec: str) -> Resource:
    if spec.startswith("("):
        end = spec.find(")")
        if end > 0:
            spec = spec[end + 1 :] or "/"
    return Resource.local(normalize(spec))


def parse_menu_lst(text: str, where: str) -> tuple[list[BootOption], list[Diagnostic], float | None]:
    entries: list[_Entry] = []
    diags: list[Diagnostic] = []
    default = "0"
    timeout: float | None = None
    current: _Entry | None = None
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = _SPLIT.split(line, maxsplit=1)
        cmd = parts[0].lower()
        rest = parts[1].strip() if len(parts) > 1 else ""
        if cmd == "title":
            if len(entries) >= MAX_ENTRIES:
                diags.append(
                    Diagnostic.of(
                        Severity.WARNING,
                        N_("more than {count} entries; the rest are ignored"),
                        where,
                        n,
                        count=MAX_ENTRIES,
                    )
                )
                break
            current = _Entry(title=rest, line=n)
            entries.append(current)
        elif current is None:
            if cmd == "default":
                default = rest
            elif cmd == "timeout":
                if re.fullmatch(r"[0-9]{1,9}", rest):
                    timeout = float(int(rest))
                else:
                    diags.append(
                        Diagnostic.of(
                            Severity.WARNING, N_("timeout {value} is not a number"), where, n, value=repr(rest)
                        )
                    )
        elif cmd == "kernel":
            words = rest.split()
            while words and words[0].startswith("--"):
                words.pop(0)
            if words:
                current.kernel = words[0]
                current.args = " ".join(words[1:])
                current.multiboot = False
                current.initrds = []
        elif cmd == "initrd":
            current.initrds = rest.split()[:1]
        elif cmd == "module" and current.kernel is not None:
            words = rest.split()
            if words:
                current.multiboot = True
                current.initrds.append(words[0])
    options: list[BootOption] = []
    indices: list[int] = []
    for i, e in enumerate(entries):
        if e.kernel is None:
            continue
        indices.append(i)
        options.append(
            BootOption(
                id="",
                device="",
                name=e.title,
                kernel=_path(e.kernel),
                initrds=tuple(_path(p) for p in e.initrds),
                args=e.args,
                source=Source.GRUB2,
                kind="multiboot" if e.multiboot else "linux",
            )
        )
    if options:
        want = int(default) if re.fullmatch(r"[0-9]{1,9}", default) else 0
        chosen = indices.index(want) if want in indices else 0
        options[chosen] = replace(options[chosen], default=True)
    return options, diags, timeout
