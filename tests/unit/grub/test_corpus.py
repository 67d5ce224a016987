"""Every GRUB case of the u-root corpus, against reviewed golden files.

The golden file holds bootd's options (GRUB's behaviour) and, for each way
they differ from what u-root's tests expect, the reason GRUB does otherwise.
A difference without a recorded reason fails, and so does a recorded reason
that no longer applies.  Set ``BOOTD_UPDATE_GOLDEN=1`` to rewrite the option
lists (the reasons are kept; review the diff).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.unit.grub.helpers import GOLDEN, GRUB_CORPUS, compare_with_uroot, corpus_views, load_case, scan, summarize

CASES = sorted(p.stem for p in GRUB_CORPUS.glob("*.json") if json.loads(p.read_text()).get("kind") != "unit")


def _golden(name: str) -> dict[str, Any]:
    path = GOLDEN / f"{name}.json"
    data: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    return data


@pytest.mark.parametrize("name", CASES)
def test_corpus_case(name: str, tmp_path: Path) -> None:
    case = load_case(name)
    view, ctx = corpus_views(case, tmp_path)
    result = scan(view, ctx)
    options = summarize(result)
    golden = _golden(name)
    if os.environ.get("BOOTD_UPDATE_GOLDEN"):
        golden = {
            "case": f"tests/data/corpus/grub/{name}.json",
            "uroot_differences": golden.get("uroot_differences", {}),
            "options": options,
        }
        (GOLDEN / f"{name}.json").write_text(json.dumps(golden, indent=1, ensure_ascii=False) + "\n")
    assert options == golden["options"]
    assert not [d for d in result.diagnostics if d.severity == "error"]
    if options:
        assert sum(1 for o in options if o["default"]) == 1
    found = compare_with_uroot(case, options)
    reasons: dict[str, str] = golden["uroot_differences"]
    unexplained = {k: v[:3] for k, v in found.items() if k not in reasons}
    assert not unexplained, f"differences from u-root without a recorded reason: {unexplained}"
    stale = sorted(set(reasons) - set(found))
    assert not stale, f"recorded differences that no longer occur: {stale}"
    assert all(len(r) > 20 for r in reasons.values())


def test_every_case_has_a_golden_file() -> None:
    assert len(CASES) >= 20
    for name in CASES:
        assert (GOLDEN / f"{name}.json").exists(), name
