"""``make deb``: the Debian package's files, dependencies, man pages and completion."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bootd.__main__ import COMMANDS
from tests.e2e.firmware.package import DebianPackage, debian_package

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("dpkg-buildpackage") is None, reason="needs dpkg-dev and debhelper (make apt)"),
]


@pytest.fixture(scope="module")
def package() -> DebianPackage:
    return debian_package()


@pytest.fixture(scope="module")
def unpacked(package: DebianPackage, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("deb")
    subprocess.run(["dpkg-deb", "-x", str(package.deb), str(root)], check=True)
    return root


def _field(package: DebianPackage, name: str) -> str:
    return subprocess.run(["dpkg-deb", "-f", str(package.deb), name], capture_output=True, text=True, check=True).stdout


def test_lintian_reports_nothing(package: DebianPackage) -> None:
    # Overrides in debian/bootd.lintian-overrides, each with its reason.
    tags = [line for line in package.lintian.splitlines() if re.match(r"[EW]: ", line)]
    assert tags == []


def test_the_package_installs_commands_units_bus_files_and_defaults(unpacked: Path) -> None:
    for path in (
        "usr/bin/bootd", "usr/bin/bootd-menu",
        "lib/systemd/system/bootd.service", "lib/systemd/system/bootd-menu@.service",
        "lib/systemd/system-generators/bootd-menu-generator", "lib/udev/rules.d/60-bootd-menu.rules",
        "usr/share/dbus-1/system.d/org.bootd.conf", "usr/share/dbus-1/system-services/org.bootd.service",
        "usr/lib/bootd/bootd.toml", "usr/share/man/man1/bootd.1.gz", "usr/share/man/man1/bootd-menu.1.gz",
        "usr/share/bash-completion/completions/bootd", "usr/share/bash-completion/completions/bootd-menu",
        "usr/lib/python3/dist-packages/bootd_menu/app.py", "usr/lib/python3/dist-packages/bootd/_vendor/urwid",
    ):  # fmt: skip
        assert (unpacked / path).exists(), path
    assert not (unpacked / "usr/lib/python3/dist-packages/ui").exists()
    assert "bootd_menu.__main__" in (unpacked / "usr/bin/bootd-menu").read_text()


def test_dependencies_are_debian_packages_and_the_too_old_ones_are_vendored(package: DebianPackage) -> None:
    depends = {d.split()[0] for d in _field(package, "Depends").split(", ")}
    assert {"python3-pyudev", "python3-libfdt", "python3-pefile", "dbus", "kexec-tools", "udev"} <= depends
    assert not depends & {"python3-urwid", "python3-dbus-fast", "python3-wcwidth", "python3-typing-extensions"}
    for dep in depends - {"python3:any"}:
        policy = subprocess.run(["apt-cache", "policy", dep], capture_output=True, text=True).stdout
        assert "Candidate:" in policy and "Candidate: (none)" not in policy, f"{dep} is not a Debian package here"


def test_the_signed_and_measured_boot_tools_are_recommended(package: DebianPackage) -> None:
    # both features are off by default (Recommends, not Depends); the firmware image carries them
    recommends = {d.split()[0] for d in _field(package, "Recommends").split(", ")}
    assert {"gpgv", "tpm2-tools"} <= recommends


def test_the_vendored_libraries_are_the_ones_in_use(unpacked: Path, tmp_path: Path) -> None:
    site = unpacked / "usr/lib/python3/dist-packages"
    code = (
        "import bootd_menu.run, bootd.dbus.client, urwid, dbus_fast, sys\n"
        "assert urwid.__file__.startswith(sys.argv[1]) and dbus_fast.__file__.startswith(sys.argv[1])\n"
        "print(urwid.__version__)\n"
    )
    r = subprocess.run(
        ["/usr/bin/python3", "-c", code, str(site / "bootd/_vendor")],
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"}, cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert r.returncode == 0 and r.stdout.startswith("5."), r.stderr


def test_the_man_pages_are_the_argparse_definitions(unpacked: Path) -> None:
    def render(name: str) -> str:
        page = unpacked / f"usr/share/man/man1/{name}.1.gz"
        r = subprocess.run(["man", "-l", str(page)], capture_output=True, text=True, env={"MANWIDTH": "200"})
        return r.stdout

    bootd = render("bootd")
    assert re.search(r"bootd - boot menu daemon", bootd)
    for name, _, help_text in COMMANDS:
        assert f"bootd {name}" in bootd and help_text in bootd, name
    menu = render("bootd-menu")
    for option in ("--tty", "--bus", "--ascii", "--mono", "--shell", "--log"):
        assert option in menu


def test_bash_completes_sub_commands_and_options(unpacked: Path) -> None:
    comp = unpacked / "usr/share/bash-completion/completions"
    script = (
        f"source {comp / 'bootd'}; COMP_WORDS=(bootd se); COMP_CWORD=1; _shtab_bootd; echo ${{COMPREPLY[@]}};"
        f"source {comp / 'bootd-menu'}; COMP_WORDS=(bootd-menu --t); COMP_CWORD=1; _shtab_bootd_menu;"
        "echo ${COMPREPLY[@]}"
    )
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True).stdout.splitlines()
    assert out[0].split() == ["serve", "settings"]
    assert "--tty" in out[1].split()
