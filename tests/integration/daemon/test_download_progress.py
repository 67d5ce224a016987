"""A boot's downloads as clients see them: a kernel over TFTP and an initrd
over HTTP (both servers on loopback, the HTTP one paced to about 4 MiB/s)
through the sandbox daemon.  The D-Bus DownloadProgress signals carry bytes,
total, rate and time left; ``bootd status --follow`` prints a bounded number
of lines about them (at most one a second and one per 5 % of a file, plus the
last) with the bytes, rate and time left.  Takes about 5 s."""

from __future__ import annotations

import asyncio
import functools
import http.server
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bootd.model import Transfer
from tests.integration.daemon.test_cancel_boot import Running, running, until
from tests.unit.network.tftpserver import Behaviour, start

__all__ = ["running"]

ROOT = Path(__file__).resolve().parents[3]
MiB = 1024 * 1024
KERNEL = b"MZ" + bytes(range(256)) * (2 * MiB // 256)
INITRD = b"\x1f\x8b" + b"\x5a" * (12 * MiB)
PACE = 4 * MiB
"""Bytes per second the HTTP server sends."""


class Paced(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 -- the base class's name
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(INITRD)))
        self.end_headers()
        chunk = 64 * 1024
        try:
            for at in range(0, len(INITRD), chunk):
                self.wfile.write(INITRD[at : at + chunk])
                time.sleep(chunk / PACE)
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture
def paced_http() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Paced))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


async def test_download_progress_carries_bytes_and_follow_prints_few_lines(running: Running, paced_http: str) -> None:
    r = running
    transport, port = await start(Behaviour(files={"vmlinuz": KERNEL}))
    kernel, initrd = f"tftp://127.0.0.1:{port}/vmlinuz", f"{paced_http}/initrd.gz"
    downloads: dict[str, list[Transfer]] = {}
    r.client.on_download(lambda stage, fraction, t: downloads.setdefault(stage, []).append(t))
    env = dict(os.environ, BOOTD_BUS=r.bus.address, LANG="C", LANGUAGE="")
    follow = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bootd", "status", "--follow", env=env, cwd=ROOT, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert follow.stdout is not None
        first = await asyncio.wait_for(follow.stdout.readline(), 20)
        assert first.startswith(b"state: idle"), first
        await asyncio.sleep(0.5)  # its signal subscriptions are in place once it printed
        await asyncio.wait_for(r.client.boot_custom(kernel=kernel, initrds=[initrd], name="Net"), 60)
        await until(lambda: r.daemon.boots.state == "booted")
        await asyncio.sleep(1.0)  # the last signals reach the follower
    finally:
        transport.close()
        if follow.returncode is None:
            follow.send_signal(signal.SIGINT)
        out, _ = await asyncio.wait_for(follow.communicate(), 10)
    lines = out.decode().splitlines()

    # D-Bus: every report has the bytes and the size; the rate and time left come once measured
    k, i = downloads[f"Loading kernel {kernel}"], downloads[f"Loading initrd {initrd}"]
    for reports, size in ((k, len(KERNEL)), (i, len(INITRD))):
        assert [t.done for t in reports] == sorted(t.done for t in reports)
        assert all(t.total == size for t in reports), reports
        assert reports[-1].complete and reports[-1].eta == 0.0 and reports[-1].rate
        assert [t.complete for t in reports].count(True) == 1
    assert len(i) >= 15, "the initrd (3 s at its pace) is reported several times a second"
    measured = [t for t in i[:-1] if t.rate is not None and t.eta is not None]
    assert len(measured) > 10 and all(0.5 * PACE < t.rate < 2 * PACE for t in measured[5:] if t.rate), measured
    assert all(t.eta is not None and 0 < t.eta < 10 for t in measured[5:])

    # bootd status --follow: bounded, with bytes, rate and time left
    start_k = lines.index(f"[  0%] Loading kernel {kernel}")
    start_i = next(n for n, line in enumerate(lines) if line.endswith(f"Loading initrd {initrd}"))
    initrd_lines = lines[start_i + 1 : next(n for n, line in enumerate(lines) if "Preparing the device tree" in line)]
    kernel_lines = lines[start_k + 1 : start_i]
    assert 1 <= len(kernel_lines) <= 4, lines
    assert kernel_lines[-1].endswith("2.0 MiB in " + kernel_lines[-1].split(" in ")[1]), lines
    # about 3 s at 4 MiB/s: a line a second at most, and the last
    assert 3 <= len(initrd_lines) <= 6, lines
    assert all(" of 12.0 MiB, " in line and "/s, " in line and " left" in line for line in initrd_lines[:-1]), lines
    assert " 12.0 MiB in 0:0" in initrd_lines[-1] and initrd_lines[-1].endswith("MiB/s"), lines
    assert len(lines) <= 25, lines
