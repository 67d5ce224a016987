"""The configs the oracle runs: tests/data/grub-oracle/ (see its README) and
the GRUB cases of the u-root corpus that describe a device."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from tests.conftest import CORPUS, DATA

ORACLE_CORPUS = DATA / "grub-oracle"
BLS_CORPUS = ORACLE_CORPUS / "bls"
"""Cases for GRUB 2.14 (blscfg): run by test_grub_oracle_bls.py, not with GRUB 2.06."""


@dataclass(frozen=True)
class Case:
    name: str
    data: dict[str, Any]

    @property
    def config(self) -> str:
        explicit = self.data.get("config")
        if explicit:
            return str(explicit)
        from bootd.model import Device
        from bootd.parsers.grub import candidates
        from bootd.parsers.view import DirectoryView

        files = self.data["files"]
        import tempfile

        with tempfile.TemporaryDirectory() as d:
            for rel in files:
                p = Path(d) / rel.removeprefix("base64:").lstrip("/")
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_text("")
            found = candidates(DirectoryView(Path(d), Device(id="x")))
        return str(PurePosixPath("/") / found[0]) if found else ""


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


# Cases the harness cannot run yet (none at present).
NOT_RUN: set[str] = set()


PROBE_DISK = {"id": "disk", "fs_uuid": "0c8a5f32-1d4e-4b6a-9f7e-2a3b4c5d6e7f", "label": "bootfs"}
PROBE_DATA = {"id": "data", "fs_uuid": "7d2e9c41-5b3a-4e8f-a1c6-3f4e5d6c7b8a", "label": "DATA"}


def grubenv_block(text: str) -> str:
    """A GRUB environment block (1024 bytes) holding ``text``'s lines."""
    head = "# GRUB Environment Block\n" + text
    return head + "#" * (1024 - len(head.encode()))


def probe_case(cfg: Path) -> dict[str, Any]:
    """A hand-written probe: its config on a disk with two kernels, initrds and a
    device tree, and a second disk (label DATA) with its own kernel."""
    files = {
        "boot/grub/grub.cfg": cfg.read_text(),
        "boot/vmlinuz-1": "kernel 1",
        "boot/vmlinuz-2": "kernel 2",
        "boot/initrd-1": "initrd 1",
        "boot/initrd-2": "initrd 2",
        "boot/ucode.img": "ucode",
        "boot/empty": "",
        "boot/dtb/board.dtb": "dtb",
    }
    env = cfg.with_suffix(".grubenv")
    if env.exists():
        files["boot/grub/grubenv"] = grubenv_block(env.read_text())
    extra = cfg.with_suffix(".extra")
    if extra.exists():
        files["boot/grub/extra.cfg"] = extra.read_text()
    data = {"vmlinuz-data": "data kernel", "initrd-data": "data initrd", "marker": ""}
    first = cfg.read_text().splitlines()[0].lstrip("# ")
    return {
        "provenance": f"hand-written probe: {first}",
        "config": "/boot/grub/grub.cfg",
        "device": PROBE_DISK,
        "files": files,
        "other_devices": [{**PROBE_DATA, "files": data}],
    }


def all_cases() -> Iterator[Case]:
    for cfg in sorted((ORACLE_CORPUS / "probes").glob("*.cfg")):
        yield Case(f"probes/{cfg.stem}", probe_case(cfg))
    for path in sorted(ORACLE_CORPUS.glob("*/*.json")):
        if path.parent != BLS_CORPUS:
            yield Case(f"{path.parent.name}/{path.stem}", load(path))
    for path in sorted((CORPUS / "grub").glob("*.json")):
        data = load(path)
        if "device" in data and any(k.endswith("grub.cfg") for k in data.get("files", {})):
            if f"u-root/{path.stem}" not in NOT_RUN:
                yield Case(f"u-root/{path.stem}", data)


def bls_cases() -> Iterator[Case]:
    for path in sorted(BLS_CORPUS.glob("*.json")):
        yield Case(f"bls/{path.stem}", load(path))
