"""Oracle cases with os-prober entries: Debian's own /etc/grub.d/30_os-prober.

``python -m tests.integration.grub_oracle.osprober`` (as root) writes
tests/data/grub-oracle/osprober/.  As in :mod:`generate`, a /boot image is
mounted over /boot in a private mount namespace; a second ext4 image (the
"other" disk) is attached to its own loop device.  ``os-prober`` and
``linux-boot-prober`` are small stand-ins put first on PATH that print, for
that loop device, the lines the real programs print for the system
described in the variation (another Linux, Windows' EFI boot manager, an
older macOS).  Debian's 30_os-prober turns those lines into menu entries,
running grub-probe on the real loop device for the ``search`` lines.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.conftest import DATA
from tests.integration.grub.mkconfig import loop_device
from tests.integration.grub_oracle.generate import BASE, BOOT_UUID, ROOT_UUID, _version

OUT = DATA / "grub-oracle" / "osprober"
OTHER_UUID = "5e2a7c19-8b4d-4f3e-a6c1-d9e0f1a2b3c4"

# Each variation: what the stand-ins print for the other disk ($OTHER), and its files.
VARIATIONS: dict[str, dict[str, object]] = {
    "osprober-other-linux": {
        "os": ["$OTHER:Ubuntu 22.04.3 LTS (22.04):Ubuntu:linux"],
        "linux": [
            "$OTHER:$OTHER:Ubuntu:/boot/vmlinuz-6.5.0-15-generic:/boot/initrd.img-6.5.0-15-generic:"
            "root=UUID=$OTHER_UUID ro quiet splash $vt_handoff",
            "$OTHER:$OTHER:Ubuntu:/boot/vmlinuz-6.5.0-14-generic:/boot/initrd.img-6.5.0-14-generic:"
            "root=UUID=$OTHER_UUID ro recovery nomodeset dis_ucode_ldr",
        ],
        "files": [
            "boot/vmlinuz-6.5.0-15-generic",
            "boot/initrd.img-6.5.0-15-generic",
            "boot/vmlinuz-6.5.0-14-generic",
            "boot/initrd.img-6.5.0-14-generic",
        ],
    },
    "osprober-windows-efi": {
        "os": ["$OTHER@/EFI/Microsoft/Boot/bootmgfw.efi:Windows Boot Manager:Windows:efi"],
        "files": ["EFI/Microsoft/Boot/bootmgfw.efi"],
    },
    "osprober-mixed": {
        "os": [
            "$OTHER@/EFI/Microsoft/Boot/bootmgfw.efi:Windows Boot Manager:Windows:efi",
            "$OTHER:Fedora Linux 39 (Workstation Edition):Fedora:linux",
            "$OTHER:Mac OS X:MacOSX:macosx",
        ],
        "linux": [
            "$OTHER:$OTHER:Fedora Linux (6.6.8-200.fc39.x86_64) 39 (Workstation Edition):"
            "/boot/vmlinuz-6.6.8-200.fc39.x86_64:/boot/initramfs-6.6.8-200.fc39.x86_64.img:"
            "root=UUID=$OTHER_UUID ro rootflags=subvol=root rhgb quiet",
        ],
        "files": [
            "EFI/Microsoft/Boot/bootmgfw.efi",
            "boot/vmlinuz-6.6.8-200.fc39.x86_64",
            "boot/initramfs-6.6.8-200.fc39.x86_64.img",
            "mach_kernel",
        ],
    },
    "osprober-no-submenu": {
        "os": ["$OTHER:Debian GNU/Linux 11 (bullseye):Debian:linux"],
        "linux": [
            "$OTHER:$OTHER:Debian GNU/Linux 11 (bullseye):/boot/vmlinuz-5.10.0-26-amd64:"
            "/boot/initrd.img-5.10.0-26-amd64:root=UUID=$OTHER_UUID ro quiet",
        ],
        "files": ["boot/vmlinuz-5.10.0-26-amd64", "boot/initrd.img-5.10.0-26-amd64"],
        "extra": "GRUB_DISABLE_SUBMENU=y",
    },
}

SCRIPT = r"""
set -euo pipefail
mount --make-rprivate /
mount "$LOOPDEV" /boot
mount -t tmpfs -o size=1m tmpfs /etc/default
cp "$WORK/default-grub" /etc/default/grub
head -c 4096 /dev/urandom > /boot/vmlinuz-$KERNEL
head -c 2048 /dev/urandom > /boot/initrd.img-$KERNEL
echo "CONFIG_X=y" > /boot/config-$KERNEL
mkdir -p /boot/grub
PATH="$WORK/bin:$PATH" grub-mkconfig -o /boot/grub/grub.cfg 2> "$WORK/mkconfig.log"
cp -a /boot/. "$WORK/boot/"
"""


def _stub(path: Path, lines: list[str]) -> None:
    body = "".join(f"printf '%s\\n' \"{line}\"\n" for line in lines)
    path.write_text(f"#!/bin/sh\n{body}")
    path.chmod(0o755)


def _image(path: Path, uuid: str, label: str, tree: Path | None = None) -> None:
    with open(path, "wb") as f:
        f.truncate(48 * 1024 * 1024)
    cmd = ["mkfs.ext4", "-q", "-F", "-L", label, "-U", uuid]
    if tree is not None:
        cmd += ["-d", str(tree)]
    subprocess.run([*cmd, str(path)], check=True, capture_output=True)


def generate(name: str, spec: dict[str, object]) -> dict[str, object]:
    settings = BASE.format(
        default="0", timeout="5", distributor="Debian", default_cmdline="quiet", cmdline="console=ttyS0", extra=""
    ).replace("GRUB_DISABLE_OS_PROBER=true", "GRUB_DISABLE_OS_PROBER=false") + str(spec.get("extra", ""))
    kernel = "6.1.0-18-amd64"
    other_files = {str(f): f"{name}: {f}" for f in spec.get("files", [])}  # type: ignore[attr-defined]
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        tree = work / "other"
        for rel, text in other_files.items():
            (tree / rel).parent.mkdir(parents=True, exist_ok=True)
            (tree / rel).write_text(text)
        _image(work / "boot.img", BOOT_UUID, "bootfs")
        _image(work / "other.img", OTHER_UUID, "other", tree)
        (work / "default-grub").write_text(settings)
        (work / "boot").mkdir()
        (work / "bin").mkdir()
        with loop_device(work / "boot.img") as boot_node, loop_device(work / "other.img") as other_node:

            def fill(lines: object) -> list[str]:
                return [
                    str(x).replace("$OTHER_UUID", OTHER_UUID).replace("$OTHER", other_node)
                    for x in lines  # type: ignore[attr-defined]
                ]

            _stub(work / "bin" / "os-prober", fill(spec["os"]))
            _stub(work / "bin" / "linux-boot-prober", fill(spec.get("linux", [])))
            env = {**os.environ, "WORK": str(work), "KERNEL": kernel, "LOOPDEV": boot_node}
            proc = subprocess.run(
                ["unshare", "-m", "--propagation", "private", "bash", "-c", SCRIPT],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            if proc.returncode != 0:
                raise RuntimeError(f"grub-mkconfig failed: {proc.stderr}{(work / 'mkconfig.log').read_text()}")
            cfg = (work / "boot" / "grub" / "grub.cfg").read_text()
            host_root = subprocess.run(
                ["grub-probe", "--target=fs_uuid", "/"], capture_output=True, text=True, check=False
            ).stdout.strip()
            host_device = subprocess.run(
                ["grub-probe", "--target=device", "/"], capture_output=True, text=True, check=False
            ).stdout.strip()
            # The other disk's loop device name, as the titles "(on /dev/loopN)" show it, becomes a fixed one.
            cfg = cfg.replace(other_node, "/dev/sdb1")
        if host_root:
            cfg = cfg.replace(host_root, ROOT_UUID)
        if host_device:
            cfg = cfg.replace(f"root={host_device} ", f"root=UUID={ROOT_UUID} ").replace(host_device, ROOT_UUID)
        files = {
            f"boot/vmlinuz-{kernel}": "",
            f"boot/initrd.img-{kernel}": "",
            f"boot/config-{kernel}": "",
            "boot/grub/grub.cfg": cfg,
        }
    return {
        "provenance": f"Debian grub-mkconfig ({_version()}) with 30_os-prober and os-prober/linux-boot-prober "
        f"stand-ins printing {spec['os']}",
        "default_grub": settings,
        "config": "/boot/grub/grub.cfg",
        "device": {"id": "bootfs", "fs_uuid": BOOT_UUID, "label": "bootfs"},
        "files": files,
        "other_devices": [{"id": "other", "fs_uuid": OTHER_UUID, "label": "other", "files": other_files}],
    }


def main(names: list[str]) -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, spec in VARIATIONS.items():
        if names and name not in names:
            continue
        case = generate(name, spec)
        (OUT / f"{name}.json").write_text(json.dumps(case, indent=1, ensure_ascii=False) + "\n")
        print(name, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
