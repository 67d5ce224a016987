"""Configs written by GRUB's own grub-mkconfig, scanned as bootd scans a disk.

Debian's grub-mkconfig runs against a throwaway /boot (a loop-mounted image
in a private mount namespace) with three fake kernels; bootd must list every
entry GRUB shows, keep the submenu grouping, and pick GRUB's default, also
when ``grub-editenv`` (GRUB's tool) puts a ``next_entry`` into grubenv by id
path or by index path.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bootd.model import Device, Resource
from bootd.parsers import ParseContext, parse_device
from bootd.parsers.view import DirectoryView
from tests.conftest import ROOT, is_root
from tests.integration.grub.mkconfig import MkconfigResult, missing_tools, run_mkconfig

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(not is_root(), reason="grub-mkconfig needs root for the loop device and mount namespace"),
    pytest.mark.skipif(bool(missing_tools()), reason=f"missing tools (make apt installs them): {missing_tools()}"),
]

KERNELS = ["6.1.0-7-amd64", "6.1.0-10-amd64", "6.1.0-9-amd64"]
NEWEST_FIRST = ["6.1.0-10-amd64", "6.1.0-9-amd64", "6.1.0-7-amd64"]
ADVANCED = "Advanced options for Debian GNU/Linux"
SETTINGS = """GRUB_DEFAULT={default}
GRUB_TIMEOUT=4
GRUB_DISTRIBUTOR=Debian
GRUB_CMDLINE_LINUX_DEFAULT="quiet"
GRUB_CMDLINE_LINUX="console=ttyS0"
GRUB_DISABLE_OS_PROBER=true
{extra}
"""


@pytest.fixture(scope="module")
def submenu_config(tmp_path_factory: pytest.TempPathFactory) -> MkconfigResult:
    work = tmp_path_factory.mktemp("mkconfig-submenu")
    return run_mkconfig(work, KERNELS, SETTINGS.format(default="0", extra=""))


@pytest.fixture(scope="module")
def saved_config(tmp_path_factory: pytest.TempPathFactory) -> MkconfigResult:
    work = tmp_path_factory.mktemp("mkconfig-saved")
    extra = "GRUB_DISABLE_SUBMENU=y\nGRUB_DISABLE_RECOVERY=true\nGRUB_SAVEDEFAULT=true"
    return run_mkconfig(work, KERNELS, SETTINGS.format(default="saved", extra=extra))


@pytest.fixture
def grubenv(submenu_config: MkconfigResult) -> Iterator[Path]:
    path = submenu_config.boot / "grub" / "grubenv"
    subprocess.run(["grub-editenv", str(path), "create"], check=True)
    yield path
    path.unlink()


def scan(result: MkconfigResult) -> list[tuple[str, str | None, bool]]:
    view = DirectoryView(result.boot, Device(id="bootfs", uuid=result.uuid, label="bootfs"))
    parsed = parse_device(view, ParseContext())
    assert not parsed.diagnostics, [str(d) for d in parsed.diagnostics]
    return [(o.name, o.group, o.default) for o in parsed.options]


def test_every_entry_grouping_and_default(submenu_config: MkconfigResult) -> None:
    view = DirectoryView(submenu_config.boot, Device(id="bootfs", uuid=submenu_config.uuid))
    parsed = parse_device(view, ParseContext())
    assert parsed.timeout == 4.0
    expected: list[tuple[str, str | None]] = [("Debian GNU/Linux", None)]
    for v in NEWEST_FIRST:
        expected.append((f"Debian GNU/Linux, with Linux {v}", ADVANCED))
        expected.append((f"Debian GNU/Linux, with Linux {v} (recovery mode)", ADVANCED))
    assert [(o.name, o.group) for o in parsed.options] == expected
    assert [o.default for o in parsed.options] == [True] + [False] * 6
    top = parsed.options[0]
    assert top.kernel == Resource.local("/vmlinuz-6.1.0-10-amd64")
    assert top.initrds == (Resource.local("/initrd.img-6.1.0-10-amd64"),)
    assert re.fullmatch(r"root=\S+ ro console=ttyS0 quiet", top.args)
    for opt, v in zip(parsed.options[1::2], NEWEST_FIRST, strict=True):
        assert opt.kernel == Resource.local(f"/vmlinuz-{v}")
        assert opt.args.endswith(" ro console=ttyS0 quiet")
        assert opt.entry_id is not None and opt.entry_id.startswith(f"gnulinux-{v}-advanced-")
    for opt in parsed.options[2::2]:
        assert opt.args.endswith(" ro single console=ttyS0")
    # Every linux line grub-mkconfig wrote is one option.
    assert len(re.findall(r"^\s*linux\s", submenu_config.grub_cfg, re.M)) == len(parsed.options)


def test_next_entry_by_id_path(submenu_config: MkconfigResult, grubenv: Path) -> None:
    sub_id = re.search(r"submenu '[^']*' \$menuentry_id_option '([^']+)'", submenu_config.grub_cfg)
    entry_id = re.search(r"'(gnulinux-6\.1\.0-9-amd64-recovery-[^']+)'", submenu_config.grub_cfg)
    assert sub_id and entry_id
    subprocess.run(["grub-editenv", str(grubenv), "set", f"next_entry={sub_id[1]}>{entry_id[1]}"], check=True)
    before = grubenv.read_bytes()
    defaults = [name for name, _, default in scan(submenu_config) if default]
    assert defaults == ["Debian GNU/Linux, with Linux 6.1.0-9-amd64 (recovery mode)"]
    assert grubenv.read_bytes() == before  # save_env next_entry changed memory only


def test_next_entry_by_index_path(submenu_config: MkconfigResult, grubenv: Path) -> None:
    subprocess.run(["grub-editenv", str(grubenv), "set", "next_entry=1>4"], check=True)
    defaults = [name for name, _, default in scan(submenu_config) if default]
    assert defaults == ["Debian GNU/Linux, with Linux 6.1.0-7-amd64"]


def test_grubenv_without_next_entry_keeps_the_default(submenu_config: MkconfigResult, grubenv: Path) -> None:
    subprocess.run(["grub-editenv", str(grubenv), "set", "saved_entry=1>2"], check=True)
    defaults = [name for name, _, default in scan(submenu_config) if default]
    assert defaults == ["Debian GNU/Linux"]


def test_saved_default_without_submenu(saved_config: MkconfigResult) -> None:
    env = saved_config.boot / "grub" / "grubenv"
    subprocess.run(["grub-editenv", str(env), "create"], check=True)
    entries = scan(saved_config)
    # Without a submenu there is no "simple" entry: one entry per kernel, newest first.
    assert entries == [(f"Debian GNU/Linux, with Linux {v}", None, v == NEWEST_FIRST[0]) for v in NEWEST_FIRST]
    subprocess.run(
        ["grub-editenv", str(env), "set", "saved_entry=Debian GNU/Linux, with Linux 6.1.0-9-amd64"], check=True
    )
    assert [n for n, _, d in scan(saved_config) if d] == ["Debian GNU/Linux, with Linux 6.1.0-9-amd64"]
    # grub-set-default style: by index
    subprocess.run(["grub-editenv", str(env), "set", "saved_entry=2"], check=True)
    assert [n for n, _, d in scan(saved_config) if d] == ["Debian GNU/Linux, with Linux 6.1.0-7-amd64"]


def test_bootd_scan_json(submenu_config: MkconfigResult) -> None:
    source = f"{submenu_config.boot},uuid={submenu_config.uuid},id=bootfs"
    proc = subprocess.run(
        [sys.executable, "-m", "bootd", "scan", "--json", source], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    grub = [o for o in data["options"] if o["source"] == "grub2"]
    assert len(grub) == 7
    assert [o["name"] for o in grub if o["default"]] == ["Debian GNU/Linux"]
    assert grub[0]["kernel"] == {"device": "bootfs", "path": "/vmlinuz-6.1.0-10-amd64"}
    assert grub[1]["group"] == ADVANCED


def test_bootd_scan_json_on_the_image_itself(submenu_config: MkconfigResult) -> None:
    """The filesystem image as a user would scan it: attached and mounted read-only by bootd."""
    before = hashlib.sha256(submenu_config.image.read_bytes()).hexdigest()
    proc = subprocess.run(
        [sys.executable, "-m", "bootd", "scan", "--json", "--firmware", "efi", str(submenu_config.image)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert [d["uuid"] for d in data["devices"]] == [submenu_config.uuid]
    grub = [o for o in data["options"] if o["source"] == "grub2"]
    assert len(grub) == 7
    assert [o["name"] for o in grub if o["default"]] == ["Debian GNU/Linux"]
    assert grub[0]["kernel"]["path"] == "/vmlinuz-6.1.0-10-amd64"
    assert hashlib.sha256(submenu_config.image.read_bytes()).hexdigest() == before
