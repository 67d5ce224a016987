"""The BootProgress signals of one boot, as a client sees them: a kernel and an
initrd downloaded from a loopback HTTP server announce each step once, and the
fraction never goes back."""

from __future__ import annotations

import asyncio
import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.daemon.test_cancel_boot import Running, running, until

__all__ = ["running"]

KERNEL = b"MZ" + bytes(range(256)) * 8192  # about 2 MB: several progress reports
INITRD = b"\x1f\x8b" + b"\x5a" * (1024 * 1024)


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 -- the base class's name
        pass


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[str]:
    root = tmp_path / "www"
    root.mkdir()
    (root / "vmlinuz").write_bytes(KERNEL)
    (root / "initrd.gz").write_bytes(INITRD)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


async def test_download_progress_is_monotonic_and_each_step_is_announced_once(running: Running, http_root: str) -> None:
    r = running
    seen: list[tuple[str, float]] = []
    r.client.on_progress(lambda stage, fraction: seen.append((stage, fraction)))
    kernel, initrd = f"{http_root}/vmlinuz", f"{http_root}/initrd.gz"
    await asyncio.wait_for(r.client.boot_custom(kernel=kernel, initrds=[initrd], name="Web"), 30)
    await until(lambda: bool(seen) and seen[-1][0] == "Starting the kernel")
    stages = [s for i, (s, _) in enumerate(seen) if i == 0 or seen[i - 1][0] != s]
    assert stages == [
        f"Loading kernel {kernel}",
        f"Loading initrd {initrd}",
        "Preparing the device tree",
        "Running boot hooks",
        "Loading the kernel",
        "Starting the kernel",
    ], seen
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions), seen
    assert len(seen) == len(set(seen)), f"a step was reported twice: {seen}"
    kernel_steps = [f for s, f in seen if s == f"Loading kernel {kernel}"]
    assert len(kernel_steps) >= 3 and kernel_steps[0] == 0.0, "the download reports its start, a step and its end"
    assert 0.0 < max(kernel_steps) <= fractions[-1]
    assert (await r.client.get_state()).state == "booted"
