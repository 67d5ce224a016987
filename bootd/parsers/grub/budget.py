"""What a GRUB script costs: file work charged to the step budget, byte caps.

The step budget (:attr:`~bootd.parsers.grub.state.Limits.steps`) counts
*work*, not commands: a plain command is one step, but a command that
touches files (``blscfg``, ``search``, ``test -f``, ``source``,
``load_env`` …) is charged by what it really did: every file lookup, by
the number of path components the lookup walks, every directory entry
listed and every byte read.  The charge is taken through a
:class:`MeteredView` that stands in front of each device view the
interpreter sees, so no command can forget to pay.  The weights are set so
that one step is roughly the time of one plain command (about a
microsecond): a full budget is about one second of CPU, whatever the
script does.  Parsing a file is charged too, by its words, before it is
parsed: a file with more words than the work left is not parsed at all.

Sizes are capped separately (:func:`too_long`): a variable value, an
expanded word and a whole command line each have a byte cap, and all the
bytes a script keeps (variables, echo output, menu titles and arguments)
are counted against one total, so a few hundred bytes of ``set
a="$a$a$a…"`` cannot grow into gigabytes.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable
from pathlib import PurePosixPath

from bootd.model import N_, Device, Text
from bootd.parsers.view import MAX_CONFIG_BYTES, DeviceView, ViewError

LOOKUP_STEPS = 6
"""Steps one file lookup costs (a stat through the confined view)."""
COMPONENT_STEPS = 5
"""Steps per path component a lookup walks (one ``lstat`` each)."""
BYTES_PER_STEP = 256
"""Bytes read (or directory entries listed, times 16) per step."""
PARSE_STEPS = 3
"""Steps per token a script file costs to parse (taken before it is parsed)."""


class Meter:
    """Work done through the views since the interpreter last looked."""

    __slots__ = ("work",)

    def __init__(self, work: int = 0) -> None:
        self.work = work

    def __repr__(self) -> str:
        return f"Meter(work={self.work})"

    def take(self) -> int:
        work, self.work = self.work, 0
        return work


def _lookup_cost(path: str | PurePosixPath) -> int:
    text = str(path)
    return LOOKUP_STEPS + COMPONENT_STEPS * (text.count("/") + 1)


class MeteredView:
    """A :class:`~bootd.parsers.view.DeviceView` that charges a :class:`Meter`
    for every call, then asks the real view."""

    def __init__(self, inner: DeviceView, meter: Meter) -> None:
        self.inner = inner
        self.meter = meter

    @property
    def device(self) -> Device:
        return self.inner.device

    def read_bytes(self, path: str | PurePosixPath, *, limit: int = MAX_CONFIG_BYTES) -> bytes:
        self.meter.work += _lookup_cost(path)
        data = self.inner.read_bytes(path, limit=limit)
        self.meter.work += len(data) // BYTES_PER_STEP
        return data

    def read_text(self, path: str | PurePosixPath, *, limit: int = MAX_CONFIG_BYTES) -> str:
        return self.read_bytes(path, limit=limit).decode("utf-8", errors="replace")

    def read_range(self, path: str | PurePosixPath, offset: int, length: int) -> bytes:
        self.meter.work += _lookup_cost(path)
        data = self.inner.read_range(path, offset, length)
        self.meter.work += len(data) // BYTES_PER_STEP
        return data

    def is_file(self, path: str | PurePosixPath) -> bool:
        self.meter.work += _lookup_cost(path)
        return self.inner.is_file(path)

    def is_dir(self, path: str | PurePosixPath) -> bool:
        self.meter.work += _lookup_cost(path)
        return self.inner.is_dir(path)

    def size(self, path: str | PurePosixPath) -> int | None:
        self.meter.work += _lookup_cost(path)
        return self.inner.size(path)

    def listdir(self, path: str | PurePosixPath) -> list[str]:
        self.meter.work += _lookup_cost(path)
        names = self.inner.listdir(path)
        self.meter.work += len(names) * 16 // BYTES_PER_STEP
        return names

    def read_files(
        self, directory: str | PurePosixPath, names: Iterable[str], *, limit: int = MAX_CONFIG_BYTES
    ) -> Generator[tuple[str, bytes | ViewError], None, None]:
        shown = str(directory).rstrip("/")
        for name, data in self.inner.read_files(directory, names, limit=limit):
            self.meter.work += _lookup_cost(f"{shown}/{name}")
            if isinstance(data, bytes):
                self.meter.work += len(data) // BYTES_PER_STEP
            yield name, data

    def regular_files(self, path: str | PurePosixPath) -> set[str]:
        self.meter.work += _lookup_cost(path)
        names = self.inner.regular_files(path)
        # charged as the per-file checks it stands for (one lookup a name)
        shown = str(path).rstrip("/")
        self.meter.work += len(names) * 16 // BYTES_PER_STEP + sum(_lookup_cost(f"{shown}/{n}") for n in names)
        return names

    def find(self, path: str | PurePosixPath) -> PurePosixPath | None:
        # A miss lists each directory on the way (case-insensitive lookup).
        cost = _lookup_cost(path)
        self.meter.work += cost
        found = self.inner.find(path)
        if found is None:
            self.meter.work += cost
        return found


def parse_cost(text: str) -> int:
    """What parsing ``text`` costs: its words and lines (a close estimate of
    its tokens, counted at C speed before the slow parse starts)."""
    return PARSE_STEPS * (len(text.split()) + text.count("\n") + text.count("$"))


def metered(view: DeviceView, meter: Meter) -> DeviceView:
    return view if isinstance(view, MeteredView) else MeteredView(view, meter)


CPU_USED_UP = N_("stopped after {seconds} s of CPU (cpu_seconds); later entries are missing")
"""Why scripts stop when their CPU time is used up (the interpreter's and the wildcard expansion's)."""


def too_long(what: Text, cap: int, name: str) -> Text:
    """The diagnostic for a size cap: names the cap and its setting."""
    return Text.of(
        N_("{what} is longer than {cap} bytes (the {name} cap); stopped, later entries are missing"),
        what=what,
        cap=cap,
        name=name,
    )
