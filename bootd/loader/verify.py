"""Signed boot: the option's files and command line against the owner's keyring.

The ``signed_boot`` setting: ``off`` checks nothing, ``warn`` boots and reports
each failure, ``enforce`` boots only what verifies.  Signatures are detached
OpenPGP signatures beside the files, in Petitboot's layout:

* ``FILE.sig`` for the kernel, each initrd and the device tree;
* ``KERNEL.cmdline.sig`` for the command line: the exact argument string as
  booted, without a trailing newline;
* for a Unified Kernel Image (a resource naming a PE section), one
  ``IMAGE.efi.sig`` over the whole image: it covers every section, and so the
  embedded command line (as read from the image again now).

Checked with ``gpgv`` (no crypto of our own) through the Platform's runner,
its ``--status-fd`` output read for the reason: ``GOODSIG`` + ``VALIDSIG``
passes; ``BADSIG``, ``ERRSIG``, ``NO_PUBKEY``, ``NODATA`` (no signature in the
file), expired or revoked keys fail.  The keyring is a binary OpenPGP keyring
(``gpg --export``, not ``--armor``).  A command line edited in the menu is
refused under ``enforce``.  Boot hooks run after the check: they are the
owner's own programs.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from bootd.errors import BootdError, CommandError, ResourceNotFound, SignatureRefused
from bootd.loader import resources
from bootd.model import N_, BootOption, BootRequest, Device, Resource, Trust
from bootd.platform import Platform

log = logging.getLogger(__name__)

MODES = ("off", "warn", "enforce")
DEFAULT_KEYRING = "/etc/bootd/keyring.gpg"
GPGV = "gpgv"
MAX_SIGNATURE_BYTES = 64 * 1024
"""A detached signature is a few hundred bytes; more is not a signature."""
GPGV_TIMEOUT = 60.0


@dataclass(frozen=True)
class Policy:
    mode: str = "off"
    keyring: str = DEFAULT_KEYRING


OFF = Policy()


@dataclass(frozen=True)
class Check:
    what: str
    """What was checked, for people: ``kernel /boot/vmlinuz``."""
    ok: bool
    reason: str
    """``signed by FINGERPRINT (uid)``, or why it does not verify."""
    trust: Trust = Trust.ERROR
    """What the failure means (:attr:`~bootd.model.Trust.VERIFIED` when ``ok``)."""


@dataclass(frozen=True)
class _Item:
    what: str
    signature: Resource
    data: Path | None
    text: bytes | None = None


def interpret(status: str, returncode: int, stderr: str = "") -> tuple[bool, str]:
    """gpgv's ``--status-fd`` lines → (verified, reason)."""
    trust, reason = judge(status, returncode, stderr)
    return trust is Trust.VERIFIED, reason


def judge(status: str, returncode: int, stderr: str = "") -> tuple[Trust, str]:
    """gpgv's ``--status-fd`` lines → (trust state, reason)."""
    words: dict[str, list[str]] = {}
    for line in status.splitlines():
        if line.startswith("[GNUPG:] "):
            key, _, rest = line[9:].partition(" ")
            words.setdefault(key, rest.split(" "))

    def uid(key: str) -> str:
        return " ".join(words[key][1:])

    if "BADSIG" in words:
        return Trust.TAMPERED, f"BAD signature by {uid('BADSIG')}: the file is not what was signed"
    if "NO_PUBKEY" in words:
        return Trust.BAD_SIGNATURE, f"signed by key {words['NO_PUBKEY'][0]}, which is not in the keyring"
    if "ERRSIG" in words:
        rc = words["ERRSIG"][5] if len(words["ERRSIG"]) > 5 else "?"
        return Trust.BAD_SIGNATURE, f"the signature cannot be checked (gpgv ERRSIG, code {rc})"
    for bad, why in (("EXPKEYSIG", "expired key"), ("REVKEYSIG", "revoked key"), ("EXPSIG", "expired signature")):
        if bad in words:
            return Trust.BAD_SIGNATURE, f"signature by an {why}: {uid(bad) if bad != 'EXPSIG' else words[bad][0]}"
    if "NODATA" in words:
        return Trust.BAD_SIGNATURE, "the signature file holds no OpenPGP signature"
    if "GOODSIG" in words and "VALIDSIG" in words and returncode == 0:
        return Trust.VERIFIED, f"signed by {words['VALIDSIG'][0]} ({uid('GOODSIG')})"
    lines = stderr.strip().splitlines()
    return Trust.BAD_SIGNATURE, f"gpgv could not verify it: {lines[-1] if lines else f'exit status {returncode}'}"


