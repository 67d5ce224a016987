"""GRUB's ``test`` / ``[`` expression evaluator.

Strings (``-n -z = == != < <= > >=``), integers (``-eq -ne -lt -le -gt -ge``,
and GRUB's ``-pgt``/``-plt``, which compare the numbers after the common prefix), files
(``-e -f -d -s`` on paths and ``(dev)/paths`` through the device views),
``!``, ``-a``, ``-o`` and parentheses.  A lone word is true when non-empty.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bootd.parsers.grub.devices import clean_path, split_path

if TYPE_CHECKING:
    from bootd.parsers.grub.interpreter import Interpreter

_NUM = re.compile(r"\s*([+-]?[0-9]{1,30})")
_BINARY = frozenset(
    "= == != < <= > >= -eq -ne -lt -le -gt -ge -pgt -plt -nt -ot".split(),
)
_UNARY = frozenset("-n -z -e -f -d -s".split())


def _int(text: str) -> int:
    m = _NUM.match(text)
    return int(m.group(1)) if m else 0


def _strip_prefix(a: str, b: str) -> tuple[str, str]:
    i = 0
    while i < len(a) and i < len(b) and a[i] == b[i]:
        i += 1
    return a[i:], b[i:]


def _binary(it: Interpreter, a: str, op: str, b: str) -> bool:
    if op in ("=", "=="):
        return a == b
    if op == "!=":
        return a != b
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    if op == ">=":
        return a >= b
    if op in ("-pgt", "-plt"):
        a, b = _strip_prefix(a, b)
        return _int(a) > _int(b) if op == "-pgt" else _int(a) < _int(b)
    if op in ("-nt", "-ot"):
        return False
    x, y = _int(a), _int(b)
    return {
        "-eq": x == y,
        "-ne": x != y,
        "-lt": x < y,
        "-le": x <= y,
        "-gt": x > y,
        "-ge": x >= y,
    }[op]


def _file(it: Interpreter, op: str, arg: str) -> bool:
    dev, _ = split_path(arg)
    if not it.table.may_exist(dev if dev is not None else it.get("root")):
        return False
    target, path = it.locate(arg)
    view = target.view
    if view is None:
        return False
    p = clean_path(path)
    if op == "-d":
        return view.is_dir(p)
    if op == "-f":
        return view.is_file(p)
    if op == "-e":
        return view.is_file(p) or view.is_dir(p)
    size = view.size(p)
    return size is not None and size > 0


class _Eval:
    def __init__(self, it: Interpreter, args: list[str]) -> None:
        self.it = it
        self.args = args
        self.i = 0

    def more(self) -> bool:
        return self.i < len(self.args)

    def expr(self) -> bool:
        value = self.conj()
        while self.more() and self.args[self.i] == "-o":
            self.i += 1
            right = self.conj()
            value = value or right
        return value

    def conj(self) -> bool:
        value = self.negation()
        while self.more() and self.args[self.i] == "-a":
            self.i += 1
            right = self.negation()
            value = value and right
        return value

    def negation(self) -> bool:
        if self.more() and self.args[self.i] == "!" and self.i + 1 < len(self.args):
            self.i += 1
            return not self.negation()
        return self.primary()

    def primary(self) -> bool:
        args, i = self.args, self.i
        if i >= len(args):
            return False
        if args[i] == "(" and not (i + 2 < len(args) and args[i + 1] in _BINARY):
            self.i += 1
            value = self.expr()
            if self.more() and self.args[self.i] == ")":
                self.i += 1
            return value
        if i + 2 < len(args) and args[i + 1] in _BINARY:
            self.i += 3
            return _binary(self.it, args[i], args[i + 1], args[i + 2])
        if args[i] in _UNARY and i + 1 < len(args):
            self.i += 2
            op, arg = args[i], args[i + 1]
            if op == "-n":
                return arg != ""
            if op == "-z":
                return arg == ""
            return _file(self.it, op, arg)
        self.i += 1
        return args[i] != ""


def evaluate_test(it: Interpreter, args: list[str]) -> bool:
    """The truth of a ``test`` expression.  With no arguments at all (``[ ]``,
    or ``[ $unset ]``) GRUB's test is true, unlike a POSIX shell's."""
    if not args:
        return True
    ev = _Eval(it, args)
    value = ev.expr()
    while ev.more():  # trailing words: read as further conditions that must hold too
        if ev.args[ev.i] in ("-a", "-o", ")"):
            ev.i += 1
            continue
        right = ev.expr()
        value = value and right
    return value
