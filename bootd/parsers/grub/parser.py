"""GRUB script parser: tokens to a syntax tree.

The grammar is GRUB's: simple commands, ``{ }`` blocks, ``if/elif/else/fi``,
``for … in … do … done``, ``while``/``until``, ``function NAME { }`` and the
menu commands ``menuentry``/``submenu``/``hiddenentry`` with a ``{ }`` body.
Keywords count only in command position and unquoted.

The parser salvages what it can: a syntax error skips to the end of the
line and is reported; a block still open at the end of the file is closed
there (a file ending in ``}`` without a newline is fine).  Nesting is capped.
"""

from __future__ import annotations

import gc
import re
import threading
from collections import OrderedDict
from typing import NamedTuple

from bootd.model import N_, Record, Text, _set, record
from bootd.parsers.grub.lexer import MENU_WORDS, Lit, Tok, Token, Word, scan

MAX_NESTING = 64
"""Deepest nesting of blocks the parser accepts."""

_new = tuple.__new__  # a named tuple without the keyword-argument wrapper


class Simple(NamedTuple):
    """A simple command.  (The nodes are named tuples: there are many of
    them, and a tuple is made several times faster than a frozen dataclass;
    they are immutable all the same.)"""

    words: tuple[Word, ...]
    line: int
    argv: tuple[str, ...] | None = None
    """The arguments, when no word holds a variable and no argument a
    wildcard character (``*``, ``?``: the wildcards' expansion decides)."""
    size: int = 0
    """With ``argv``: its bytes with a separator each (what ``expand_all`` counts)."""
    longest: int = 0
    """With ``argv``: the longest argument."""
    cost: int = 0
    """With ``argv``: the steps its words' pieces cost when expanded."""
    assign: bool = False
    """The first word starts with unquoted ``NAME=`` (an assignment, when it is the only argument)."""


_ASSIGN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")


def _assigns(words: tuple[Word, ...]) -> bool:
    if not words or not words[0]:
        return False
    first = words[0][0]
    return type(first) is Lit and not first.quoted and "=" in first.text and _ASSIGN.match(first.text) is not None


def simple_node(words: tuple[Word, ...], line: int) -> Simple:
    """A simple command, its arguments worked out now when they are all literal."""
    assign = _assigns(words)
    argv: list[str] = []
    cost = 0
    for word in words:
        if len(word) == 1:
            piece = word[0]
            if not isinstance(piece, Lit):
                return Simple(words, line, assign=assign)
            if piece.text or piece.quoted:
                argv.append(piece.text)
            continue
        real = False
        texts: list[str] = []
        for piece in word:
            if not isinstance(piece, Lit):
                return Simple(words, line, assign=assign)
            real = real or piece.quoted or bool(piece.text)
            texts.append(piece.text)
        cost += len(word) >> 2
        if real:
            argv.append("".join(texts))
    if not argv:
        return Simple(words, line, (), 0, 0, cost, assign)
    if any("*" in a or "?" in a for a in argv):
        return Simple(words, line, assign=assign)
    return Simple(words, line, tuple(argv), sum(map(len, argv)) + len(argv), max(map(len, argv)), cost, assign)


def line_node(tok: Token) -> Simple:
    """The simple command of a ``LINE`` token (plain words without wildcard
    characters: their text is the arguments)."""
    texts = tok.texts
    if texts is None:
        return simple_node(tok.words, tok.line)
    first = texts[0]
    assign = "=" in first and _ASSIGN.match(first) is not None
    size = sum(map(len, texts)) + len(texts)
    return _new(Simple, (tok.words, tok.line, texts, size, max(map(len, texts)), 0, assign))


class Block(NamedTuple):
    body: tuple[Node, ...]
    line: int


class If(NamedTuple):
    branches: tuple[tuple[tuple[Node, ...], tuple[Node, ...]], ...]
    orelse: tuple[Node, ...] | None
    line: int


class For(NamedTuple):
    var: str
    items: tuple[Word, ...]
    body: tuple[Node, ...]
    line: int


class While(NamedTuple):
    cond: tuple[Node, ...]
    body: tuple[Node, ...]
    until: bool
    line: int


class Function(NamedTuple):
    name: str
    body: tuple[Node, ...]
    line: int


