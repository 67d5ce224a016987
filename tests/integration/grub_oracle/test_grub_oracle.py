"""bootd against real GRUB: every entry of every corpus config loads what
Debian's GRUB (grub-emu, without loaders) would load.

Each case runs grub-emu once per entry (about 20 ms a run) as ``nobody``;
the whole corpus takes well under a minute.  A difference fails the case,
unless it is one of the deliberate choices in ``deliberate.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import is_root
from tests.integration.grub_oracle import compare, deliberate, grub_emu
from tests.integration.grub_oracle.cases import ORACLE_CORPUS, Case, all_cases

needs_grub = [
    pytest.mark.skipif(not grub_emu.available(), reason="grub-emu is not installed (make apt installs it)"),
    pytest.mark.skipif(not is_root(), reason="the oracle runs GRUB as nobody, which needs root to switch to"),
]

CASES = list(all_cases())


def check(case: Case, tmp_path: Path) -> list[str]:
    tmp_path.mkdir(exist_ok=True)
    specs = grub_emu.specs_from_case(case.data)
    config = case.config
    text = next((v for k, v in case.data["files"].items() if "/" + k.lstrip("/") == config), "")
    result = grub_emu.Oracle(specs, config, hashes=bool(case.data.get("isos"))).run()
    grub = [deliberate.adjusted(r, text, [d.id for d in specs]) for r in compare.oracle_records(result, specs)]
    bootd, _ = compare.bootd_records(specs, tmp_path)
    bootd = deliberate.bootd_side(bootd, text, [k.removeprefix("base64:") for k in case.data["files"]])
    return compare.differences(grub, bootd)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@needs_grub[0]
@needs_grub[1]
def test_bootd_loads_what_grub_loads(case: Case, tmp_path: Path) -> None:
    diffs = check(case, tmp_path / "1")
    if diffs:
        # The harness tells a menu waiting for a key from a run still going by
        # the console's quiet time; on a loaded machine a run that stalls longer
        # looks like a menu and the walk goes astray.  A real difference is the
        # same every time: a case that differs is run once more, and must differ
        # again to fail.
        print(f"{case.name}: GRUB and bootd differed once; running the case again:", *diffs, sep="\n")
        diffs = check(case, tmp_path / "2")
    assert not diffs, "\n".join(diffs)


def test_corpus_size() -> None:
    assert len(CASES) >= 60, len(CASES)


def test_readme_gives_every_case_a_provenance() -> None:
    readme = (ORACLE_CORPUS / "README.md").read_text()
    missing = [c.name for c in CASES if f"| `{c.name}` |" not in readme]
    assert not missing, f"add these to tests/data/grub-oracle/README.md: {missing}"
