"""GRUB script lexer: text to tokens, the way GRUB's own scanner splits it.

Words are made of pieces: literal text (quoted or not) and variable
references (``$name``, ``${name}``, ``$1``, ``$?``, ``$#``, ``$@``, ``$*``),
remembering whether each piece stood inside double quotes, because unquoted
variable values are split into several arguments and quoted ones are not.
``{``, ``}``, ``;`` and newlines are tokens of their own; ``#`` starts a
comment only where a word could start.  The lexer never fails: an unclosed
quote runs to the end of the input and is reported.

Most lines of a config are made of common words only (plain text, quotes
closed on the line without escapes, ``$name``, ``${name}``), perhaps with
``;``, ``{`` or ``}``: :func:`scan` takes such a line in one regular
expression match; a simple command's line becomes one ``LINE`` token
carrying its words, a menu command's head one ``HEAD`` token, each distinct
word of the text built once.  Other lines are read piece by piece.
:func:`tokenize` gives the same tokens one word at a time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import StrEnum
from typing import NamedTuple

from bootd.model import N_, Record, _set, record


class Tok(StrEnum):
    WORD = "word"
    NEWLINE = "newline"
    SEMI = ";"
    LBRACE = "{"
    RBRACE = "}"
    EOF = "eof"
    LINE = "line"
    """A whole command line of plain words (``Token.words``), from :func:`scan` only."""
    HEAD = "head"
    """A menu command's words (``Token.words``) up to its ``{``, from :func:`scan` only."""


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
    plain: str | None = None
    """The text of a word made of one unquoted literal (keyword candidates)."""
    words: tuple[Word, ...] = ()
    """A ``LINE`` or ``HEAD`` token's words."""
    texts: tuple[str, ...] | None = None
    """A ``LINE`` token's words as text, when every one is plain (no quote, no
    variable, no wildcard character)."""


def _plain(word: Word) -> str | None:
    if len(word) == 1:
        piece = word[0]
        if type(piece) is Lit and not piece.quoted:
            return piece.text
    return None


@record
class LexIssue(Record):
    line: int
    message: str
    template: str = ""
    """The message's ``N_`` template (a client translates it)."""

    def __init__(self, line: int, message: str, template: str = "") -> None:
        _set(self, "line", line)
        _set(self, "message", message)
        _set(self, "template", template)


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


# A word of the common kinds: plain text, closed quotes on one line without
# escapes, closed ${name} and $name references.
_W = r"""(?>(?:[^ \t\r\f\v\n{};'"\\#$]++|'[^'\n]*+'|"[^"\\\n]*+"|\$\{[^}\n]*+\}|\$)++)"""
_LINE = re.compile(
    # a line of such words, perhaps a '{' after them (a menu entry's head), then its end;
    # possessive throughout, so a line that is not of this kind fails in linear time
    rf"[ \t\r\f\v]*+({_W}(?:[ \t\r\f\v]++{_W})*+)[ \t\r\f\v]*+(\{{[ \t\r\f\v]*+)?(?:\n|\Z)"
)
_WORDS = re.compile(_W)
_LINE_OPS = re.compile(
    # a line of such words and ';', '{', '}' (``if [ … ]; then``, ``}``), then its end
    rf"[ \t\r\f\v]*+((?:(?:{_W}|[;{{}}])[ \t\r\f\v]*+)++)(?:\n|\Z)"
)
_ITEMS = re.compile(rf"{_W}|[;{{}}]")
_SIMPLE_TEXT = re.compile(r"[^'\"$]*")
_HARD = re.compile(
    # what makes a line more than blank-separated plain words: GRUB's special
    # characters, and the characters str.split() takes for blanks but GRUB does not
    "[{};'\"\\\\#$\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
)
_BLANKS = " \t\r\f\v"
_SPECIAL = re.compile(r"['\"$*?]")
MENU_WORDS = frozenset({"menuentry", "submenu", "hiddenentry"})
KEYWORDS = MENU_WORDS | {"if", "then", "elif", "else", "fi", "for", "in", "do", "done", "while", "until", "function"}
"""Words the parser reads in command position: a line starting with one is given word by word."""


_Item = tuple[Tok, Word, str | None]
"""An item of a line (a word or ';', '{', '}'): its token's kind, word and plain text."""


def tokenize(text: str) -> tuple[list[Token], list[LexIssue]]:
    """Split ``text`` into tokens (always ending with EOF) and report problems."""
    tokens, issues = scan(text)
    if not any(t.kind is Tok.LINE or t.kind is Tok.HEAD for t in tokens):
        return tokens, issues
    flat: list[Token] = []
    for t in tokens:
        if t.kind is Tok.LINE or t.kind is Tok.HEAD:
            flat.extend(Token(Tok.WORD, t.line, w, _plain(w)) for w in t.words)
        else:
            flat.append(t)
    return flat, issues


