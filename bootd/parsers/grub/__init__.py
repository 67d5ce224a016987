"""GRUB 2 configurations: interpreted as GRUB runs them, in a sandbox.

``parse(view, ctx)`` finds the device's ``grub.cfg`` (or a legacy
``menu.lst``), runs it with :class:`~bootd.parsers.grub.interpreter.Interpreter`
in GRUB's initial environment, evaluates every menu entry, and returns the
entries as boot options in menu order with exactly one default.  It never
raises: problems become diagnostics.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import re
import threading
import time
from collections.abc import Iterator
from pathlib import PurePosixPath

from bootd.model import MAX_AWAITS, N_, BootOption, Diagnostic, ParseResult, Severity, Source, Text
from bootd.parsers import ParseContext
from bootd.parsers._text import Finder, note_not_regular
from bootd.parsers.grub.budget import Meter, metered
from bootd.parsers.grub.builtins import COMMANDS
from bootd.parsers.grub.devices import DeviceTable
from bootd.parsers.grub.interpreter import (
    BreakLoop,
    Context,
    Halt,
    Interpreter,
    Limits,
    MenuItem,
    MenuReplaced,
    ReturnFromFunction,
)
from bootd.parsers.grub.menu import build_options
from bootd.parsers.view import DeviceView, ViewError

log = logging.getLogger(__name__)

CONFIGS: tuple[str, ...] = (
    "/boot/grub/grub.cfg",
    "/boot/grub2/grub.cfg",
    "/grub/grub.cfg",
    "/grub2/grub.cfg",
    "/grub.cfg",
)
EFI_DIRS: tuple[str, ...] = ("/EFI", "/boot/efi/EFI")
LEGACY: tuple[str, ...] = (
    "/boot/grub/menu.lst",
    "/grub/menu.lst",
    "/menu.lst",
    "/boot/grub/grub.conf",
    "/grub/grub.conf",
)

FEATURES: tuple[str, ...] = (
    "feature_chainloader_bpb",
    "feature_ntldr",
    "feature_platform_search_hint",
    "feature_default_font_path",
    "feature_all_video_module",
    "feature_menuentry_id",
    "feature_menuentry_options",
    "feature_200_final",
    "feature_nativedisk_cmd",
    "feature_timeout_style",
)

_CPU = {
    "x86_64": "x86_64",
    "amd64": "x86_64",
    "i386": "i386",
    "i686": "i386",
    "aarch64": "arm64",
    "arm64": "arm64",
    "armv7l": "arm",
    "ppc64le": "powerpc",
    "ppc64": "powerpc",
    "riscv64": "riscv64",
    "loongarch64": "loongarch64",
}


class Outcome:
    """Everything one interpretation produced (tests look at more than options).

    ``awaits``: ``search`` selectors that matched no device (see
    :attr:`ParseResult.awaits`).  (A plain class: a dataclass costs a
    millisecond at import.)"""

    __slots__ = ("options", "diagnostics", "timeout", "menu", "variables", "echoes", "used_blscfg", "steps", "awaits")

    def __init__(self) -> None:
        self.options: list[BootOption] = []
        self.diagnostics: list[Diagnostic] = []
        self.timeout: float | None = None
        self.menu: list[MenuItem] = []
        self.variables: dict[str, str] = {}
        self.echoes: list[list[str]] = []
        self.used_blscfg = False
        self.steps = 0
        self.awaits: tuple[str, ...] = ()


def candidates(view: DeviceView, diags: list[Diagnostic] | None = None) -> list[PurePosixPath]:
    """Config files on the device, in the order they are tried (something else
    where one should be, like a FIFO, is reported in ``diags`` and never opened)."""
    found: list[PurePosixPath] = []
    listed = Finder(view)  # rules out, from one listing a directory, paths that cannot be there
    for path in CONFIGS:
        real = None if listed.absent(path) else view.find(path)
        if real is not None and _regular(view, real, diags):
            found.append(real)
    for efi in EFI_DIRS:
        real_dir = None if listed.absent(efi) else view.find(efi)
        if real_dir is None or not view.is_dir(real_dir):
            continue
        for name in view.listdir(real_dir):
            cfg = None if listed.absent(real_dir / name / "grub.cfg") else view.find(real_dir / name / "grub.cfg")
            if cfg is not None and _regular(view, cfg, diags):
                found.append(cfg)
    unique: list[PurePosixPath] = []
    for p in found:
        if p not in unique:
            unique.append(p)
    return unique


def _regular(view: DeviceView, path: PurePosixPath, diags: list[Diagnostic] | None) -> bool:
    if diags is None:
        return view.is_file(path)
    return note_not_regular(view, path, diags)


def initial_environment(
    table: DeviceTable, config: PurePosixPath, ctx: ParseContext
) -> tuple[dict[str, str], set[str]]:
    """The variables GRUB has set when it starts running ``config``."""
    root = table.root_name
    prefix = f"({root}){config.parent}"
    env = {
        "root": root,
        "prefix": prefix,
        "cmdpath": prefix,
        "config_directory": prefix,
        "config_file": f"({root}){config}",
        "grub_platform": ctx.firmware,
        "grub_cpu": _CPU.get(ctx.arch, ctx.arch),
        "lang": "",
        "pager": "",
    }
    for feature in FEATURES:
        env[feature] = "y"
    exported = {"root", "prefix", "cmdpath", "config_directory", "config_file", "grub_platform", "grub_cpu", "lang"}
    exported.update(FEATURES)
    # SUSE's btrfs module exports these itself, so a snapshot entry's
    # subvolume reaches the menu its configfile opens.
    exported.update(("btrfs_subvol", "btrfs_subvolid", "btrfs_relative_path"))
    return env, exported


def interpret(
    view: DeviceView,
    config: PurePosixPath,
    ctx: ParseContext | None = None,
    *,
    limits: Limits | None = None,
    text: str | None = None,
    cpu_start: float | None = None,
) -> Outcome:
    """Run one config file and evaluate its menu (``cpu_start``: the
    ``process_time`` the caller read just now, to count the CPU cap from)."""
    ctx = ctx or ParseContext()
    meter = Meter()
    table = DeviceTable(metered(view, meter), {k: metered(v, meter) for k, v in ctx.others.items()})
    env, exported = initial_environment(table, config, ctx)
    it = Interpreter(table, env, exported, limits or Limits(), commands=COMMANDS, meter=meter, cpu_start=cpu_start)
    outcome = Outcome()
    where = str(config)
    if text is None:
        try:
            text = view.read_text(config)
        except ViewError as e:
            outcome.diagnostics.append(Diagnostic(Severity.ERROR, str(e), where))
            return outcome
    final = it.ctx
    halted = False
    try:
        it.run_file(text, where)
    except MenuReplaced as replaced:
        final = replaced.ctx
    except Halt as h:
        halted = True
        it.warn(Text.of_error(h))
    except RecursionError:
        it.warn(Text.of(N_("script nested too deeply; stopped")))
    except (BreakLoop, ReturnFromFunction):  # break/return outside a loop or function ends the file
        pass
    _evaluate(it, final.menu, where, halted)
    diagnostics = list(it.diagnostics)
    outcome.options = build_options(final.menu, final.vars, it.grubenv_next_entry, diagnostics)
    outcome.diagnostics.extend(diagnostics)
    outcome.timeout = _timeout(final.vars.get("timeout", ""))
    outcome.menu = final.menu
    outcome.variables = final.vars
    outcome.echoes = it.echoes
    outcome.used_blscfg = it.used_blscfg
    outcome.steps = it.steps
    outcome.awaits = tuple(dict.fromkeys(it.not_found))[:MAX_AWAITS]
    return outcome


def _evaluate(it: Interpreter, items: list[MenuItem], config: str, halted: bool = True) -> None:
    """Evaluate every entry, submenus depth first, with an explicit stack (no
    recursion on menu depth).  An entry whose ``configfile`` opens a menu file
    already open above it (a cycle) shows no entries, and menus nest at most
    ``Limits.menu_depth`` deep.

    The entries get ``cpu_seconds / 2`` more CPU time, counted from now when
    the script was stopped (``halted``: it may have run past its deadline),
    else from the script's deadline, which it did not reach (up to the CPU
    check's period of 1024 steps: the clock is not read for that)."""
    Chain = tuple[str, ...]
    todo: list[tuple[MenuItem, int, Chain]] = [(item, 1, (config,)) for item in reversed(items)]
    start = max(it.cpu_deadline, time.process_time()) if halted else it.cpu_deadline
    it.cpu_deadline = start + it.limits.cpu_seconds / 2
    try:
        while todo:
            item, depth, chain = todo.pop()
            was_entry = item.kind == "entry"
            it.evaluate(item)
            if item.kind != "submenu" or not item.children:
                continue
            if was_entry:  # its configfile opened a menu of its own
                opened = item.children[0].file or ""
                if opened in chain:
                    it.warn(
                        Text.of(
                            N_("configfile cycle: {title} opens {file} again; its entries are left out"),
                            title=repr(item.title[:80]),
                            file=opened,
                        )
                    )
                    item.children = []
                    continue
                chain = (*chain, opened)
            if depth >= it.limits.menu_depth:
                it.warn(
                    Text.of(
                        N_("menus nested deeper than {depth} (menu_depth): the entries inside {title} are left out"),
                        depth=it.limits.menu_depth,
                        title=repr(item.title[:80]),
                    ),
                    once=True,
                )
                item.children = []
                continue
            todo.extend((child, depth + 1, chain) for child in reversed(item.children))
    except Halt as h:
        it.warn(Text.of(N_("{error}; entries not evaluated are left out"), error=h))
    except RecursionError:
        it.warn(Text.of(N_("menu entry nested too deeply; stopped")))


