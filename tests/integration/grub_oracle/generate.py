"""Regenerate tests/data/grub-oracle/mkconfig/: Debian's grub-mkconfig on prepared /boot trees.

``python -m tests.integration.grub_oracle.generate`` (as root: a loop device
and a private mount namespace, see tests/integration/grub/mkconfig.py).
Each variation is one /etc/default/grub and a set of kernels; the written
grub.cfg is stored with the /boot files as an oracle case.  UUIDs (and the
machine's root device) are replaced by fixed ones, so the output depends only
on the variation and Debian's grub-mkconfig version.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.conftest import DATA
from tests.integration.grub.mkconfig import run_mkconfig

OUT = DATA / "grub-oracle" / "mkconfig"
BOOT_UUID = "3f0d2b8e-6c1a-4f7e-9b52-0a4c7d9e1f21"
ROOT_UUID = "9b1c6e47-2d3f-4a8b-8c5e-7f0a1b2c3d4e"

BASE = """GRUB_DEFAULT={default}
GRUB_TIMEOUT={timeout}
GRUB_DISTRIBUTOR={distributor}
GRUB_CMDLINE_LINUX_DEFAULT="{default_cmdline}"
GRUB_CMDLINE_LINUX="{cmdline}"
GRUB_DISABLE_OS_PROBER=true
{extra}
"""

VARIATIONS: dict[str, dict[str, object]] = {
    "debian-one-kernel": {"kernels": ["6.1.0-18-amd64"]},
    "debian-three-kernels": {"kernels": ["6.1.0-7-amd64", "6.1.0-10-amd64", "6.1.0-9-amd64"]},
    "debian-no-recovery": {"kernels": ["6.1.0-10-amd64", "6.1.0-9-amd64"], "extra": "GRUB_DISABLE_RECOVERY=true"},
    "debian-no-submenu": {"kernels": ["6.1.0-10-amd64", "6.1.0-9-amd64"], "extra": "GRUB_DISABLE_SUBMENU=y"},
    "debian-saved-default": {
        "kernels": ["6.1.0-10-amd64", "6.1.0-9-amd64"],
        "default": "saved",
        "extra": "GRUB_SAVEDEFAULT=true\nGRUB_DISABLE_SUBMENU=y",
    },
    "debian-default-by-path": {
        "kernels": ["6.1.0-10-amd64", "6.1.0-9-amd64"],
        "default": '"1>2"',
    },
    "debian-default-by-id": {
        "kernels": ["6.1.0-10-amd64", "6.1.0-9-amd64"],
        "default": f'"gnulinux-advanced-{ROOT_UUID}>gnulinux-6.1.0-9-amd64-advanced-{ROOT_UUID}"',
    },
    "debian-quoted-cmdline": {
        "kernels": ["6.1.0-10-amd64"],
        "cmdline": 'console=ttyS0,115200n8 console=tty0 acpi_osi=\\"Windows 2015\\"',
    },
    "debian-empty-cmdline": {"kernels": ["6.1.0-10-amd64"], "default_cmdline": "", "cmdline": ""},
    "debian-many-args": {
        "kernels": ["6.1.0-10-amd64", "6.1.0-9-amd64"],
        "default_cmdline": "quiet splash loglevel=3 systemd.show_status=auto",
        "cmdline": "intel_iommu=on iommu=pt mitigations=auto,nosmt rd.luks.options=discard",
    },
    "debian-gfxmode": {
        "kernels": ["6.1.0-10-amd64"],
        "extra": "GRUB_GFXMODE=1024x768\nGRUB_GFXPAYLOAD_LINUX=keep\nGRUB_TERMINAL=console",
    },
    "debian-serial": {
        "kernels": ["6.1.0-10-amd64"],
        "extra": 'GRUB_TERMINAL="serial console"\nGRUB_SERIAL_COMMAND="serial --speed=115200"',
    },
    "debian-hidden-timeout": {"kernels": ["6.1.0-10-amd64"], "timeout": "0", "extra": "GRUB_TIMEOUT_STYLE=hidden"},
    "debian-recordfail": {"kernels": ["6.1.0-10-amd64", "6.1.0-9-amd64"], "extra": "GRUB_RECORDFAIL_TIMEOUT=5"},
    "ubuntu-style": {
        "kernels": ["6.5.0-14-generic", "6.5.0-15-generic"],
        "distributor": "Ubuntu",
        "default_cmdline": "quiet splash",
        "cmdline": "",
    },
    "ubuntu-style-vt": {
        "kernels": ["5.15.0-91-generic"],
        "distributor": "Ubuntu",
        "default_cmdline": "quiet splash $vt_handoff",
    },
    "debian-early-initrd": {"kernels": ["6.1.0-10-amd64"], "extra": "GRUB_EARLY_INITRD_LINUX_CUSTOM=ucode.img"},
    "debian-distributor-quotes": {"kernels": ["6.1.0-10-amd64"], "distributor": "\"Debian 'bookworm'\""},
    "debian-arm64-kernels": {"kernels": ["6.1.0-10-arm64", "6.1.0-9-arm64"]},
    "debian-rt-and-cloud": {"kernels": ["6.1.0-10-rt-amd64", "6.1.0-10-cloud-amd64", "6.1.0-10-amd64"]},
}


def generate(name: str, spec: dict[str, object]) -> dict[str, object]:
    settings = BASE.format(
        default=spec.get("default", "0"),
        timeout=spec.get("timeout", "5"),
        distributor=spec.get("distributor", "Debian"),
        default_cmdline=spec.get("default_cmdline", "quiet"),
        cmdline=spec.get("cmdline", "console=ttyS0"),
        extra=spec.get("extra", ""),
    )
    kernels = [str(k) for k in spec["kernels"]]  # type: ignore[attr-defined]
    with tempfile.TemporaryDirectory() as d:
        result = run_mkconfig(Path(d), kernels, settings)
        host_root = subprocess.run(
            ["grub-probe", "--target=fs_uuid", "/"], capture_output=True, text=True, check=False
        ).stdout.strip()
        host_device = subprocess.run(
            ["grub-probe", "--target=device", "/"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if "early" in name:
            (result.boot / "ucode.img").write_bytes(b"u")
        files: dict[str, str] = {}
        for p in sorted(result.boot.rglob("*")):
            if p.is_file() and "lost+found" not in p.parts and not p.name.endswith((".mod", ".pf2", ".png")):
                rel = "boot/" + str(p.relative_to(result.boot))
                data = p.read_bytes()
                text = data.decode("utf-8", "replace") if p.name.endswith((".cfg", "grubenv")) else ""
                text = text.replace(result.uuid, BOOT_UUID)
                # The machine's own root filesystem, as grub-mkconfig names it, becomes a fixed one.
                if host_root:
                    text = text.replace(host_root, ROOT_UUID)
                if host_device:
                    text = text.replace(f"root={host_device} ", f"root=UUID={ROOT_UUID} ")
                    text = text.replace(host_device, ROOT_UUID)  # menu entry ids
                files[rel] = text
    return {
        "provenance": f"Debian grub-mkconfig ({_version()}) on a /boot with kernels {kernels}",
        "default_grub": settings,
        "config": "/boot/grub/grub.cfg",
        "device": {"id": "bootfs", "fs_uuid": BOOT_UUID, "label": "bootfs"},
        "files": files,
    }


def _version() -> str:
    out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "grub-common"], capture_output=True, text=True)
    return f"grub-common {out.stdout.strip()}"


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
