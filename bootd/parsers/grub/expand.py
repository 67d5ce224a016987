"""GRUB word expansion: one word of a command line to its arguments.

A word is a sequence of pieces (:mod:`bootd.parsers.grub.lexer`): literal
text and variable references.  Quoted pieces stay in one argument; the value
of an unquoted variable is split on blanks into several, joined to the text
around it.  Inside quotes, ``$@`` gives one argument per positional
parameter.

A word that would grow past ``limit`` bytes is never built: expansion stops
with :class:`WordTooLong` as soon as the pieces add up to more.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bootd.parsers.grub.lexer import Lit, Word

_SPACE = " \t\n"
UNLIMITED = 1 << 62


class WordTooLong(ValueError):
    """A word expanded to more than its byte cap."""

    def __init__(self, size: int) -> None:
        super().__init__(f"{size} bytes")
        self.size = size


def expand_word(
    word: Word, lookup: Callable[[str], str], positional: Sequence[str], limit: int = UNLIMITED
) -> list[str]:
    """One word to zero or more arguments (unquoted values are split)."""
    if len(word) == 1:
        piece = word[0]
        if isinstance(piece, Lit):
            if len(piece.text) > limit:
                raise WordTooLong(len(piece.text))
            return [piece.text] if (piece.text or piece.quoted) else []
    fields: list[str] = []
    cur: list[str] = []
    real = False
    size = 0
    for piece in word:
        if isinstance(piece, Lit):
            size += len(piece.text)
            if size > limit:
                raise WordTooLong(size)
            cur.append(piece.text)
            real = real or piece.quoted or bool(piece.text)
            continue
        if piece.quoted:
            if piece.name == "@" and positional:
                params = positional
                size += sum(len(p) for p in params)
                if size > limit:
                    raise WordTooLong(size)
                cur.append(params[0])
                for p in params[1:]:
                    fields.append("".join(cur))
                    cur = [p]
                real = True
                continue
            value = lookup(piece.name)
            size += len(value)
            if size > limit:
                raise WordTooLong(size)
            cur.append(value)
            real = True
            continue
        value = lookup(piece.name)
        size += len(value)
        if size > limit:
            raise WordTooLong(size)
        parts = value.split()
        if not parts:
            if value and real:
                fields.append("".join(cur))
                cur, real = [], False
            continue
        if value[0] in _SPACE and real:
            fields.append("".join(cur))
            cur = []
        cur.append(parts[0])
        for p in parts[1:]:
            fields.append("".join(cur))
            cur = [p]
        real = True
        if value[-1] in _SPACE:
            fields.append("".join(cur))
            cur, real = [], False
    if real:
        fields.append("".join(cur))
    return fields
