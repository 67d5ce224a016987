"""``mounted_sources`` on real images: every filesystem kind is mounted
read-only (FUSE where the kernel lacks it), parsed, and cleaned up; the
image bytes never change."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bootd.discovery.scanner import mounted_sources, parse_view
from bootd.parsers import ParseContext
from bootd.platform import Platform
from tests.integration.discovery import helpers as h
from tests.integration.discovery.conftest import IMAGE_KINDS, title_of
from tests.unit.core.test_argparse_languages import env_for, locale_dir  # noqa: F401  # a fixture

ROOT = Path(__file__).resolve().parents[3]


def _loop_names() -> set[str]:
    return {p.name for p in Path("/sys/block").iterdir() if p.name.startswith("loop")}


@pytest.mark.root
@pytest.mark.parametrize("kind", IMAGE_KINDS)
async def test_image_is_found_read_only_and_unchanged(kind: str, images: dict[str, Path], platform: Platform) -> None:
    image = images[kind]
    before = h.sha256(image)
    loops_before = _loop_names()
    async with mounted_sources(platform, [image]) as views:
        titles = []
        for view in views:
            assert view.device.mountpoint is not None
            assert str(view.root) == str(view.device.mountpoint)
            holder = max(
                (e for e in platform.block.mounts() if view.root.is_relative_to(e.target)),
                key=lambda e: len(e.target.parts),
            )
            assert holder.read_only, holder
            result = await parse_view(view, ParseContext(), pool=platform.parsers)
            for opt in result.options:
                titles.append(opt.name)
                assert opt.kernel is not None and opt.kernel.path is not None
                # the kernel resolves inside the view root (for btrfs: inside the @ subvolume)
                assert view.is_file(opt.kernel.path), f"{opt.kernel.path} not found on {view.device.id}"
                assert view.read_bytes(opt.kernel.path) == b"kernel:" + title_of(kind).encode()
        mounted = [v.root for v in views]
        if kind == "btrfs":
            assert [v.root.name for v in views] == ["@"], "the view root is the @ subvolume"
    await platform.parsers.close()
    assert titles == [title_of(kind)]
    if kind == "partitioned":
        assert sorted(v for v in (p.name for p in mounted)) == ["disk.img-p1", "disk.img-p2"]
    for root in mounted:
        assert not root.exists(), f"{root} left behind"
    assert _loop_names() == loops_before, "a loop device was left behind"
    assert h.sha256(image) == before, "the image was written to"


@pytest.mark.root
async def test_dirty_journal_is_not_replayed(images: dict[str, Path], platform: Platform) -> None:
    image = images["dirty-ext4"]
    before = h.sha256(image)
    assert "needs_recovery" in h.sh("dumpe2fs", "-h", image).stdout
    async with mounted_sources(platform, [image]) as views:
        (view,) = views
        opts = next(e.options for e in platform.block.mounts() if e.target == view.root)
        assert "ro" in opts
    assert "needs_recovery" in h.sh("dumpe2fs", "-h", image).stdout
    assert h.sha256(image) == before


@pytest.mark.root
async def test_existing_mount_is_reused_and_left_alone(
    images: dict[str, Path], platform: Platform, loops: h.LoopFactory, tmp_path: Path
) -> None:
    loop = loops.attach(images["ext4"])
    mine = tmp_path / "mine"
    mine.mkdir()
    h.sh("mount", "-o", "ro,noload", loop.node, mine)
    try:
        async with mounted_sources(platform, [Path(loop.node)]) as views:
            (view,) = views
            assert view.root == mine
        assert os.path.ismount(mine), "a mount bootd did not make was unmounted"
    finally:
        h.sh("umount", mine)


@pytest.mark.root
async def test_not_a_filesystem_is_skipped_with_a_message(tmp_path: Path, platform: Platform) -> None:
    junk = tmp_path / "junk.img"
    junk.write_bytes(os.urandom(1 << 20))
    messages: list[str] = []
    async with mounted_sources(platform, [junk], status=lambda sev, msg: messages.append(str(msg))) as views:
        assert views == []
    assert any("no filesystem" in m for m in messages)
    # the message names the file the user gave, not the loop device it was attached on
    assert all(m.startswith(f"{junk}:") for m in messages), messages


@pytest.mark.root
def test_bootd_scan_image_as_a_subprocess(images: dict[str, Path], udev: None) -> None:
    image = images["partitioned"]
    before = h.sha256(image)
    loops_before = _loop_names()
    r = subprocess.run(
        [sys.executable, "-m", "bootd", "scan", "--json", str(image)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert [o["name"] for o in data["options"]] == [title_of("partitioned")]
    assert {d["id"] for d in data["devices"]} >= {"disk.img-p1"}
    assert _loop_names() == loops_before
    assert h.sha256(image) == before


@pytest.mark.root
def test_bootd_scan_block_device_as_a_subprocess(images: dict[str, Path], loops: h.LoopFactory) -> None:
    loop = loops.attach(images["partitioned"])
    node = f"/dev/{loop.name}p1"
    r = subprocess.run(
        [sys.executable, "-m", "bootd", "scan", "--json", node],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert [o["name"] for o in data["options"]] == [title_of("partitioned")]
    assert [d["id"] for d in data["devices"]] == [f"{loop.name}p1"]
    assert not [line for line in Path("/proc/self/mountinfo").read_text().splitlines() if f" {node} " in line]
    assert Path(f"/sys/block/{loop.name}/loop/backing_file").exists(), "a loop device bootd did not make was detached"


@pytest.mark.root
@pytest.mark.parametrize(
    ("lang", "said"),
    [("de_DE.UTF-8", "kein Dateisystem gefunden; übersprungen"), ("zh_CN.UTF-8", "未找到文件系统；已跳过")],
)
def test_bootd_scan_says_why_it_skips_an_image_in_its_language(
    tmp_path: Path,
    udev: None,
    locale_dir: Path,  # noqa: F811
    lang: str,
    said: str,
) -> None:
    junk = tmp_path / "junk.img"
    junk.write_bytes(os.urandom(1 << 20))
    loops_before = _loop_names()
    r = subprocess.run(
        [sys.executable, "-m", "bootd", "scan", str(junk)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env_for(lang, locale_dir),
    )
    assert f"bootd scan: {junk}" in r.stderr and said in r.stderr, r.stderr
    assert "no filesystem found" not in r.stderr, r.stderr
    assert _loop_names() == loops_before
