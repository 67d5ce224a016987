"""Signed and measured boot benchmarks, for a 30 MB kernel+initrd (20 + 10 MB).

* ``verify_30mb``: :func:`bootd.loader.verify.check` of kernel, initrd and
  command line with real gpgv and a throw-away key.  Aim: under 1 s.
* ``measure_30mb``: the events (SHA-256 of the files) and their extends into a
  real swtpm on a loopback port (``tpm2_pcrextend``).  Aim: under 0.5 s.
* ``trust_menu_20_entries``: each option's trust state
  (:func:`bootd.loader.trust.assess`) for a menu of 20 entries sharing that
  kernel and initrd (their command lines differ), as the daemon computes them
  after discovery: the shared files are verified once.  Aim: under 2 s.
* ``baseline_sha256_30mb``: SHA-256 of the same files in Python, the floor of
  either; each figure carries its ratio to it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import replace
from pathlib import Path, PurePosixPath

from bootd.loader import measure, resources, verify
from bootd.model import BootOption, BootRequest, Device, Resource
from bootd.platform.run import RealRunner
from bootd.platform.sandbox import sandbox_platform

ARGS = "root=/dev/vda2 ro quiet"


def emit(metric: str, value: float, unit: str, **extra: object) -> None:
    print(json.dumps({"bench": "trust", "metric": metric, "value": value, "unit": unit, **extra}), flush=True)


def _gpg(home: Path, *args: str, input: bytes | None = None) -> None:
    argv = ["gpg", "--homedir", str(home), "--batch", "--yes", "--pinentry-mode", "loopback", "--passphrase", ""]
    subprocess.run([*argv, *args], input=input, check=True, capture_output=True)


def best(fn: object, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    if shutil.which("gpg") is None or shutil.which("gpgv") is None:
        emit("verify_30mb", -1, "s", skipped="gnupg/gpgv missing")
        return
    with tempfile.TemporaryDirectory() as tmp:
        top = Path(tmp)
        boot = top / "disk/boot"
        boot.mkdir(parents=True)
        (boot / "vmlinuz").write_bytes(os.urandom(20 << 20))
        (boot / "initrd").write_bytes(os.urandom(10 << 20))
        home = top / "gnupg"
        home.mkdir(mode=0o700)
        try:
            _gpg(home, "--quick-gen-key", "bench <bench@example.invalid>", "ed25519", "sign", "never")
            keyring = top / "keyring.gpg"
            keyring.write_bytes(
                subprocess.run(["gpg", "--homedir", str(home), "--export"], check=True, capture_output=True).stdout
            )
            for name in ("vmlinuz", "initrd"):
                _gpg(home, "--detach-sign", "-o", str(boot / f"{name}.sig"), str(boot / name))
            _gpg(home, "--detach-sign", "-o", str(boot / "vmlinuz.cmdline.sig"), input=ARGS.encode())
        finally:
            subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], check=False)
        machine = top / "m"
        machine.mkdir()
        (machine / "machine.toml").write_text('[machine]\narch = "x86_64"\n')
        platform = replace(sandbox_platform(machine, top / "state"), runner=RealRunner())
        option = BootOption(
            id="d/bls/x", device="d", name="X", kernel=Resource.local("/boot/vmlinuz"),
            initrds=(Resource.local("/boot/initrd"),), args=ARGS,
        )  # fmt: skip
        devices = {"d": Device("d", mountpoint=PurePosixPath(str(top / "disk")))}
        staged = asyncio.run(resources.stage(option, devices, top / "work"))
        policy = verify.Policy("enforce", str(keyring))

        def baseline() -> None:
            for name in ("vmlinuz", "initrd"):
                hashlib.sha256((boot / name).read_bytes()).digest()

        def check() -> None:
            checks = asyncio.run(verify.check(platform, policy, BootRequest(option), staged, devices, top / "work"))
            assert all(c.ok for c in checks), checks

        base = best(baseline)
        emit("baseline_sha256_30mb", round(base, 4), "s")
        t = best(check)
        emit("verify_30mb", round(t, 4), "s", aim=1.0, ratio=round(t / base, 2))

        from bootd.loader import trust

        menu = [replace(option, id=f"d/bls/x{n}", args=f"{ARGS} n={n}") for n in range(20)]

        def assess_menu() -> None:
            memo: verify.Memo = {}
            for opt in menu:
                asyncio.run(trust.assess(platform, policy, opt, devices, top / "trust", memo))

        t = best(assess_menu)
        emit("trust_menu_20_entries", round(t, 4), "s", aim=2.0, ratio=round(t / base, 2), shared="kernel+initrd")
        if shutil.which("swtpm") is None or shutil.which("tpm2_pcrextend") is None:
            emit("measure_30mb", -1, "s", skipped="swtpm/tpm2-tools missing")
            return
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        (top / "tpm").mkdir()
        proc = subprocess.Popen(
            ["swtpm", "socket", "--tpm2", "--tpmstate", f"dir={top / 'tpm'}",
             "--server", f"type=tcp,port={port},bindaddr=127.0.0.1",
             "--ctrl", f"type=tcp,port={port + 1},bindaddr=127.0.0.1", "--flags", "not-need-init,startup-clear"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port + 1), timeout=0.1).close()
                    break
                except OSError:
                    time.sleep(0.05)
            tpm = measure.Tpm(f"swtpm:host=127.0.0.1,port={port}")

            def measured() -> None:
                asyncio.run(measure.apply(platform, tpm, BootRequest(option), staged, devices, top / "work"))

            t = best(measured)
            emit("measure_30mb", round(t, 4), "s", aim=0.5, ratio=round(t / base, 2), events=3)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
