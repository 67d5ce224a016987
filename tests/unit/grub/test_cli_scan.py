"""``bootd scan --json`` on every corpus case gives GRUB's entries, order and default."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bootd.__main__ import main
from tests.unit.grub.helpers import GOLDEN, load_case, write_files
from tests.unit.grub.test_corpus import CASES

FIELDS = ("id", "name", "kernel", "initrds", "dtb", "args", "default", "group", "hidden")


def _source(path: Path, meta: dict[str, Any], *, optical: bool = False) -> str:
    spec = f"{path},id={meta['id']}"
    if meta.get("fs_uuid"):
        spec += f",uuid={meta['fs_uuid']}"
    if meta.get("label"):
        spec += f",label={meta['label']}"
    if optical:
        spec += ",type=optical"
    return spec


@pytest.mark.parametrize("name", CASES)
def test_scan_json(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = load_case(name)
    main_dir = tmp_path / "main"
    write_files(main_dir, case["files"])
    sources = [_source(main_dir, case["device"], optical=case["mode"] == "iso-loopback")]
    for other in case.get("other_devices", []):
        d = tmp_path / f"other-{other['id']}"
        write_files(d, other.get("files", {}))
        sources.append(_source(d, other))
    rc = main(["scan", "--json", "--arch", "x86_64", "--firmware", "efi", *sources])
    out = capsys.readouterr().out
    assert rc == 0
    data = json.loads(out)
    got = [{k: o[k] for k in FIELDS} for o in data["options"] if o["source"] == "grub2"]
    golden = json.loads((GOLDEN / f"{name}.json").read_text())["options"]
    assert got == [{k: o[k] for k in FIELDS} for o in golden]
    assert [o["order"] for o in data["options"]] == list(range(len(data["options"])))
