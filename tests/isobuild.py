"""Build real ISO9660 images at test time with xorriso (Debian's xorriso).

``build_iso(out, files)`` writes ``files`` (path → bytes or text) into a tree
and makes an image of it: Rock Ridge and Joliet names as live images have
them (``xorriso -as mkisofs -R -J``), or plain ISO9660 names only
(``rock=False, joliet=False``).

A multi-ISO stick: :data:`ISO_DIRECT` and :data:`ISO_SUBMENU` are grub.cfg
entries that loopback ``/isos/ubuntu.iso`` (directly, and through the image's
own loopback.cfg); ``make_stick(root, grub_cfg)`` writes such a stick as a
directory.  The tests and ``bench/bench_loopback.py`` share them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest

KERNEL = bytes(range(256)) * 64 + b"a kernel inside an ISO image\n"
INITRD = b"070701" + b"\0" * 4090 + b"initrd inside an ISO image\n"
LOOPBACK_CFG = """\
menuentry "Try Ubuntu without installing" {
	set gfxpayload=keep
	linux	/casper/vmlinuz  boot=casper iso-scan/filename=${iso_path} quiet splash ---
	initrd	/casper/initrd
}
menuentry "Ubuntu (safe graphics)" {
	linux	/casper/vmlinuz  boot=casper iso-scan/filename=${iso_path} nomodeset quiet splash ---
	initrd	/casper/initrd
}
"""
UBUNTU_FILES: dict[str, bytes | str] = {
    "casper/vmlinuz": KERNEL,
    "casper/initrd": INITRD,
    "boot/grub/loopback.cfg": LOOPBACK_CFG,
    ".disk/info": "Ubuntu 24.04 LTS test image\n",
}


ISO_DIRECT = """\
menuentry "Ubuntu live (ISO)" {
  set isofile=/isos/ubuntu.iso
  loopback loop $isofile
  linux (loop)/casper/vmlinuz boot=casper iso-scan/filename=$isofile quiet
  initrd (loop)/casper/initrd
}
"""
ISO_SUBMENU = """\
submenu "Ubuntu (its own menu)" {
  loopback loop /isos/ubuntu.iso
  set root=(loop)
  set iso_path=/isos/ubuntu.iso
  export iso_path
  configfile /boot/grub/loopback.cfg
}
"""


def need_xorriso() -> str:
    found = shutil.which("xorriso")
    if found is None:
        pytest.skip("xorriso is not installed (make test installs it)")
    return found


def build_iso(
    out: Path,
    files: Mapping[str, bytes | str],
    *,
    rock: bool = True,
    joliet: bool = True,
    volume: str = "TESTISO",
) -> Path:
    """An ISO9660 image of ``files`` at ``out``."""
    xorriso = need_xorriso()
    tree = out.parent / f".{out.name}.tree"
    for name, data in files.items():
        target = tree / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data.encode() if isinstance(data, str) else data)
    tree.mkdir(parents=True, exist_ok=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    argv = [xorriso, "-as", "mkisofs", "-quiet", "-V", volume, "-o", str(out)]
    argv += ["-R"] if rock else ["--norock"]
    if joliet:
        argv.append("-J")
    argv.append(str(tree))
    subprocess.run(argv, check=True, capture_output=True, env={**os.environ, "LC_ALL": "C"})
    shutil.rmtree(tree)
    return out


def make_stick(root: Path, grub_cfg: str, files: Mapping[str, bytes | str] = UBUNTU_FILES) -> Path:
    """A multi-ISO stick as a directory at ``root``: ``isos/ubuntu.iso`` (an
    image of ``files``) and ``boot/grub/grub.cfg``."""
    build_iso(root / "isos" / "ubuntu.iso", files)
    (root / "boot" / "grub").mkdir(parents=True, exist_ok=True)
    (root / "boot" / "grub" / "grub.cfg").write_text(grub_cfg)
    return root
