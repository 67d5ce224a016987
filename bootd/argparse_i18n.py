"""A command line in the user's language, for ``bootd`` and ``bootd-menu``.

``--help`` is translated as it is printed: the parser keeps its English texts,
which argparse-manpage and shtab read (formatting the usage themselves,
without printing a help), so the man page and the shell completion do not
depend on the build's locale.  Where the words are CJK the help is wrapped by
terminal columns (a wide character takes two).  argparse words its own
messages ("usage:", "error:", "the following arguments are required" …) with
gettext's module-level functions, for the current gettext domain: while a
:class:`Parser` parses, that domain is the command's own, and afterwards it is
what it was.

Each command subclasses both classes, naming its catalogue
(:meth:`HelpFormatter.translate`) and how argparse is made to read it
(:meth:`Parser.speak`).  Nothing here imports more than argparse, which a
command line loads anyway.
"""

from __future__ import annotations

import argparse

TYPE_CHECKING = False  # typing itself costs ~2 ms of the --help budget
if TYPE_CHECKING:
    from typing import Any, NoReturn

    from _typeshed import SupportsWrite


_WIDE = (
    (0x1100, 0x115F),
    (0x2E80, 0x303E),
    (0x3041, 0x33FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xA000, 0xA4CF),
    (0xAC00, 0xD7A3),
    (0xF900, 0xFAFF),
    (0xFE30, 0xFE4F),
    (0xFF00, 0xFF60),
    (0xFFE0, 0xFFE6),
)
"""Characters a terminal draws two columns wide (East Asian Wide and
Fullwidth: the common blocks; no regular expression or unicodedata, which
would cost a translated --help milliseconds)."""


def is_wide(char: str) -> bool:
    o = ord(char)
    return o >= 0x1100 and any(a <= o <= b for a, b in _WIDE)


def has_wide(text: str) -> bool:
    return not text.isascii() and any(is_wide(c) for c in text)


def wrap_columns(text: str, width: int) -> list[str]:
    """``text`` wrapped to ``width`` terminal columns: a wide (CJK) character
    counts two and a line may break between two of them, as it may at a space
    (``textwrap`` counts characters and breaks only at spaces)."""
    tokens: list[tuple[str, int, bool]] = []  # (text, columns, a space before it)
    for word in text.split():
        space, run = True, ""
        for c in word:
            if is_wide(c):
                if run:
                    tokens.append((run, len(run), space))
                    space, run = False, ""
                tokens.append((c, 2, space))
                space = False
            else:
                run += c
        if run:
            tokens.append((run, len(run), space))
    lines: list[str] = []
    line, used = "", 0
    for token, size, space in tokens:
        gap = 1 if space and line else 0
        if line and used + gap + size > width:
            lines.append(line)
            line, used, gap = "", 0, 0
        line, used = line + " " * gap + token, used + gap + size
    if line:
        lines.append(line)
    return lines


class HelpFormatter(argparse.HelpFormatter):
    """argparse's help, translated while :meth:`Parser.print_help` (or an
    error's usage) prints it."""

    translating = False

    @classmethod
    def translate(cls, text: str) -> str:
        """``text`` from the command's catalogue (a subclass names it)."""
        return text

    @classmethod
    def tr(cls, text: str) -> str:
        if not cls.translating or not text or text == argparse.SUPPRESS:
            return text
        return cls.translate(text)

    def _get_help_string(self, action: argparse.Action) -> str | None:
        return self.tr(action.help) if action.help else action.help

    def _format_usage(self, usage: Any, actions: Any, groups: Any, prefix: str | None) -> str:
        if not self.translating or not prefix or prefix.isascii():
            return str(super()._format_usage(usage, actions, groups, prefix))
        extra = sum(is_wide(c) for c in prefix)  # argparse counts characters; a CJK one takes 2 columns
        self._width -= extra
        try:
            text = str(super()._format_usage(usage, actions, groups, prefix))
        finally:
            self._width += extra
        first, *rest = text.split("\n")
        return "\n".join([first, *(" " * extra + line if line.strip() else line for line in rest)])

    def _split_lines(self, text: str, width: int) -> list[str]:
        return wrap_columns(text, width) if has_wide(text) else super()._split_lines(text, width)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if not has_wide(text):
            return super()._fill_text(text, width, indent)
        return "\n".join(indent + line for line in wrap_columns(text, width - len(indent)))

    def add_text(self, text: str | None) -> None:
        super().add_text(self.tr(text) if text else text)

    def start_section(self, heading: str | None) -> None:
        super().start_section(self.tr(heading) if heading else heading)

    def add_usage(self, usage: str | None, actions: Any, groups: Any, prefix: str | None = None) -> None:
        if prefix is None and self.translating:
            prefix = self.tr("usage: ")
        super().add_usage(usage, actions, groups, prefix)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose printed help and whose errors are in the user's
    language (its sub-command parsers are of its class too: argparse makes
    them so)."""

    formatter: type[HelpFormatter] = HelpFormatter

    @staticmethod
    def speak() -> str | None:
        """Make argparse read the command's catalogue; the gettext domain it
        replaced, or None when nothing was changed (a subclass says how)."""
        return None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", self.formatter)
        super().__init__(*args, **kwargs)

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        previous = self.speak()
        try:
            return super().parse_known_args(args, namespace)
        finally:
            _unspeak(previous)

    def parse_args(self, args: Any = None, namespace: Any = None) -> Any:
        previous = self.speak()  # its "unrecognized arguments" is worded outside parse_known_args
        try:
            return super().parse_args(args, namespace)
        finally:
            _unspeak(previous)

    def error(self, message: str) -> NoReturn:
        previous = self.speak()
        self.formatter.translating = True  # the usage it prints first
        try:
            super().error(message)
        finally:
            self.formatter.translating = False
            _unspeak(previous)

    def print_help(self, file: SupportsWrite[str] | None = None) -> None:
        self.formatter.translating = True
        try:
            super().print_help(file)
        finally:
            self.formatter.translating = False


def _unspeak(previous: str | None) -> None:
    if previous is not None:
        import gettext  # argparse imported it

        gettext.textdomain(previous)
