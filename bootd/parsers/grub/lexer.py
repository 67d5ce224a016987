"""GRUB script lexer: text to tokens, the way GRUB's own scanner splits it.

Words are made of pieces: literal text (quoted or not) and variable
references (``$name``, ``${name}``, ``$1``, ``$?``, ``$#``, ``$@``, ``$*``),
remembering whether each piece stood inside double quotes, because unquoted
variable values are split into several arguments and quoted ones are not.
``{``, ``}``, ``;`` and newlines are tokens of their own; ``#`` starts a
comment only where a word could start.  The lexer never fails: an unclosed
quote runs to the end of the input and is reported.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple


class Tok(StrEnum):
    WORD = "word"
    NEWLINE = "newline"
    SEMI = ";"
    LBRACE = "{"
    RBRACE = "}"
    EOF = "eof"


class Lit(NamedTuple):
    """Literal text; ``quoted`` when it came from quotes or an escape."""

    text: str
    quoted: bool = False


class Var(NamedTuple):
    """A variable reference; ``quoted`` inside double quotes (no splitting)."""

    name: str
    quoted: bool = False


Piece = Lit | Var
Word = tuple[Piece, ...]


class Token(NamedTuple):
    kind: Tok
    line: int
    word: Word = ()

    @property
    def plain(self) -> str | None:
        """The text of a word made of one unquoted literal (keyword candidates)."""
        if self.kind is Tok.WORD and len(self.word) == 1:
            piece = self.word[0]
            if isinstance(piece, Lit) and not piece.quoted:
                return piece.text
        return None


@dataclass(frozen=True, slots=True)
class LexIssue:
    line: int
    message: str


_PLAIN = re.compile(r"[^ \t\r\f\v\n{};'\"\\$]+")
_SQ = re.compile(r"'([^']*)(')?")
_DQ_TEXT = re.compile(r"[^\"\\$]+")
_VAR = re.compile(r"\$(?:\{([^}\n]*)\}|([A-Za-z_][A-Za-z0-9_]*|[0-9]+|[?#*@]))")
_HEX_ESCAPE = re.compile(r"\\x[0-9A-Fa-f]{2}")
_ENDS = frozenset(" \t\r\f\v\n;{}")


_MASTER = re.compile(
    r"[ \t\r\f\v]*"
    r"(?:(?P<nl>\n)"
    r"|(?P<op>[;{}])"
    r"|(?P<cont>\\\n)"
    r"|(?P<comment>#[^\n]*)"
    # The common case, a word of plain characters only, in one step.
    r"|(?P<plain>[^ \t\r\f\v\n{};'\"\\$]+(?=[ \t\r\f\v\n{};]|\Z))"
    r"|(?P<end>\Z)"
    r"|)"
)
_OPS = {";": Tok.SEMI, "{": Tok.LBRACE, "}": Tok.RBRACE}


def tokenize(text: str) -> tuple[list[Token], list[LexIssue]]:
    """Split ``text`` into tokens (always ending with EOF) and report problems."""
    tokens: list[Token] = []
    issues: list[LexIssue] = []
    append = tokens.append
    match = _MASTER.match
    word_tok = Tok.WORD
    pos = 0
    line = 1
    n = len(text)
    while pos < n:
        m = match(text, pos)
        assert m is not None  # the last alternative is empty
        kind = m.lastgroup
        if kind == "plain":
            append(Token(word_tok, line, (Lit(m.group(kind)),)))
            pos = m.end()
        elif kind == "cont":
            line += 1
            pos = m.end()
        elif kind == "nl":
            append(Token(Tok.NEWLINE, line))
            line += 1
            pos = m.end()
        elif kind == "op":
            append(Token(_OPS[m.group("op")], line))
            pos = m.end()
        elif kind == "comment" or kind == "end":
            pos = m.end()
        else:  # a word with quotes, escapes or variables
            start_line = line
            word, pos, line = _word(text, m.end(), line, issues)
            append(Token(word_tok, start_line, word))
    tokens.append(Token(Tok.EOF, line))
    return tokens, issues


def _word(text: str, pos: int, line: int, issues: list[LexIssue]) -> tuple[Word, int, int]:
    pieces: list[Piece] = []
    n = len(text)

    def add(piece: Piece) -> None:
        if isinstance(piece, Lit) and pieces:
            last = pieces[-1]
            if isinstance(last, Lit) and last.quoted == piece.quoted:
                pieces[-1] = Lit(last.text + piece.text, piece.quoted)
                return
        pieces.append(piece)

    while pos < n:
        c = text[pos]
        if c in _ENDS:
            break
        if c == "'":
            m = _SQ.match(text, pos)
            assert m is not None
            body = m.group(1)
            if m.group(2) is None:
                issues.append(LexIssue(line, "unterminated single quote"))
            add(Lit(body, True))
            line += body.count("\n")
            pos = m.end()
        elif c == '"':
            pos, line = _dquote(text, pos + 1, line, add, issues)
        elif c == "\\":
            if pos + 1 >= n:
                pos += 1
            elif text[pos + 1] == "\n":
                line += 1
                pos += 2
            elif _HEX_ESCAPE.match(text, pos):
                # \xHH stays as written: kernels decode it (LABEL=CentOS\x207).
                add(Lit(text[pos : pos + 4], True))
                pos += 4
            else:
                add(Lit(text[pos + 1], True))
                pos += 2
        elif c == "$":
            m = _VAR.match(text, pos)
            if m:
                add(Var(m.group(1) if m.group(1) is not None else m.group(2)))
                pos = m.end()
            else:
                add(Lit("$"))
                pos += 1
        else:
            m = _PLAIN.match(text, pos)
            assert m is not None
            add(Lit(m.group()))
            pos = m.end()
    if not pieces:
        # Empty quotes ('' or "") still make an (empty) argument.
        pieces.append(Lit("", True))
    return tuple(pieces), pos, line


def _dquote(
    text: str,
    pos: int,
    line: int,
    emit: Callable[[Piece], None],
    issues: list[LexIssue],
) -> tuple[int, int]:
    n = len(text)
    emit(Lit("", True))
    while pos < n:
        c = text[pos]
        if c == '"':
            return pos + 1, line
        if c == "\\":
            nxt = text[pos + 1] if pos + 1 < n else ""
            if nxt == "\n":
                line += 1
                pos += 2
            elif nxt in ('"', "\\", "$"):
                emit(Lit(nxt, True))
                pos += 2
            else:
                emit(Lit("\\", True))
                pos += 1
        elif c == "$":
            m = _VAR.match(text, pos)
            if m:
                emit(Var(m.group(1) if m.group(1) is not None else m.group(2), True))
                pos = m.end()
            else:
                emit(Lit("$", True))
                pos += 1
        else:
            m = _DQ_TEXT.match(text, pos)
            assert m is not None
            chunk = m.group()
            line += chunk.count("\n")
            emit(Lit(chunk, True))
            pos = m.end()
    issues.append(LexIssue(line, "unterminated double quote"))
    return pos, line
