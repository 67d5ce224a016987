"""Measured boot proved in a guest: the PCR values the second kernel reads
from its TPM equal the ones `bootd pcr predict` computes from the files.

qemu (x86-64 q35, TCG) with a TPM 2.0 (``tpm-tis``) backed by
a swtpm this test starts; stage 1 runs ``bootd boot --scan … --measured-boot``
(bootd's loader extends PCRs 4, 9 and 12 through tpm2-tools, then kexecs);
stage 2 prints the PCRs it reads.  SeaBIOS measures its own boot first, so a
PCR firmware touched is compared with the prediction's events extended onto
the value stage 1 read before bootd ran; one it left zero is compared with the
prediction itself.  A second guest boots stage 1 locked down: bootd uses
kexec_file_load, says the running kernel checks the signature, and reports the
kernel's refusal.  Both boot side by side: about 40 s on a 2-core machine once the packages are
cached under tests/.cache/e2e/amd64 (the first run downloads ~100 MB of Debian
packages, about a minute more).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import is_root
from tests.e2e import qemu
from tests.e2e.tpm_guest import CONSOLE, ENTRY_ARGS, TpmGuest, build, qemu_argv, swtpm

pytestmark = [pytest.mark.slow, pytest.mark.root, pytest.mark.timeout(900)]  # a TCG boot is minutes on a loaded machine
TIMEOUT = 400
MEASURED = (4, 9, 12)
_READ = re.compile(r"^\s*(\d+)\s*:\s*0x([0-9A-Fa-f]{64})\s*$")


@dataclass(frozen=True)
class Proof:
    guest: TpmGuest
    run: qemu.Run
    log: Path

    def context(self) -> str:
        return f"serial log {self.log}:\n{self.run.tail()}"


def pcrread(lines: Sequence[str]) -> dict[int, bytes]:
    """``tpm2_pcrread``'s ``  N : 0xHEX`` lines."""
    out: dict[int, bytes] = {}
    for line in lines:
        m = _READ.match(line)
        if m:
            out[int(m.group(1))] = bytes.fromhex(m.group(2))
    return out


def _boot(guest: TpmGuest, out: Path, lockdown: str | None) -> Proof:
    tpm, sock = swtpm(out / "tpm")
    try:
        for _ in range(100):
            if sock.exists():
                break
            time.sleep(0.05)
        log = out / "serial.log"
        argv = qemu_argv(guest, sock, lockdown=lockdown)
        end = "PROOF-DONE" if lockdown is None else "STAGE1-BOOT-RETURNED"
        return Proof(guest, qemu.run(argv, log=log, timeout=TIMEOUT, stop_at=end), log)
    finally:
        tpm.terminate()
        tpm.wait(timeout=30)


