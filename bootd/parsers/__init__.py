"""Parser registry: every parser runs on every device that may hold its files.

A parser is a pure function ``parse(view, ctx) -> ParseResult``: it reads
through a :class:`~bootd.parsers.view.DeviceView`, never raises (an unreadable
file becomes a :class:`~bootd.model.Diagnostic`), and returns options in the
order its boot loader's menu shows them, with ``default=True`` on the one
entry that loader would boot.  :func:`parse_device` runs them all, gives each
option a stable id and a device-wide ``order``.

Each entry names the paths its parser looks at first (:attr:`ParserEntry.claims`).
A parser none of whose claimed paths exists on a device, in any letter case,
finds nothing there and says nothing: its module is not even imported.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from bootd.model import N_, BootOption, Device, Diagnostic, ParseResult, Record, Severity, Source, record
from bootd.parsers import paths
from bootd.parsers._text import Finder
from bootd.parsers.view import DeviceView

_set = object.__setattr__

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ParseContext:
    """What a parser may know beyond its own device."""

    others: Mapping[str, DeviceView] = field(default_factory=dict)
    """Views of the other known devices, by device id (GRUB ``search``)."""
    arch: str = "x86_64"
    """Machine architecture (``uname -m`` form): ``x86_64``, ``aarch64``, ``ppc64le``."""
    firmware: str = "efi"
    """GRUB's ``grub_platform``: ``efi``, ``pc``, ``ieee1275``."""

    def devices(self) -> list[Device]:
        return [v.device for v in self.others.values()]


Parser = Callable[[DeviceView, ParseContext], ParseResult]


@record
class ParserEntry(Record):
    source: Source
    module: str
    """Module path holding a ``parse`` function; imported on first use."""
    supersedes: tuple[Source, ...] = ()
    claims: tuple[str, ...] | None = None
    """The paths (absolute on the device) the parser starts from: when none
    of them exists in any letter case, it finds nothing and reports nothing,
    and is not loaded.  None: it runs on every device."""

    def __init__(
        self,
        source: Source,
        module: str,
        supersedes: tuple[Source, ...] = (),
        claims: tuple[str, ...] | None = None,
    ) -> None:
        _set(self, "source", source)
        _set(self, "module", module)
        _set(self, "supersedes", supersedes)
        _set(self, "claims", claims)


def _paths(directories: tuple[str, ...], names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"{d.rstrip('/')}/{n}" for d in directories for n in names)


# The paths each parser starts from, declared here so that a device is matched
# against them without importing the parser (tests/unit/core/test_registry.py
# checks them against the parsers' own tables).  GRUB has none: it looks in
# every EFI vendor directory and more, and runs on every device.
CLAIMS: Mapping[Source, tuple[str, ...]] = {
    # type #1 entry directories, then the type #2 (unified kernel image) ones
    Source.BLS: paths.BLS_DIRECTORIES + paths.UKI_DIRECTORIES,
    Source.SYSLINUX: _paths(paths.SYSLINUX_DIRS, paths.SYSLINUX_NAMES),
    Source.YABOOT: paths.YABOOT_PATHS,
    Source.KBOOT: paths.KBOOT_PATHS,
    Source.PETITBOOT: paths.PETITBOOT_PATHS,
}


# Registry order is the order options of one device are listed in.
REGISTRY: tuple[ParserEntry, ...] = (
    ParserEntry(Source.GRUB2, "bootd.parsers.grub"),
    ParserEntry(Source.BLS, "bootd.parsers.bls", claims=CLAIMS[Source.BLS]),
    ParserEntry(Source.SYSLINUX, "bootd.parsers.syslinux", claims=CLAIMS[Source.SYSLINUX]),
    ParserEntry(Source.YABOOT, "bootd.parsers.yaboot", claims=CLAIMS[Source.YABOOT]),
    ParserEntry(Source.KBOOT, "bootd.parsers.kboot", claims=CLAIMS[Source.KBOOT]),
    ParserEntry(Source.PETITBOOT, "bootd.parsers.petitboot", claims=CLAIMS[Source.PETITBOOT]),
)


def claimed(entry: ParserEntry, listed: Finder) -> bool:
    """Whether the device may hold a path ``entry`` claims: False only when
    each is surely absent in every letter case (a directory on its way was
    listed in full and holds no such name)."""
    return entry.claims is None or not all(listed.absent(path) for path in entry.claims)


def _load(entry: ParserEntry) -> Parser | None:
    try:
        mod = importlib.import_module(entry.module)
    except ModuleNotFoundError as e:
        if e.name == entry.module:
            return None
        raise
    fn: Parser | None = getattr(mod, "parse", None)
    if fn is None:  # a package that is not written yet (no parse function)
        log.debug("%s has no parse function; skipped", entry.module)
    return fn


def option_id(device: str, source: Source, key: str) -> str:
    """The stable id of an option: device, format and the entry's own key."""
    return f"{device}/{source}/{key}"


def parse_device(
    view: DeviceView,
    ctx: ParseContext | None = None,
    *,
    only: tuple[Source, ...] | None = None,
) -> ParseResult:
    """Run every registered parser on ``view``; never raises."""
    ctx = ctx or ParseContext()
    results: list[tuple[Source, ParseResult]] = []
    diagnostics: list[Diagnostic] = []
    listed = Finder(view)  # each directory listed at most once for all the claims
    for entry in REGISTRY:
        if only is not None and entry.source not in only:
            continue
        if not claimed(entry, listed):
            continue
        parser = _load(entry)
        if parser is None:
            continue
        try:
            result = parser(view, ctx)
        except RecursionError:
            diagnostics.append(
                Diagnostic.of(Severity.ERROR, N_("{source} parser: nesting too deep; skipped"), source=entry.source)
            )
            continue
        except Exception as e:  # a parser bug must not take the scan down
            log.exception("%s parser failed on %s", entry.source, view.device.id)
            diagnostics.append(
                Diagnostic.of(Severity.ERROR, N_("{source} parser failed: {error}"), source=entry.source, error=e)
            )
            continue
        results.append((entry.source, result))
    superseded: set[Source] = set()
    for _, result in results:
        superseded.update(result.supersedes)
    options: list[BootOption] = []
    seen: dict[str, int] = {}
    timeout: float | None = None
    for source, result in results:
        diagnostics.extend(result.diagnostics)
        if source in superseded:
            continue
        if timeout is None:
            timeout = result.timeout
        for opt in result.options:
            key = opt.entry_id or opt.name or "entry"
            oid = option_id(view.device.id, opt.source, key)
            n = seen.get(oid, 0)
            seen[oid] = n + 1
            if n:
                oid = f"{oid}#{n + 1}"
            options.append(replace(opt, id=oid, device=view.device.id, order=len(options)))
    awaits = tuple(dict.fromkeys(a for _, result in results for a in result.awaits))
    return ParseResult(options=tuple(options), diagnostics=tuple(diagnostics), timeout=timeout, awaits=awaits)
