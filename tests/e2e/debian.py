"""Debian packages of a foreign architecture, fetched with a private apt state.

The host's dpkg database and apt lists are never touched: apt runs with its
own ``Dir::State`` and ``Dir::Cache`` under a cache directory, for one
architecture only, from the sources the host already uses.  Downloaded
``.deb`` files are kept there, so a warm cache needs no network at all.
"""

from __future__ import annotations

import logging
import os
import subprocess
import tarfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

log = logging.getLogger(__name__)

LISTS_MAX_AGE = 12 * 3600
"""Package lists younger than this are used as they are."""


class AptError(RuntimeError):
    pass


class Apt:
    """``apt-get`` / ``apt-cache`` for one foreign architecture, state under ``root``."""

    def __init__(self, arch: str, root: Path) -> None:
        self.arch = arch
        self.root = root
        self.lists = root / "lists"
        self.cache = root / "cache"
        self.debs = root / "debs"
        for d in (self.lists / "partial", self.cache / "archives" / "partial", self.debs):
            d.mkdir(parents=True, exist_ok=True)
        (root / "status").touch()

    def _options(self) -> list[str]:
        return [
            "-o", f"APT::Architecture={self.arch}",
            "-o", f"APT::Architectures={self.arch}",
            "-o", f"Dir::State::Lists={self.lists}",
            "-o", f"Dir::State::status={self.root / 'status'}",
            "-o", f"Dir::Cache={self.cache}",
            "-o", "Acquire::Retries=3",
            "-o", "APT::Sandbox::User=root",
        ]  # fmt: skip

    def _run(self, tool: str, args: Sequence[str], *, cwd: Path | None = None) -> str:
        argv = [tool, *self._options(), *args]
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive", LC_ALL="C")
        proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            raise AptError(f"{' '.join(argv[:1] + list(args))} failed ({proc.returncode}): {proc.stderr.strip()}")
        return proc.stdout

    def _lists_fresh(self) -> bool:
        stamps = list(self.lists.glob("*_Packages*"))
        return bool(stamps) and time.time() - min(p.stat().st_mtime for p in stamps) < LISTS_MAX_AGE

    def update(self, *, force: bool = False) -> None:
        """Fetch the package lists (retried: a mirror can be mid-sync for a while)."""
        if not force and self._lists_fresh():
            return
        last: AptError | None = None
        for attempt in range(3):
            try:
                self._run("apt-get", ["-q", "update"])
                return
            except AptError as e:
                last = e
                log.warning("apt-get update for %s failed (try %d): %s", self.arch, attempt + 1, e)
                time.sleep(5)
        if not list(self.lists.glob("*_Packages*")):
            raise AptError(f"no package lists for {self.arch}: {last}")
        # some indexes arrived: go on with those (the kernel may be the point-release one)

    def depends(self, package: str, prefix: str) -> str:
        """The first dependency of ``package`` whose name starts with ``prefix``."""
        out = self._run("apt-cache", ["depends", package])
        for line in out.splitlines():
            kind, _, name = line.strip().partition(": ")
            if kind.endswith("Depends") and name.startswith(prefix):
                return name.strip("<>")
        raise AptError(f"{package} ({self.arch}) has no dependency named {prefix}*")

    def closure(self, packages: Iterable[str], *, skip: Iterable[str] = ()) -> list[str]:
        """``packages`` and everything they depend on (Depends, Pre-Depends; every alternative).

        ``skip`` names packages left out together with what only they would bring.
        """
        skipped = set(skip)
        wanted = [p for p in dict.fromkeys(packages) if p not in skipped]
        out = self._run("apt-cache", [
            "depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts", "--no-breaks",
            "--no-replaces", "--no-enhances", *wanted,
        ])  # fmt: skip
        found: list[str] = []
        current: str | None = None
        for line in out.splitlines():
            if not line.startswith(" "):
                current = None if line.startswith("<") else line.strip()
                if current is not None and current not in skipped:
                    found.append(current)
        # apt-cache recurses through skipped packages too: keep only what the wanted ones reach
        reach = self._reach(wanted, skipped)
        return [p for p in dict.fromkeys(found) if p in reach]

    def _reach(self, roots: list[str], skipped: set[str]) -> set[str]:
        seen: set[str] = set()
        todo = list(roots)
        while todo:
            batch = [p for p in dict.fromkeys(todo) if p not in seen and p not in skipped]
            todo = []
            if not batch:
                break
            seen.update(batch)
            out = self._run("apt-cache", ["depends", "--no-recommends", "--no-suggests", "--no-conflicts",
                                          "--no-breaks", "--no-replaces", "--no-enhances", *batch])  # fmt: skip
            for line in out.splitlines():
                kind, _, name = line.strip().partition(": ")
                if kind.lstrip("|") in ("Depends", "PreDepends") and not name.startswith("<"):
                    todo.append(name)
        return seen

    def cached(self, meta: str) -> str | None:
        """The kernel package a previous run resolved ``meta`` to, when its .deb is still here."""
        note = self.root / f"{meta}.resolved"
        if note.exists():
            name = note.read_text().strip()
            if any(self.debs.glob(f"{name}_*.deb")):
                return name
        return None

    def remember(self, meta: str, name: str) -> None:
        (self.root / f"{meta}.resolved").write_text(name + "\n")

    def download(self, packages: Iterable[str]) -> list[Path]:
        """``.deb`` files for ``packages`` (downloading only the missing ones)."""
        wanted = list(dict.fromkeys(packages))
        have = {p.name.split("_", 1)[0]: p for p in self.debs.glob("*.deb")}
        missing = [p for p in wanted if p not in have]
        if missing:
            self.update()
            tmp = self.debs / "partial"
            tmp.mkdir(exist_ok=True)
            os.chmod(tmp, 0o777)  # apt drops privileges to _apt for downloads
            try:
                self._run("apt-get", ["-q", "download", *missing], cwd=tmp)
            except AptError:
                self.update(force=True)
                self._run("apt-get", ["-q", "download", *missing], cwd=tmp)
            for deb in tmp.glob("*.deb"):
                deb.rename(self.debs / deb.name)
            have = {p.name.split("_", 1)[0]: p for p in self.debs.glob("*.deb")}
        absent = [p for p in wanted if p not in have]
        if absent:
            raise AptError(f"not downloaded: {' '.join(absent)}")
        return [have[p] for p in wanted]


def unpack(deb: Path, dest: Path, members: Sequence[str] = (), *, suffix: str = "") -> None:
    """Extract a ``.deb``'s files into ``dest`` (only ``members`` prefixes and names ending in ``suffix``)."""
    proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    with proc.stdout, tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
        for member in tar:
            name = member.name.removeprefix("./")
            if members and not any(name.startswith(m) for m in members):
                continue
            if suffix and not (member.isdir() or name.endswith(suffix)):
                continue
            if member.isdev():
                continue
            tar.extract(member, dest, filter="tar")
    if proc.wait() != 0:
        raise AptError(f"dpkg-deb could not read {deb}")
