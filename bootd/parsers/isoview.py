"""A read-only view of the files inside an ISO9660 image (GRUB's ``loopback``).

The image is a regular file on some device; it is read through a callable
that returns bytes at an offset (a :class:`~bootd.parsers.view.DeviceView`'s
``read_range`` while parsing, an open file while the loader extracts), so the
image itself stays confined to its device.  The file system is read with
pycdlib; only the parts of its API that Debian 12's pycdlib 1.12 also has are
used (``open_fp``, ``has_rock_ridge``, ``has_joliet``, ``list_children``,
``open_file_from_iso`` and the records' ``is_dir``/``is_file``/
``file_identifier``/``get_data_length``/``extent_location``).

Names are the ones GRUB's iso9660 driver shows: Rock Ridge names when the
image has them, else Joliet names, else the plain ISO9660 names in lower case
without their ``;1`` version and trailing dot (GRUB 2.06 under grub-emu finds
``/casper/vmlinuz`` in such an image, and not ``/CASPER/VMLINUZ``).

Hostile images cost bounded work: the bytes pycdlib may ask for while it
reads the directory tree are capped, and so are the number of entries, the
depth of directories and the size of any file read; a directory that is
reached again (a loop) is not entered twice; a file that claims bytes past the
end of the image is refused.  Every failure is an :class:`ImageError` or a
:class:`~bootd.parsers.view.ViewError` with a message that says why.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import Any, BinaryIO, cast

from bootd.model import Device
from bootd.parsers.view import MAX_CONFIG_BYTES, MAX_LIST_ENTRIES, MAX_RANGE_BYTES, ViewError, normalize

log = logging.getLogger(__name__)

SECTOR = 2048
MAX_TREE_READ_BYTES = 8 * 1024 * 1024
"""The most bytes pycdlib may read while it opens an image and lists its
directories (a distribution ISO of 4,000 files needs about 2 MiB)."""
OPEN_CPU_SECONDS = 0.7
"""The CPU time opening and indexing one image may take unless the caller
says otherwise (pycdlib reads some 10,000 directory records in that time
here); the loader allows more (:data:`LOADER_CPU_SECONDS`)."""
LOADER_CPU_SECONDS = 10.0
MAX_ENTRIES = 100_000
"""The most files and directories indexed in one image."""
MAX_DEPTH = 32
"""The deepest directory indexed."""
_BLOCK = 64 * 1024
_CACHED_BLOCKS = 32

ReadAt = Callable[[int, int], bytes]
"""``read_at(offset, length)``: up to ``length`` bytes of the image from ``offset``."""


class ImageError(Exception):
    """The image cannot be read as ISO9660; the message says why."""


class _BudgetExceeded(Exception):
    pass


class _ImageFile(io.RawIOBase):
    """A seekable binary file over ``read_at``: what pycdlib reads from.

    Reads come from a small cache of 64 KiB blocks; the bytes handed out are
    counted against ``budget`` (None: no cap), and reading past it, or after
    the ``deadline`` (``time.process_time``; None: none), raises."""

    def __init__(self, read_at: ReadAt, size: int, budget: int | None, deadline: float | None = None) -> None:
        super().__init__()
        self._read_at = read_at
        self._size = size
        self._pos = 0
        self.budget = budget
        self.deadline = deadline
        self._blocks: dict[int, bytes] = {}

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def _block(self, index: int) -> bytes:
        data = self._blocks.get(index)
        if data is None:
            data = self._read_at(index * _BLOCK, _BLOCK)
            if len(self._blocks) >= _CACHED_BLOCKS:
                self._blocks.pop(next(iter(self._blocks)))
            self._blocks[index] = data
        return data

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        want = min(len(view), max(0, self._size - self._pos))
        if self.budget is not None:
            if want > self.budget:
                raise _BudgetExceeded(f"reading its directories takes more than {MAX_TREE_READ_BYTES} bytes")
            self.budget -= want
        if self.deadline is not None and time.process_time() > self.deadline:
            raise _BudgetExceeded("reading its directories takes too much CPU time")
        done = 0
        while done < want:
            index, skip = divmod(self._pos, _BLOCK)
            chunk = self._block(index)[skip : skip + want - done]
            if not chunk:
                break
            view[done : done + len(chunk)] = chunk
            done += len(chunk)
            self._pos += len(chunk)
        return done


@dataclass(frozen=True, slots=True)
class _Entry:
    is_dir: bool
    size: int
    extent: int
    key: tuple[str, str]
    """How pycdlib names it: (``iso_path``/``joliet_path``/``rr_path``, path)."""
    children: dict[str, str] = field(default_factory=dict)
    """Directories: the names in it (each mapped to itself)."""


def _iso_name(raw: bytes) -> str:
    name = raw.decode("ascii", errors="replace")
    name = name.split(";", 1)[0]
    return name[:-1] if name.endswith(".") else name


class IsoView:
    """The files of one ISO9660 image: a :class:`~bootd.parsers.view.DeviceView`
    whose device is the one the image lives on (its ``fstype`` ``iso9660``)."""

    def __init__(self, device: Device, image: PurePosixPath, read_at: ReadAt, size: int, *, cpu_seconds: float) -> None:
        self._device = replace(device, fstype="iso9660")
        self.image = image
        self.image_size = size
        self._file = _ImageFile(read_at, size, MAX_TREE_READ_BYTES, time.process_time() + cpu_seconds)
        self._entries: dict[str, _Entry] = {}
        try:
            import pycdlib  # loaded only where an image is opened
        except ImportError:
            raise ImageError(f"{image}: ISO9660 images cannot be read here (pycdlib is not installed)") from None
        self._iso: Any = pycdlib.PyCdlib()
        try:
            self._iso.open_fp(cast(BinaryIO, self._file))
            if self._iso.has_rock_ridge():
                self._kind = "rr_path"
            elif self._iso.has_joliet():
                self._kind = "joliet_path"
            else:
                self._kind = "iso_path"
            self._index()
        except _BudgetExceeded as e:
            raise ImageError(f"{image}: {e}; not read") from None
        except ImageError:
            raise
        except Exception as e:  # pycdlib raises many kinds on damaged images
            raise ImageError(f"{image}: not a readable ISO9660 image ({_why(e)})") from None
        self._file.budget = self._file.deadline = None

    @property
    def device(self) -> Device:
        return self._device

    # -- the index -------------------------------------------------------------

    def _name(self, rec: Any) -> str | None:
        if rec.is_dot() or rec.is_dotdot():
            return None
        if self._kind == "rr_path":
            rr = rec.rock_ridge
            if rr is not None and rr.name():
                return bytes(rr.name()).decode("utf-8", errors="replace")
            return _iso_name(rec.file_identifier())
        if self._kind == "joliet_path":
            return bytes(rec.file_identifier()).decode("utf-16_be", errors="replace").split(";", 1)[0]
        return _iso_name(rec.file_identifier()).lower()

    def _index(self) -> None:
        """Walk the tree once, breadth first, within the caps."""
        root = _Entry(True, 0, -1, (self._kind, "/"))
        self._entries["/"] = root
        todo: list[tuple[str, _Entry, int]] = [("/", root, 0)]
        seen: set[int] = set()
        while todo:
            shown, entry, depth = todo.pop(0)
            if self._file.deadline is not None and time.process_time() > self._file.deadline:
                raise _BudgetExceeded("indexing its files takes too much CPU time")
            for rec in self._iso.list_children(**{entry.key[0]: entry.key[1]}):
                if rec is None:
                    continue
                name = self._name(rec)
                if not name or "/" in name or "\0" in name:
                    continue
                if len(self._entries) >= MAX_ENTRIES:
                    raise ImageError(f"{self.image}: more than {MAX_ENTRIES} files")
                path = shown.rstrip("/") + "/" + name
                key = (self._kind, entry.key[1].rstrip("/") + "/" + self._pycdlib_name(rec, name))
                extent = int(rec.extent_location())
                is_dir = bool(rec.is_dir())
                child = _Entry(is_dir, 0 if is_dir else int(rec.get_data_length()), extent, key)
                if name in entry.children:
                    continue
                entry.children[name] = name
                self._entries[path] = child
                if is_dir and depth + 1 < MAX_DEPTH and extent not in seen:
                    seen.add(extent)
                    todo.append((path, child, depth + 1))

    def _pycdlib_name(self, rec: Any, shown: str) -> str:
        if self._kind == "rr_path":
            return shown
        if self._kind == "joliet_path":
            return bytes(rec.file_identifier()).decode("utf-16_be", errors="replace")
        return bytes(rec.file_identifier()).decode("ascii", errors="replace")

    def _get(self, path: str | PurePosixPath) -> _Entry | None:
        return self._entries.get(str(normalize(path)))

    def _file_entry(self, path: str | PurePosixPath) -> _Entry:
        entry = self._get(path)
        if entry is None:
            raise ViewError(f"{path}: no such file in {self.image}")
        if entry.is_dir:
            raise ViewError(f"{path}: not a regular file")
        if entry.extent * SECTOR + entry.size > self.image_size:
            raise ViewError(f"{path}: claims {entry.size} bytes past the end of {self.image}; refused")
        return entry

    # -- DeviceView --------------------------------------------------------------

    def _open(self, entry: _Entry) -> Any:
        return self._iso.open_file_from_iso(**{entry.key[0]: entry.key[1]})

    def read_bytes(self, path: str | PurePosixPath, *, limit: int = MAX_CONFIG_BYTES) -> bytes:
        entry = self._file_entry(path)
        if entry.size > limit:
            raise ViewError(f"{path}: {entry.size} bytes is larger than the {limit}-byte limit")
        return self.read_range(path, 0, entry.size)

    def read_text(self, path: str | PurePosixPath, *, limit: int = MAX_CONFIG_BYTES) -> str:
        return self.read_bytes(path, limit=limit).decode("utf-8", errors="replace")

    def read_range(self, path: str | PurePosixPath, offset: int, length: int) -> bytes:
        entry = self._file_entry(path)
        length = max(0, min(length, MAX_RANGE_BYTES, entry.size - offset))
        if length == 0:
            return b""
        try:
            with self._open(entry) as f:
                f.seek(offset)
                data: bytes = f.read(length)
        except Exception as e:
            raise ViewError(f"{path}: cannot be read from {self.image} ({_why(e)})") from None
        return data

    def copy_to(self, path: str | PurePosixPath, out: io.BufferedIOBase, *, max_bytes: int) -> int:
        """Write the file's bytes to ``out`` (at most ``max_bytes``); the count."""
        entry = self._file_entry(path)
        if entry.size > max_bytes:
            raise ViewError(f"{path}: {entry.size} bytes is more than the {max_bytes}-byte limit")
        done = 0
        try:
            with self._open(entry) as f:
                while done < entry.size:
                    chunk = f.read(min(1 << 20, entry.size - done))
                    if not chunk:
                        break
                    out.write(chunk)
                    done += len(chunk)
        except Exception as e:
            raise ViewError(f"{path}: cannot be read from {self.image} ({_why(e)})") from None
        if done != entry.size:
            raise ViewError(f"{path}: {self.image} ends inside the file")
        return done

    def is_file(self, path: str | PurePosixPath) -> bool:
        entry = self._get(path)
        return entry is not None and not entry.is_dir

    def is_dir(self, path: str | PurePosixPath) -> bool:
        entry = self._get(path)
        return entry is not None and entry.is_dir

    def size(self, path: str | PurePosixPath) -> int | None:
        entry = self._get(path)
        return None if entry is None or entry.is_dir else entry.size

    def listdir(self, path: str | PurePosixPath) -> list[str]:
        entry = self._get(path)
        if entry is None or not entry.is_dir:
            return []
        return sorted(entry.children.values())[:MAX_LIST_ENTRIES]

    def regular_files(self, path: str | PurePosixPath) -> set[str]:
        base = str(normalize(path)).rstrip("/")
        return {name for name in self.listdir(path) if self.is_file(f"{base}/{name}")}

    def read_files(
        self, directory: str | PurePosixPath, names: Iterable[str], *, limit: int = MAX_CONFIG_BYTES
    ) -> Generator[tuple[str, bytes | ViewError], None, None]:
        base = str(normalize(directory)).rstrip("/")
        for name in names:
            try:
                yield name, self.read_bytes(f"{base}/{name}", limit=limit)
            except ViewError as e:
                yield name, e

    def find(self, path: str | PurePosixPath) -> PurePosixPath | None:
        """``path`` when it is there (names inside an image match exactly, as in GRUB)."""
        norm = normalize(path)
        return norm if self._get(norm) is not None else None


def _why(e: Exception) -> str:
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return text[:200]


def open_view(
    device: Device, image: PurePosixPath, read_at: ReadAt, size: int, *, cpu_seconds: float = OPEN_CPU_SECONDS
) -> IsoView:
    """:class:`IsoView` of the image; :class:`ImageError` when it is not one
    (or opening it takes more than ``cpu_seconds`` of CPU)."""
    if size < 17 * SECTOR:
        raise ImageError(f"{image}: {size} bytes is too small for an ISO9660 image")
    return IsoView(device, image, read_at, size, cpu_seconds=cpu_seconds)
