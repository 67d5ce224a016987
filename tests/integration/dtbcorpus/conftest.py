"""The corpus: every device tree blob in Debian's arm64 kernel package.

The package is fetched with the same private apt state as the qemu proof
(tests/.cache/e2e/arm64, shared under a lock) and its DTBs are unpacked once
into tests/.cache/dtbcorpus/<package>/.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT, is_root
from tests.e2e.debian import Apt, unpack
from tests.e2e.guest import ARM64, CACHE, locked

CORPUS_CACHE = ROOT / "tests" / ".cache" / "dtbcorpus"


def _corpus() -> list[Path]:
    cache = CACHE / ARM64.debian
    cache.mkdir(parents=True, exist_ok=True)
    with locked(cache / ".lock"):
        apt = Apt(ARM64.debian, cache / "apt")
        kpkg = apt.cached(ARM64.kernel_meta)
        if kpkg is None:
            apt.update()
            kpkg = apt.depends(ARM64.kernel_meta, "linux-image-")
            apt.remember(ARM64.kernel_meta, kpkg)
        (deb,) = apt.download([kpkg])
        dest = CORPUS_CACHE / deb.stem
        if not (dest / ".complete").exists():
            if dest.exists():
                shutil.rmtree(dest)
            dest.mkdir(parents=True)
            unpack(deb, dest, ("usr/lib/linux-image-",), suffix=".dtb")
            (dest / ".complete").touch()
    return sorted(dest.rglob("*.dtb"))


@pytest.fixture(scope="session")
def debian_dtbs() -> list[Path]:
    if not is_root():
        pytest.skip("the DTB corpus is downloaded with a private apt state, as root")
    for tool in ("dtc", "dpkg-deb", "apt-get"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (make test installs it)")
    return _corpus()
