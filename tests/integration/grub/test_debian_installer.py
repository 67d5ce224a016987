"""The grub.cfg files Debian's own installer images ship (debian-installer-12-netboot-*).

The packages are fetched with ``apt-get download`` into tests/.cache/grub
(git-ignored) and their GRUB configs extracted with dpkg.  Each config is
interpreted and checked against an independent reading of the file: every
``linux`` line is one option, in file order, with its arguments, and the
submenu nesting gives the option's group.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path, PurePosixPath

import pytest

from bootd.model import Device, Resource
from bootd.parsers import ParseContext
from bootd.parsers.grub import interpret
from bootd.parsers.view import DirectoryView
from tests.conftest import ROOT, is_root

pytestmark = [
    pytest.mark.root,
    pytest.mark.slow,
    pytest.mark.skipif(not is_root(), reason="installs packages into the test cache with apt (needs root)"),
]

CACHE = ROOT / "tests" / ".cache" / "grub"
ARCHES = ("amd64", "arm64")


def _package(arch: str) -> Path:
    name = f"debian-installer-12-netboot-{arch}"
    CACHE.mkdir(parents=True, exist_ok=True)
    found = sorted(CACHE.glob(f"{name}_*.deb"))
    if not found:
        subprocess.run(["apt-get", "download", name], cwd=CACHE, check=True, capture_output=True, timeout=600)
        found = sorted(CACHE.glob(f"{name}_*.deb"))
    assert found, f"apt-get download {name} gave no package"
    return found[-1]


@pytest.fixture(scope="module")
def installer_trees(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Per architecture: the extracted package (GRUB configs only)."""
    trees: dict[str, Path] = {}
    for arch in ARCHES:
        deb = _package(arch)
        out = tmp_path_factory.mktemp(f"d-i-{arch}")
        tar = subprocess.run(["dpkg", "--fsys-tarfile", str(deb)], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(out), "--wildcards", "*/grub/*grub.cfg"], input=tar, check=True)
        trees[arch] = out
    return trees


def _configs(tree: Path) -> list[Path]:
    return sorted(tree.rglob("grub.cfg"))


def _independent_reading(text: str) -> list[tuple[str, str, str | None]]:
    """(title, linux arguments, group) per linux line, by tracking braces by hand."""
    stack: list[tuple[str, str]] = []  # (kind, title)
    found: list[tuple[str, str, str | None]] = []
    for line in text.splitlines():
        s = line.strip()
        m = re.match(r"(menuentry|submenu)\b.*?'([^']*)'.*\{$", s)
        if m:
            stack.append((m[1], m[2]))
            continue
        if s == "}" and stack:
            stack.pop()
            continue
        m = re.match(r"linux\s+(\S+)\s*(.*)$", s)
        if m and stack:
            groups = [t for k, t in stack if k == "submenu"]
            title = stack[-1][1]
            found.append((title, re.sub(r"\s+", " ", m[2]).strip(), " > ".join(groups) or None))
    return found


@pytest.mark.parametrize("arch", ARCHES)
def test_installer_menus(installer_trees: dict[str, Path], arch: str) -> None:
    configs = _configs(installer_trees[arch])
    main = [c for c in configs if c.parent.name == "grub"]
    assert len(main) == 2  # text and gtk installer images
    for cfg in main:
        root = cfg.parents[3]  # the netboot tree: debian-installer/<arch>/grub/grub.cfg
        view = DirectoryView(root, Device(id=f"tftp-{arch}"))
        out = interpret(view, PurePosixPath("/") / cfg.relative_to(root), ParseContext(arch=arch))
        assert not out.diagnostics, [str(d) for d in out.diagnostics]
        expected = _independent_reading(cfg.read_text())
        assert len(expected) > 20
        assert [(o.name, o.args, o.group) for o in out.options] == expected
        assert [o.default for o in out.options].count(True) == 1 and out.options[0].default
        for opt in out.options:
            assert opt.kernel == Resource.local(f"/debian-installer/{arch}/linux")
            assert opt.initrds and all(str(r.path).startswith(f"/debian-installer/{arch}/") for r in opt.initrds)


@pytest.mark.parametrize("arch", ARCHES)
def test_efi_stub_configs_run_cleanly(installer_trees: dict[str, Path], arch: str) -> None:
    stubs = [c for c in _configs(installer_trees[arch]) if c.parent.name.endswith("-efi")]
    assert stubs
    for cfg in stubs:
        text = cfg.read_text()
        assert "source /boot/grub/grub.cfg" in text
        # Lay the installer out as its ISO does: the stub beside the real config.
        main = (cfg.parent.parent / "grub.cfg").read_text()
        root = cfg.parents[4]
        view_root = root / "iso-layout"
        (view_root / "boot" / "grub").mkdir(parents=True, exist_ok=True)
        (view_root / "boot" / "grub" / "grub.cfg").write_text(main)
        (view_root / "EFI" / "boot").mkdir(parents=True, exist_ok=True)
        (view_root / "EFI" / "boot" / "grub.cfg").write_text(text)
        view = DirectoryView(view_root, Device(id="iso"))
        out = interpret(view, PurePosixPath("/EFI/boot/grub.cfg"), ParseContext(arch=arch))
        assert not out.diagnostics
        assert len(out.options) == len(_independent_reading(main))
