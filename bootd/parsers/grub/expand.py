"""GRUB word expansion: one word of a command line to its arguments.

A word is a sequence of pieces (:mod:`bootd.parsers.grub.lexer`): literal
text and variable references.  Quoted pieces stay in one argument; the value
of an unquoted variable is split on blanks into several, joined to the text
around it.  Inside quotes, ``$@`` gives one argument per positional
parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bootd.parsers.grub.lexer import Lit, Word

_SPACE = " \t\n"


def expand_word(word: Word, lookup: Callable[[str], str], positional: Sequence[str]) -> list[str]:
    """One word to zero or more arguments (unquoted values are split)."""
    if len(word) == 1:
        piece = word[0]
        if isinstance(piece, Lit):
            return [piece.text] if (piece.text or piece.quoted) else []
    fields: list[str] = []
    cur: list[str] = []
    real = False
    for piece in word:
        if isinstance(piece, Lit):
            cur.append(piece.text)
            real = real or piece.quoted or bool(piece.text)
            continue
        if piece.quoted:
            if piece.name == "@" and positional:
                params = positional
                cur.append(params[0])
                for p in params[1:]:
                    fields.append("".join(cur))
                    cur = [p]
                real = True
                continue
            cur.append(lookup(piece.name))
            real = True
            continue
        value = lookup(piece.name)
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