def _signature_of(res: Resource, suffix: str) -> Resource:
    """``res`` (its whole image, for a section) with ``suffix`` added to its name."""
    if res.url is not None:
        return Resource(url=res.url + suffix)
    return replace(res, path=PurePosixPath(f"{res.path}{suffix}"), section=None)


def _image(res: Resource) -> Resource:
    return replace(res, section=None)


def embedded_cmdline(option: BootOption, devices: Mapping[str, Device], work_dir: Path) -> str | None:
    """The UKI's ``.cmdline`` as the parser reads it (whitespace-joined), read again now."""
    kernel = option.kernel
    if kernel is None or kernel.section is None or kernel.url is not None:
        return None
    ref = kernel.section.replace(".linux", ".cmdline")
    try:
        image = resources.local_path(_image(kernel), option.device, devices, max_bytes=resources.MAX_IMAGE_BYTES)
        out = resources.extract_section(
            image, replace(kernel, section=ref), work_dir / "verify.cmdline", max_bytes=1 << 20
        )
        return " ".join(out.read_bytes().decode("utf-8", "replace").replace("\0", " ").split())
    except (BootdError, OSError):
        return None


def _items(
    option: BootOption, args: str, staged: resources.Staged, devices: Mapping[str, Device], work_dir: Path
) -> list[_Item]:
    assert option.kernel is not None
    items: list[_Item] = []
    images: set[Resource] = set()

    def local(res: Resource) -> Path:
        return resources.local_path(res, option.device, devices, max_bytes=resources.MAX_IMAGE_BYTES)

    def add(what: str, res: Resource, data: Path | None, text: bytes | None = None) -> None:
        if res.section is not None:
            image = _image(res)
            if image in images:
                return
            images.add(image)
            items.append(_Item(f"image {image.describe()}", _signature_of(res, ".sig"), local(image)))
            return
        items.append(_Item(f"{what} {res.describe()}", _signature_of(res, ".sig"), data, text))

    add("kernel", option.kernel, staged.kernel)
    for i, res in enumerate(option.initrds):
        path = work_dir / f"initrd-{i}" if res.url is not None else None
        if res.section is None and path is None:
            path = local(res)
        if len(option.initrds) == 1 and staged.initrd is not None and res.section is None:
            path = staged.initrd
        add("initrd", res, path)
    if option.dtb is not None:
        add("device tree", option.dtb, None, staged.dtb)
    if option.kernel.section is None or args != embedded_cmdline(option, devices, work_dir):
        items.append(_Item(f"command line {args!r}", _signature_of(option.kernel, ".cmdline.sig"), None, args.encode()))
    return items


async def _verify(platform: Platform, policy: Policy, item: _Item, sig: Path, home: Path) -> tuple[Trust, str]:
    argv = [GPGV, "--homedir", str(home), "--status-fd", "1", "--keyring", policy.keyring, str(sig)]
    argv.append(str(item.data) if item.data is not None else "-")
    try:
        result = await platform.runner.run(
            argv, check=False, input=item.text if item.data is None else None, timeout=GPGV_TIMEOUT
        )
    except CommandError as e:
        return Trust.ERROR, f"gpgv could not run: {e.stderr.strip() or e}"
    return judge(result.stdout, result.returncode, result.stderr)