class Menu(NamedTuple):
    kind: str
    """``menuentry``, ``submenu`` or ``hiddenentry``."""
    args: tuple[Word, ...]
    body: tuple[Node, ...]
    line: int
    head: Simple | None = None
    """``args`` as a simple command (their expansion worked out once when literal)."""


Node = Simple | Block | If | For | While | Function | Menu


@record
class Issue(Record):
    line: int
    message: str
    template: str = ""
    """The message's ``N_`` template and its arguments (a client translates it)."""
    args: tuple[tuple[str, str], ...] = ()

    def __init__(self, line: int, message: str, template: str = "", args: tuple[tuple[str, str], ...] = ()) -> None:
        _set(self, "line", line)
        _set(self, "message", message)
        _set(self, "template", template)
        _set(self, "args", args)

    @classmethod
    def of(cls, line: int, text: Text) -> Issue:
        return cls(line, text.text, text.template, text.args)


@record
class Script(Record):
    body: tuple[Node, ...]
    issues: tuple[Issue, ...] = ()

    def __init__(self, body: tuple[Node, ...], issues: tuple[Issue, ...] = ()) -> None:
        _set(self, "body", body)
        _set(self, "issues", issues)


UNEXPECTED_IN = N_("unexpected {token} in {what}")
EXPECTED = N_("{what}: expected {token}")


class SyntaxProblem(Exception):
    def __init__(self, line: int, message: Text) -> None:
        super().__init__(message.text)
        self.line = line
        self.message = message


_LINE_TOK, _NEWLINE_TOK, _SEMI_TOK = Tok.LINE, Tok.NEWLINE, Tok.SEMI
_MENU_WORDS = MENU_WORDS
_STOP_WORDS = frozenset({"then", "elif", "else", "fi", "do", "done"})
_THEN, _AFTER_THEN, _FI = frozenset({"then"}), frozenset({"elif", "else", "fi"}), frozenset({"fi"})
_DO, _DONE = frozenset({"do"}), frozenset({"done"})


