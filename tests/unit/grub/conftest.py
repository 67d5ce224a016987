"""Fixtures for the GRUB interpreter tests."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from bootd.parsers import ParseContext
from bootd.parsers.grub import Outcome, interpret
from bootd.parsers.grub.interpreter import Limits
from bootd.parsers.view import DirectoryView
from tests.unit.grub.helpers import make_view

Run = Callable[..., Outcome]


@pytest.fixture
def run(tmp_path: Path) -> Run:
    """Interpret a grub.cfg text on a throwaway device: ``run(cfg, files={...}, others={...})``."""
    counter = [0]

    def _run(
        cfg: str,
        *,
        files: Mapping[str, str | bytes] | None = None,
        others: Mapping[str, DirectoryView] | None = None,
        limits: Limits | None = None,
        config: str = "/boot/grub/grub.cfg",
        device: Mapping[str, Any] | None = None,
        arch: str = "x86_64",
        firmware: str = "efi",
    ) -> Outcome:
        counter[0] += 1
        all_files: dict[str, str | bytes] = {config: cfg, **(files or {})}
        view = make_view(tmp_path / f"dev{counter[0]}", all_files, **dict(device or {"id": "disk"}))
        ctx = ParseContext(others=dict(others or {}), arch=arch, firmware=firmware)
        from pathlib import PurePosixPath

        return interpret(view, PurePosixPath(config), ctx, limits=limits)

    return _run


@pytest.fixture
def other(tmp_path: Path) -> Callable[..., DirectoryView]:
    """Another device: ``other("sdb2", {"/vmlinuz": ""}, uuid="…", label="…")``."""

    def _other(dev_id: str, files: Mapping[str, str | bytes], **device: Any) -> DirectoryView:
        return make_view(tmp_path / f"other-{dev_id}", files, id=dev_id, **device)

    return _other
