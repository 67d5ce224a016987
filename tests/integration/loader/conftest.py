from __future__ import annotations

import pytest

from tests.unit.loader.helpers import ARM64_DTS, DEMO_DTS, compile_dts


@pytest.fixture(scope="session")
def opal_dtb() -> bytes:
    return compile_dts(DEMO_DTS)


@pytest.fixture(scope="session")
def arm64_dtb() -> bytes:
    return compile_dts(ARM64_DTS)