def _timeout(value: str) -> float | None:
    value = value.strip()
    if not re.fullmatch(r"-?[0-9]{1,9}", value):
        return None
    t = int(value)
    return float(t) if t >= 0 else None


def parse(view: DeviceView, ctx: ParseContext) -> ParseResult:
    """The GRUB entries of one device (see the module documentation)."""
    return parse_limited(view, ctx, Limits())


def parse_limited(view: DeviceView, ctx: ParseContext, limits: Limits) -> ParseResult:
    """:func:`parse` with explicit limits."""
    try:
        with _fewer_collections():
            return _parse(view, ctx, limits)
    except Exception as e:  # the interpreter must never take a scan down
        log.exception("GRUB interpreter failed on %s", view.device.id)
        return ParseResult(
            diagnostics=(Diagnostic.of(Severity.ERROR, N_("GRUB configuration not understood: {error}"), error=e),)
        )


GC_YOUNG = 400_000
"""New objects between two collections of the young generation while a config is interpreted."""
_gc_lock = threading.Lock()
_gc_users = 0
_gc_saved: tuple[int, int, int] = (700, 10, 10)


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """Run the garbage collector less often while a config is interpreted.

    A large config makes hundreds of thousands of small objects, all alive
    until the scan ends; the default thresholds would rescan them again and
    again (most of the time of a 5,000-entry scan).  The young generation is
    collected after GC_YOUNG new objects: a 5,000-entry scan (some 300,000
    objects, all kept) then needs no collection at all, and what garbage with
    reference cycles a hostile script makes is still collected every
    GC_YOUNG objects (tens of MB at most).  Nested and concurrent
    scans share one raised threshold; the first one in saves, the last one
    out restores.
    """
    global _gc_users, _gc_saved
    with _gc_lock:
        if _gc_users == 0:
            _gc_saved = gc.get_threshold()
            gc.set_threshold(max(_gc_saved[0], GC_YOUNG), _gc_saved[1], _gc_saved[2])
        _gc_users += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_users -= 1
            if _gc_users == 0:
                gc.set_threshold(*_gc_saved)


