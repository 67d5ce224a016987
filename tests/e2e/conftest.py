"""Fixtures of the qemu kexec proof: one guest per architecture, built once per
session (downloads cached under tests/.cache), and each architecture's cases
booted side by side (one TCG guest per core)."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import is_root
from tests.e2e import qemu
from tests.e2e.guest import ARM64, CACHE, ENTRY_DTB_ID, PPC64EL, UKI_ID, Arch, Guest, board_dtb, build, qemu_argv

TIMEOUT = 240
SECOND_VTY = 0x71000010
"""A second PAPR vty for the ppc64el console-switch case (0x71000001 is the NVRAM)."""


@dataclass(frozen=True)
class Case:
    console: str
    """What bootd is told (``--console``)."""
    dtb: Path | None = None
    extra: tuple[str, ...] = ()
    stop_at: str | None = "PROOF-DONE"
    entry: str | None = None
    """The BLS entry stage 1 boots, by file stem (default: the one titled ``ENTRY_TITLE``)."""
    name: str | None = None
    """The case's key in the results (default: ``console``)."""
    screen: bool = False
    """ppc64el: the guest has a display that firmware set up (``guest.PSERIES_SCREEN``)."""

    @property
    def key(self) -> str:
        return self.name or self.console


@dataclass(frozen=True)
class Booted:
    run: qemu.Run
    log: Path

    def context(self) -> str:
        return f"serial log {self.log}:\n{self.run.tail()}"


def _guest(arch: Arch, out: Path) -> Guest:
    if not is_root():
        pytest.skip("the kexec proof downloads packages with a private apt state and runs as root")
    for tool in (arch.qemu[0], "dpkg-deb", "readelf", "apt-get"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (make test installs it)")
    cache = CACHE / arch.debian
    cache.mkdir(parents=True, exist_ok=True)
    return build(arch, cache, out)


def boot_all(guest: Guest, cases: Sequence[Case]) -> dict[str, Booted]:
    """Boot every case at once; results by console name."""

    def one(case: Case) -> Booted:
        log = guest.stage1.parent / f"serial-{case.key}.log"
        argv = qemu_argv(
            guest, console=case.console, dtb=case.dtb, extra=case.extra, entry=case.entry, screen=case.screen
        )
        return Booted(qemu.run(argv, log=log, timeout=TIMEOUT, stop_at=case.stop_at), log)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip((c.key for c in cases), pool.map(one, cases), strict=True))


@pytest.fixture(scope="session")
def arm64_guest(tmp_path_factory: pytest.TempPathFactory) -> Guest:
    return _guest(ARM64, tmp_path_factory.mktemp("e2e-arm64"))


@pytest.fixture(scope="session")
def arm64_runs(arm64_guest: Guest) -> dict[str, Booted]:
    board = board_dtb(ARM64, arm64_guest.stage1.parent)
    entry_tree = Case("tty0", board, entry=ENTRY_DTB_ID, name="tty0-entry-dtb")
    uki = Case("ttyAMA0", board, entry=UKI_ID, name="ttyAMA0-uki")
    return boot_all(arm64_guest, [Case("ttyAMA0", board), Case("tty0", board), entry_tree, uki])


@pytest.fixture(scope="session")
def ppc64el_guest(tmp_path_factory: pytest.TempPathFactory) -> Guest:
    return _guest(PPC64EL, tmp_path_factory.mktemp("e2e-ppc64el"))


def second_vty_log(guest: Guest) -> Path:
    return guest.stage1.parent / "serial-hvc1-vty1.log"


@pytest.fixture(scope="session")
def ppc64el_runs(ppc64el_guest: Guest) -> dict[str, Booted]:
    second = second_vty_log(ppc64el_guest)
    vty = ("-chardev", f"file,id=vty1,path={second}", "-device", f"spapr-vty,chardev=vty1,reg=0x{SECOND_VTY:x}")
    screen = Case("tty0", screen=True, name="tty0-fb")
    return boot_all(ppc64el_guest, [Case("hvc0"), Case("hvc1", extra=vty, stop_at=None), screen])
