"""The interpreter's state: limits, control-flow signals, contexts and menu items."""

from __future__ import annotations

from dataclasses import dataclass, field

from bootd.model import Resource
from bootd.parsers.grub.parser import Node


@dataclass(frozen=True)
class Limits:
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

    @property
    def ceiling(self) -> int:
        """Steps the script and the evaluation of its entries may take together:
        the entries a script defined before it ran out still get evaluated."""
        return self.steps + self.steps // 2


class Halt(Exception):
    """A limit was reached: stop running scripts."""


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


@dataclass(slots=True)
class Context:
    """Variables and the menu being built, as GRUB keeps one per menu level."""

    vars: dict[str, str]
    exported: set[str]
    menu: list[MenuItem] = field(default_factory=list)
    positional: list[str] = field(default_factory=list)

    def child(self) -> Context:
        """A new context with only the exported variables (GRUB's new menu
        level: ``submenu`` and ``configfile``, grub_env_context_open)."""
        return Context({k: v for k, v in self.vars.items() if k in self.exported}, set(self.exported))

    def same_level(self) -> Context:
        """The context a plain ``menuentry`` runs in: this menu level's, every
        variable visible, exported or not (copied, so that one entry's
        ``set`` does not reach the next entry evaluated)."""
        return Context(dict(self.vars), set(self.exported))


@dataclass(slots=True)
class Loaded:
    """What an entry's body loaded: the GRUB loader state when it would boot."""

    kind: str = ""
    kernel: Resource | None = None
    args: str = ""
    initrds: list[Resource] = field(default_factory=list)
    dtb: Resource | None = None


@dataclass(slots=True)
class MenuItem:
    kind: str
    """``entry`` or ``submenu``."""
    title: str
    entry_id: str | None
    args: list[str]
    body: tuple[Node, ...]
    ctx: Context
    """The context the entry was defined in (its final state is what GRUB uses)."""
    hidden: bool = False
    classes: tuple[str, ...] = ()
    loaded: Loaded | None = None
    """Set directly for entries that are not scripts (``blscfg``)."""
    children: list[MenuItem] = field(default_factory=list)
    sub_ctx: Context | None = None
    file: str | None = None
    line: int | None = None