class _Parser:
    __slots__ = ("tokens", "pos", "depth", "issues")

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.depth = 0
        self.issues: list[Issue] = []

    def peek(self) -> Token:
        return self.tokens[self.pos]

    def next(self) -> Token:
        tok = self.tokens[self.pos]
        if tok.kind is not Tok.EOF:
            self.pos += 1
        return tok

    def skip_separators(self) -> None:
        while self.tokens[self.pos].kind in (Tok.NEWLINE, Tok.SEMI):
            self.pos += 1

    def separated(self) -> Token:
        """Skip separators; the token after them (not consumed)."""
        tokens = self.tokens
        pos = self.pos
        tok = tokens[pos]
        while tok.kind is _NEWLINE_TOK or tok.kind is _SEMI_TOK:
            pos += 1
            tok = tokens[pos]
        self.pos = pos
        return tok

    def skip_newlines(self) -> None:
        while self.tokens[self.pos].kind is Tok.NEWLINE:
            self.pos += 1

    # -- lists -------------------------------------------------------------

    def lines(self, nodes: list[Node]) -> Token:
        """Skip separators and take the ``LINE`` tokens among them (the common
        case) into ``nodes``; the token after them (not consumed)."""
        if self.depth >= MAX_NESTING:  # (a LINE too deep is the command's error)
            return self.separated()
        tokens = self.tokens
        pos = self.pos
        append = nodes.append
        while True:
            tok = tokens[pos]
            kind = tok.kind
            if kind is _LINE_TOK:
                texts = tok.texts
                if texts is None:
                    append(simple_node(tok.words, tok.line))
                else:  # line_node, inline
                    first = texts[0]
                    size = sum(map(len, texts)) + len(texts)
                    assign = "=" in first and _ASSIGN.match(first) is not None
                    append(_new(Simple, (tok.words, tok.line, texts, size, max(map(len, texts)), 0, assign)))
            elif kind is not _NEWLINE_TOK and kind is not _SEMI_TOK:
                self.pos = pos
                return tok
            pos += 1

    def top(self) -> tuple[Node, ...]:
        nodes: list[Node] = []
        while True:
            tok = self.lines(nodes)
            if tok.kind is Tok.EOF:
                return tuple(nodes)
            if tok.kind is Tok.RBRACE or tok.plain in _STOP_WORDS:
                self.issues.append(
                    Issue.of(tok.line, Text.of(N_("unexpected {token}; ignored"), token=f"'{tok.plain or '}'}'"))
                )
                self.next()
                continue
            start = self.pos
            try:
                nodes.append(self.command())
            except SyntaxProblem as e:
                self.issues.append(Issue.of(e.line, e.message))
                self.depth = 0
                self.pos = max(self.pos, start + 1)
                self.resync()

    def resync(self) -> None:
        """After an error, continue at the start of the next line."""
        while self.peek().kind not in (Tok.NEWLINE, Tok.EOF):
            self.next()

    def body_until(self, stops: frozenset[str], what: str, line: int) -> tuple[tuple[Node, ...], str | None]:
        """Commands up to one of ``stops`` (consumed and returned) or EOF."""
        nodes: list[Node] = []
        while True:
            tok = self.lines(nodes)
            if tok.kind is Tok.EOF:
                self.issues.append(
                    Issue.of(line, Text.of(N_("{what} is not closed before the end of the file"), what=what))
                )
                return tuple(nodes), None
            word = tok.plain
            if word in stops:
                self.next()
                return tuple(nodes), word
            if tok.kind is Tok.RBRACE or word in _STOP_WORDS:
                raise SyntaxProblem(tok.line, Text.of(UNEXPECTED_IN, token=f"'{word or '}'}'", what=what))
            nodes.append(self.command())

    def brace_body(self, what: str, line: int) -> tuple[Node, ...]:
        """``{ commands }``; the opening brace is next."""
        self.skip_newlines()
        tok = self.next()
        if tok.kind is not Tok.LBRACE:
            raise SyntaxProblem(tok.line, Text.of(EXPECTED, what=what, token="'{'"))
        nodes: list[Node] = []
        while True:
            tok = self.lines(nodes)
            if tok.kind is Tok.EOF:
                self.issues.append(
                    Issue.of(
                        line,
                        Text.of(N_("{what}: {token} is not closed before the end of the file"), what=what, token="'{'"),
                    )
                )
                return tuple(nodes)
            if tok.kind is Tok.RBRACE:
                self.next()
                return tuple(nodes)
            if tok.plain in _STOP_WORDS:
                raise SyntaxProblem(tok.line, Text.of(UNEXPECTED_IN, token=f"'{tok.plain}'", what=what))
            nodes.append(self.command())

    # -- commands ----------------------------------------------------------

    def command(self) -> Node:
        tok = self.peek()
        self.depth += 1
        try:
            if self.depth > MAX_NESTING:
                raise SyntaxProblem(
                    tok.line, Text.of(N_("blocks nested deeper than {depth} levels"), depth=MAX_NESTING)
                )
            if tok.kind is Tok.LBRACE:
                return Block(self.brace_body("block", tok.line), tok.line)
            word = tok.plain
            if word == "if":
                return self.if_()
            if word == "for":
                return self.for_()
            if word in ("while", "until"):
                return self.while_()
            if word == "function":
                return self.function()
            if word in _MENU_WORDS:
                return self.menu()
            return self.simple()
        finally:
            self.depth -= 1

    def simple(self) -> Simple:
        tokens = self.tokens
        pos = self.pos
        tok = tokens[pos]
        line = tok.line
        if tok.kind is Tok.LINE:
            self.pos = pos + 1
            return line_node(tok)
        words: list[Word] = []
        while tok.kind is Tok.WORD:
            words.append(tok.word)
            pos += 1
            tok = tokens[pos]
        self.pos = pos
        if tok.kind is Tok.LBRACE:
            raise SyntaxProblem(tok.line, Text.of(N_("unexpected {token}"), token="'{'"))
        return simple_node(tuple(words), line)

    def if_(self) -> If:
        line = self.next().line
        branches: list[tuple[tuple[Node, ...], tuple[Node, ...]]] = []
        orelse: tuple[Node, ...] | None = None
        while True:
            cond, stop = self.body_until(_THEN, "if", line)
            if stop is None:
                branches.append((cond, ()))
                break
            body, stop = self.body_until(_AFTER_THEN, "if", line)
            branches.append((cond, body))
            if stop == "elif":
                continue
            if stop == "else":
                orelse, _ = self.body_until(_FI, "if", line)
            break
        return If(tuple(branches), orelse, line)

    def for_(self) -> For:
        line = self.next().line
        tok = self.next()
        name = tok.plain
        if name is None:
            raise SyntaxProblem(tok.line, Text.of(N_("for: expected a variable name")))
        tok = self.next()
        if tok.plain != "in":
            raise SyntaxProblem(tok.line, Text.of(EXPECTED, what="for", token="'in'"))
        items: list[Word] = []
        while self.peek().kind is Tok.WORD:
            items.append(self.next().word)
        self.skip_separators()
        tok = self.next()
        if tok.plain != "do":
            raise SyntaxProblem(tok.line, Text.of(EXPECTED, what="for", token="'do'"))
        body, _ = self.body_until(_DONE, "for", line)
        return For(name, tuple(items), body, line)

    def while_(self) -> While:
        tok = self.next()
        line = tok.line
        until = tok.plain == "until"
        cond, stop = self.body_until(_DO, str(tok.plain), line)
        body: tuple[Node, ...] = ()
        if stop is not None:
            body, _ = self.body_until(_DONE, str(tok.plain), line)
        return While(cond, body, until, line)

    def function(self) -> Function:
        line = self.next().line
        tok = self.next()
        name = tok.plain
        if name is None:
            raise SyntaxProblem(tok.line, Text.of(N_("function: expected a name")))
        return Function(name, self.brace_body(f"function {name}", line), line)

    def menu(self) -> Menu:
        tok = self.next()
        kind = str(tok.plain)
        args: list[Word] = list(tok.words[1:])  # a HEAD token holds them all
        while self.peek().kind is Tok.WORD:
            args.append(self.next().word)
        if self.peek().kind is not Tok.LBRACE:
            nxt = self.pos
            self.skip_newlines()
            if self.peek().kind is not Tok.LBRACE:
                self.pos = nxt
                raise SyntaxProblem(tok.line, Text.of(EXPECTED, what=kind, token="'{'"))
        words = tuple(args)
        return Menu(kind, words, self.brace_body(kind, tok.line), tok.line, simple_node(words, tok.line))


