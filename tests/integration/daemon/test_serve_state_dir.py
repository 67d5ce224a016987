"""``bootd serve`` leaves no state directory behind when it cannot take its bus name."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.integration.daemon.helpers import ROOT


def test_no_state_dir_when_the_bus_is_unreachable(tmp_path: Path) -> None:
    state = tmp_path / "var/lib/bootd"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "bootd",
            "serve",
            "--bus",
            "unix:path=/nonexistent",
            "--state-dir",
            str(state),
            "--config-root",
            str(tmp_path / "root"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert r.returncode == 1
    assert "cannot connect to the unix:path=/nonexistent bus" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "var").exists(), "the state directory was created although the daemon never started"
