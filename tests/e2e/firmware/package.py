"""bootd's wheel and Debian package, built once per test run from this tree.

Both are built from a copy of the tracked (and new, not ignored) files, the way
a release would be: ``make deb`` for the package (dpkg-buildpackage, lintian),
``pip wheel`` for the wheel.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DEB_DIR = ROOT / "build" / "deb"


class BuildError(RuntimeError):
    pass


@contextmanager
def _locked(name: str) -> Iterator[None]:
    lock = ROOT / "build" / f".{name}.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@dataclass(frozen=True)
class DebianPackage:
    deb: Path
    lintian: str
    """lintian's report (empty when clean)."""
    log: str


def _tree_copy(dest: Path) -> None:
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout  # fmt: skip
    pack = subprocess.Popen(
        ["tar", "--null", "-T", "-", "-cf", "-"], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    unpack = subprocess.Popen(["tar", "-C", str(dest), "-xf", "-"], stdin=pack.stdout)
    assert pack.stdin is not None and pack.stdout is not None
    pack.stdout.close()
    pack.stdin.write(files)
    pack.stdin.close()
    if pack.wait() != 0 or unpack.wait() != 0:
        raise BuildError("could not copy the source tree")


def _tree_key() -> str:
    """A hash of the files a package is built from (tracked and new ones, as ``make deb`` copies them)."""
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.split(b"\0")  # fmt: skip
    h = hashlib.sha256()
    for name in sorted(f for f in files if f):
        path = ROOT / os.fsdecode(name)
        h.update(name + b"\0")
        if path.is_symlink():
            h.update(os.readlink(path).encode())
        elif path.is_file():
            h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()[:16]


@functools.cache
def debian_package() -> DebianPackage:
    """``make deb``'s result for this tree: built once, kept by the tree's hash in build/debs
    (``make deb`` itself rebuilds build/deb from scratch), serialised between processes."""
    with _locked("deb"):
        keep = ROOT / "build" / "debs" / _tree_key()
        if not (keep / "lintian.txt").exists():
            r = subprocess.run(["make", "-s", "deb"], cwd=ROOT, capture_output=True, text=True, timeout=900)
            if r.returncode != 0:
                raise BuildError(f"make deb failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
            debs = sorted(DEB_DIR.glob("bootd_*_all.deb"))
            if len(debs) != 1:
                raise BuildError(f"make deb left {debs}")
            shutil.rmtree(keep.parent, ignore_errors=True)
            keep.mkdir(parents=True)
            for f in (debs[0], DEB_DIR / "build.log", DEB_DIR / "lintian.txt"):
                shutil.copyfile(f, keep / f.name)
        (deb,) = keep.glob("bootd_*_all.deb")
        return DebianPackage(deb, (keep / "lintian.txt").read_text(), (keep / "build.log").read_text())


@dataclass(frozen=True)
class Wheel:
    path: Path
    output: str
    """What pip printed while building it."""


def build_wheel(out: Path) -> Wheel:
    """``pip wheel`` of a copy of the tree (build isolation: the newest setuptools)."""
    src = out / "src"
    src.mkdir(parents=True)
    _tree_copy(src)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    r = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(out / "dist"), str(src)],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    if r.returncode != 0:
        raise BuildError(f"pip wheel failed:\n{r.stdout}\n{r.stderr}")
    (wheel,) = (out / "dist").glob("bootd-*.whl")
    return Wheel(wheel, r.stdout + r.stderr)
