"""Signed boot through loader.boot on a sandbox arm64 machine, against real
gpgv and a throw-away key made by gpg in a temporary GNUPGHOME."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

import pytest

from bootd.errors import SignatureRefused
from bootd.loader.boot import boot
from bootd.loader.verify import Policy, interpret
from bootd.model import BootOption, BootRequest, Device, Resource
from bootd.platform import Platform
from bootd.platform.sandbox import sandbox_platform
from tests.unit.loader.helpers import ARM64_DTS, ARM_TOML, make_machine

pytestmark = pytest.mark.skipif(
    shutil.which("gpg") is None or shutil.which("gpgv") is None, reason="gnupg/gpgv are not installed"
)
ARGS = "root=/dev/vda2 ro"


@dataclass(frozen=True)
class Keys:
    owner: Path
    """GNUPGHOME holding the owner's secret key."""
    stranger: Path
    """GNUPGHOME holding another key, not in the keyring."""
    keyring: Path


def _gpg(home: Path, *args: str, input: bytes | None = None) -> bytes:
    argv = ["gpg", "--homedir", str(home), "--batch", "--yes", "--pinentry-mode", "loopback", "--passphrase", ""]
    return subprocess.run([*argv, *args], input=input, check=True, capture_output=True).stdout


def _new_key(home: Path, uid: str) -> None:
    home.mkdir(mode=0o700)
    _gpg(home, "--quick-gen-key", uid, "ed25519", "sign", "never")


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Keys]:
    top = tmp_path_factory.mktemp("gpg")
    owner, stranger = top / "owner", top / "stranger"
    try:
        _new_key(owner, "bootd owner <owner@example.invalid>")
        _new_key(stranger, "someone else <else@example.invalid>")
        keyring = top / "keyring.gpg"
        keyring.write_bytes(_gpg(owner, "--export"))
        yield Keys(owner, stranger, keyring)
    finally:
        for home in (owner, stranger):
            if home.exists():
                subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], check=False)


def sign(home: Path, path: Path) -> None:
    _gpg(home, "--detach-sign", "-o", f"{path}.sig", str(path))


def sign_text(home: Path, text: str, sig: Path) -> None:
    _gpg(home, "--detach-sign", "-o", str(sig), input=text.encode())


def disk(tmp_path: Path, dtb: bytes, keys: Keys | None) -> tuple[BootOption, dict[str, Device], Path]:
    root = tmp_path / "disk"
    (root / "boot").mkdir(parents=True)
    (root / "boot/vmlinuz").write_bytes(b"KERNEL" * 100)
    (root / "boot/initrd").write_bytes(b"INITRD" * 100)
    (root / "boot/board.dtb").write_bytes(dtb)
    if keys is not None:
        for name in ("vmlinuz", "initrd", "board.dtb"):
            sign(keys.owner, root / "boot" / name)
        sign_text(keys.owner, ARGS, root / "boot/vmlinuz.cmdline.sig")
    opt = BootOption(
        id="vda2/bls/demo",
        device="vda2",
        name="Demo",
        kernel=Resource.local("/boot/vmlinuz"),
        initrds=(Resource.local("/boot/initrd"),),
        dtb=Resource.local("/boot/board.dtb"),
        args=ARGS,
    )
    return opt, {"vda2": Device("vda2", mountpoint=PurePosixPath(str(root)))}, root


def arm64(tmp_path: Path) -> Platform:
    return sandbox_platform(make_machine(tmp_path / "m", dts=ARM64_DTS, extra=ARM_TOML), tmp_path / "state")


def loads(tmp_path: Path) -> list[list[str]]:
    log = tmp_path / "state/kexec.log"
    return [json.loads(line)["argv"] for line in log.read_text().splitlines()] if log.exists() else []


async def run(
    tmp_path: Path, opt: BootOption, devices: dict[str, Device], policy: Policy, **kw: object
) -> tuple[list[str], list[str]]:
    """(the boot's notes, the warnings) of one boot."""
    warnings: list[str] = []
    plan = await boot(
        arm64(tmp_path),
        BootRequest(opt, **kw),  # type: ignore[arg-type]
        devices,
        work_dir=tmp_path / "work",
        hooks_dir=None,
        signed_boot=policy,
        warn=warnings.append,
    )
    return list(plan.notes), warnings


