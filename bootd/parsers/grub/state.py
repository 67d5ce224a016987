"""The interpreter's state: limits, control-flow signals, contexts and menu items."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bootd.model import Record, Resource, Text, _set, record

if TYPE_CHECKING:
    from bootd.parsers.grub.parser import Node

# The classes here are written out rather than made by ``dataclass``: every
# scan imports this module, and a generated dataclass costs a millisecond or
# more at import (its methods are compiled from text), plain classes a few
# microseconds.  ``Limits`` is a frozen record (``dataclasses.replace`` works).


@record
class Limits(Record):
    steps: int = 1_000_000
    """Work the whole scan may do: one step per command or loop round, file
    lookups and reads charged by what they cost (:mod:`bootd.parsers.grub.budget`)."""
    entry_steps: int = 100_000
    """Steps one menu entry's body may take when it is evaluated."""
    call_depth: int = 32
    """Nested function calls."""
    source_depth: int = 8
    """Nested ``source``/``configfile``."""
    max_entries: int = 10_000
    """Menu entries (all menus together)."""
    max_diagnostics: int = 50
    max_value: int = 64 * 1024
    """Bytes in one variable value or one expanded word."""
    max_line: int = 256 * 1024
    """Bytes in all the arguments of one command after expansion."""
    max_bytes: int = 32 * 1024 * 1024
    """Bytes of command lines and stored values over the whole scan: every
    expanded command line (so echo output, menu titles and loader arguments)
    and every value stored in a variable, counted when made, never given back.
    This bounds what a script can keep in memory, whatever it keeps."""
    menu_depth: int = 16
    """Menus opened inside menus (``submenu``, ``configfile`` in an entry)."""
    cpu_seconds: float = 0.8
    """CPU time one config's script may take (its entries get half as much
    again): the hard cap behind ``steps``, whose cost per step varies."""

    def __init__(
        self,
        steps: int = 1_000_000,
        entry_steps: int = 100_000,
        call_depth: int = 32,
        source_depth: int = 8,
        max_entries: int = 10_000,
        max_diagnostics: int = 50,
        max_value: int = 64 * 1024,
        max_line: int = 256 * 1024,
        max_bytes: int = 32 * 1024 * 1024,
        menu_depth: int = 16,
        cpu_seconds: float = 0.8,
    ) -> None:
        _set(self, "steps", steps)
        _set(self, "entry_steps", entry_steps)
        _set(self, "call_depth", call_depth)
        _set(self, "source_depth", source_depth)
        _set(self, "max_entries", max_entries)
        _set(self, "max_diagnostics", max_diagnostics)
        _set(self, "max_value", max_value)
        _set(self, "max_line", max_line)
        _set(self, "max_bytes", max_bytes)
        _set(self, "menu_depth", menu_depth)
        _set(self, "cpu_seconds", cpu_seconds)

    @property
    def ceiling(self) -> int:
        """Steps the script and the evaluation of its entries may take together:
        the entries a script defined before it ran out still get evaluated."""
        return self.steps + self.steps // 2


class Halt(Exception):
    """A limit was reached: stop running scripts.  The message is a
    :class:`Text` (made only when a limit is reached); it keeps its template
    as an error made with ``BootdError.of`` does, for the diagnostic that names it."""

    def __init__(self, message: Text) -> None:
        super().__init__(message.text)
        self.template = message.template
        self.template_args = message.args


class BreakLoop(Exception):
    """``break N``: leave N enclosing loops."""

    def __init__(self, levels: int) -> None:
        self.levels = levels


class ContinueLoop(BreakLoop):
    """``continue N``: next round of the Nth enclosing loop."""


class ReturnFromFunction(Exception):
    """``return N`` in a function."""

    def __init__(self, status: int) -> None:
        self.status = status


class MenuReplaced(Exception):
    """``configfile`` showed a new menu: the rest of the calling script does not run."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx


class _Plain:
    """Base of the mutable state records: slots, a ``repr`` of the fields, no
    equality beyond identity (none of them is compared)."""

    __slots__ = ()

    def __repr__(self) -> str:
        names: tuple[str, ...] = self.__slots__
        shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in names)
        return f"{type(self).__qualname__}({shown})"


class Context(_Plain):
    """Variables and the menu being built, as GRUB keeps one per menu level."""

    __slots__ = ("vars", "exported", "menu", "positional")

    def __init__(
        self,
        vars: dict[str, str],
        exported: set[str],
        menu: list[MenuItem] | None = None,
        positional: list[str] | None = None,
    ) -> None:
        self.vars = vars
        self.exported = exported
        self.menu: list[MenuItem] = [] if menu is None else menu
        self.positional: list[str] = [] if positional is None else positional

    def child(self) -> Context:
        """A new context with only the exported variables (GRUB's new menu
        level: ``submenu`` and ``configfile``, grub_env_context_open)."""
        return Context({k: v for k, v in self.vars.items() if k in self.exported}, set(self.exported))

    def same_level(self) -> Context:
        """The context a plain ``menuentry`` runs in: this menu level's, every
        variable visible, exported or not (copied, so that one entry's
        ``set`` does not reach the next entry evaluated)."""
        return Context(dict(self.vars), set(self.exported))


class Loaded(_Plain):
    """What an entry's body loaded: the GRUB loader state when it would boot."""

    __slots__ = ("kind", "kernel", "args", "initrds", "dtb")

    def __init__(
        self,
        kind: str = "",
        kernel: Resource | None = None,
        args: str = "",
        initrds: list[Resource] | None = None,
        dtb: Resource | None = None,
    ) -> None:
        self.kind = kind
        self.kernel = kernel
        self.args = args
        self.initrds: list[Resource] = [] if initrds is None else initrds
        self.dtb = dtb


class MenuItem(_Plain):
    """A menu entry or submenu as the script defined it.

    ``kind``: ``entry`` or ``submenu``; ``ctx``: the context the entry was
    defined in (its final state is what GRUB uses); ``loaded``: set directly
    for entries that are not scripts (``blscfg``)."""

    __slots__ = (
        "kind", "title", "entry_id", "args", "body", "ctx", "hidden", "classes",
        "loaded", "children", "sub_ctx", "file", "line",
    )  # fmt: skip

    def __init__(
        self,
        kind: str,
        title: str,
        entry_id: str | None,
        args: list[str],
        body: tuple[Node, ...],
        ctx: Context,
        hidden: bool = False,
        classes: tuple[str, ...] = (),
        loaded: Loaded | None = None,
        children: list[MenuItem] | None = None,
        sub_ctx: Context | None = None,
        file: str | None = None,
        line: int | None = None,
    ) -> None:
        self.kind = kind
        self.title = title
        self.entry_id = entry_id
        self.args = args
        self.body = body
        self.ctx = ctx
        self.hidden = hidden
        self.classes = classes
        self.loaded = loaded
        self.children: list[MenuItem] = [] if children is None else children
        self.sub_ctx = sub_ctx
        self.file = file
        self.line = line
