"""Mutated real ISO images (xorriso's, bytes changed in its volume
descriptors, path tables and directories): opening one either fails with an
ImageError or gives a view whose every answer is data or a ViewError."""

from __future__ import annotations

import time
from pathlib import PurePosixPath

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bootd.model import Device
from bootd.parsers.isoview import ImageError, IsoView, open_view
from bootd.parsers.view import ViewError
from tests.isobuild import UBUNTU_FILES, build_iso


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return build_iso(tmp_path_factory.mktemp("fuzz") / "fuzz.iso", UBUNTU_FILES).read_bytes()


def _walk(view: IsoView, path: str, size: int, depth: int = 0) -> None:
    for name in view.listdir(path):
        child = path.rstrip("/") + "/" + name
        if view.is_dir(child) and depth < 40:
            _walk(view, child, size, depth + 1)
        elif view.is_file(child):
            try:
                assert len(view.read_bytes(child, limit=1 << 20)) <= size
            except ViewError:
                pass


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.lists(st.tuples(st.integers(16 * 2048, 40 * 2048), st.integers(0, 255)), min_size=1, max_size=12))
def test_a_mutated_image_fails_cleanly(image: bytes, changes: list[tuple[int, int]]) -> None:
    data = bytearray(image)
    for offset, value in changes:
        if offset < len(data):
            data[offset] = value
    blob = bytes(data)
    start = time.process_time()
    try:
        view = open_view(Device(id="d"), PurePosixPath("/f.iso"), lambda o, n: blob[o : o + n], len(blob))
    except ImageError as e:
        assert "/f.iso" in str(e)
        return
    _walk(view, "/", len(blob))
    assert time.process_time() - start < 5
