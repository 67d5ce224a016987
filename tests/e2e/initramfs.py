"""Building an initramfs on the host: a file tree, ELF library closures, newc cpio.

Works for a foreign architecture: shared-library dependencies are read with
``readelf`` from an unpacked package tree, never by running the binaries.
"""

from __future__ import annotations

import gzip
import os
import re
import stat
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

_LIB_DIRS = ("lib", "usr/lib", "lib64", "usr/lib64")
_NEEDED = re.compile(r"\(NEEDED\)\s+Shared library: \[(.+?)\]")
_INTERP = re.compile(r"\[Requesting program interpreter: (.+?)\]")


class MissingLibrary(RuntimeError):
    pass


@dataclass
class Image:
    """The files of an initramfs: archive path → source file, bytes or symlink target."""

    files: dict[str, Path | bytes] = field(default_factory=dict)
    modes: dict[str, int] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)
    dirs: set[str] = field(default_factory=set)

    def _parents(self, path: str) -> None:
        parent = PurePosixPath(path).parent
        while str(parent) not in (".", "/", ""):
            self.dirs.add(str(parent))
            parent = parent.parent

    def add(self, path: str, source: Path | bytes, mode: int | None = None) -> None:
        path = path.lstrip("/")
        self._parents(path)
        self.files[path] = source
        if mode is not None:
            self.modes[path] = mode

    def add_dir(self, path: str) -> None:
        path = path.lstrip("/")
        self._parents(path + "/x")

    def symlink(self, path: str, target: str) -> None:
        path = path.lstrip("/")
        self._parents(path)
        self.links[path] = target

    def add_tree(
        self, source: Path, dest: str, *, skip: Iterable[str] = (), suffixes_skip: tuple[str, ...] = ()
    ) -> None:
        """Copy a directory tree (symlinks kept), skipping names in ``skip`` and files ending in ``suffixes_skip``."""
        skipped = set(skip)
        for root, dirs, files in os.walk(source):
            dirs[:] = sorted(d for d in dirs if d not in skipped)
            rel = Path(root).relative_to(source)
            base = str(PurePosixPath(dest.lstrip("/")) / rel.as_posix()) if str(rel) != "." else dest.lstrip("/")
            self.add_dir(base)
            for name in sorted(files):
                if name in skipped or (suffixes_skip and name.endswith(suffixes_skip)):
                    continue
                src = Path(root) / name
                if src.is_symlink():
                    self.symlink(f"{base}/{name}", os.readlink(src))
                else:
                    self.add(f"{base}/{name}", src)
            for d in dirs:
                if (Path(root) / d).is_symlink():
                    self.symlink(f"{base}/{d}", os.readlink(Path(root) / d))

    def write(self, dest: Path, *, compress: bool = True) -> None:
        """Write a gzip'd (or plain) newc cpio archive."""
        opener = (lambda p: gzip.open(p, "wb", compresslevel=1)) if compress else (lambda p: open(p, "wb"))
        with opener(dest) as out:
            ino = 1
            for d in sorted(self.dirs):
                out.write(_entry(ino, d, stat.S_IFDIR | 0o755, b""))
                ino += 1
            for path, target in sorted(self.links.items()):
                out.write(_entry(ino, path, stat.S_IFLNK | 0o777, target.encode()))
                ino += 1
            for path, source in sorted(self.files.items()):
                if isinstance(source, bytes):
                    data, mode = source, self.modes.get(path, 0o644)
                else:
                    data = source.read_bytes()
                    mode = self.modes.get(path, stat.S_IMODE(source.stat().st_mode))
                out.write(_entry(ino, path, stat.S_IFREG | mode, data))
                ino += 1
            out.write(_entry(0, "TRAILER!!!", 0, b""))


def _entry(ino: int, name: str, mode: int, data: bytes) -> bytes:
    encoded = name.encode() + b"\0"
    fields = (ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(encoded), 0)
    header = b"070701" + b"".join(b"%08X" % f for f in fields)
    pad_name = -(len(header) + len(encoded)) % 4
    return header + encoded + b"\0" * pad_name + data + b"\0" * (-len(data) % 4)


class Closure:
    """Shared-library closure of ELF files inside an unpacked package tree."""

    def __init__(self, stage: Path) -> None:
        self.stage = stage
        self.index: dict[str, Path] = {}
        for d in _LIB_DIRS:
            top = stage / d
            if not top.is_dir():
                continue
            for root, _, files in os.walk(top):
                for name in files + [n for n in os.listdir(root) if (Path(root) / n).is_symlink()]:
                    if ".so" in name:
                        self.index.setdefault(name, Path(root) / name)

    def resolve(self, path: Path) -> Path:
        """Follow symlinks inside the stage tree (absolute targets are stage-relative)."""
        for _ in range(40):
            if not path.is_symlink():
                return path
            target = os.readlink(path)
            path = self.stage / target.lstrip("/") if target.startswith("/") else path.parent / target
        raise MissingLibrary(f"symlink loop at {path}")

    def needed(self, binaries: Iterable[str]) -> list[str]:
        """Stage-relative paths of ``binaries`` plus every library and interpreter they need."""
        seen: set[Path] = set()
        todo = [self.stage / b for b in binaries]
        while todo:
            p = todo.pop()
            if p in seen:
                continue
            seen.add(p)
            real = self.resolve(p)
            if not real.exists():
                raise MissingLibrary(f"{p.relative_to(self.stage)} is not in the unpacked packages")
            out = subprocess.run(["readelf", "-d", "-l", str(real)], capture_output=True, text=True, check=True).stdout
            for interp in _INTERP.findall(out):
                todo.append(self.stage / interp.lstrip("/"))
            for so in _NEEDED.findall(out):
                if so not in self.index:
                    raise MissingLibrary(f"{so} (needed by {p.relative_to(self.stage)}) is in no unpacked package")
                todo.append(self.index[so])
        return sorted(str(p.relative_to(self.stage)) for p in seen)

    def add_to(self, image: Image, binaries: Iterable[str]) -> None:
        for rel in self.needed(binaries):
            image.add(rel, self.resolve(self.stage / rel))
