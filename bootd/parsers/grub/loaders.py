"""GRUB's loader commands: what a menu entry would load.

``linux`` (and ``linux16``/``linuxefi``), ``initrd`` (several files),
``devicetree``, ``multiboot``/``module`` and ``chainloader`` record into the
entry being evaluated; outside an entry they do nothing.  Arguments after
the kernel are joined into a command line the way GRUB's loaders join them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bootd.model import Resource
    from bootd.parsers.grub.interpreter import Interpreter

Command = Callable[["Interpreter", list[str]], int]
_SPECIAL = re.compile(r"[ \t\\'\"]")


def quote_cmdline(args: list[str]) -> str:
    """Join arguments into a kernel command line the way GRUB's loaders do."""
    out: list[str] = []
    for arg in args:
        if not _SPECIAL.search(arg):
            out.append(arg)
            continue
        quoted = any(c in arg for c in " \t")
        buf: list[str] = []
        i = 0
        while i < len(arg):
            c = arg[i]
            if c == "\\" and re.match(r"\\x[0-9a-fA-F]{2}", arg[i : i + 4]):
                buf.append(arg[i : i + 4])
                i += 4
                continue
            if c in "\\'\"":
                buf.append("\\")
            buf.append(c)
            i += 1
        text = "".join(buf)
        out.append(f'"{text}"' if quoted else text)
    return " ".join(out)


def _resource(it: Interpreter, text: str) -> Resource:
    """The file a loader command names (inside ``$btrfs_subvol`` when set)."""
    target, path = it.locate(text)
    return target.resource(path)


def _loader(kind: str) -> Command:
    def run(it: Interpreter, args: list[str]) -> int:
        files = [a for a in args if not a.startswith("--")]
        if not files:
            return 1
        if it.loading is not None:
            path = files[0]
            rest = args[args.index(path) + 1 :]
            it.loading.kind = kind
            it.loading.kernel = _resource(it, path)
            it.loading.args = quote_cmdline(rest)
            it.loading.initrds = []
        return 0

    return run


def cmd_initrd(it: Interpreter, args: list[str]) -> int:
    files = [a for a in args if not a.startswith("--")]
    if it.loading is not None:
        if not it.loading.kind:
            return 1
        it.loading.initrds = [_resource(it, _initrd_path(f)) for f in files]
    return 0 if files else 1


def _initrd_path(spec: str) -> str:
    """``newc:NAME:PATH`` names a file under another name inside the initrd."""
    if spec.startswith("newc:"):
        return spec.split(":", 2)[-1]
    return spec


def cmd_module(it: Interpreter, args: list[str]) -> int:
    files = [a for a in args if not a.startswith("--")]
    if not files:
        return 1
    if it.loading is not None and it.loading.kind == "multiboot":
        it.loading.initrds.append(_resource(it, files[0]))
    return 0


def cmd_devicetree(it: Interpreter, args: list[str]) -> int:
    if not args:
        return 1
    if it.loading is not None:
        it.loading.dtb = _resource(it, args[0])
    return 0


def cmd_chainloader(it: Interpreter, args: list[str]) -> int:
    if it.loading is not None:
        it.loading.kind = "chainloader"
        it.loading.kernel = None
    return 0


LOADERS: dict[str, Command] = {
    "linux": _loader("linux"),
    "linux16": _loader("linux"),
    "linuxefi": _loader("linux"),
    "multiboot": _loader("multiboot"),
    "multiboot2": _loader("multiboot"),
    "initrd": cmd_initrd,
    "initrd16": cmd_initrd,
    "initrdefi": cmd_initrd,
    "module": cmd_module,
    "module2": cmd_module,
    "devicetree": cmd_devicetree,
    "chainloader": cmd_chainloader,
}