async def test_a_correctly_signed_option_boots(tmp_path: Path, keys: Keys, arm64_dtb: bytes) -> None:
    opt, devices, _ = disk(tmp_path, arm64_dtb, keys)
    notes, warnings = await run(tmp_path, opt, devices, Policy("enforce", str(keys.keyring)))
    assert warnings == []
    verified = [n for n in notes if n.startswith("signature verified")]
    assert len(verified) == 4, notes  # kernel, initrd, device tree, command line
    assert any("command line 'root=/dev/vda2 ro'" in n for n in verified)
    assert [a[:2] for a in loads(tmp_path)] == [["kexec", "-l"], ["kexec", "-e"]]


async def test_unsigned_is_refused_and_nothing_is_loaded(tmp_path: Path, keys: Keys, arm64_dtb: bytes) -> None:
    opt, devices, _ = disk(tmp_path, arm64_dtb, None)
    with pytest.raises(SignatureRefused) as e:
        await run(tmp_path, opt, devices, Policy("enforce", str(keys.keyring)))
    message = str(e.value)
    for what in ("kernel /boot/vmlinuz", "initrd /boot/initrd", "device tree /boot/board.dtb", "command line"):
        assert f"{what}" in message
    assert "no usable signature" in message and "/boot/vmlinuz.sig" in message
    assert loads(tmp_path) == []


@pytest.mark.parametrize("name", ["vmlinuz", "initrd", "board.dtb", "vmlinuz.cmdline"])
async def test_signed_by_another_key_is_refused(tmp_path: Path, keys: Keys, arm64_dtb: bytes, name: str) -> None:
    opt, devices, root = disk(tmp_path, arm64_dtb, keys)
    if name == "vmlinuz.cmdline":
        sign_text(keys.stranger, ARGS, root / "boot/vmlinuz.cmdline.sig")
    else:
        sign(keys.stranger, root / "boot" / name)
    with pytest.raises(SignatureRefused, match=r"signed by key [0-9A-F]{16}, which is not in the keyring") as e:
        await run(tmp_path, opt, devices, Policy("enforce", str(keys.keyring)))
    assert str(e.value).count("not in the keyring") == 1
    assert loads(tmp_path) == []


@pytest.mark.parametrize("what", ["kernel", "initrd", "device tree", "command line"])
async def test_one_changed_byte_is_refused(tmp_path: Path, keys: Keys, arm64_dtb: bytes, what: str) -> None:
    opt, devices, root = disk(tmp_path, arm64_dtb, keys)
    if what == "command line":
        opt = replace(opt, args=ARGS.replace("ro", "rw"))
    else:
        path = root / "boot" / {"kernel": "vmlinuz", "initrd": "initrd", "device tree": "board.dtb"}[what]
        data = bytearray(path.read_bytes())
        data[len(data) // 2 if what != "device tree" else len(data) - 1] ^= 1
        path.write_bytes(bytes(data))
    with pytest.raises(SignatureRefused, match=rf"{what} [^;]*: BAD signature by bootd owner") as e:
        await run(tmp_path, opt, devices, Policy("enforce", str(keys.keyring)))
    assert str(e.value).count("BAD signature") == 1
    assert loads(tmp_path) == []


async def test_an_edited_command_line_is_refused_under_enforce(tmp_path: Path, keys: Keys, arm64_dtb: bytes) -> None:
    opt, devices, root = disk(tmp_path, arm64_dtb, keys)
    sign_text(keys.owner, ARGS + " init=/bin/sh", root / "boot/vmlinuz.cmdline.sig")  # even when signed
    with pytest.raises(SignatureRefused, match="the command line was edited"):
        await run(tmp_path, opt, devices, Policy("enforce", str(keys.keyring)), args=ARGS + " init=/bin/sh")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"this is not a signature\n", "holds no OpenPGP signature"),
        (b"\x89\x01\x33" + b"\xff" * 40, "holds no OpenPGP signature"),
        (None, ""),
        (b"", "holds no OpenPGP signature"),
        (b"x" * 70_000, "more than the 65536-byte limit"),
    ],
)
async def test_a_malformed_signature_is_a_clear_refusal(
    tmp_path: Path, keys: Keys, arm64_dtb: bytes, content: bytes | None, reason: str
) -> None:
    opt, devices, root = disk(tmp_path, arm64_dtb, keys)
    sig = root / "boot/vmlinuz.sig"
    sig.write_bytes(content if content is not None else sig.read_bytes()[:40])  # None: a real one cut short
    with pytest.raises(SignatureRefused, match=f"kernel /boot/vmlinuz: [^;]*{reason}"):
        await run(tmp_path, opt, devices, Policy("enforce", str(keys.keyring)))


