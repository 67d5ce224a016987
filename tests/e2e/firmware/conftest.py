"""The firmware image under qemu: bootd's .deb and the image built once per run
(cached under build/ and tests/.cache), and one machine per settings file."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from image.build import CACHE, Built, build
from tests.conftest import is_root
from tests.e2e.debian import Apt
from tests.e2e.firmware.console import Console
from tests.e2e.firmware.machine import machine
from tests.e2e.firmware.package import debian_package
from tests.e2e.guest import ARM64, PPC64EL, Arch

WORK = Path(__file__).resolve().parents[3] / "build" / "image"


def _image(arch: Arch) -> Built:
    if not is_root():
        pytest.skip("the image is built with a private apt state, as root")
    for tool in (arch.qemu[0], "dpkg-buildpackage", "zstd", "depmod", "mkfs.ext4", "sfdisk", "systemctl"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (make test installs it)")
    return build(arch, debian_package().deb)


@pytest.fixture(scope="session")
def arm64_image() -> Built:
    return _image(ARM64)


@pytest.fixture(scope="session")
def ppc64el_image() -> Built:
    return _image(PPC64EL)


Boot = Callable[..., Console]


def _booter(built: Built, tmp: Path) -> Iterator[Boot]:
    apt = Apt(built.arch.debian, (CACHE / built.arch.debian / "apt").resolve())
    out = WORK / built.arch.debian / "machines"
    out.mkdir(parents=True, exist_ok=True)
    consoles: list[Console] = []

    def boot(
        name: str,
        settings: str | None = None,
        append: str = "",
        files: dict[str, str] | None = None,
        links: dict[str, str] | None = None,
    ) -> Console:
        m = machine(built, apt, out, settings, name, files=files, links=links)
        logs = WORK / built.arch.debian / "logs"
        logs.mkdir(exist_ok=True)
        c = Console(m.qemu_argv(append), logs / f"{name}.log")
        consoles.append(c)
        return c

    try:
        yield boot
    finally:
        for c in consoles:
            c.close()


@pytest.fixture
def boot_arm64(arm64_image: Built, tmp_path: Path) -> Iterator[Boot]:
    yield from _booter(arm64_image, tmp_path)


@pytest.fixture
def boot_ppc64el(ppc64el_image: Built, tmp_path: Path) -> Iterator[Boot]:
    yield from _booter(ppc64el_image, tmp_path)
