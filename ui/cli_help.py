"""``bootd-menu``'s command line in the environment's language
(:mod:`bootd.argparse_i18n`): ``--help`` translated as it is printed from the
menu's catalogue, and argparse's own messages (usage, errors) from it while the
command line is parsed."""

from __future__ import annotations

from bootd import argparse_i18n

from . import i18n


class HelpFormatter(argparse_i18n.HelpFormatter):
    @classmethod
    def translate(cls, text: str) -> str:
        return i18n.environment().gettext(text)


class Parser(argparse_i18n.Parser):
    formatter = HelpFormatter

    @staticmethod
    def speak() -> str | None:
        return i18n.speak_to_argparse()
