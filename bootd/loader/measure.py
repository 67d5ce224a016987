"""Measured boot: extend the TPM's PCRs with what is about to run, before kexec.

The ``measured_boot`` setting.  Every digest is SHA-256; each event extends
one PCR of the SHA-256 bank (``PCR = SHA256(PCR || digest)``):

=====  ==============================================================  =========================
PCR    what                                                            whose rule
=====  ==============================================================  =========================
4      the kernel image (not for a UKI)                                firmware's boot-services
                                                                       application (LoadImage)
9      the initrd handed to the kernel, as one file (several initrds   the Linux EFI stub's
       concatenated, microcode first)                                  initrd measurement
11     a UKI, section by section in the canonical order (.linux        systemd-stub / the UKI
       .osrel .cmdline .initrd .ucode .splash .dtb .uname .sbat          specification
       .pcrpkey): the section name with its trailing NUL, then the
       section's contents
12     the command line, UTF-16LE with its terminating NUL (for a UKI   systemd-stub
       only when it is not the embedded one); the option's own device
       tree file (not for a UKI)
=====  ==============================================================  =========================

The device tree measured is the option's own file as read from its disk,
before bootd patches it (the patch adds fresh random seeds, which nobody can
predict).  Boot hooks run after the measurement and are not measured.

:func:`events` and :func:`predict` are pure (files in, values out): what
``bootd`` predicts and what the tests compare with ``tpm2_pcrread``.  The
extends go through the Platform's runner as ``tpm2_pcrextend`` (tpm2-tools;
``TPM2TOOLS_TCTI`` or :attr:`Tpm.tcti` chooses the TPM); a sandbox records
them.  A failed extend refuses the boot (a boot that could not be measured
must not look like one that was).  The events are written to
``tpm2-measure.log`` in the work directory as JSON-SEQ (RFC 7464) records in
the TCG canonical event log's JSON form, as systemd writes
``/run/log/systemd/tpm2-measure.log``: ``{"pcr", "digests": [{"hashAlg":
"sha256", "digest"}], "content_type": "systemd", "content": {"string",
"eventType"}}``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from bootd.errors import BootdError, CommandError
from bootd.loader import resources, verify
from bootd.model import N_, BootOption, BootRequest, Device
from bootd.parsers import _pe
from bootd.platform import Platform

log = logging.getLogger(__name__)

PCR_KERNEL = 4
PCR_INITRD = 9
PCR_UKI = 11
PCR_CONFIG = 12
UKI_SECTIONS = (".linux", ".osrel", ".cmdline", ".initrd", ".ucode", ".splash", ".dtb", ".uname", ".sbat", ".pcrpkey")
EVENT_LOG = "tpm2-measure.log"
PCREXTEND = "tpm2_pcrextend"


class MeasureError(BootdError):
    """``measured_boot`` is on and the TPM could not be extended."""


@dataclass(frozen=True)
class Tpm:
    tcti: str = ""
    """A tpm2-tools TCTI (``swtpm:host=127.0.0.1,port=2321``); '' = tpm2-tools' own choice."""


@dataclass(frozen=True)
class Event:
    pcr: int
    digest: bytes
    description: str


def _file_digest(path: Path, offset: int = 0, size: int | None = None) -> bytes:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        f.seek(offset)
        left = size
        while left is None or left > 0:
            chunk = f.read(1 << 20 if left is None else min(1 << 20, left))
            if not chunk:
                break
            h.update(chunk)
            if left is not None:
                left -= len(chunk)
    return h.digest()


def cmdline_digest(args: str) -> bytes:
    """The command line as systemd-stub measures it: UTF-16LE, NUL-terminated."""
    return hashlib.sha256((args + "\0").encode("utf-16-le")).digest()


def uki_parts(image: Path, section_ref: str | None = None) -> dict[str, bytes]:
    """The ``.cmdline`` (as the parser reads it, whitespace-joined) and the
    initrd (``.ucode`` then ``.initrd``) of a UKI's profile."""
    view = _view(image, section_ref)
    out: dict[str, bytes] = {}
    with open(image, "rb") as f:
        for name in (".cmdline", ".ucode", ".initrd"):
            section = view.sections.get(name)
            if section is not None:
                f.seek(section.offset)
                out[name] = f.read(section.size)
    return out


def _view(image: Path, section_ref: str | None) -> _pe.Profile:
    with open(image, "rb") as f:
        size = f.seek(0, 2)
        f.seek(0)
        table = _pe.section_table(f.read(_pe.HEADER_BYTES), size)
    number = None
    if section_ref is not None and section_ref.startswith("@"):
        number = int(section_ref[1:].partition(":")[0])
    views = _pe.profiles(table)
    return next((p for p in views if p.number == number), views[0])


def uki_events(image: Path, section_ref: str | None = None) -> list[Event]:
    """PCR 11 events of a Unified Kernel Image (profile ``@N`` of ``section_ref``, if any)."""
    view = _view(image, section_ref)
    out: list[Event] = []
    for name in UKI_SECTIONS:
        section = view.sections.get(name)
        if section is None or section.size == 0:
            continue
        out.append(Event(PCR_UKI, hashlib.sha256(name.encode() + b"\0").digest(), f"UKI section name {name}"))
        out.append(Event(PCR_UKI, _file_digest(image, section.offset, section.size), f"UKI section {name}"))
    return out


