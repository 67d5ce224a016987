"""``bootd scan --json`` of a multi-ISO stick: a directory holding
isos/ubuntu.iso (a real image, built with xorriso) and a grub.cfg that
loopbacks it, directly and through the image's own loopback.cfg."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bootd.__main__ import main
from tests.isobuild import ISO_DIRECT, make_stick

GRUB_CFG = (
    "set timeout=5\n"
    + ISO_DIRECT
    + """\
submenu "Ubuntu (its own menu)" {
  set isofile=/isos/ubuntu.iso
  loopback loop $isofile
  set root=(loop)
  set iso_path=$isofile
  export iso_path
  configfile /boot/grub/loopback.cfg
}
menuentry "Broken ISO" {
  loopback loop /isos/broken.iso
  linux (loop)/casper/vmlinuz
}
"""
)


def test_scan_json_names_files_inside_the_image(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stick = make_stick(tmp_path / "stick", GRUB_CFG)
    (stick / "isos" / "broken.iso").write_bytes(b"\0" * 65536)
    rc = main(["scan", "--json", "--arch", "x86_64", "--firmware", "efi", f"{stick},id=usb1,uuid=1234-ABCD"])
    assert rc == 0
    data = json.loads(capsys.readouterr().out)
    options = {o["name"]: o for o in data["options"]}
    image = {"device": "usb1", "path": "/isos/ubuntu.iso"}
    direct = options["Ubuntu live (ISO)"]
    assert direct["kernel"] == {**image, "inside": "/casper/vmlinuz"}
    assert direct["initrds"] == [{**image, "inside": "/casper/initrd"}]
    assert direct["args"] == "boot=casper iso-scan/filename=/isos/ubuntu.iso quiet"
    assert direct["default"] is True
    own = options["Try Ubuntu without installing"]
    assert own["group"] == "Ubuntu (its own menu)"
    assert own["kernel"] == {**image, "inside": "/casper/vmlinuz"}
    assert own["args"] == "boot=casper iso-scan/filename=/isos/ubuntu.iso quiet splash ---"
    broken = options["Broken ISO"]
    assert broken["kernel"] == {"device": "usb1", "path": "/isos/broken.iso", "inside": "/casper/vmlinuz"}


def test_scan_text_says_why_an_image_cannot_be_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stick = tmp_path / "stick"
    (stick / "isos").mkdir(parents=True)
    (stick / "isos" / "broken.iso").write_bytes(b"\0" * 65536)
    (stick / "boot" / "grub").mkdir(parents=True)
    (stick / "boot" / "grub" / "grub.cfg").write_text(GRUB_CFG)
    main(["scan", "--arch", "x86_64", "--firmware", "efi", f"{stick},id=usb1"])
    out = capsys.readouterr()
    text = out.out + out.err
    assert "/isos/broken.iso: not a readable ISO9660 image" in text
    assert "/isos/ubuntu.iso: no such regular file" in text
