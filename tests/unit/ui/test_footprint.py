"""The menu's process keeps OpenSSL out (it only talks over a local socket),
and what it imports still works without it."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

PROBE = """
import sys
from ui.__main__ import without_openssl
without_openssl()
import asyncio, hashlib, urwid
import ui.run, ui.dbus_backend
from bootd.dbus.client import BootdClient
maps = open("/proc/self/maps").read()
print("libssl" in maps, "libcrypto" in maps, hashlib.sha256(b"bootd").hexdigest()[:12])
async def main():
    try:
        await BootdClient.connect("unix:path=/nonexistent/bootd-test-bus")
    except Exception as e:
        print(type(e).__name__)
asyncio.run(main())
"""


def test_menu_process_runs_without_openssl() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    ).stdout.split()
    assert out[:3] == ["False", "False", hashlib.sha256(b"bootd").hexdigest()[:12]], out
    assert out[3] == "NotFound", out  # a clear "cannot connect" from the client, not an import failure
