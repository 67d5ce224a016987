"""Petitboot's own ("native") configuration: ``/boot/petitboot.conf``, else
``/petitboot.conf``, read the way Petitboot's native parser reads it, so a
machine moving from Petitboot keeps the entries it had::

    default Debian
    dev_description The SSD in slot 2

    name    Debian
    image   /boot/vmlinux
    initrd  /boot/initrd.img
    dtb     /boot/board.dtb
    args    root=LABEL=root ro
    description Debian GNU/Linux

The rules (Petitboot's lexer and grammar, restated):

* A statement is a keyword, blanks, then the rest of the line as its value
  (kept as written, trailing blanks included).  Keywords are lower case:
  ``name image initrd dtb args description`` and, before the first
  ``name`` only, ``default`` and ``dev_description``.  Blank lines and
  leading blanks do not matter; anything else on a line outside a value is
  passed over, so a keyword is recognised wherever it starts, even inside
  another word, and a keyword without a value takes the next value found.
* ``name`` starts an option; each option needs at least one other statement.
  ``args`` and ``description`` lines are joined (without a separator, as
  Petitboot joins them); a second ``image``, ``initrd`` or ``dtb`` is
  ignored.  An option without ``image`` cannot boot and is skipped.
* ``default`` (the first one counts) names the option booted unattended: the
  option whose name is exactly that text.
* Anything that breaks the grammar (a ``default`` after an option, a
  ``name`` with no statement after it, a keyword with no value at the end)
  stops the reading there: the options finished before stay, the one being
  read is dropped, as in Petitboot.
* Paths: ``DEV:PATH`` is a file on another device (``uuid=U``, ``label=L``
  or a device name such as ``sda3``), ``scheme://...`` a URL (``file://``:
  a path on this device), anything else a path on this device, from its root.

Departures: Petitboot hands its scanner the file without its last byte
(harmless when the file ends with a newline); bootd reads the whole file.
Petitboot's ``uuid=`` lookup skips one character too few and never
matches; bootd looks the UUID up as meant.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from bootd.model import (
    N_,
    BootOption,
    Device,
    Diagnostic,
    ParseResult,
    Record,
    Resource,
    Severity,
    Source,
    Text,
    record,
)
from bootd.parsers import ParseContext, paths
from bootd.parsers._text import note_not_regular, read_config
from bootd.parsers.view import DeviceView, normalize

_set = object.__setattr__

CONFIG_PATHS: tuple[str, ...] = paths.PETITBOOT_PATHS
KEYWORDS: tuple[str, ...] = ("name", "image", "initrd", "args", "dtb", "description", "default", "dev_description")
_GLOBALS = ("default", "dev_description")
_PARAMS = ("image", "initrd", "args", "dtb", "description")
_KEYWORD = re.compile("|".join(sorted(KEYWORDS, key=len, reverse=True)))
_DELIM = re.compile(r"[ \t]+")


@record
class Token(Record):
    kind: str
    """A keyword, ``delim`` or ``word``."""
    value: str
    line: int

    def __init__(self, kind: str, value: str, line: int) -> None:
        _set(self, "kind", kind)
        _set(self, "value", value)
        _set(self, "line", line)


def tokens(text: str) -> Iterator[Token]:
    """Petitboot's lexer: keywords anywhere outside a value, one delimiter
    after a keyword, then the rest of the line as a word; other characters
    outside a value are passed over.  Linear in the text."""
    i, line, n = 0, 1, len(text)
    while i < n:
        m = _KEYWORD.search(text, i)  # the lexer passes over everything before a keyword
        if m is None:
            return
        line += text.count("\n", i, m.start())
        yield Token(m.group(), m.group(), line)
        d = _DELIM.search(text, m.end())  # then over everything up to blanks
        if d is None:
            return
        line += text.count("\n", m.end(), d.start())
        yield Token("delim", d.group(), line)
        end = text.find("\n", d.end())
        end = n if end < 0 else end
        if end > d.end():
            yield Token("word", text[d.end() : end], line)
        i = end


@dataclass
class _Option:
    name: str
    line: int
    image: str | None = None
    initrd: str | None = None
    dtb: str | None = None
    args: list[str] = field(default_factory=list)
    description: list[str] = field(default_factory=list)


@dataclass
class _Reading:
    path: str
    diags: list[Diagnostic] = field(default_factory=list)
    default: str | None = None
    options: list[_Option] = field(default_factory=list)

    def note(self, severity: Severity, message: str | Text, line: int | None) -> None:
        """A diagnostic; a :class:`Text` message keeps its template for the client to translate."""
        if isinstance(message, Text):
            self.diags.append(Diagnostic(severity, message.text, self.path, line, message.template, message.args))
        else:
            self.diags.append(Diagnostic(severity, message, file=self.path, line=line))


class _Stream:
    """The tokens with two of lookahead (the grammar needs no more)."""

    def __init__(self, text: str) -> None:
        self._it = tokens(text)
        self._ahead: list[Token] = []
        self.last: Token | None = None

    def peek(self, k: int = 0) -> Token | None:
        while len(self._ahead) <= k:
            tok = next(self._it, None)
            if tok is None:
                return None
            self._ahead.append(tok)
        return self._ahead[k]

    def take(self) -> Token:
        tok = self.peek()
        assert tok is not None
        self.last = self._ahead.pop(0)
        return tok


def read(text: str, path: str) -> _Reading:
    """The options Petitboot's grammar accepts from ``text``, in file order."""
    r = _Reading(path)
    toks = _Stream(text)
    current: _Option | None = None

    def value() -> str | None:
        delim, word = toks.peek(), toks.peek(1)
        if delim is not None and word is not None and delim.kind == "delim" and word.kind == "word":
            toks.take()
            return toks.take().value
        return None

    while (tok := toks.peek()) is not None:
        allowed = (*_GLOBALS, "name") if current is None else ("name", *_PARAMS)
        if tok.kind not in allowed:
            break
        toks.take()
        word = value()
        if word is None:
            break
        if tok.kind == "default":
            if r.default is None:
                r.default = word
            else:
                r.note(Severity.INFO, Text.of(N_("a second default is ignored")), tok.line)
        elif tok.kind == "name":
            if current is not None:
                r.options.append(current)
            current = _Option(word, tok.line)
            following = toks.peek()
            if following is None or following.kind not in _PARAMS:
                break  # an option needs a statement after its name
        elif current is not None:
            _param(r, current, tok, word)
    else:
        if current is not None:
            r.options.append(current)
        elif toks.last is not None:
            r.note(Severity.INFO, Text.of(N_("no option (a 'name' line starts one)")), toks.last.line)
        return r
    bad = toks.peek() or toks.last
    assert bad is not None
    what = f"'{bad.value.strip()}'" if bad.kind == "word" else bad.kind if bad.kind != "delim" else "blanks"
    if current is not None:
        template = N_("syntax error at {what}: the rest is not read, as Petitboot stops here; option {name} is dropped")
        message = Text.of(template, what=what, name=repr(current.name))
    else:
        message = Text.of(N_("syntax error at {what}: the rest is not read, as Petitboot stops here"), what=what)
    r.note(Severity.WARNING, message, bad.line)
    return r


