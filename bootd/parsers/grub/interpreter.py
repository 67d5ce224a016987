"""GRUB script evaluator: runs a syntax tree in a sandbox and records the menu.

Nothing here touches the host: files are read through the scanned device's
:class:`~bootd.parsers.view.DeviceView` (and the views of other known
devices), commands are the ones in :mod:`bootd.parsers.grub.builtins`, and
every run is bounded by :class:`Limits` (work in steps, with file access
charged by its cost; bytes per value, word and command line and in total;
function, ``source`` and menu depth; number of menu entries).  Running out
of a limit stops the script cleanly; what was found so far is kept and the
diagnostic names the limit.

Menu entries are recorded when the script defines them and evaluated later,
as GRUB does when one is chosen (grub_menu_execute_entry): a plain
``menuentry`` runs in the environment of its menu level as the whole script
left it (every variable, exported or not); a ``submenu`` -- like a
``configfile`` -- opens a new context holding only the exported variables,
and the entries inside it run in that context, seeing what the submenu's
own body set.  The title is ``$1`` and the extra arguments are ``$2…``.
Fedora's and RHEL's GRUB copies every variable into a submenu instead;
their generated configs define no submenus around ``blscfg``, so the upstream
rule boots them alike (see README, GRUB).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence

from bootd.model import N_, Diagnostic, Severity, Text
from bootd.parsers._text import not_regular
from bootd.parsers.grub import wildcard
from bootd.parsers.grub.btrfs import active_subvolume
from bootd.parsers.grub.budget import BYTES_PER_STEP, CPU_USED_UP, Meter, parse_cost, too_long
from bootd.parsers.grub.devices import DeviceTable, Target, clean_path, in_subvolume
from bootd.parsers.grub.expand import WordTooLong, expand_word
from bootd.parsers.grub.lexer import Lit, Var, Word
from bootd.parsers.grub.parser import Block, For, Function, If, Menu, Node, Script, Simple, While, parse_script
from bootd.parsers.grub.state import (
    BreakLoop,
    Context,
    ContinueLoop,
    Halt,
    Limits,
    Loaded,
    MenuItem,
    MenuReplaced,
    ReturnFromFunction,
)
from bootd.parsers.view import ViewError

__all__ = [
    "BreakLoop",
    "Context",
    "ContinueLoop",
    "Halt",
    "Interpreter",
    "Limits",
    "Loaded",
    "MenuItem",
    "MenuReplaced",
    "ReturnFromFunction",
]


_DIGITS = re.compile(r"[0-9]{1,9}")
_ASSIGN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=")
_NOT_PLAIN = frozenset(("", *"?#@*0123456789"))
"""First characters of the names :meth:`Interpreter.get` does not look up as variables ("" too)."""
_EMPTY_QUOTED = Lit("", True)


Command = Callable[["Interpreter", list[str]], int]
"""A GRUB command: it gets the interpreter and its arguments, and returns its exit status."""


A_WORD = N_("a word")


class Interpreter:
    """One scan's GRUB machine."""

    def __init__(
        self,
        table: DeviceTable,
        variables: dict[str, str],
        exported: set[str],
        limits: Limits,
        *,
        commands: Mapping[str, Command],
        meter: Meter | None = None,
        cpu_start: float | None = None,
    ) -> None:
        self.table = table
        self.commands = commands
        """GRUB's commands by name (:data:`bootd.parsers.grub.builtins.COMMANDS`), given by the caller."""
        self.limits = limits
        self.meter = meter or Meter()
        """File work done through the table's views (charged at the next step)."""
        self.kept = 0
        """Bytes of command lines and stored values so far (``Limits.max_bytes``)."""
        self.bytes_limit = limits.max_bytes
        self.cpu_deadline = (time.process_time() if cpu_start is None else cpu_start) + limits.cpu_seconds
        """``process_time`` after which the script stops (entries get ``cpu_seconds / 2`` more);
        counted from ``cpu_start`` when the caller has just read the clock (a read costs)."""
        self._ticks = 0
        self.ctx = Context(dict(variables), set(exported))
        self.functions: dict[str, Function] = {}
        self.status = 0
        self.steps = 0
        self.step_limit = limits.steps
        self.call_depth = 0
        self.source_depth = 0
        self.entries = 0
        self.diagnostics: list[Diagnostic] = []
        self.echoes: list[list[str]] = []
        self.loading: Loaded | None = None
        self.evaluating: MenuItem | None = None
        """The entry or submenu whose body runs (None: the script itself)."""
        self.env_store: dict[str, dict[str, str]] = {}
        """``save_env`` writes here (memory only), by environment file."""
        self.grubenv_next_entry: str | None = None
        self.used_blscfg = False
        self.not_found: list[str] = []
        """``uuid=…``/``label=…`` of searches that found no device (for messages)."""
        self.file = ""
        self.line: int | None = None
        self._parsed: dict[tuple[int, str], Script] = {}
        self._files: dict[str, str | None] = {}
        self._warned: set[str] = set()

    # -- reporting ---------------------------------------------------------

    def warn(self, message: str | Text, *, severity: Severity = Severity.WARNING, once: bool = False) -> None:
        """A diagnostic at the current line; a :class:`Text` keeps its template
        (made only here, when something is reported: never on the hot path)."""
        text = message.text if isinstance(message, Text) else message
        if once:
            if text in self._warned:
                return
            self._warned.add(text)
        if len(self.diagnostics) >= self.limits.max_diagnostics:
            return
        if isinstance(message, Text):
            d = Diagnostic(severity, text, self.file or None, self.line, message.template, message.args)
        else:
            d = Diagnostic(severity, text, self.file or None, self.line)
        self.diagnostics.append(d)

    # -- variables ---------------------------------------------------------

    def get(self, name: str) -> str:
        if name[:1] not in _NOT_PLAIN:  # a plain name, the common case
            return self.ctx.vars.get(name, "")
        if name == "?":
            return str(self.status)
        pos = self.ctx.positional
        if name == "#":
            return str(len(pos))
        if name in ("@", "*"):
            return " ".join(pos)
        if _DIGITS.fullmatch(name):
            i = int(name)
            return pos[i - 1] if 0 < i <= len(pos) else ""
        return self.ctx.vars.get(name, "")

    def set(self, name: str, value: str) -> None:
        if len(value) > self.limits.max_value:
            raise Halt(too_long(Text.of(N_("the value of {name}"), name=name[:40]), self.limits.max_value, "max_value"))
        self.keep(len(value) + len(name))
        if name == "root" and value.startswith("(") and value.endswith(")"):
            value = value[1:-1]
        self.ctx.vars[name] = value

    def keep(self, size: int) -> None:
        """Count ``size`` bytes against the scan's byte budget."""
        self.kept += size
        if self.kept > self.bytes_limit:
            raise Halt(
                Text.of(
                    N_(
                        "more than {count} bytes of command lines and values (max_bytes); "
                        "stopped, later entries are missing"
                    ),
                    count=self.limits.max_bytes,
                )
            )
        self.steps += size // BYTES_PER_STEP

    # -- expansion ---------------------------------------------------------

    def expand(self, word: Word) -> list[str]:
        """One word to zero or more arguments (unquoted values are split)."""
        self.steps += len(word) >> 2  # a word of many pieces costs by its pieces
        try:
            globbed = wildcard.expand(self, word)
            if globbed is not None:
                return globbed
            return expand_word(word, self.get, self.ctx.positional, self.limits.max_value)
        except WordTooLong:
            raise Halt(too_long(Text.of(A_WORD), self.limits.max_value, "max_value")) from None

    def expand_all(self, words: Sequence[Word]) -> list[str]:
        out: list[str] = []
        size = 0
        max_value = self.limits.max_value
        for w in words:
            n = len(w)
            piece = w[0]
            # a literal word, as expand_word would give it (a pattern goes to the wildcards)
            if n == 1 and type(piece) is Lit and (piece.quoted or not wildcard.is_pattern(piece.text)):
                if len(piece.text) > max_value:
                    raise Halt(too_long(Text.of(A_WORD), max_value, "max_value"))
                if piece.text or piece.quoted:
                    out.append(piece.text)
                    size += len(piece.text) + 1
            elif n == 2 and piece == _EMPTY_QUOTED and type(var := w[1]) is Var and var.quoted and var.name != "@":
                value = self.get(var.name)  # "$name", as expand_word would give it
                if len(value) > max_value:
                    raise Halt(too_long(Text.of(A_WORD), max_value, "max_value"))
                out.append(value)
                size += len(value) + 1
            else:
                args = self.expand(w)
                size += sum(len(a) + 1 for a in args)
                out.extend(args)
            if size > self.limits.max_line:
                raise Halt(too_long(Text.of(N_("a command line")), self.limits.max_line, "max_line"))
        self.keep(size)
        return out

    def arguments(self, node: Simple) -> list[str]:
        """A simple command's arguments (worked out at parse time when literal)."""
        literal = node.argv
        if literal is not None and node.longest <= self.limits.max_value and node.size <= self.limits.max_line:
            self.steps += node.cost
            self.keep(node.size)
            return list(literal)
        return self.expand_all(node.words)

    # -- execution ---------------------------------------------------------

    def step(self) -> None:
        meter = self.meter
        if meter.work:
            self.steps += meter.work
            meter.work = 0
        self.steps += 1
        self._ticks += 1
        if self._ticks >= 1024 or self.steps > self.step_limit:
            self._check_limits()

    def _check_limits(self) -> None:
        if self._ticks >= 1024:  # a CPU-time cap behind the step count, which only estimates time
            self._ticks = 0
            if time.process_time() > self.cpu_deadline:
                raise Halt(Text.of(CPU_USED_UP, seconds=f"{self.limits.cpu_seconds:g}"))
        if self.steps > self.step_limit:
            # one costly command can overshoot: what is left for the entries stays
            self.steps = min(self.steps, self.step_limit + 1)
            raise Halt(
                Text.of(
                    N_("stopped after {steps} steps (endless loop?); later entries are missing"), steps=self.step_limit
                )
            )

    def run(self, nodes: Sequence[Node]) -> int:
        for node in nodes:
            if type(node) is Simple:  # the common case, without the dispatch
                self.step()
                self.line = node.line
                self.simple(node)
            else:
                self.execute(node)
        return self.status

    def execute(self, node: Node) -> None:
        self.step()
        self.line = node.line
        if isinstance(node, Simple):
            self.simple(node)
        elif isinstance(node, If):
            for cond, body in node.branches:
                self.run(cond)
                if self.status == 0:
                    self.run(body)
                    return
            if node.orelse is not None:
                self.run(node.orelse)
            else:
                self.status = 0
        elif isinstance(node, For):
            for value in self.expand_all(node.items):
                self.step()
                self.ctx.vars[node.var] = value
                if self.loop_body(node.body):
                    break
        elif isinstance(node, While):
            while True:
                self.step()
                self.run(node.cond)
                if (self.status == 0) == node.until:
                    break
                if self.loop_body(node.body):
                    break
            self.status = 0
        elif isinstance(node, Block):
            self.run(node.body)
        elif isinstance(node, Function):
            self.functions[node.name] = node
            self.status = 0
        elif isinstance(node, Menu):
            self.define_menu(node)

    def loop_body(self, body: tuple[Node, ...]) -> bool:
        """Run one round; True when the loop must stop."""
        try:
            self.run(body)
        except ContinueLoop as c:
            if c.levels > 1:
                raise ContinueLoop(c.levels - 1) from None
        except BreakLoop as b:
            if b.levels > 1:
                raise BreakLoop(b.levels - 1) from None
            return True
        return False

    def simple(self, node: Simple) -> None:
        if not node.words:
            return
        literal = node.argv
        limits = self.limits
        if literal is not None and node.longest <= limits.max_value and node.size <= limits.max_line:
            self.steps += node.cost
            self.keep(node.size)
            if not literal:
                self.status = 0
                return
            argv = list(literal)
        else:
            argv = self.expand_all(node.words)
            if not argv:
                self.status = 0
                return
        if node.assign and len(argv) == 1:
            m = _ASSIGN.match(argv[0])
            if m:
                self.set(m.group(1), argv[0][m.end() :])
                self.status = 0
                return
        self.status = self.call(argv)

    def call(self, argv: list[str]) -> int:
        name = argv[0]
        func = self.functions.get(name)
        if func is not None:
            return self.call_function(func, argv[1:])
        command = self.commands.get(name)
        if command is None:
            return 1
        return command(self, argv[1:])

    def call_function(self, func: Function, args: list[str]) -> int:
        if self.call_depth >= self.limits.call_depth:
            self.warn(
                Text.of(
                    N_("function {name}: calls nested deeper than {depth}; stopped"),
                    name=func.name,
                    depth=self.limits.call_depth,
                ),
                once=True,
            )
            return 1
        saved = self.ctx.positional
        self.ctx.positional = args
        self.call_depth += 1
        try:
            self.run(func.body)
        except ReturnFromFunction as r:
            self.status = r.status
        finally:
            self.call_depth -= 1
            self.ctx.positional = saved
        return self.status

    # -- menus -------------------------------------------------------------

    def define_menu(self, node: Menu) -> None:
        argv = self.arguments(node.head) if node.head is not None else self.expand_all(node.args)
        title: str | None = None
        entry_id: str | None = None
        classes: list[str] = []
        extra: list[str] = []
        i = 0
        options_done = False
        while i < len(argv):
            arg = argv[i]
            i += 1
            if not options_done and arg.startswith("--"):
                if arg == "--":
                    options_done = True
                    continue
                key, eq, value = arg.partition("=")
                if key in ("--class", "--users", "--hotkey", "--id", "--source"):
                    if not eq:
                        value = argv[i] if i < len(argv) else ""
                        i += 1
                    if key == "--id":
                        entry_id = value
                    elif key == "--class":
                        classes.append(value)
                continue
            if title is None:
                title = arg
            else:
                extra.append(arg)
        if title is None:
            self.warn(Text.of(N_("{keyword} without a title; ignored"), keyword=node.kind))
            self.status = 1
            return
        self.add_item(
            MenuItem(
                kind="submenu" if node.kind == "submenu" else "entry",
                title=title,
                entry_id=entry_id,
                args=extra,
                body=node.body,
                ctx=self.ctx,
                hidden=node.kind == "hiddenentry",
                classes=tuple(classes),
                file=self.file,
                line=node.line,
            )
        )

    def add_item(self, item: MenuItem) -> None:
        if self.entries >= self.limits.max_entries:
            raise Halt(
                Text.of(N_("more than {count} menu entries; the rest are ignored"), count=self.limits.max_entries)
            )
        self.entries += 1
        self.ctx.menu.append(item)
        self.status = 0

    # -- files ---------------------------------------------------------------

    def locate(self, text: str) -> tuple[Target, str]:
        target, path = self.table.locate(text, self.get("root"))
        return target, in_subvolume(target, path, active_subvolume(self.get))

    def read(self, text: str) -> tuple[str, str] | None:
        """Text and display name of a file named by a GRUB path, or None."""
        target, path = self.locate(text)
        if target.view is None:
            return None
        where = target.where(path)
        if where in self._files:  # a file read again (a loop, a cycle) is read once
            data = self._files[where]
            return None if data is None else (data, where)
        real = clean_path(path)
        why = not_regular(target.view, real)
        if why is not None:  # a FIFO or device is never opened
            self.warn(why)
            data = None
        else:
            try:
                data = target.view.read_text(real)
            except ViewError as e:
                if target.view.is_file(real):
                    self.warn(str(e))
                data = None
        self._files[where] = data
        return None if data is None else (data, where)

    def script(self, text: str, where: str, key: tuple[int, str]) -> Script:
        script = self._parsed.get(key)
        if script is None:
            cost = parse_cost(text)
            if self.steps + cost > self.step_limit:
                raise Halt(Text.of(N_("{file}: too many words to parse in the work left (steps); stopped"), file=where))
            self.steps += cost
            script = parse_script(text)
            for issue in script.issues:
                if len(self.diagnostics) < self.limits.max_diagnostics:
                    self.diagnostics.append(
                        Diagnostic(Severity.WARNING, issue.message, where, issue.line, issue.template, issue.args)
                    )
            self._parsed[key] = script
        return script

    def run_file(self, text: str, where: str) -> int:
        """Run a script file in the current context (``source``)."""
        if self.source_depth >= self.limits.source_depth:
            self.warn(
                Text.of(
                    N_("{file}: files nested deeper than {depth} (a source cycle?); skipped"),
                    file=where,
                    depth=self.limits.source_depth,
                )
            )
            return 1
        script = self.script(text, where, (id(self.table), where))
        saved_file, saved_line = self.file, self.line
        self.source_depth += 1
        self.file = where
        try:
            return self.run(script.body)
        finally:
            self.source_depth -= 1
            self.file, self.line = saved_file, saved_line

    def run_menu_file(self, text: str, where: str) -> Context:
        """Run a config file as a new menu (``configfile``): returns its context."""
        self.steps += len(self.ctx.vars)  # the copy of the exported variables
        child = self.ctx.child()
        saved = self.ctx
        self.ctx = child
        try:
            self.run_file(text, where)
        except MenuReplaced as replaced:
            child = replaced.ctx
        except (ReturnFromFunction, BreakLoop):
            pass
        finally:
            self.ctx = saved
        return child

    # -- entries -------------------------------------------------------------

    def evaluate(self, item: MenuItem) -> None:
        """Run an entry's body (or a submenu's) the way GRUB does when it is chosen."""
        if item.loaded is not None:
            return
        self.steps += len(item.ctx.vars)  # the copy of the variables
        child = item.ctx.child() if item.kind == "submenu" else item.ctx.same_level()
        # GRUB passes the title and the extra arguments: ``$1`` is always the title
        child.positional = [item.title, *item.args]
        saved_ctx, saved_loading, saved_limit = self.ctx, self.loading, self.step_limit
        saved_file, saved_bytes, saved_item = self.file, self.bytes_limit, self.evaluating
        self.ctx, self.evaluating = child, item
        self.file = item.file or ""
        self.step_limit = min(self.limits.ceiling, self.steps + self.limits.entry_steps)
        # an entry has a budget of its own, as for steps: one that the script
        # used up still leaves the entries it defined their evaluation
        self.bytes_limit = min(self.limits.max_bytes * 2, self.kept + self.limits.max_line * 4)
        if item.kind == "entry":
            self.loading = Loaded()
        try:
            self.run(item.body)
        except (ReturnFromFunction, BreakLoop):
            pass
        except MenuReplaced as replaced:
            # An entry that runs ``configfile`` opens a menu of its own (SUSE's
            # snapshot entries): it is listed as a submenu of those entries.
            child = replaced.ctx
            if item.kind == "entry":
                item.kind = "submenu"
                self.loading = None
        except Halt as h:
            if self.steps >= self.limits.ceiling or self.kept >= self.limits.max_bytes * 2 or "cpu_seconds" in str(h):
                raise
            self.warn(Text.of(N_("entry {title}: {error}"), title=repr(item.title), error=h))
            if item.kind == "entry":
                self.loading = None  # GRUB would never get to boot it
        finally:
            if item.kind == "entry":
                item.loaded = self.loading
            self.ctx, self.loading, self.step_limit = saved_ctx, saved_loading, saved_limit
            self.file, self.bytes_limit, self.evaluating = saved_file, saved_bytes, saved_item
        if item.kind == "submenu":
            item.children = child.menu
            item.sub_ctx = child
