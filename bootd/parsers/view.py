"""A read-only, confined view of one device's files: what parsers see.

Parsers never open files themselves; they ask a :class:`DeviceView`.  The view
resolves every path inside the device root (``..`` and symbolic links may not
lead out of it), caps sizes, refuses FIFOs and devices, and never writes.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
from collections.abc import Generator, Iterable, Iterator
from itertools import islice
from pathlib import Path, PurePosixPath
from typing import Protocol

from bootd.model import Device, Record, record

_set = object.__setattr__

log = logging.getLogger(__name__)

MAX_CONFIG_BYTES = 1024 * 1024
"""The largest configuration file any parser reads (1 MiB)."""

MAX_RANGE_BYTES = 1024 * 1024
"""The most bytes one :meth:`DeviceView.read_range` returns (a PE header, an
embedded os-release or command line: never a kernel)."""

MAX_LIST_ENTRIES = 10_000
"""The most directory entries a parser sees in one directory."""

_MAX_LINK_HOPS = 40
_MAX_PATH = 4096
"""Linux's PATH_MAX: no longer path can name a file."""


class ViewError(Exception):
    """A path could not be read through the view; the message says why."""


class DeviceView(Protocol):
    """What a parser may ask of a device."""

    @property
    def device(self) -> Device: ...

    def read_bytes(self, path: str | PurePosixPath, *, limit: int = MAX_CONFIG_BYTES) -> bytes:
        """The file's bytes; :class:`ViewError` if missing, too large, or not a file."""
        ...

    def read_text(self, path: str | PurePosixPath, *, limit: int = MAX_CONFIG_BYTES) -> str:
        """The file decoded as UTF-8, undecodable bytes replaced."""
        ...

    def read_range(self, path: str | PurePosixPath, offset: int, length: int) -> bytes:
        """``length`` bytes of a regular file from ``offset`` on (fewer at its
        end); :class:`ViewError` if missing or not a file."""
        ...

    def is_file(self, path: str | PurePosixPath) -> bool: ...

    def is_dir(self, path: str | PurePosixPath) -> bool: ...

    def size(self, path: str | PurePosixPath) -> int | None: ...

    def listdir(self, path: str | PurePosixPath) -> list[str]:
        """Names in a directory, sorted; empty when it is not one."""
        ...

    def read_files(
        self, directory: str | PurePosixPath, names: Iterable[str], *, limit: int = MAX_CONFIG_BYTES
    ) -> Generator[tuple[str, bytes | ViewError], None, None]:
        """Each named file of a directory in turn, with its bytes or why it
        cannot be read (as :meth:`read_bytes` would say); a name is taken from
        ``names`` only when the one before it was handed out."""
        ...

    def regular_files(self, path: str | PurePosixPath) -> set[str]:
        """Names in a directory that are regular files themselves (not links,
        FIFOs, devices or directories), from one read of the directory; empty
        when it is not one.  A name not in it may still be a link to a file."""
        ...

    def find(self, path: str | PurePosixPath) -> PurePosixPath | None:
        """The real spelling of ``path`` on a case-insensitive match (FAT)."""
        ...


ROOT = PurePosixPath("/")


def normalize(path: str | PurePosixPath, cwd: PurePosixPath = ROOT) -> PurePosixPath:
    """Make ``path`` absolute within the device and collapse ``.``/``..``.

    ``..`` at the root stays at the root, as on a real filesystem.
    """
    return PurePosixPath("/" + "/".join(_normal_parts(str(path), str(cwd))))


def _normal_parts(path: str, cwd: str = "/") -> list[str]:
    if not path.startswith("/"):
        path = cwd + "/" + path
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return parts


_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC
"""How a file is opened to be read: without blocking (a FIFO), without following a link."""


class _Link(Exception):
    """The name opened is a symbolic link (O_NOFOLLOW)."""