def _param(r: _Reading, opt: _Option, tok: Token, word: str) -> None:
    if tok.kind in ("args", "description"):
        getattr(opt, tok.kind).append(word)  # joined without a separator
    elif getattr(opt, tok.kind) is not None:
        r.note(
            Severity.INFO,
            Text.of(N_("a second {keyword} for {name} is ignored"), keyword=tok.kind, name=repr(opt.name)),
            tok.line,
        )
    else:
        setattr(opt, tok.kind, word)


def resource(value: str, device: Device) -> Resource:
    """A Petitboot device path as a resource."""
    dev, colon, rest = value.partition(":")
    if colon and rest.startswith("//"):
        if dev.lower() == "file":
            return Resource.local(normalize(rest[2:].partition("/")[2]))
        return Resource.remote(value)
    if not colon:
        return Resource.local(normalize(value))
    path = normalize(rest)
    if dev[:5].lower() == "uuid=":
        return Resource.by_uuid(dev[5:], path)
    if dev[:6].lower() == "label=":
        return Resource.by_label(dev[6:], path)
    name = dev[5:] if dev.startswith("/dev/") else dev
    own = {device.id, (device.node or "").rsplit("/", 1)[-1]}
    if name in own:
        return Resource.local(path)
    return Resource(path=path, selector=f"node=/dev/{name}")


def parse(view: DeviceView, ctx: ParseContext) -> ParseResult:
    diags: list[Diagnostic] = []
    for path in CONFIG_PATHS:
        if not note_not_regular(view, path, diags):
            continue  # Petitboot reads these exact paths only
        text = read_config(view, path, diags)
        if text is not None:
            break
    else:
        return ParseResult(diagnostics=tuple(diags))
    reading = read(text, path)
    diags.extend(reading.diags)
    options: list[BootOption] = []
    chosen = False
    for opt in reading.options:
        if opt.image is None:
            diags.append(
                Diagnostic.of(
                    Severity.INFO, N_("option {name} skipped: it has no image"), path, opt.line, name=repr(opt.name)
                )
            )
            continue
        is_default = not chosen and reading.default is not None and opt.name == reading.default
        chosen = chosen or is_default
        options.append(
            BootOption(
                id="",
                device="",
                name=opt.name.strip() or opt.name,
                kernel=resource(opt.image, view.device),
                initrds=(resource(opt.initrd, view.device),) if opt.initrd is not None else (),
                dtb=resource(opt.dtb, view.device) if opt.dtb is not None else None,
                args="".join(opt.args),
                default=is_default,
                source=Source.PETITBOOT,
                entry_id=opt.name,
                properties=(("description", "".join(opt.description)),) if opt.description else (),
            )
        )
    if reading.default is not None and not chosen:
        diags.append(
            Diagnostic.of(
                Severity.INFO, N_("default {name} names no bootable option"), path, name=repr(reading.default)
            )
        )
    return ParseResult(options=tuple(options), diagnostics=tuple(diags))