CACHE_ENTRIES = 64
"""Most parsed scripts kept, by content hash (a Script is immutable)."""
CACHE_TEXT = 256 * 1024
"""Longest script text kept: a larger one is parsed each time."""

_cache: OrderedDict[bytes, Script] = OrderedDict()

try:  # the BLAKE2 module alone: ``hashlib`` loads OpenSSL's library first, a cost at every start
    from _blake2 import blake2b as _blake2b
except ImportError:  # pragma: no cover - a Python built without it
    from hashlib import blake2b as _blake2b
_cache_lock = threading.Lock()


def parse_script(text: str) -> Script:
    """Parse ``text``; never raises.  Problems are in ``Script.issues``.

    The same text parses to the same Script: a rescan of an unchanged
    config reuses the tree (kept by a BLAKE2b hash of the text, the last
    CACHE_ENTRIES scripts up to CACHE_TEXT characters)."""
    if len(text) > CACHE_TEXT:
        return _parse(text)
    key = _blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
    with _cache_lock:
        script = _cache.get(key)
        if script is not None:
            _cache.move_to_end(key)
            return script
    script = _parse(text)
    with _cache_lock:
        _cache[key] = script
        while len(_cache) > CACHE_ENTRIES:
            _cache.popitem(last=False)
    return script


def _parse(text: str) -> Script:
    # The lexer and the parser make many small objects that all stay in the
    # tree and no reference cycle: the cyclic collector, which would walk the
    # growing tree again and again, is paused meanwhile (a third of the time).
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        tokens, lex_issues = scan(text)
        parser = _Parser(tokens)
        parser.issues.extend(Issue(i.line, i.message, i.template) for i in lex_issues)
        body = parser.top()
    finally:
        if paused:
            gc.enable()
    return Script(body, tuple(sorted(parser.issues, key=lambda i: i.line)))
