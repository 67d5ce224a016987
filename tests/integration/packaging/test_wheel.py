"""The wheel as pip builds and installs it: quiet, a bootd_menu package (no
top-level ``ui``), and ``bootd demo`` working from the installed files alone."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.firmware.package import Wheel, build_wheel
from tests.integration.ui.tmux import Tmux

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Wheel:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def installed(wheel: Wheel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index"]
    subprocess.run([*pip, "--target", str(target), str(wheel.path)], check=True, capture_output=True)
    return target


def test_building_the_wheel_prints_no_setuptools_warnings(wheel: Wheel) -> None:
    noisy = [
        line
        for line in wheel.output.splitlines()
        if re.search(r"Warning|deprecat|!!", line, re.I) and not line.startswith("WARNING: Location ")
    ]
    assert noisy == [], "\n".join(noisy)


def test_the_wheel_has_no_top_level_ui_package(wheel: Wheel) -> None:
    names = zipfile.ZipFile(wheel.path).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"bootd", "bootd_menu"}
    assert "bootd/demo_machine/machine.toml" in names
    assert "bootd/dbus/org.bootd.xml" in names
    dist = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "bootd-menu = bootd_menu.__main__:entry" in zipfile.ZipFile(wheel.path).read(dist).decode()


def _outside_env(installed: Path) -> dict[str, str]:
    # Only the installed files, then the venv's libraries (not the checkout's editable bootd).
    return {"PYTHONPATH": f"{installed}:{sysconfig.get_paths()['purelib']}", "PATH": "/usr/bin:/bin"}


def test_every_installed_module_imports_without_the_checkout(installed: Path, tmp_path: Path) -> None:
    code = (
        "import importlib, pkgutil, sys, bootd, bootd_menu\n"
        "assert bootd.__file__.startswith(sys.argv[1]), bootd.__file__\n"
        "for pkg in (bootd, bootd_menu):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(m.name)\n"
        "assert 'ui' not in sys.modules\n"
        "print('imported')\n"
    )
    r = subprocess.run(
        [sys.executable, "-S", "-c", code, str(installed)],
        cwd=tmp_path, env=_outside_env(installed), capture_output=True, text=True,
    )  # fmt: skip
    assert r.returncode == 0 and "imported" in r.stdout, r.stderr


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    if not (shutil.which("tmux") and shutil.which("dbus-daemon")):
        pytest.skip("needs tmux and dbus-daemon")
    d = Path(tempfile.mkdtemp(prefix="bw-"))
    t = Tmux(d / "tmux.sock")
    try:
        yield t
    finally:
        t.kill()
        shutil.rmtree(d, ignore_errors=True)


def test_bootd_demo_runs_from_the_installed_wheel(installed: Path, tmux: Tmux, tmp_path: Path) -> None:
    env = _outside_env(installed)
    inner = f"cd {tmp_path} && exec {sys.executable} -m bootd demo --ascii"
    pane = tmux.start(["sh", "-c", inner], env={**env, "TMPDIR": str(tmp_path)})
    tmux.wait(pane, "Enter=boot", timeout=60)
    tmux.keys(pane, "Home", "Enter")
    tmux.wait(pane, "MENU-EXIT=", timeout=60)
    text = tmux.history(pane)
    assert "MENU-EXIT=0" in text, text
    assert "kexec load:    kexec -l" in text, text
