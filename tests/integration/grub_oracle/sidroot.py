"""A minimal Debian sid root holding GRUB 2.14's grub-emu, built once and cached.

Debian 12's grub-emu (GRUB 2.06) has no ``blscfg``; sid's (GRUB 2.14) has
upstream GRUB's BLS support (``blsuki.mod``).  It needs a newer C library than
the host's, so it runs inside its own root, made by Debian's ``debootstrap``
(``--variant=minbase --include=grub-emu``) under ``tests/.cache/grub-sid/``.
The directory is named after the recipe, built under a lock (several runs at
once wait for one build) and reused by every later run; a stamp file inside
records the recipe and the package versions it got, written last, so a build
that was interrupted is made again.

Nothing here runs GRUB: :mod:`tests.integration.grub_oracle.grub_emu_sid`
starts it, as nobody, behind the harness's guard.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import ROOT

SUITE = "sid"
MIRROR = "http://deb.debian.org/debian/"
PACKAGES = ("grub-emu",)
RECIPE = ("debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", SUITE, MIRROR)
CACHE = ROOT / "tests" / ".cache" / "grub-sid"
STAMP = ".oracle-root.json"
GRUB_EMU = "/usr/bin/grub-emu-lite"
MODULES = "/usr/lib/grub/x86_64-emu"
BUILD_SECONDS = 1800
# What the oracle never reads: documentation, translations, manual pages.
TRIM = ("usr/share/doc", "usr/share/locale", "usr/share/man", "usr/share/info", "var/cache/apt/archives")


class RootUnavailable(RuntimeError):
    """The sid root cannot be built here (no debootstrap, no mirror)."""


def root_dir() -> Path:
    key = hashlib.sha256(json.dumps(RECIPE).encode()).hexdigest()[:12]
    return CACHE / f"root-{key}"


def stamp(root: Path) -> dict[str, str] | None:
    """The recipe and versions a finished root was built with (None: not built)."""
    try:
        data: dict[str, str] = json.loads((root / STAMP).read_text())
    except (OSError, ValueError):
        return None
    return data if data.get("recipe") == " ".join(RECIPE) else None


def usable(root: Path) -> bool:
    return (
        stamp(root) is not None
        and (root / GRUB_EMU.lstrip("/")).is_file()
        and (root / MODULES.lstrip("/") / "blsuki.mod").is_file()
        and (root / "usr/bin/setpriv").is_file()
    )


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def ensure() -> Path:
    """The cached root, built first if need be (as root, with the network)."""
    root = root_dir()
    if usable(root):
        return root
    with _locked(CACHE / ".lock"):
        if usable(root):
            return root
        if shutil.which("debootstrap") is None:
            raise RootUnavailable("debootstrap is not installed (make apt installs it)")
        building = root.with_name(root.name + ".building")
        shutil.rmtree(building, ignore_errors=True)
        shutil.rmtree(root, ignore_errors=True)
        run = subprocess.run(
            [*RECIPE[:4], str(building), RECIPE[4]], capture_output=True, text=True, timeout=BUILD_SECONDS
        )
        if run.returncode != 0:
            log = (run.stdout + run.stderr)[-3000:]
            shutil.rmtree(building, ignore_errors=True)
            raise RootUnavailable(f"debootstrap of a {SUITE} root with {PACKAGES} failed:\n{log}")
        for rel in TRIM:
            shutil.rmtree(building / rel, ignore_errors=True)
        versions = subprocess.run(
            ["chroot", str(building), "dpkg-query", "-W", "-f=${Package} ${Version}\\n", *PACKAGES, "libc6"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        info = {"recipe": " ".join(RECIPE), "versions": versions.strip()}
        (building / STAMP).write_text(json.dumps(info, indent=1) + "\n")
        building.rename(root)
        if not usable(root):
            raise RootUnavailable(f"the {SUITE} root lacks grub-emu, blsuki.mod or setpriv: {info}")
        return root


def grub_version(root: Path) -> str:
    """``grub-emu 2.14-4`` as the root's stamp records it."""
    info = stamp(root) or {}
    for line in str(info.get("versions", "")).splitlines():
        if line.startswith("grub-emu "):
            return line
    return "grub-emu (unknown version)"
