"""The README's lines for a sandbox daemon work as written on a machine with
no session bus (no desktop, no ``$DBUS_SESSION_BUS_ADDRESS``)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.integration.daemon.helpers import ROOT

pytestmark = pytest.mark.skipif(not shutil.which("dbus-daemon"), reason="needs dbus-daemon")


def readme_lines() -> list[str]:
    """The daemon section's shell lines, up to the first client command."""
    text = (ROOT / "README.md").read_text()
    section = text.split("<!-- section: daemon -->", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    out: list[str] = []
    for line in block.splitlines():
        cmd = re.sub(r"\s+# .*$", "", line).strip()
        if cmd.startswith("bootd list"):
            break
        if cmd and cmd != "bootd serve":  # that one is the real machine's
            out.append(cmd)
    return out


def test_the_readme_sandbox_daemon_starts_headless(tmp_path: Path) -> None:
    lines = readme_lines()
    assert any("--sandbox config/demo" in line for line in lines), lines
    script = "\n".join(line.replace("/tmp/demo", str(tmp_path / "demo")) for line in lines)
    pids = tmp_path / "pids"
    script += f"\necho $! > {pids}\n"
    script += (
        "for i in $(seq 100); do bootd list 2>/dev/null | grep -q 'Disk: sda2' && break; sleep 0.1; done\nbootd list\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBUS_", "BOOTD_"))}
    env["PATH"] = f"{ROOT / '.venv/bin'}:{env.get('PATH', '')}"
    out = tmp_path / "out"
    try:
        with out.open("w") as f:  # not a pipe: the daemons started in the background keep it open
            rc = subprocess.run(
                ["bash", "-e", "-c", script], stdout=f, stderr=subprocess.STDOUT, cwd=ROOT, env=env, timeout=60
            ).returncode
        text = out.read_text()
        assert rc == 0, text
        assert "Disk: sda2" in text and "state:" in text
    finally:
        if pids.exists():
            subprocess.run(["kill", pids.read_text().strip()], check=False)
        bus = tmp_path / "demo.bus"
        if bus.exists() and bus.read_text().strip():  # the README's bus daemon: its pid, from the bus itself
            q = subprocess.run(
                ["busctl", f"--address={bus.read_text().strip()}", "call", "org.freedesktop.DBus",
                 "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetConnectionUnixProcessID", "s",
                 "org.freedesktop.DBus"],
                capture_output=True, text=True, check=False, timeout=10,
            )  # fmt: skip
            if q.returncode == 0:
                time.sleep(0.5)
                subprocess.run(["kill", q.stdout.split()[1]], check=False)