@pytest.fixture(scope="session")
def tpm_proofs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Proof]:
    """Both cases booted side by side (one TCG guest per core): stage 1 as is, and locked down."""
    if not is_root():
        pytest.skip("the measured-boot proof downloads packages with a private apt state and runs as root")
    for tool in ("qemu-system-x86_64", "swtpm", "dpkg-deb", "readelf", "apt-get"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (make test installs it)")
    out = tmp_path_factory.mktemp("e2e-tpm")
    guest = build(out)
    cases = {"plain": None, "lockdown": "integrity"}
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = {name: pool.submit(_boot, guest, out / name, mode) for name, mode in cases.items()}
        return {name: run.result() for name, run in runs.items()}


def predict(guest: TpmGuest, cmdline: str) -> tuple[dict[int, bytes], list[tuple[int, bytes]]]:
    argv = [sys.executable, "-m", "bootd", "pcr", "predict", "--kernel", str(guest.kernel),
            "--initrd", str(guest.stage2), "--args", cmdline, "--json"]  # fmt: skip
    doc = json.loads(subprocess.run(argv, check=True, capture_output=True, text=True).stdout)
    values = {int(k): bytes.fromhex(v) for k, v in doc["pcrs"].items()}
    return values, [(int(e["pcr"]), bytes.fromhex(e["sha256"])) for e in doc["events"]]


def proved(tpm_proof: Proof) -> qemu.Run:
    """The run, checked to have booted stage 2 with the PCRs of bootd's prediction."""
    run = tpm_proof.run
    assert not run.timed_out, f"no PROOF-DONE within {TIMEOUT}s; {tpm_proof.context()}"
    assert run.first("STAGE1-BOOT-RETURNED") is None, f"bootd returned instead of kexec'ing; {tpm_proof.context()}"
    assert run.first("PROOF-DONE") is not None, tpm_proof.context()
    before = pcrread(run.starting("STAGE1-PCRREAD "))
    assert set(before) >= {*MEASURED, 11}, f"stage 1 could not read its TPM; {tpm_proof.context()}"
    sysfs = {int(n): bytes.fromhex(v) for n, v in (line.split() for line in run.starting("PROOF-PCR-SYSFS "))}
    after = sysfs or pcrread(run.starting("PROOF-PCRREAD "))
    assert set(after) >= {*MEASURED, 11}, f"stage 2 could not read its TPM; {tpm_proof.context()}"
    if sysfs:  # the kernel's view and tpm2-tools' agree
        assert pcrread(run.starting("PROOF-PCRREAD ")) == sysfs

    cmdline = run.first("PROOF-CMDLINE ")
    assert cmdline == f"{ENTRY_ARGS} console={CONSOLE}", "bootd put the console on the command line"
    predicted, events = predict(tpm_proof.guest, cmdline)
    assert set(predicted) == set(MEASURED)
    for pcr in MEASURED:
        value = before[pcr]
        for index, digest in events:
            if index == pcr:
                value = hashlib.sha256(value + digest).digest()
        assert after[pcr] == value, f"PCR {pcr}: read {after[pcr].hex()}, predicted {value.hex()}"
        if before[pcr] == bytes(32):
            assert after[pcr] == predicted[pcr], f"PCR {pcr} differs from bootd pcr predict"
    assert before[9] == before[12] == bytes(32), "firmware measures nothing into PCR 9 or 12"
    assert after[11] == before[11], "no UKI was booted: PCR 11 is untouched"
    notes = " ".join(run.starting("STAGE1-BOOTD "))
    assert "measured 3 events into PCR 4, 9, 12" in notes, tpm_proof.context()
    return run


def test_the_pcrs_the_second_kernel_reads_equal_the_prediction(tpm_proofs: dict[str, Proof]) -> None:
    run = proved(tpm_proofs["plain"])
    assert any("kexec load:  kexec -l " in line for line in run.starting("STAGE1-BOOTD ")), run.tail()


def test_under_lockdown_kexec_file_load_checks_the_kernel_and_its_refusal_is_reported(
    tpm_proofs: dict[str, Proof],
) -> None:
    """Stage 1 locked down (lockdown=integrity, securityfs not mounted): bootd loads with
    kexec -s and says that the running kernel checks the signature.  Without UEFI the
    kernel trusts only its own build key, so Debian's signed kernel is refused there:
    bootd reports why, and nothing is executed."""
    proof = tpm_proofs["lockdown"]
    run = proof.run
    lines = run.starting("STAGE1-BOOTD ")
    assert any("Loading the kernel; the running kernel checks its signature (lockdown: integrity)" in line
               for line in lines), proof.context()  # fmt: skip
    refusal = [line for line in lines if "the running kernel is locked down (integrity) and refused to load" in line]
    assert refusal, proof.context()
    assert "its signature does not verify against the kernel's trusted keys" in refusal[0]
    assert "kexec_file_load failed" in refusal[0], "kexec -s was what the kernel refused"
    assert run.first("STAGE1-BOOT-RETURNED") is not None and run.first("PROOF-STAGE2") is None, proof.context()
