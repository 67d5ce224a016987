"""Each command imports only what it uses: ``python -X importtime`` of a real
``bootd`` process lists every module it loaded, and the heavy ones (the bus,
udev, the menu, the settings writer, PE and FDT readers, asyncio) stay out
of the commands that do not need them."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bootd.__main__ import COMMANDS
from bootd.platform.machine import load_machine
from tests.unit.parsers.helpers import ROOT

HEAVY = ("dbus_fast", "pyudev", "urwid", "tomlkit", "pefile", "libfdt", "asyncio", "ssl", "socket")


# ``bootd ARGV`` as ``python -m bootd`` runs it, printing every module it holds at exit.
# importtime does not report a module loaded with importlib.import_module (how
# the command's own module is loaded), sys.modules holds each one.
EXACT = (
    "import atexit, runpy, sys\n"
    "atexit.register(lambda: print('MODULES', *sorted(sys.modules), file=sys.stderr))\n"
    "sys.argv[0] = 'bootd'\n"
    "runpy.run_module('bootd', run_name='__main__', alter_sys=True)\n"
)


def importtime(argv: list[str]) -> set[str]:
    """The modules a Python process importing ``argv`` reports with ``-X importtime``."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", *argv], capture_output=True, text=True, cwd=ROOT, timeout=60, check=False
    )
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    names = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
        elif line.startswith("MODULES "):
            names.update(line.split()[1:])
    assert "bootd" in names, proc.stderr[-2000:]
    return names


def imported(*argv: str) -> set[str]:
    """Every module ``bootd ARGV`` imports."""
    return importtime(["-c", EXACT, *argv])


def demo_sources() -> list[str]:
    """The demo machine's disks as ``bootd scan`` sources, with their identities."""
    sources = []
    for d in load_machine(ROOT / "config" / "demo").devices:
        fields = [f"id={d.id}", f"type={d.type}"]
        fields += [f"{k}={v}" for k, v in (("uuid", d.uuid), ("label", d.label), ("node", d.node)) if v]
        sources.append(",".join([str(d.dir), *fields]))
    return sources


def heavy(names: set[str]) -> list[str]:
    return sorted(n for n in names if n.split(".")[0] in HEAVY)


def test_help_imports_no_sub_command_and_nothing_heavy() -> None:
    assert heavy(importtime(["-m", "bootd", "--help"])) == []
    names = imported("--help")
    assert heavy(names) == []
    assert sorted(names & {modname for _, modname, _ in COMMANDS}) == []
    assert "logging" not in names and "bootd.model" not in names


@pytest.mark.parametrize("command", sorted({name for name, _, _ in COMMANDS}))
def test_a_sub_commands_help_imports_only_that_command(command: str) -> None:
    names = imported(command, "--help")
    assert heavy(names) == []
    own = {modname for name, modname, _ in COMMANDS if name == command}
    assert names & {modname for _, modname, _ in COMMANDS} == own


def test_scan_of_the_demo_disks_imports_nothing_heavy() -> None:
    names = imported("scan", "--json", *demo_sources())
    assert "bootd.parsers.grub.interpreter" in names  # the scan really ran its parsers
    assert heavy(names) == []


def test_scan_of_the_demo_disks_imports_no_asyncio() -> None:
    names = imported("scan", "--json", *demo_sources())
    assert "asyncio" not in names and "multiprocessing" not in names


def test_a_command_that_prints_no_help_does_not_ask_the_terminals_width() -> None:
    # argparse's help formatter imports shutil (and bz2, lzma) for the width;
    # adding arguments and parsing them needs no formatter that prints.
    names = imported("scan", "--json", *demo_sources()[:1])
    assert "bootd.parsers.grub.interpreter" in names
    assert sorted(names & {"shutil", "bz2", "lzma"}) == []