async def check(
    platform: Platform,
    policy: Policy,
    request: BootRequest,
    staged: resources.Staged,
    devices: Mapping[str, Device],
    work_dir: Path,
    memo: Memo | None = None,
) -> list[Check]:
    """Every check of ``request``'s files and command line (nothing raised).

    With ``memo``, a file already checked against the same signature and
    keyring, and unchanged since (same inode, size and mtime; the same bytes
    for a command line or a device tree), is not checked again: the entries of
    one GRUB menu share a kernel, an initrd and a tree."""
    option = request.option
    args = request.args if request.args is not None else option.args
    out: list[Check] = []
    if request.args is not None and request.args != option.args:
        out.append(Check(f"command line {args!r}", False, "the command line was edited", Trust.TAMPERED))
    if not os.path.isfile(policy.keyring):
        return [*out, Check(f"keyring {policy.keyring}", False, "the keyring does not exist", Trust.ERROR)]
    try:
        items = _items(option, args, staged, devices, work_dir)
    except BootdError as e:
        return [*out, Check(option.name, False, str(e), Trust.ERROR)]
    home = work_dir / ".gpgv"
    home.mkdir(mode=0o700, exist_ok=True)
    for n, item in enumerate(items):
        try:
            sig = await resources.fetch_one(
                item.signature, option.device, devices, work_dir, f"signature-{n}", max_bytes=MAX_SIGNATURE_BYTES
            )
        except BootdError as e:
            missing = isinstance(e, ResourceNotFound)
            out.append(Check(item.what, False, f"no usable signature: {e}", Trust.UNSIGNED if missing else Trust.ERROR))
            continue
        key = await asyncio.to_thread(_memo_key, policy, item, sig) if memo is not None else None
        known = memo.get(key) if memo is not None and key is not None else None
        if known is not None:
            trust, reason = known
        else:
            trust, reason = await _verify(platform, policy, item, sig, home)
            if memo is not None and key is not None:
                if len(memo) >= MEMO_ENTRIES:
                    memo.clear()
                memo[key] = (trust, reason)
        out.append(Check(item.what, trust is Trust.VERIFIED, f"{reason} ({item.signature.describe()})", trust))
    return out


Memo = dict[tuple[object, ...], tuple[Trust, str]]
"""gpgv's verdicts by (keyring, signature, file identity)."""
MEMO_ENTRIES = 1024


def _memo_key(policy: Policy, item: _Item, sig: Path) -> tuple[object, ...] | None:
    """What a verdict on ``item`` depends on: the keyring, the signature, and the
    file's identity (or the bytes' digest, for a command line or a device tree)."""
    try:
        ring = os.stat(policy.keyring)
        signature = hashlib.sha256(sig.read_bytes()).digest()  # at most MAX_SIGNATURE_BYTES
        if item.data is not None:
            st = os.stat(item.data)
            what: tuple[object, ...] = (str(item.data), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        else:
            what = (hashlib.sha256(item.text or b"").digest(),)
    except OSError:
        return None
    return (policy.keyring, ring.st_ino, ring.st_size, ring.st_mtime_ns, signature, *what)


_WORST = (Trust.TAMPERED, Trust.BAD_SIGNATURE, Trust.UNSIGNED, Trust.ERROR)


def verdict(checks: list[Check]) -> tuple[Trust, str]:
    """One option's trust state from its checks: the worst failure, with every failure's reason."""
    failed = [c for c in checks if not c.ok]
    if not failed:
        signers = sorted({c.reason for c in checks})
        return Trust.VERIFIED, "; ".join(signers)
    worst = min(failed, key=lambda c: _WORST.index(c.trust) if c.trust in _WORST else len(_WORST)).trust
    if worst not in _WORST:
        worst = Trust.ERROR
    return worst, "; ".join(f"{c.what}: {c.reason}" for c in failed)


async def apply(
    platform: Platform,
    policy: Policy,
    request: BootRequest,
    staged: resources.Staged,
    devices: Mapping[str, Device],
    work_dir: Path,
    warn: Callable[[str], None] | None = None,
) -> list[str]:
    """Check ``request`` under ``policy``: notes for the boot record; under
    ``enforce`` a failure raises :class:`~bootd.errors.SignatureRefused`."""
    if policy.mode == "off":
        return []
    checks = await check(platform, policy, request, staged, devices, work_dir)
    failed = [c for c in checks if not c.ok]
    if failed and policy.mode == "enforce":
        reasons = "; ".join(f"{c.what}: {c.reason}" for c in failed)
        raise SignatureRefused.of(
            N_("signed_boot = enforce refuses {name}: {reasons}"), name=request.option.name, reasons=reasons
        )
    notes = []
    for c in checks:
        message = f"signature {'verified' if c.ok else 'NOT verified'}: {c.what}: {c.reason}"
        notes.append(message)
        if not c.ok:
            if warn is not None:
                warn(message)  # the daemon's status message, which is logged too
            else:
                log.warning("%s", message)
    return notes