def _release(outcome: Outcome) -> None:
    """Break the reference cycles of an interpretation's menu, which only the
    options outlive: each menu item holds the context it was defined in, and
    that context's menu holds the item.  Without this, the whole menu and the
    syntax trees of its entries (some 20 objects an entry) would wait for the
    cyclic garbage collector, whose one pass over a 5,000-entry scan's objects
    costs a quarter of the scan; with it, they are freed as soon as the scan
    lets go of them."""
    todo = list(outcome.menu)
    menus: list[list[MenuItem]] = [outcome.menu]
    while todo:
        item = todo.pop()
        menus.append(item.ctx.menu)
        if item.sub_ctx is not None:
            menus.append(item.sub_ctx.menu)
        todo.extend(item.children)
    for menu in menus:
        menu.clear()
    outcome.menu = []


def _parse(view: DeviceView, ctx: ParseContext, limits: Limits) -> ParseResult:
    diagnostics: list[Diagnostic] = []
    awaits: list[str] = []
    first: Outcome | None = None
    started = now = time.process_time()
    for n, config in enumerate(candidates(view, diagnostics)):
        if n:  # (a clock read costs: the first config has just started)
            now = time.process_time()
        if now - started > limits.cpu_seconds:
            diagnostics.append(
                Diagnostic.of(Severity.WARNING, N_("CPU time used up (cpu_seconds); not read"), str(config))
            )
            continue
        outcome = interpret(view, config, ctx, limits=limits, cpu_start=now)
        _release(outcome)
        diagnostics.extend(outcome.diagnostics)
        awaits.extend(outcome.awaits)
        if outcome.options:
            return ParseResult(
                options=tuple(outcome.options),
                diagnostics=tuple(diagnostics),
                timeout=outcome.timeout,
                supersedes=(Source.BLS,) if outcome.used_blscfg else (),
                awaits=tuple(dict.fromkeys(awaits))[:MAX_AWAITS],
            )
        first = first or outcome
    for path in LEGACY:
        real = view.find(path)
        if real is None or not _regular(view, real, diagnostics):
            continue
        try:
            text = view.read_text(real)
        except ViewError as e:
            diagnostics.append(Diagnostic(Severity.ERROR, str(e), str(real)))
            continue
        from bootd.parsers.grub.legacy import parse_menu_lst  # (GRUB legacy is rare: loaded when found)

        options, diags, timeout = parse_menu_lst(text, str(real))
        diagnostics.extend(diags)
        if options:
            return ParseResult(options=tuple(options), diagnostics=tuple(diagnostics), timeout=timeout)
    supersedes = (Source.BLS,) if first is not None and first.used_blscfg else ()
    return ParseResult(
        diagnostics=tuple(diagnostics), supersedes=supersedes, awaits=tuple(dict.fromkeys(awaits))[:MAX_AWAITS]
    )


__all__ = ["Context", "Limits", "Outcome", "candidates", "interpret", "parse", "parse_limited"]