async def test_warn_boots_and_reports_each_failure(tmp_path: Path, keys: Keys, arm64_dtb: bytes) -> None:
    opt, devices, root = disk(tmp_path, arm64_dtb, keys)
    (root / "boot/initrd.sig").unlink()
    notes, warnings = await run(tmp_path, opt, devices, Policy("warn", str(keys.keyring)))
    assert len(warnings) == 1 and "NOT verified: initrd /boot/initrd: no usable signature" in warnings[0]
    assert warnings[0] in notes
    assert [a[:2] for a in loads(tmp_path)] == [["kexec", "-l"], ["kexec", "-e"]]


async def test_a_missing_keyring_refuses_under_enforce(tmp_path: Path, keys: Keys, arm64_dtb: bytes) -> None:
    opt, devices, _ = disk(tmp_path, arm64_dtb, keys)
    with pytest.raises(SignatureRefused, match="keyring /nonexistent/keyring.gpg: the keyring does not exist"):
        await run(tmp_path, opt, devices, Policy("enforce", "/nonexistent/keyring.gpg"))


async def test_off_checks_nothing(tmp_path: Path, arm64_dtb: bytes) -> None:
    opt, devices, _ = disk(tmp_path, arm64_dtb, None)
    notes, _ = await run(tmp_path, opt, devices, Policy("off", "/nonexistent"))
    assert not any("signature" in n for n in notes)


async def test_a_unified_kernel_image_is_one_signature(tmp_path: Path, keys: Keys, arm64_dtb: bytes) -> None:
    from bootd.parsers import ParseContext, bls
    from bootd.parsers.view import DirectoryView
    from tests.ukibuild import OSREL, arm64_pe_kernel, build_uki

    esp = tmp_path / "esp"
    (esp / "EFI/Linux").mkdir(parents=True)
    image = build_uki(
        esp / "EFI/Linux/deb.efi",
        [(".osrel", OSREL.encode()), (".cmdline", b"root=/dev/vda2 quiet"), (".linux", arm64_pe_kernel(50_000)),
         (".initrd", b"070701" * 999), (".ucode", b"UCODE" * 10), (".dtb", arm64_dtb)],
    )  # fmt: skip
    sign(keys.owner, image)
    device = Device("esp", mountpoint=PurePosixPath(str(esp)))
    [opt] = bls.parse(DirectoryView(esp, device), ParseContext(arch="aarch64")).options
    policy = Policy("enforce", str(keys.keyring))
    notes, _ = await run(tmp_path, opt, {"esp": device}, policy)
    assert [n for n in notes if n.startswith("signature")] == [
        f"signature verified: image /EFI/Linux/deb.efi: {n.split(': ', 2)[2]}" for n in notes if "signature" in n
    ]
    assert len([n for n in notes if n.startswith("signature verified")]) == 1  # covers its command line

    data = bytearray(image.read_bytes())
    data[-10] ^= 1
    image.write_bytes(bytes(data))
    with pytest.raises(SignatureRefused, match="image /EFI/Linux/deb.efi: BAD signature"):
        await run(tmp_path / "again", opt, {"esp": device}, policy)
    with pytest.raises(SignatureRefused, match="the command line was edited"):
        await run(tmp_path / "edit", opt, {"esp": device}, policy, args="root=/dev/vda2 init=/bin/sh")


def test_gpgv_status_lines_name_the_reason() -> None:
    assert interpret("[GNUPG:] NEWSIG\n[GNUPG:] ERRSIG 0123456789ABCDEF 22 8 00 1 4\n", 2) == (
        False,
        "the signature cannot be checked (gpgv ERRSIG, code 4)",
    )
    assert interpret("[GNUPG:] GOODSIG K u\n", 0)[0] is False  # no VALIDSIG: not good enough
    assert interpret("[GNUPG:] EXPKEYSIG K owner\n[GNUPG:] VALIDSIG F\n", 0) == (
        False,
        "signature by an expired key: owner",
    )
