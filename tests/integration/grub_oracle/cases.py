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


def all_cases() -> Iterator[Case]:
    for path in sorted(ORACLE_CORPUS.glob("*/*.json")):
        yield Case(f"{path.parent.name}/{path.stem}", load(path))
    for path in sorted((CORPUS / "grub").glob("*.json")):
        data = load(path)
        if "device" in data and any(k.endswith("grub.cfg") for k in data.get("files", {})):
            if f"u-root/{path.stem}" not in NOT_RUN:
                yield Case(f"u-root/{path.stem}", data)
