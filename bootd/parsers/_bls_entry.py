"""Boot Loader Specification entry files: one file parsed into a
:class:`BlsEntry`, and the menu order the specification defines.

The order (see :func:`sort_entries`): entries with no boot tries left go
last; entries with a ``sort-key`` come first, by ``sort-key``, ``machine-id``
and ``version`` (newest first); then by file name without ``.conf`` and the
boot-counting suffix (newest first); then more tries left first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from operator import itemgetter

from bootd.model import Record, record
from bootd.parsers._text import VersionKey, lines_of, version_key

_set = object.__setattr__

_COUNTING = re.compile(r"^(?P<stem>.*?)\+(?P<left>\d+)(?:-(?P<done>\d+))?$")


@record
class BlsEntry(Record):
    """One parsed entry file, values as written (paths not yet resolved)."""

    file_stem: str
    """File name without ``.conf`` and without the boot-counting suffix."""
    title: str | None = None
    version: str | None = None
    machine_id: str | None = None
    sort_key: str | None = None
    linux: str | None = None
    initrds: tuple[str, ...] = ()
    devicetree: str | None = None
    options: str = ""
    """All ``options`` lines joined with spaces, variables not expanded."""
    architecture: str | None = None
    tries_left: int | None = None
    raw: tuple[tuple[str, str], ...] = ()
    """Every ``key value`` pair in file order."""
    tries_done: int | None = None
    devicetree_overlays: tuple[str, ...] = ()
    efi: str | None = None
    path: str = ""
    """Where the entry file is on the device."""
    directory: str = "/loader/entries"
    text: str = ""
    """The file as read (GRUB's ``blscfg`` reads it its own way)."""

    def __init__(
        self,
        file_stem: str,
        title: str | None = None,
        version: str | None = None,
        machine_id: str | None = None,
        sort_key: str | None = None,
        linux: str | None = None,
        initrds: tuple[str, ...] = (),
        devicetree: str | None = None,
        options: str = "",
        architecture: str | None = None,
        tries_left: int | None = None,
        raw: tuple[tuple[str, str], ...] = (),
        tries_done: int | None = None,
        devicetree_overlays: tuple[str, ...] = (),
        efi: str | None = None,
        path: str = "",
        directory: str = "/loader/entries",
        text: str = "",
    ) -> None:
        _set(self, "file_stem", file_stem)
        _set(self, "title", title)
        _set(self, "version", version)
        _set(self, "machine_id", machine_id)
        _set(self, "sort_key", sort_key)
        _set(self, "linux", linux)
        _set(self, "initrds", initrds)
        _set(self, "devicetree", devicetree)
        _set(self, "options", options)
        _set(self, "architecture", architecture)
        _set(self, "tries_left", tries_left)
        _set(self, "raw", raw)
        _set(self, "tries_done", tries_done)
        _set(self, "devicetree_overlays", devicetree_overlays)
        _set(self, "efi", efi)
        _set(self, "path", path)
        _set(self, "directory", directory)
        _set(self, "text", text)

    @property
    def name(self) -> str:
        """What a menu shows: the title, else the version, else the file name."""
        return self.title or self.version or self.file_stem

    def get(self, key: str) -> str | None:
        for k, v in self.raw:
            if k == key:
                return v
        return None


def split_kv(line: str) -> tuple[str, str] | None:
    """``key value`` of a line (whitespace around both dropped); None for a
    blank line, a comment, or a key without a value."""
    parts = line.split(None, 1)
    if len(parts) < 2 or parts[0][0] == "#":
        return None
    return parts[0], parts[1].rstrip()


def parse_entry(text: str, file_name: str, *, path: str = "", directory: str = "/loader/entries") -> BlsEntry:
    """Parse one entry file's text (never raises)."""
    stem = file_name[:-5] if file_name.lower().endswith(".conf") else file_name
    tries_left: int | None = None
    tries_done: int | None = None
    m = _COUNTING.match(stem) if "+" in stem else None
    if m:
        stem = m.group("stem")
        tries_left = int(m.group("left")[:9])
        tries_done = int(m.group("done")[:9]) if m.group("done") else 0
    raw: list[tuple[str, str]] = []
    single: dict[str, str] = {}
    initrds: list[str] = []
    options: list[str] = []
    overlays: list[str] = []
    for line in lines_of(text):
        parts = line.split(None, 1)  # split_kv, inline: this loop runs for every line of every entry
        if len(parts) < 2 or parts[0][0] == "#":
            continue
        key, value = parts[0], parts[1].rstrip()
        raw.append((key, value))
        if key == "initrd":
            initrds.append(value)
        elif key == "options":
            options.append(value)
        elif key == "devicetree-overlay":
            overlays.extend(value.split())
        else:
            single[key] = value
    get = single.get
    # positional: the field order of BlsEntry (this runs once per entry)
    return BlsEntry(
        stem,
        get("title"),
        get("version"),
        get("machine-id"),
        get("sort-key"),
        get("linux"),
        tuple(initrds),
        get("devicetree"),
        " ".join(options),
        get("architecture"),
        tries_left,
        tuple(raw),
        tries_done,
        tuple(overlays),
        get("efi"),
        path,
        directory,
        text,
    )


def _newest_first(versions: Sequence[str]) -> dict[str, int]:
    """Rank of each distinct version string, 0 for the newest."""
    distinct = sorted({v: version_key(v) for v in versions}.items(), key=itemgetter(1), reverse=True)
    ranks: dict[str, int] = {}
    previous: VersionKey | None = None
    rank = -1
    for text, key in distinct:
        if key != previous:
            rank, previous = rank + 1, key
        ranks[text] = rank
    return ranks


def sort_entries(entries: Sequence[BlsEntry]) -> list[BlsEntry]:
    """The specification's menu order: entries with no tries left last;
    entries with a sort-key first, by sort-key, machine-id, version (newest
    first); then by file name (newest first); then more tries left first,
    fewer tries done first."""
    versions = _newest_first([e.version or "" for e in entries if e.sort_key is not None])

    def main(e: BlsEntry) -> tuple[object, ...]:
        if e.sort_key is None:
            return (e.tries_left == 0, 1, "", "", 0)
        return (e.tries_left == 0, 0, e.sort_key, e.machine_id or "", versions[e.version or ""])

    keyed = sorted([(main(e), i) for i, e in enumerate(entries)], key=itemgetter(0))
    # Ties (no sort-key, or equal sort-key/machine-id/version) go by file name:
    # version keys for file names are made only for those.
    out: list[BlsEntry] = []
    n = len(keyed)
    i = 0
    while i < n:
        key, k = keyed[i]
        j = i + 1
        if j == n or keyed[j][0] != key:  # no tie: the common case
            out.append(entries[k])
            i = j
            continue
        while j < n and keyed[j][0] == key:
            j += 1
        run = [entries[k] for _, k in keyed[i:j]]
        stems = _newest_first([e.file_stem for e in run])
        run.sort(
            key=lambda e: (
                stems[e.file_stem],
                *((-(e.tries_left or 0), e.tries_done or 0) if e.tries_left is not None else (0, 0)),
            )
        )
        out.extend(run)
        i = j
    return out
