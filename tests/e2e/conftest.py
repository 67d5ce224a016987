"""Fixtures of the qemu kexec proof: guests built once per session, cached under tests/.cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import is_root
from tests.e2e.guest import ARM64, CACHE, PPC64EL, Arch, Guest, board_dtb, build


def _guest(arch: Arch) -> Guest:
    if not is_root():
        pytest.skip("the kexec proof downloads packages with a private apt state and runs as root")
    for tool in (arch.qemu[0], "dpkg-deb", "readelf", "apt-get"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (make test installs it)")
    cache = CACHE / arch.debian
    cache.mkdir(parents=True, exist_ok=True)
    return build(arch, cache)


@pytest.fixture(scope="session")
def arm64_guest() -> Guest:
    return _guest(ARM64)


@pytest.fixture(scope="session")
def arm64_board(arm64_guest: Guest) -> Path:
    return board_dtb(arm64_guest.arch, CACHE / "arm64")


@pytest.fixture(scope="session")
def ppc64el_guest() -> Guest:
    return _guest(PPC64EL)