def _digest_all(parts: Iterable[Path | bytes]) -> bytes:
    h = hashlib.sha256()
    for path in parts:
        if isinstance(path, bytes):
            h.update(path)
            continue
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
    return h.digest()


def plan(
    *,
    kernel: Path | None = None,
    uki: Path | None = None,
    uki_ref: str | None = None,
    initrds: Iterable[Path | bytes] = (),
    args: str | None = None,
    embedded_cmdline: str | None = None,
    dtb: bytes | None = None,
    names: Mapping[str, str] | None = None,
) -> list[Event]:
    """The events of one boot from its files (see the module docstring):
    ``kernel`` or a UKI ``uki`` (profile of ``uki_ref``), the initrd the kernel
    gets as the concatenation of ``initrds``, the command line ``args`` (not
    measured for a UKI when it is ``embedded_cmdline``), the option's own
    ``dtb`` (not for a UKI).  ``names`` labels the events for people."""
    label = dict(names or {})
    out: list[Event] = []
    if uki is not None:
        out += uki_events(uki, uki_ref)
    elif kernel is not None:
        out.append(Event(PCR_KERNEL, _file_digest(kernel), f"kernel {label.get('kernel', kernel)}"))
    parts = list(initrds)
    if parts:
        out.append(Event(PCR_INITRD, _digest_all(parts), "initrd"))
    if args is not None and (uki is None or args != embedded_cmdline):
        out.append(Event(PCR_CONFIG, cmdline_digest(args), f"command line {args}"))
    if uki is None and dtb is not None:
        out.append(Event(PCR_CONFIG, hashlib.sha256(dtb).digest(), f"device tree {label.get('dtb', '')}".strip()))
    return out


def events(
    option: BootOption,
    args: str,
    staged: resources.Staged,
    devices: Mapping[str, Device],
    embedded_cmdline: str | None = None,
) -> list[Event]:
    """What booting ``option`` as staged measures, in order."""
    kernel = option.kernel
    assert kernel is not None
    uki: Path | None = None
    if kernel.section is not None and kernel.url is None:
        whole = replace(kernel, section=None)
        uki = resources.local_path(whole, option.device, devices, max_bytes=resources.MAX_IMAGE_BYTES)
    return plan(
        kernel=staged.kernel,
        uki=uki,
        uki_ref=kernel.section,
        initrds=[staged.initrd] if staged.initrd is not None else [],
        args=args,
        embedded_cmdline=embedded_cmdline,
        dtb=staged.dtb if option.dtb is not None else None,
        names={"kernel": kernel.describe(), "dtb": option.dtb.describe() if option.dtb is not None else ""},
    )


def predict(measured: Iterable[Event], start: Mapping[int, bytes] | None = None) -> dict[int, bytes]:
    """The PCR values after ``measured``, from ``start`` (all zeros after a reset)."""
    values = dict(start or {})
    for e in measured:
        values[e.pcr] = hashlib.sha256(values.get(e.pcr, bytes(32)) + e.digest).digest()
    return values


def event_log(measured: Iterable[Event]) -> bytes:
    """The events as JSON-SEQ records (see the module docstring)."""
    out = bytearray()
    for n, e in enumerate(measured):
        record = {
            "recnum": n,
            "pcr": e.pcr,
            "digests": [{"hashAlg": "sha256", "digest": e.digest.hex()}],
            "content_type": "systemd",
            "content": {"string": e.description, "eventType": "bootd"},
        }
        out += b"\x1e" + json.dumps(record).encode() + b"\n"
    return bytes(out)


async def extend(platform: Platform, tpm: Tpm, measured: Iterable[Event]) -> None:
    env = {"TPM2TOOLS_TCTI": tpm.tcti} if tpm.tcti else None
    for e in measured:
        argv = [PCREXTEND, f"{e.pcr}:sha256={e.digest.hex()}"]
        try:
            result = await platform.runner.run(argv, check=False, env=env, timeout=30.0)
        except CommandError as err:
            raise MeasureError.of(
                N_("measured_boot: {command} could not run: {error}"),
                command=PCREXTEND,
                error=err.stderr.strip() or err,
            ) from None
        if not result.ok:
            lines = (result.stderr or result.stdout).strip().splitlines()
            detail = lines[-1] if lines else f"exit status {result.returncode}"
            raise MeasureError.of(
                N_("measured_boot: PCR {pcr} could not be extended ({description}): {detail}"),
                pcr=e.pcr,
                description=e.description,
                detail=detail,
            )


async def apply(
    platform: Platform,
    tpm: Tpm,
    request: BootRequest,
    staged: resources.Staged,
    devices: Mapping[str, Device],
    work_dir: Path,
) -> list[str]:
    """Measure ``request`` into the TPM and write the event log; a note for the boot record."""
    option = request.option
    args = request.args if request.args is not None else option.args
    embedded = await asyncio.to_thread(verify.embedded_cmdline, option, devices, work_dir)
    try:
        measured = await asyncio.to_thread(events, option, args, staged, devices, embedded)
    except (OSError, _pe.PeError) as e:
        raise MeasureError.of(
            N_("measured_boot: {name} cannot be measured: {error}"), name=option.name, error=e
        ) from None
    await extend(platform, tpm, measured)
    path = work_dir / EVENT_LOG
    await asyncio.to_thread(path.write_bytes, event_log(measured))
    pcrs = ", ".join(str(p) for p in sorted({e.pcr for e in measured}))
    return [f"measured {len(measured)} events into PCR {pcrs} (event log {path})"]
