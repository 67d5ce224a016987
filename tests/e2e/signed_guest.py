"""The signed-boot guest: the x86-64 ``q35`` machine of the measured-boot proof
(no TPM), its stage 1 carrying gpgv, the owner's keyring at
``/etc/bootd/keyring.gpg`` and a directory of BLS entries, each with one fault
in its signatures (Petitboot's layout: ``FILE.sig``, ``KERNEL.cmdline.sig``).

The keys are made on the host with gpg in throw-away homes: the owner's (its
public part is the keyring) and a stranger's.  Stage 1 runs ``python3 -m bootd
boot --scan … --signed-boot enforce`` on every faulty entry in turn, then on
the correctly signed one, which kexecs into stage 2 (the kexec proof's stage 2).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.guest import CACHE, HERE, ROOT, STAGE2_UUID
from tests.e2e.initramfs import Closure, Image
from tests.e2e.tpm_guest import CONSOLE, QEMU, unpacked, with_bootd, with_busybox

ARGS = "stage=2 proof=signed"
"""Every entry's command line (as the owner signed it)."""
GOOD = "signed"
OWNER = "bootd owner <owner@example.invalid>"
KEYRING = "/etc/bootd/keyring.gpg"


@dataclass(frozen=True)
class Entry:
    id: str
    """The BLS entry's file stem (``--name``)."""
    title: str
    kernel: str
    initrd: str
    args: str = ARGS


ENTRIES = (
    Entry(GOOD, "correctly signed", "/vmlinuz", "/initrd.img"),
    Entry("kernel-unsigned", "unsigned kernel", "/kernel-unsigned/vmlinuz", "/initrd.img"),
    Entry("kernel-other-key", "kernel signed by another key", "/kernel-other-key/vmlinuz", "/initrd.img"),
    Entry("kernel-tampered", "kernel changed by one byte", "/kernel-tampered/vmlinuz", "/initrd.img"),
    Entry("initrd-unsigned", "unsigned initrd", "/vmlinuz", "/initrd-unsigned/initrd.img"),
    Entry("initrd-other-key", "initrd signed by another key", "/vmlinuz", "/initrd-other-key/initrd.img"),
    Entry("initrd-tampered", "initrd changed by one byte", "/vmlinuz", "/initrd-tampered/initrd.img"),
    Entry("cmdline-unsigned", "unsigned command line", "/cmdline-unsigned/vmlinuz", "/initrd.img"),
    Entry("cmdline-other-key", "command line signed by another key", "/cmdline-other-key/vmlinuz", "/initrd.img"),
    Entry("cmdline-tampered", "command line changed by one byte", "/vmlinuz", "/initrd.img", ARGS.replace("=2", "=3")),
)  # fmt: skip


@dataclass(frozen=True)
class SignedGuest:
    kernel: Path
    stage1: Path
    stage2: Path
    owner: str
    """The owner key's fingerprint."""
    stranger: str
    """The other key's (not in the keyring)."""


class Gpg:
    """gpg in a throw-away home (its agent is stopped on exit)."""

    def __init__(self, home: Path, uid: str) -> None:
        self.home = home
        home.mkdir(mode=0o700, parents=True)
        self.run("--quick-gen-key", uid, "ed25519", "sign", "never")
        listing = self.run("--with-colons", "--list-keys").decode()
        self.fingerprint = next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))

    def run(self, *args: str, input: bytes | None = None) -> bytes:
        argv = ["gpg", "--homedir", str(self.home), "--batch", "--yes"]
        argv += ["--pinentry-mode", "loopback", "--passphrase", ""]
        return subprocess.run([*argv, *args], input=input, check=True, capture_output=True).stdout

    def sign(self, path: Path, sig: Path | None = None) -> None:
        self.run("--detach-sign", "-o", str(sig or Path(f"{path}.sig")), str(path))

    def sign_text(self, text: str, sig: Path) -> None:
        self.run("--detach-sign", "-o", str(sig), input=text.encode())

    def stop(self) -> None:
        subprocess.run(["gpgconf", "--homedir", str(self.home), "--kill", "gpg-agent"], check=False)


@contextmanager
def keys(top: Path) -> Iterator[tuple[Gpg, Gpg]]:
    made: list[Gpg] = []
    try:
        made.append(Gpg(top / "owner", OWNER))
        made.append(Gpg(top / "stranger", "someone else <else@example.invalid>"))
        yield made[0], made[1]
    finally:
        for gpg in made:
            gpg.stop()


