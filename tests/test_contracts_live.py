"""Each import-linter contract is live: on a copy of the tree with one
deliberate violation added, ``lint-imports`` reports exactly that contract
broken (and the untouched copy keeps every contract).  A contract whose
module names went stale, or whose type stopped matching anything, fails here.
About 0.5 s per case."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

# contract id -> (file to edit, import to add at its end)
VIOLATIONS: dict[str, tuple[str, str]] = {
    "layers": ("bootd/model.py", "import bootd.inventory"),
    "os-door": ("bootd/inventory.py", "import subprocess"),
    "dbus-library": ("bootd/loader/boot.py", "import dbus_fast"),
    "urwid": ("bootd/policy.py", "import urwid"),
    "tui-client": ("ui/views/text.py", "import bootd.dbus.names"),
    "pure": ("bootd/settings.py", "import asyncio"),
    "core-speaks-model": ("bootd/loader/kexec.py", "import bootd.dbus.names"),
    "platform-choice": ("bootd/cli/dtb.py", "import bootd.platform.linux_boot"),
    "sockets": ("bootd/discovery/pxe_fetch.py", "import socket"),
    "acyclic": ("ui/controllers/host.py", "import ui.controllers.boot"),
}


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("tree")
    for name in ("bootd", "ui"):
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", dest / "pyproject.toml")
    return dest


def _lint(tree: Path, contract: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "lint-imports"), "--no-cache", "--contract", contract],
        cwd=tree,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
    )


def test_every_contract_has_a_violation() -> None:
    import tomllib

    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    assert sorted(c["id"] for c in contracts) == sorted(VIOLATIONS)


@pytest.mark.parametrize("contract", sorted(VIOLATIONS))
def test_contract_fails_on_a_violation(tree: Path, contract: str) -> None:
    rel, line = VIOLATIONS[contract]
    path = tree / rel
    original = path.read_text(encoding="utf-8")
    clean = _lint(tree, contract)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    path.write_text(original + f"\n{line}  # noqa\n", encoding="utf-8")
    try:
        broken = _lint(tree, contract)
    finally:
        path.write_text(original, encoding="utf-8")
    assert broken.returncode != 0, broken.stdout
    assert "BROKEN" in broken.stdout and "Contracts: 0 kept, 1 broken." in broken.stdout, broken.stdout


def test_urllib_request_only_under_platform() -> None:
    """What the sockets contract cannot name: urllib.request (its opener opens sockets)."""
    import ast

    found = []
    for path in sorted([*ROOT.glob("bootd/**/*.py"), *ROOT.glob("ui/**/*.py")]):
        if path.is_relative_to(ROOT / "bootd/platform"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            if any(n == "urllib.request" or n.startswith("urllib.request.") for n in names):
                found.append(str(path.relative_to(ROOT)))
    assert found == []


@pytest.mark.parametrize(
    ("contract", "exempt"), [("platform-choice", {"platform", "composition"}), ("sockets", {"platform"})]
)
def test_a_contract_that_lists_modules_lists_every_module(contract: str, exempt: set[str]) -> None:
    """A new module of bootd is not outside the contract by being new."""
    import tomllib

    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    listed = set(next(c for c in contracts if c["id"] == contract)["source_modules"])
    tops = {p.stem for p in (ROOT / "bootd").glob("*.py") if p.stem != "__init__"}
    tops |= {p.parent.name for p in (ROOT / "bootd").glob("*/__init__.py")}
    assert {f"bootd.{t}" for t in tops - exempt} - listed == set()
