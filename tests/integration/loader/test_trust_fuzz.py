"""Hostile input to the trust paths: fuzzed signatures and fuzzed Unified
Kernel Images give a clear refusal (a BootdError with a reason), never a
traceback and never a boot of something that did not verify.

Signatures are checked by real gpgv; the image is a real UKI (objcopy onto
systemd's stub) changed after discovery, as a disk can be between the scan
and the boot.  The parser's own PE fuzzing is in tests/unit/parsers/test_uki.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bootd.errors import BootdError, SignatureRefused
from bootd.loader import measure
from bootd.loader.boot import boot
from bootd.loader.trust import assess
from bootd.loader.verify import Policy
from bootd.model import BootOption, BootRequest, Device, Trust
from bootd.parsers import ParseContext, _pe, bls
from bootd.parsers.view import DirectoryView
from tests.integration.loader.test_signed_boot import Keys, arm64, disk, keys
from tests.ukibuild import OSREL, arm64_pe_kernel, build_uki

__all__ = ["keys"]
FIXTURES = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
_SIGNED: dict[str, bytes] = {}

edits = st.lists(st.tuples(st.integers(0, 4095), st.integers(0, 255)), max_size=8)


def _mutated(base: bytes, cut: int | None, flips: list[tuple[int, int]], tail: bytes) -> bytes:
    blob = bytearray(base[:cut] if cut is not None else base)
    for at, value in flips:
        if blob:
            blob[at % len(blob)] = value
    return bytes(blob) + tail


def _loads(state: Path) -> list[list[str]]:
    log = state / "kexec.log"
    return [json.loads(line)["argv"] for line in log.read_text().splitlines()] if log.exists() else []


@settings(max_examples=40, deadline=None, suppress_health_check=FIXTURES)
@given(
    cut=st.none() | st.integers(0, 200),
    flips=edits,
    tail=st.binary(max_size=64),
    junk=st.none() | st.binary(max_size=2048),
)
def test_fuzzed_signatures_are_refused_with_a_reason_or_verify(
    tmp_path_factory: pytest.TempPathFactory,
    keys: Keys,
    arm64_dtb: bytes,
    cut: int | None,
    flips: list[tuple[int, int]],
    tail: bytes,
    junk: bytes | None,
) -> None:
    import asyncio

    tmp = tmp_path_factory.mktemp("sig")
    opt, devices, root = disk(tmp, arm64_dtb, keys)
    sig = root / "boot/vmlinuz.sig"
    _SIGNED.setdefault("sig", sig.read_bytes())
    sig.write_bytes(junk if junk is not None else _mutated(sig.read_bytes(), cut, flips, tail))
    policy = Policy("enforce", str(keys.keyring))

    async def both() -> tuple[tuple[Trust, str], BootdError | None]:
        verdict = await assess(arm64(tmp), policy, opt, devices, tmp / "trust")
        try:
            await boot(arm64(tmp), BootRequest(opt), devices, work_dir=tmp / "work", hooks_dir=None, signed_boot=policy)
        except BootdError as e:
            return verdict, e
        return verdict, None

    (trust, reason), refused = asyncio.run(both())
    assert reason, "every verdict says why"
    if refused is None:  # an edit gpgv still accepts (an unhashed subpacket): it verified
        assert trust is Trust.VERIFIED and _loads(tmp / "state")
    else:
        assert isinstance(refused, SignatureRefused), refused
        assert "kernel /boot/vmlinuz" in str(refused) and trust.failed()
        assert _loads(tmp / "state") == [], "nothing is loaded"


def _uki(tmp: Path) -> tuple[BootOption, dict[str, Device], Path]:
    esp = tmp / "esp"
    (esp / "EFI/Linux").mkdir(parents=True)
    image = esp / "EFI/Linux/deb.efi"
    if "uki" not in _SIGNED:
        sections = [(".osrel", OSREL.encode()), (".cmdline", b"root=/dev/vda2 quiet"),
                    (".linux", arm64_pe_kernel(20_000)), (".initrd", b"070701" * 500)]  # fmt: skip
        _SIGNED["uki"] = build_uki(tmp / "template.efi", sections).read_bytes()
    image.write_bytes(_SIGNED["uki"])
    device = Device("esp", mountpoint=PurePosixPath(str(esp)))
    [opt] = bls.parse(DirectoryView(esp, device), ParseContext(arch="aarch64")).options
    return opt, {"esp": device}, image


@pytest.mark.skipif(shutil.which("objcopy") is None, reason="binutils is not installed")
@settings(max_examples=60, deadline=None, suppress_health_check=FIXTURES)
@given(cut=st.none() | st.integers(0, 60_000), flips=edits, tail=st.binary(max_size=256))
def test_an_image_fuzzed_after_discovery_is_refused_clearly_never_a_traceback(
    tmp_path_factory: pytest.TempPathFactory, cut: int | None, flips: list[tuple[int, int]], tail: bytes
) -> None:
    import asyncio

    tmp = tmp_path_factory.mktemp("uki")
    opt, devices, image = _uki(tmp)
    image.write_bytes(_mutated(image.read_bytes(), cut, flips, tail))
    platform = arm64(tmp)

    async def attempt() -> BootdError | None:
        try:
            await boot(
                platform, BootRequest(opt), devices, work_dir=tmp / "w", hooks_dir=None, measured_boot=measure.Tpm()
            )
        except BootdError as e:
            return e
        return None

    refused = asyncio.run(attempt())
    loads = _loads(tmp / "state")
    if refused is not None:
        assert str(refused) and loads == [], f"{refused!r} after loading"
    else:
        assert len(loads) == 2, "booted: loaded and executed"
    # the prediction from the same file is a clear error or a value, never a traceback
    r = subprocess.run(
        [sys.executable, "-m", "bootd", "pcr", "predict", "--uki", str(image)], capture_output=True, text=True
    )
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode == 0 or r.stderr.strip(), "a refusal says why"
    if refused is None:
        assert r.returncode == 0


def test_the_pe_reader_raises_only_its_own_error_on_a_truncated_image(tmp_path: Path) -> None:
    if shutil.which("objcopy") is None:
        pytest.skip("binutils is not installed")
    _opt, _devices, image = _uki(tmp_path)
    data = image.read_bytes()
    for size in range(0, 2048, 7):
        (tmp_path / "cut.efi").write_bytes(data[:size])
        with pytest.raises((_pe.PeError, BootdError, OSError)):
            measure.uki_parts(tmp_path / "cut.efi")
