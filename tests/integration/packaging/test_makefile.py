"""What ``make test`` does to the machine outside the checkout: it says so and undoes it."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

needs_root = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None, reason="needs root and unshare")


def _make(*args: str) -> subprocess.CompletedProcess[str]:
    argv = ["make", "-s", "--no-print-directory", *args]
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)


@needs_root
def test_make_apt_leaves_etc_default_kexec_alone_and_says_when_kexec_is_armed(tmp_path: Path) -> None:
    # A private mount namespace: /etc/default is a copy holding an armed kexec-tools file.
    script = (
        "set -e; mkdir -p $T/default; cp -a /etc/default/. $T/default/; "
        "printf 'LOAD_KEXEC=true\\nUSE_GRUB_CONFIG=false\\n' > $T/default/kexec; "
        "mount --bind $T/default /etc/default; "
        "make -s --no-print-directory apt APT_PACKAGES=; cat /etc/default/kexec"
    )
    r = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
        cwd=ROOT, env={**os.environ, "T": str(tmp_path)}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-2:] == ["LOAD_KEXEC=true", "USE_GRUB_CONFIG=false"], "the file is not edited"
    assert "LOAD_KEXEC=true" in r.stderr and "never load a kernel" in r.stderr


def test_make_services_starts_nothing_when_udevd_already_answers(tmp_path: Path) -> None:
    ping = subprocess.run(["udevadm", "control", "--ping"], capture_output=True, check=False)
    if ping.returncode != 0:
        pytest.skip("no udevd running here")
    pidfile = tmp_path / "udevd.pid"
    r = _make("services", f"UDEVD_PIDFILE={pidfile}")
    assert r.returncode == 0 and not pidfile.exists() and "started" not in r.stderr


def test_make_services_stop_ends_the_udevd_it_started_and_only_that(tmp_path: Path) -> None:
    # Stands for the udevd `make services` started: a process of ours, recorded by pid.
    ours = subprocess.Popen(["sleep", "300"])
    other = subprocess.Popen(["sleep", "300"])
    try:
        pidfile = tmp_path / "udevd.pid"
        pidfile.write_text(f"{ours.pid}\n")
        r = _make("services-stop", f"UDEVD_PIDFILE={pidfile}")
        assert r.returncode == 0
        assert f"stopped the systemd-udevd started for the tests (pid {ours.pid})" in r.stderr
        assert ours.wait(timeout=10) is not None and not pidfile.exists()
        time.sleep(0.1)
        assert other.poll() is None
        assert _make("services-stop", f"UDEVD_PIDFILE={pidfile}").stderr == "", "nothing to stop: silent"
    finally:
        for p in (ours, other):
            p.kill()
            p.wait()


def test_make_test_stops_services_even_when_the_tests_fail() -> None:
    recipe = (ROOT / "Makefile").read_text().split("\ntest: ", 1)[1].split("\n\n", 1)[0]
    assert "services-stop" in recipe and "exit $$rc" in recipe
