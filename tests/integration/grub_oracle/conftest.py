"""The cached sid root GRUB 2.14 runs from, built once per run by whichever test needs it first."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.grub_oracle import sidroot


@pytest.fixture(scope="session")
def sid_root() -> Path:
    try:
        return sidroot.ensure()
    except sidroot.RootUnavailable as e:
        if "not installed" in str(e):
            pytest.skip(str(e))
        raise
