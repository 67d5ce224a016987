"""What the wheel is made of: every source package listed, ui/ under a bootd name."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _pyproject() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_source_package_is_in_the_wheel_and_ui_installs_as_bootd_menu() -> None:
    tool = _pyproject()["tool"]
    assert isinstance(tool, dict)
    st = tool["setuptools"]
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "bootd").rglob("__init__.py")}
    on_disk |= {
        ".".join(("bootd_menu", *p.parent.relative_to(ROOT / "ui").parts)) for p in (ROOT / "ui").rglob("__init__.py")
    }
    on_disk = {p for p in on_disk if "_vendor" not in p}
    assert set(st["packages"]) == on_disk
    assert st["package-dir"] == {"bootd_menu": "ui"}
    assert not any(p == "ui" or p.startswith("ui.") for p in st["packages"]), "no top-level 'ui' package"


def test_the_menu_never_imports_itself_by_its_folder_name() -> None:
    # Installed, ui/ is bootd_menu: an absolute "ui" import works only in a checkout.
    offenders = []
    for path in sorted((ROOT / "ui").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            if any(n.split(".")[0] == "ui" for n in names):
                assert isinstance(node, ast.Import | ast.ImportFrom)
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_no_license_table_in_the_project_metadata() -> None:
    # setuptools >= 77 warns about the table (dozens of lines on every pip install);
    # Debian 12's setuptools 66 refuses the SPDX string.  LICENSE is the licence file.
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    assert "license" not in project
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")


DEBIAN_NAMES = {"pylibfdt": "python3-libfdt"}
"""PyPI names whose Debian package is not python3-<name>."""


def test_every_runtime_dependency_is_a_debian_dependency_or_vendored() -> None:
    import re

    project = _pyproject()["project"]
    assert isinstance(project, dict)
    control = (ROOT / "debian/control").read_text()
    depends = set(re.findall(r"^\s+(python3-[\w.-]+)", control.split("Package: bootd", 1)[1], re.M))
    vendored = {
        line.split("==")[0].strip().lower()
        for line in (ROOT / "debian/vendor.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    missing = []
    for req in project["dependencies"]:
        name = re.match(r"[A-Za-z0-9_.-]+", req)
        assert name is not None
        pypi = name.group(0).lower()
        debian = DEBIAN_NAMES.get(pypi, f"python3-{pypi.replace('_', '-')}")
        if pypi not in vendored and debian not in depends:
            missing.append(req)
    assert missing == [], "add to debian/control's Depends or to debian/vendor.txt"