def scan(text: str, *, lines: bool = True) -> tuple[list[Token], list[LexIssue]]:
    """:func:`tokenize`, with a simple command's line as one ``LINE`` token and
    a menu command's head as one ``HEAD`` token (``lines=False``: every token
    read piece by piece, the reference the line scanner is tested against)."""
    tokens: list[Token] = []
    issues: list[LexIssue] = []
    append = tokens.append
    match = _MASTER.match
    line_match = _LINE.match
    split = _WORDS.findall
    ops_match = _LINE_OPS.match
    items = _ITEMS.findall
    simple_text = _SIMPLE_TEXT.fullmatch
    seen: dict[str, Word] = {}
    seen_get = seen.get
    special = _SPECIAL.search
    new = tuple.__new__  # a Token without the keyword-argument wrapper
    word_tok = Tok.WORD

    def word_of(t: str) -> Word:
        """The pieces of a word of the line scanner's kinds (closed quotes: no issue, no newline)."""
        if simple_text(t):
            w: Word = (new(Lit, (t, False)),)
        elif t[0] == "'" and t.find("'", 1) == len(t) - 1:  # one single-quoted string
            w = (new(Lit, (t[1:-1], True)),)
        else:
            w = _word(t, 0, 0, issues)[0]
        seen[t] = w
        return w

    known: dict[str, _Item] = {op: (kind, (), None) for op, kind in _OPS.items()}
    known_get = known.get

    def item_of(t: str) -> _Item:
        w = seen_get(t) or word_of(t)
        item = known[t] = (word_tok, w, _plain(w))
        return item

    def put_items(texts: list[str], line: int) -> None:
        """A line's items (words, ';', '{', '}'), a token each."""
        for t in texts:
            item_kind, w, plain_text = known_get(t) or item_of(t)
            append(new(Token, (item_kind, line, w, plain_text, (), None)))

    keywords = KEYWORDS
    menu_words = MENU_WORDS
    head_tok = Tok.HEAD
    lbrace_tok = Tok.LBRACE
    line_tok = Tok.LINE
    newline_tok = Tok.NEWLINE
    hard = _HARD.search
    find = text.find
    rbrace_tok = Tok.RBRACE
    pos = 0
    line = 1
    n = len(text)
    at_start = lines
    while pos < n:
        if at_start:
            # The commonest line, plain words only: split at C speed.
            nl = find("\n", pos)
            seg = text[pos:] if nl < 0 else text[pos:nl]
            whole = True  # the line taken whole, up to its newline
            if hard(seg) is None:
                texts = seg.split()
                if texts:
                    first = texts[0]
                    if first in keywords:
                        for t in texts:
                            append(new(Token, (word_tok, line, seen_get(t) or word_of(t), t, (), None)))
                    else:
                        words = [seen_get(t) or word_of(t) for t in texts]
                        plain = None if "*" in seg or "?" in seg else tuple(texts)
                        append(new(Token, (line_tok, line, (), None, tuple(words), plain)))
            elif seg.strip(_BLANKS) == "}":  # the end of a block
                append(new(Token, (rbrace_tok, line, (), None, (), None)))
            else:
                whole = False
            if whole:
                if nl < 0:
                    break
                append(new(Token, (newline_tok, line, (), None, (), None)))
                line += 1
                pos = nl + 1
                continue
        if at_start and text[pos] not in "#\n}":  # (a comment, an empty line, a '}': piece by piece)
            at_start = False
            m = line_match(text, pos)
            if m is not None:
                body, brace = m.groups()
                texts = split(body)
                words = [seen_get(t) or word_of(t) for t in texts]
                first = texts[0]
                if brace is not None:  # ends in '{'
                    if first in menu_words:
                        append(new(Token, (head_tok, line, (), first, tuple(words), None)))
                    else:
                        put_items(texts, line)
                    append(new(Token, (lbrace_tok, line, (), None, (), None)))
                elif first in keywords:
                    put_items(texts, line)
                else:
                    plain = None if special(body) else tuple(texts)
                    append(new(Token, (line_tok, line, (), None, tuple(words), plain)))
            else:
                m = ops_match(text, pos)
                if m is None:
                    continue  # piece by piece
                put_items(items(m.group(1)), line)
            pos = m.end()
            if text[pos - 1] == "\n":
                append(new(Token, (newline_tok, line, (), None, (), None)))
                line += 1
                at_start = lines
            continue
        at_start = False  # the rest of this line piece by piece
        m = match(text, pos)
        assert m is not None  # the last alternative is empty
        kind = m.lastgroup
        if kind == "plain":
            t = m.group(kind)
            append(new(Token, (word_tok, line, (new(Lit, (t, False)),), t, (), None)))
            pos = m.end()
        elif kind == "cont":
            line += 1
            pos = m.end()
        elif kind == "nl":
            append(new(Token, (newline_tok, line, (), None, (), None)))
            line += 1
            pos = m.end()
            at_start = lines
        elif kind == "op":
            append(new(Token, (_OPS[m.group("op")], line, (), None, (), None)))
            pos = m.end()
        elif kind == "comment" or kind == "end":
            pos = m.end()
        else:  # a word with quotes, escapes or variables
            start_line = line
            word, pos, line = _word(text, m.end(), line, issues)
            append(new(Token, (word_tok, start_line, word, _plain(word), (), None)))
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
                issues.append(LexIssue(line, "unterminated single quote", N_("unterminated single quote")))
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
    issues.append(LexIssue(line, "unterminated double quote", N_("unterminated double quote")))
    return pos, line