def _open_regular(real: str, shown: str | PurePosixPath, dir_fd: int | None = None) -> tuple[int, os.stat_result]:
    """Open ``real`` (inside ``dir_fd`` when given) without blocking and
    without following a link; refuse anything but a regular file."""
    try:
        fd = os.open(real, _OPEN_FLAGS, dir_fd=dir_fd)
    except FileNotFoundError:
        raise ViewError(f"{shown}: no such file") from None
    except OSError as e:
        if dir_fd is not None and e.errno == errno.ELOOP:
            raise _Link from None
        raise ViewError(f"{shown}: {e.strerror}") from None
    try:
        st = os.fstat(fd)
    except OSError as e:
        os.close(fd)
        raise ViewError(f"{shown}: {e.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise ViewError(f"{shown}: not a regular file")
    return fd, st


def _read_all(fd: int, st: os.stat_result, path: str | PurePosixPath, limit: int) -> bytes:
    """The bytes of an open file up to ``limit`` (more is an error); closes ``fd``."""
    try:
        size = st.st_size
        if size > limit:
            raise ViewError(f"{path}: {size} bytes is larger than the {limit}-byte limit")
        # The first read asks for one byte more than the file says it holds
        # (at most limit + 1): a regular file's read gives fewer only at its
        # end, so a file that has not grown is read in one call.
        data = os.read(fd, size + 1)
        if len(data) <= size:
            return data
        chunks = [data]
        total = len(data)
        while total <= limit:
            chunk = os.read(fd, min(65536, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise ViewError(f"{path}: larger than the {limit}-byte limit")
        return b"".join(chunks)
    except OSError as e:
        raise ViewError(f"{path}: {e.strerror}") from None
    finally:
        os.close(fd)


@record
class DirectoryView(Record):
    """A :class:`DeviceView` over a directory on this machine (a mounted
    filesystem, or a directory that stands in for one)."""

    root: Path
    device: Device

    def __init__(self, root: Path, device: Device) -> None:
        _set(self, "root", root)
        _set(self, "device", device)

    def _resolve(self, path: str | PurePosixPath) -> Path:
        """Resolve ``path`` to a real path below root, following links inside it."""
        return Path(self._real(path))

    def _real(self, path: str | PurePosixPath) -> str:
        """:meth:`_resolve` as a string (no path object on the hot path)."""
        root = str(self.root)
        text = str(path)
        if len(text) > _MAX_PATH:
            raise ViewError(f"{text[:80]}…: a path longer than {_MAX_PATH} bytes")
        if "\0" in text:
            raise ViewError(f"{text.replace(chr(0), '^@')[:80]}: a NUL byte in a path")
        # reals[i] is the real path of the first i components (linear, not
        # one join per component)
        reals = [root]
        todo = _normal_parts(text)
        todo.reverse()  # a stack: the next component is at the end
        hops = 0
        while todo:
            part = todo.pop()
            if part == "..":
                if len(reals) > 1:
                    reals.pop()
                continue
            if part in ("", "."):
                continue
            real = reals[-1] + "/" + part
            try:
                st = os.lstat(real)
            except OSError:
                reals.append(real)
                continue
            if stat.S_ISLNK(st.st_mode):
                hops += 1
                if hops > _MAX_LINK_HOPS:
                    raise ViewError(f"{normalize(path)}: too many levels of symbolic links")
                target = os.readlink(real)
                if target.startswith("/"):
                    del reals[1:]
                todo.extend(reversed(target.split("/")))
                continue
            reals.append(real)
        return reals[-1]

    def _stat(self, path: str | PurePosixPath) -> os.stat_result | None:
        try:
            return os.stat(self._real(path))
        except (OSError, ViewError):
            return None

    def _open_regular(self, path: str | PurePosixPath) -> tuple[int, os.stat_result]:
        """An open descriptor of a regular file (never a FIFO or a device) and its stat."""
        return _open_regular(self._real(path), path)

    def read_bytes(self, path: str | PurePosixPath, *, limit: int = MAX_CONFIG_BYTES) -> bytes:
        return _read_all(*self._open_regular(path), path, limit)

    def read_files(
        self, directory: str | PurePosixPath, names: Iterable[str], *, limit: int = MAX_CONFIG_BYTES
    ) -> Generator[tuple[str, bytes | ViewError], None, None]:
        # The directory is resolved once; each name is opened inside it,
        # without following a link (a link is resolved as read_bytes does).
        shown = str(normalize(directory)).rstrip("/")
        try:
            dir_fd: int | None = os.open(
                self._real(directory), os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
            )
        except (OSError, ViewError):
            dir_fd = None
        try:
            for name in names:
                path = f"{shown}/{name}"
                try:
                    if dir_fd is None or "/" in name or "\0" in name or name in ("", ".", ".."):
                        yield name, self.read_bytes(path, limit=limit)
                        continue
                    try:
                        opened = _open_regular(name, path, dir_fd)
                    except _Link:
                        yield name, self.read_bytes(path, limit=limit)
                        continue
                    yield name, _read_all(*opened, path, limit)
                except ViewError as e:
                    yield name, e
        finally:
            if dir_fd is not None:
                os.close(dir_fd)

    def read_text(self, path: str | PurePosixPath, *, limit: int = MAX_CONFIG_BYTES) -> str:
        return self.read_bytes(path, limit=limit).decode("utf-8", errors="replace")

    def read_range(self, path: str | PurePosixPath, offset: int, length: int) -> bytes:
        if offset < 0 or length < 0 or length > MAX_RANGE_BYTES:
            raise ViewError(f"{path}: cannot read {length} bytes at {offset}")
        fd, _ = self._open_regular(path)
        try:
            chunks: list[bytes] = []
            done = 0
            while done < length:
                chunk = os.pread(fd, min(1 << 20, length - done), offset + done)
                if not chunk:
                    break
                chunks.append(chunk)
                done += len(chunk)
            return b"".join(chunks)
        except OSError as e:
            raise ViewError(f"{path}: {e.strerror}") from None
        finally:
            os.close(fd)

    def is_file(self, path: str | PurePosixPath) -> bool:
        st = self._stat(path)
        return st is not None and stat.S_ISREG(st.st_mode)

    def is_dir(self, path: str | PurePosixPath) -> bool:
        st = self._stat(path)
        return st is not None and stat.S_ISDIR(st.st_mode)

    def size(self, path: str | PurePosixPath) -> int | None:
        st = self._stat(path)
        return st.st_size if st is not None and stat.S_ISREG(st.st_mode) else None

    def listdir(self, path: str | PurePosixPath) -> list[str]:
        try:
            real = self._real(path)
            with os.scandir(real) as it:
                names = [entry.name for entry in islice(it, MAX_LIST_ENTRIES)]
            if len(names) >= MAX_LIST_ENTRIES:
                log.warning("%s: more than %d entries; the rest are ignored", path, MAX_LIST_ENTRIES)
            names.sort()
            return names
        except (OSError, ViewError):
            return []

    def regular_files(self, path: str | PurePosixPath) -> set[str]:
        try:
            real = self._real(path)
            with os.scandir(real) as it:
                # the type the directory gives (an lstat only where it gives none)
                return {entry.name for entry in islice(it, MAX_LIST_ENTRIES) if entry.is_file(follow_symlinks=False)}
        except (OSError, ViewError):
            return set()

    def find(self, path: str | PurePosixPath) -> PurePosixPath | None:
        rel = normalize(path)
        if self._stat(rel) is not None:
            return rel
        current = PurePosixPath("/")
        for part in rel.parts[1:]:
            names = self.listdir(current)
            if part in names:
                current = current / part
                continue
            lowered = part.lower()
            match = next((n for n in names if n.lower() == lowered), None)
            if match is None:
                return None
            current = current / match
        return current

    def walk_files(self, path: str | PurePosixPath, *, max_depth: int = 4) -> Iterator[PurePosixPath]:
        """Regular files below ``path`` (depth-capped, sorted)."""
        start = normalize(path)
        stack: list[tuple[PurePosixPath, int]] = [(start, 0)]
        while stack:
            cur, depth = stack.pop()
            for name in self.listdir(cur):
                child = cur / name
                if self.is_file(child):
                    yield child
                elif depth < max_depth and self.is_dir(child):
                    stack.append((child, depth + 1))
