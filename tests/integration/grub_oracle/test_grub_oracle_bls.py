"""bootd against real GRUB 2.14 on ``blscfg`` configs (tests/data/grub-oracle/bls/).

GRUB 2.06 (the main oracle) has no ``blscfg``; these cases run under Debian
sid's GRUB 2.14 from a cached root (:mod:`sidroot`, built once by
debootstrap), as nobody behind :func:`grub_emu_sid.refuse_unsafe`.  A
difference fails the case unless it is one of ``deliberate.BLS_CHOICES``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import is_root
from tests.integration.grub_oracle import compare, deliberate, grub_emu, grub_emu_sid
from tests.integration.grub_oracle.cases import ORACLE_CORPUS, Case, bls_cases

CASES = list(bls_cases())
needs_root = pytest.mark.skipif(not is_root(), reason="the oracle runs GRUB as nobody, which needs root to switch to")


def check(case: Case, root: Path, tmp_path: Path) -> list[str]:
    tmp_path.mkdir(exist_ok=True)
    specs = grub_emu.specs_from_case(case.data)
    config = case.config
    text = next((v for k, v in case.data["files"].items() if "/" + k.lstrip("/") == config), "")
    text += "\n" + next((v for k, v in case.data["files"].items() if k.endswith("grubenv")), "")
    result = grub_emu_sid.SidOracle(root, specs, config).run()
    choices = deliberate.BLS_CHOICES
    grub = [deliberate.adjusted(r, text, [d.id for d in specs], choices) for r in compare.oracle_records(result, specs)]
    bootd, _ = compare.bootd_records(specs, tmp_path)
    files = [k.removeprefix("base64:") for k in case.data["files"]]
    bootd = deliberate.bootd_side(bootd, text, files, choices)
    return compare.differences(grub, bootd)


@needs_root
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bootd_loads_what_grub_2_14_loads(case: Case, sid_root: Path, tmp_path: Path) -> None:
    diffs = check(case, sid_root, tmp_path / "1")
    if diffs:  # as in test_grub_oracle: a real difference is the same twice
        print(f"{case.name}: GRUB and bootd differed once; running the case again:", *diffs, sep="\n")
        diffs = check(case, sid_root, tmp_path / "2")
    assert not diffs, "\n".join(diffs)


def test_bls_cases_exist_and_have_a_provenance() -> None:
    assert len(CASES) >= 10
    readme = (ORACLE_CORPUS / "README.md").read_text()
    missing = [c.name for c in CASES if f"| `{c.name}` |" not in readme]
    assert not missing, f"add these to tests/data/grub-oracle/README.md: {missing}"
