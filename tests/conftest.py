"""Shared test helpers.  Area fixtures live in each test folder's conftest."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
CORPUS = ROOT / "tests" / "data" / "corpus"


def is_root() -> bool:
    return os.geteuid() == 0


requires_root = pytest.mark.skipif(not is_root(), reason="needs root (loop devices, mounts, namespaces)")