def _flip(src: Path, dest: Path) -> None:
    """``src`` with one byte changed (in the middle)."""
    data = bytearray(src.read_bytes())
    data[len(data) // 2] ^= 0x01
    dest.write_bytes(bytes(data))


def disk(root: Path, kernel: Path, initrd: Path, owner: Gpg, stranger: Gpg) -> None:
    """The entries' directory: the good files signed by the owner, and one fault per entry.

    A file whose fault is beside it (no signature, another key's) is a symbolic
    link to the good one, so the image carries one more kernel only (the changed one)."""
    (root / "loader/entries").mkdir(parents=True)
    shutil.copyfile(kernel, root / "vmlinuz")
    shutil.copyfile(initrd, root / "initrd.img")
    owner.sign(root / "vmlinuz")
    owner.sign(root / "initrd.img")
    owner.sign_text(ARGS, root / "vmlinuz.cmdline.sig")
    for e in ENTRIES:
        for path in (e.kernel, e.initrd):
            (root / path.lstrip("/")).parent.mkdir(exist_ok=True)
    link = os.symlink

    link("../vmlinuz", root / "kernel-unsigned/vmlinuz")
    owner.sign_text(ARGS, root / "kernel-unsigned/vmlinuz.cmdline.sig")
    link("../vmlinuz", root / "kernel-other-key/vmlinuz")
    stranger.sign(root / "vmlinuz", root / "kernel-other-key/vmlinuz.sig")
    owner.sign_text(ARGS, root / "kernel-other-key/vmlinuz.cmdline.sig")
    _flip(root / "vmlinuz", root / "kernel-tampered/vmlinuz")
    shutil.copyfile(root / "vmlinuz.sig", root / "kernel-tampered/vmlinuz.sig")
    owner.sign_text(ARGS, root / "kernel-tampered/vmlinuz.cmdline.sig")

    link("../initrd.img", root / "initrd-unsigned/initrd.img")
    link("../initrd.img", root / "initrd-other-key/initrd.img")
    stranger.sign(root / "initrd.img", root / "initrd-other-key/initrd.img.sig")
    _flip(root / "initrd.img", root / "initrd-tampered/initrd.img")
    shutil.copyfile(root / "initrd.img.sig", root / "initrd-tampered/initrd.img.sig")

    link("../vmlinuz", root / "cmdline-unsigned/vmlinuz")
    shutil.copyfile(root / "vmlinuz.sig", root / "cmdline-unsigned/vmlinuz.sig")
    link("../vmlinuz", root / "cmdline-other-key/vmlinuz")
    shutil.copyfile(root / "vmlinuz.sig", root / "cmdline-other-key/vmlinuz.sig")
    stranger.sign_text(ARGS, root / "cmdline-other-key/vmlinuz.cmdline.sig")
    # cmdline-tampered: the good kernel and its signed command line, the entry's changed by one byte

    for e in ENTRIES:
        text = f"title signed boot proof: {e.title}\nlinux {e.kernel}\ninitrd {e.initrd}\noptions {e.args}\n"
        (root / f"loader/entries/{e.id}.conf").write_text(text)


def build(out: Path, cache: Path = CACHE / "amd64", *, bootd_src: Path = ROOT / "bootd") -> SignedGuest:
    """Build the guest into ``out`` (keys made under it); packages are downloaded (once) into ``cache``."""
    x, kernel = unpacked(out, cache)
    closure = Closure(x)

    stage2 = out / "stage2.cpio.gz"
    image = Image()
    image.add("init", (HERE / "guest" / "stage2-init.sh").read_bytes(), 0o755)
    with_busybox(image, x)
    image.write(stage2)

    image = Image()
    image.add("init", (HERE / "guest" / "signed-stage1-init.sh").read_bytes(), 0o755)
    with_busybox(image, x)
    closure.add_to(image, ["usr/bin/gpgv"])
    with_bootd(image, closure, x, out, bootd_src)
    with keys(out / "gpg") as (owner, stranger):
        (out / "keyring.gpg").write_bytes(owner.run("--export"))
        disk(out / "stage2", kernel, stage2, owner, stranger)
    image.add(KEYRING.lstrip("/"), out / "keyring.gpg")
    image.add_tree(out / "stage2", "stage2")
    stage1 = out / "stage1.cpio.gz"
    image.write(stage1)
    return SignedGuest(kernel, stage1, stage2, owner.fingerprint, stranger.fingerprint)


def qemu_argv(guest: SignedGuest) -> list[str]:
    append = f"console={CONSOLE} panic=5 proof.console={CONSOLE} proof.uuid={STAGE2_UUID} proof.good={GOOD}"
    return [*QEMU, "-nographic", "-no-reboot", "-kernel", str(guest.kernel), "-initrd", str(guest.stage1),
            "-append", append]  # fmt: skip
