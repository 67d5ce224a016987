"""Signed boot proved in a guest: under signed_boot = enforce, bootd's loader
refuses an unsigned kernel, initrd and command line, one signed by another
key, and one changed by a single byte, each with its reason and before
anything is loaded; then it boots the correctly signed entry into stage 2.

One qemu boot (x86-64 q35, TCG; tests/e2e/signed_guest.py): stage 1 runs
``bootd boot --scan … --signed-boot enforce --keyring …`` with the real gpgv
from Debian on each of nine faulty entries, reports bootd's exit status,
``/sys/kernel/kexec_loaded`` and every kexec it ran, and then boots the good
entry.  About 60 s on a 2-core machine (the guest's boot; each refusal is about
4 s of TCG) once the packages are cached under tests/.cache/e2e/amd64 (shared
with the measured-boot guest; gpgv adds about 1 MB to its download).  Verified
to fail, every test of it, when stage 1 passes ``--signed-boot off``.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import is_root
from tests.e2e import qemu
from tests.e2e.signed_guest import ARGS, ENTRIES, GOOD, OWNER, Entry, SignedGuest, build, qemu_argv
from tests.e2e.tpm_guest import CONSOLE

pytestmark = [pytest.mark.slow, pytest.mark.root, pytest.mark.timeout(900)]
TIMEOUT = 600
_RESULT = re.compile(r"^(\S+) rc=(\d+) kexec_loaded=(\d+) kexec_calls=(\d+) from=([\d.]+) to=([\d.]+)$")


@dataclass(frozen=True)
class Proof:
    guest: SignedGuest
    run: qemu.Run
    log: Path

    def context(self) -> str:
        return f"serial log {self.log}:\n{self.run.tail(80)}"

    def output(self, entry: str) -> list[str]:
        """What ``bootd boot`` printed for a faulty entry."""
        return [line.split(" ", 1)[1] for line in self.run.starting("STAGE1-REFUSE ") if line.split(" ")[0] == entry]

    def result(self, entry: str) -> re.Match[str]:
        found = [m for line in self.run.starting("STAGE1-RESULT ") if (m := _RESULT.match(line)) and m[1] == entry]
        assert len(found) == 1, f"{entry} was not tried once; {self.context()}"
        return found[0]


@pytest.fixture(scope="session")
def signed_proof(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proof]:
    if not is_root():
        pytest.skip("the signed-boot proof downloads packages with a private apt state and runs as root")
    for tool in ("qemu-system-x86_64", "gpg", "dpkg-deb", "readelf", "apt-get"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (make test installs it)")
    out = tmp_path_factory.mktemp("e2e-signed")
    guest = build(out)
    log = out / "serial.log"
    yield Proof(guest, qemu.run(qemu_argv(guest), log=log, timeout=TIMEOUT, stop_at="PROOF-DONE"), log)


def _key(fingerprint: str) -> str:
    return fingerprint[-16:]


def reason(entry: Entry, proof: Proof) -> str:
    """What the refusal must say about ``entry``'s one fault."""
    fault, _, kind = entry.id.partition("-")
    path = {"kernel": entry.kernel, "initrd": entry.initrd, "cmdline": entry.kernel}[fault]
    what = f"command line {entry.args!r}" if fault == "cmdline" else f"{fault} {path}"
    sig = f"{path}.cmdline.sig" if fault == "cmdline" else f"{path}.sig"
    because = {
        "unsigned": f"no usable signature: {sig}: no such file on ",
        "other-key": f"signed by key {_key(proof.guest.stranger)}, which is not in the keyring ({sig})",
        "tampered": f"BAD signature by {OWNER}: the file is not what was signed ({sig})",
    }[kind]
    return f"bootd boot: signed_boot = enforce refuses signed boot proof: {entry.title}: {what}: {because}"


BAD = [e for e in ENTRIES if e.id != GOOD]


def test_the_guest_tried_every_faulty_entry_before_the_signed_one(signed_proof: Proof) -> None:
    run = signed_proof.run
    assert not run.timed_out, f"no PROOF-DONE within {TIMEOUT}s; {signed_proof.context()}"
    assert (run.first("STAGE1-GPGV ") or "").startswith("gpgv (GnuPG) "), signed_proof.context()
    tried = [line.split(" ")[0] for line in run.starting("STAGE1-RESULT ")]
    assert sorted(tried) == sorted(e.id for e in BAD), signed_proof.context()
    assert len(BAD) == 9  # {kernel, initrd, command line} x {unsigned, another key, one byte changed}


@pytest.mark.parametrize("entry", BAD, ids=[e.id for e in BAD])
def test_enforce_refuses_each_fault_with_its_reason_and_loads_nothing(signed_proof: Proof, entry: Entry) -> None:
    result = signed_proof.result(entry.id)
    output = signed_proof.output(entry.id)
    assert output, signed_proof.context()
    refusal = output[-1]
    expected = reason(entry, signed_proof)
    assert refusal.startswith(expected), f"{refusal!r}\n  is not\n{expected!r}"
    assert ";" not in refusal.removeprefix(expected), "only the entry's one fault is named"
    assert result[2] == "1", f"bootd boot exited {result[2]}: {output}"
    assert result[3] == "0", "a kernel is loaded"
    assert result[4] == "0", "bootd ran kexec"
    assert not any(line.startswith("kexec load:") for line in output)


def test_the_correctly_signed_entry_boots_into_the_second_kernel(signed_proof: Proof) -> None:
    run = signed_proof.run
    assert run.first("STAGE1-BOOT-RETURNED") is None, f"bootd returned instead of kexec'ing; {signed_proof.context()}"
    assert run.first("PROOF-STAGE2 ") is not None, signed_proof.context()
    assert run.first("PROOF-CMDLINE ") == f"{ARGS} console={CONSOLE}"
    notes = [line.strip() for line in run.starting("STAGE1-BOOTD note:")]
    signer = f"signed by {signed_proof.guest.owner} ({OWNER})"
    assert f"signature verified: kernel /vmlinuz: {signer} (/vmlinuz.sig)" in notes, signed_proof.context()
    assert f"signature verified: initrd /initrd.img: {signer} (/initrd.img.sig)" in notes
    assert f"signature verified: command line {ARGS!r}: {signer} (/vmlinuz.cmdline.sig)" in notes
    assert any(line.startswith("kexec load:  kexec -l ") for line in run.starting("STAGE1-BOOTD ")), run.tail()
