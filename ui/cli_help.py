"""``bootd-menu``'s command line in the environment's language: ``--help``
translated as it is printed (the parser keeps its English texts, which the man
page and the shell completion are built from), and argparse's own messages
(usage, errors) from the menu's catalogue while the command line is parsed."""

from __future__ import annotations

import argparse
import gettext
import unicodedata
from typing import Any, NoReturn

from . import i18n


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in "WF"


def _columns(text: str) -> int:
    return len(text) + (0 if text.isascii() else sum(_wide(c) for c in text))


def wrap_columns(text: str, width: int) -> list[str]:
    """``text`` wrapped to ``width`` terminal columns: a wide (CJK) character
    counts two and a line may break after one, as it may at a space."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        pieces: list[str] = []
        run = ""
        for c in word:
            if _wide(c):
                if run:
                    pieces.append(run)
                    run = ""
                pieces.append(c)
            else:
                run += c
        if run:
            pieces.append(run)
        for n, piece in enumerate(pieces):
            gap = " " if n == 0 and line else ""
            if line and _columns(line + gap + piece) > width:
                lines.append(line)
                line, gap = "", ""
            line += gap + piece
    if line:
        lines.append(line)
    return lines


class HelpFormatter(argparse.HelpFormatter):
    """argparse's help in the environment's language while :class:`Parser`
    prints it; wrapped by terminal columns where the words are CJK."""

    translating = False

    @classmethod
    def tr(cls, text: str) -> str:
        if not cls.translating or not text or text == argparse.SUPPRESS:
            return text
        return i18n.environment().gettext(text)

    def _get_help_string(self, action: argparse.Action) -> str | None:
        return self.tr(action.help) if action.help else action.help

    def _format_usage(self, usage: Any, actions: Any, groups: Any, prefix: str | None) -> str:
        if not self.translating or not prefix or prefix.isascii():
            return str(super()._format_usage(usage, actions, groups, prefix))
        extra = _columns(prefix) - len(prefix)  # argparse counts characters; a CJK one takes 2 columns
        self._width -= extra
        try:
            text = str(super()._format_usage(usage, actions, groups, prefix))
        finally:
            self._width += extra
        first, *rest = text.split("\n")
        return "\n".join([first, *(" " * extra + line if line.strip() else line for line in rest)])

    def _split_lines(self, text: str, width: int) -> list[str]:
        if text.isascii() or not any(_wide(c) for c in text):
            return super()._split_lines(text, width)
        return wrap_columns(text, width)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.isascii() or not any(_wide(c) for c in text):
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


def _unspeak(previous: str | None) -> None:
    if previous is not None:
        gettext.textdomain(previous)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose printed help and errors are in the environment's
    language.  argparse words its errors with gettext's module-level functions,
    for the current gettext domain: while it parses, that is the menu's
    (:func:`ui.i18n.speak_to_argparse`); afterwards it is what it was."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        previous = i18n.speak_to_argparse()
        try:
            return super().parse_known_args(args, namespace)
        finally:
            _unspeak(previous)

    def parse_args(self, args: Any = None, namespace: Any = None) -> Any:
        previous = i18n.speak_to_argparse()  # its "unrecognized arguments" is worded outside parse_known_args
        try:
            return super().parse_args(args, namespace)
        finally:
            _unspeak(previous)

    def print_help(self, file: Any = None) -> None:
        HelpFormatter.translating = True
        try:
            super().print_help(file)
        finally:
            HelpFormatter.translating = False

    def error(self, message: str) -> NoReturn:
        previous = i18n.speak_to_argparse()
        HelpFormatter.translating = True  # the usage it prints first
        try:
            super().error(message)
        finally:
            HelpFormatter.translating = False
            _unspeak(previous)
