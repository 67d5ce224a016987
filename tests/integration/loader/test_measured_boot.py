"""Measured boot through loader.boot against a real swtpm (TPM 2.0 on a
loopback port the test picks), read back with tpm2_pcrread."""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path, PurePosixPath

import pefile
import pytest

from bootd.loader import measure
from bootd.loader.boot import boot
from bootd.loader.resources import stage
from bootd.model import BootOption, BootRequest, Device, Resource
from bootd.platform import Platform
from bootd.platform.run import RealRunner
from bootd.platform.sandbox import sandbox_platform
from tests.unit.loader.helpers import ARM64_DTS, ARM_TOML, make_machine

pytestmark = pytest.mark.skipif(
    shutil.which("swtpm") is None or shutil.which("tpm2_pcrread") is None,
    reason="swtpm and tpm2-tools are not installed (make test installs them)",
)
ARGS = "root=/dev/vda2 ro quiet"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def swtpm(tmp_path: Path) -> Iterator[str]:
    """A fresh TPM 2.0 (all PCRs zero); its tpm2-tools TCTI."""
    state = tmp_path / "swtpm"
    state.mkdir()
    port = _free_port()
    ctrl = port + 1  # the swtpm TCTI finds the control channel there
    proc = subprocess.Popen(
        ["swtpm", "socket", "--tpm2", "--tpmstate", f"dir={state}",
         "--server", f"type=tcp,port={port},bindaddr=127.0.0.1",
         "--ctrl", f"type=tcp,port={ctrl},bindaddr=127.0.0.1",
         "--flags", "not-need-init,startup-clear"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", ctrl), timeout=0.1).close()
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(f"swtpm did not start: {proc.stderr.read().decode() if proc.stderr else ''}")
                time.sleep(0.05)
        yield f"swtpm:host=127.0.0.1,port={port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stderr:
            proc.stderr.close()


def pcr(tcti: str, index: int, tmp_path: Path) -> bytes:
    out = tmp_path / f"pcr{index}.bin"
    subprocess.run(
        ["tpm2_pcrread", "-o", str(out), f"sha256:{index}"],
        env={"TPM2TOOLS_TCTI": tcti, "PATH": "/usr/bin:/bin"}, check=True, capture_output=True,
    )  # fmt: skip
    return out.read_bytes()


def extended(*digests: bytes) -> bytes:
    value = bytes(32)
    for d in digests:
        value = hashlib.sha256(value + d).digest()
    return value


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def machine(tmp_path: Path, *, real_runner: bool) -> Platform:
    platform = sandbox_platform(make_machine(tmp_path / "m", dts=ARM64_DTS, extra=ARM_TOML), tmp_path / "state")
    # The TPM commands run for real; kexec stays recorded by the sandbox's own boot side.
    return replace(platform, runner=RealRunner()) if real_runner else platform


def disk(tmp_path: Path, dtb: bytes) -> tuple[BootOption, dict[str, Device], Path]:
    root = tmp_path / "disk"
    (root / "boot").mkdir(parents=True)
    (root / "boot/vmlinuz").write_bytes(b"KERNEL" * 5000)
    (root / "boot/ucode.img").write_bytes(b"UCODE" * 100)
    (root / "boot/initrd").write_bytes(b"INITRD" * 3000)
    (root / "boot/board.dtb").write_bytes(dtb)
    opt = BootOption(
        id="vda2/bls/demo",
        device="vda2",
        name="Demo",
        kernel=Resource.local("/boot/vmlinuz"),
        initrds=(Resource.local("/boot/ucode.img"), Resource.local("/boot/initrd")),
        dtb=Resource.local("/boot/board.dtb"),
        args=ARGS,
    )
    return opt, {"vda2": Device("vda2", mountpoint=PurePosixPath(str(root)))}, root


async def test_pcrs_after_a_measured_boot_equal_the_prediction(tmp_path: Path, swtpm: str, arm64_dtb: bytes) -> None:
    opt, devices, root = disk(tmp_path, arm64_dtb)
    plan = await boot(
        machine(tmp_path, real_runner=True),
        BootRequest(opt),
        devices,
        work_dir=tmp_path / "work",
        hooks_dir=None,
        measured_boot=measure.Tpm(swtpm),
    )
    kernel, initrd = (
        (root / "boot/vmlinuz").read_bytes(),
        (root / "boot/ucode.img").read_bytes() + (root / "boot/initrd").read_bytes(),
    )
    # The rules, written out: kernel PCR 4; the initrd the kernel gets PCR 9;
    # command line (UTF-16LE + NUL, as systemd-stub) then the device tree file PCR 12.
    want = {
        4: extended(sha(kernel)),
        9: extended(sha(initrd)),
        12: extended(sha((ARGS + "\0").encode("utf-16-le")), sha(arm64_dtb)),
        11: bytes(32),
    }
    assert {i: pcr(swtpm, i, tmp_path) for i in want} == want
    # ... and the pure function from the files predicts the same.
    staged = await stage(opt, devices, tmp_path / "again")
    predicted = measure.predict(measure.events(opt, ARGS, staged, devices))
    assert {i: predicted.get(i, bytes(32)) for i in want} == want
    assert any("measured 4 events into PCR 4, 9, 12" in n for n in plan.notes)

    records = (tmp_path / "work" / measure.EVENT_LOG).read_bytes().split(b"\x1e")[1:]
    log = [json.loads(r) for r in records]
    assert [(r["pcr"], r["digests"][0]["digest"]) for r in log] == [
        (4, sha(kernel).hex()),
        (9, sha(initrd).hex()),
        (12, sha((ARGS + "\0").encode("utf-16-le")).hex()),
        (12, sha(arm64_dtb).hex()),
    ]


async def test_a_unified_kernel_image_is_measured_section_by_section(
    tmp_path: Path, swtpm: str, arm64_dtb: bytes
) -> None:
    from bootd.parsers import ParseContext, bls
    from bootd.parsers.view import DirectoryView
    from tests.ukibuild import OSREL, arm64_pe_kernel, build_uki

    esp = tmp_path / "esp"
    (esp / "EFI/Linux").mkdir(parents=True)
    parts = {
        ".osrel": OSREL.encode(),
        ".cmdline": b"root=/dev/vda2 quiet",
        ".linux": arm64_pe_kernel(50_000),
        ".initrd": b"070701" * 999,
        ".ucode": b"UCODE" * 10,
        ".dtb": arm64_dtb,
        ".uname": b"6.1.0-18-arm64",
    }
    order = [".dtb", ".uname", ".osrel", ".initrd", ".linux", ".ucode", ".cmdline"]  # not the canonical order
    image = build_uki(esp / "EFI/Linux/deb.efi", [(name, parts[name]) for name in order])
    with pefile.PE(str(image), fast_load=True) as pe:  # the stub brings its own .sbat
        [sbat] = [s for s in pe.sections if s.Name.rstrip(b"\0") == b".sbat"]
        parts[".sbat"] = sbat.get_data()[: sbat.Misc_VirtualSize]
    device = Device("esp", mountpoint=PurePosixPath(str(esp)))
    [opt] = bls.parse(DirectoryView(esp, device), ParseContext(arch="aarch64")).options
    await boot(
        machine(tmp_path, real_runner=True),
        BootRequest(opt),
        {"esp": device},
        work_dir=tmp_path / "work",
        hooks_dir=None,
        measured_boot=measure.Tpm(swtpm),
    )
    canonical = [".linux", ".osrel", ".cmdline", ".initrd", ".ucode", ".dtb", ".uname", ".sbat"]
    digests = [d for name in canonical for d in (sha(name.encode() + b"\0"), sha(parts[name]))]
    assert pcr(swtpm, 11, tmp_path) == extended(*digests)
    assert pcr(swtpm, 9, tmp_path) == extended(sha(parts[".ucode"] + parts[".initrd"]))
    assert pcr(swtpm, 12, tmp_path) == bytes(32)  # the embedded command line is in PCR 11
    assert pcr(swtpm, 4, tmp_path) == bytes(32)


async def test_a_tpm_that_does_not_answer_refuses_the_boot(tmp_path: Path, arm64_dtb: bytes) -> None:
    opt, devices, _ = disk(tmp_path, arm64_dtb)
    with pytest.raises(measure.MeasureError, match="PCR 4 could not be extended"):
        await boot(
            machine(tmp_path, real_runner=True),
            BootRequest(opt),
            devices,
            work_dir=tmp_path / "work",
            hooks_dir=None,
            measured_boot=measure.Tpm(f"swtpm:host=127.0.0.1,port={_free_port()}"),
        )
    assert not (tmp_path / "state/kexec.log").exists()


async def test_the_sandbox_records_the_extends(tmp_path: Path, arm64_dtb: bytes) -> None:
    opt, devices, root = disk(tmp_path, arm64_dtb)
    platform = machine(tmp_path, real_runner=False)
    await boot(platform, BootRequest(opt), devices, work_dir=tmp_path / "work", hooks_dir=None,
               measured_boot=measure.Tpm())  # fmt: skip
    calls = [c for c in platform.runner.calls if c[0] == "tpm2_pcrextend"]  # type: ignore[attr-defined]
    kernel = (root / "boot/vmlinuz").read_bytes()
    assert calls[0] == ("tpm2_pcrextend", f"4:sha256={sha(kernel).hex()}")
    assert [c[1].split(":")[0] for c in calls] == ["4", "9", "12", "12"]


def predict_cli(*argv: str) -> dict[int, bytes]:
    out = subprocess.run(
        [sys.executable, "-m", "bootd", "pcr", "predict", *argv, "--json"], check=True, capture_output=True, text=True
    ).stdout
    return {int(k): bytes.fromhex(v) for k, v in json.loads(out)["pcrs"].items()}


async def test_bootd_pcr_predict_gives_what_the_tpm_reads(tmp_path: Path, swtpm: str, arm64_dtb: bytes) -> None:
    opt, devices, root = disk(tmp_path, arm64_dtb)
    await boot(machine(tmp_path, real_runner=True), BootRequest(opt), devices, work_dir=tmp_path / "work",
               hooks_dir=None, measured_boot=measure.Tpm(swtpm))  # fmt: skip
    b = root / "boot"
    predicted = predict_cli("--kernel", str(b / "vmlinuz"), "--initrd", str(b / "ucode.img"),
                            "--initrd", str(b / "initrd"), "--dtb", str(b / "board.dtb"), "--args", ARGS)  # fmt: skip
    assert set(predicted) == {4, 9, 12}
    assert {i: pcr(swtpm, i, tmp_path) for i in predicted} == predicted


def test_bootd_pcr_predict_refuses_a_broken_image_clearly(tmp_path: Path) -> None:
    bad = tmp_path / "bad.efi"
    bad.write_bytes(b"MZ" + b"\xff" * 100)
    r = subprocess.run([sys.executable, "-m", "bootd", "pcr", "predict", "--uki", str(bad)], capture_output=True,
                       text=True)  # fmt: skip
    assert r.returncode != 0 and "Traceback" not in r.stderr and "bad.efi" in r.stderr
