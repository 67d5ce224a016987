"""A multi-ISO USB stick end to end: a real vfat image holding
isos/ubuntu.iso (a real ISO9660 image) and a grub.cfg that loopbacks it is
mounted read-only, parsed in a parse worker, and the loader copies the kernel
and initrd out of the image on the mounted stick."""

from __future__ import annotations

from pathlib import Path

import pytest

from bootd.discovery.scanner import mounted_sources, parse_view
from bootd.loader import resources
from bootd.parsers import ParseContext
from bootd.platform import Platform
from tests.integration.discovery import helpers as h
from tests.isobuild import INITRD, ISO_DIRECT, ISO_SUBMENU, KERNEL, UBUNTU_FILES, build_iso

GRUB_CFG = ISO_DIRECT + ISO_SUBMENU


@pytest.mark.root
async def test_a_multi_iso_stick_is_scanned_and_staged(tmp_path: Path, platform: Platform) -> None:
    iso = build_iso(tmp_path / "ubuntu.iso", UBUNTU_FILES).read_bytes()
    stick = h.make_vfat(
        tmp_path / "stick.img", {"isos/ubuntu.iso": iso, "boot/grub/grub.cfg": GRUB_CFG}, label="MULTIBOOT"
    )
    before = h.sha256(stick)
    async with mounted_sources(platform, [stick]) as views:
        (view,) = views
        result = await parse_view(view, ParseContext(), pool=platform.parsers)
        by_name = {o.name: o for o in result.options}
        assert set(by_name) == {"Ubuntu live (ISO)", "Try Ubuntu without installing", "Ubuntu (safe graphics)"}
        direct = by_name["Ubuntu live (ISO)"]
        assert direct.kernel is not None and direct.kernel.describe() == "/isos/ubuntu.iso[/casper/vmlinuz]"
        staged = await resources.stage(direct, {view.device.id: view.device}, tmp_path / "work")
        assert staged.kernel.read_bytes() == KERNEL
        assert staged.initrd is not None and staged.initrd.read_bytes() == INITRD
        own = by_name["Try Ubuntu without installing"]
        assert own.args == "boot=casper iso-scan/filename=/isos/ubuntu.iso quiet splash ---"
        staged = await resources.stage(own, {view.device.id: view.device}, tmp_path / "work2")
        assert staged.kernel.read_bytes() == KERNEL
    await platform.parsers.close()
    assert h.sha256(stick) == before, "the stick was written to"
