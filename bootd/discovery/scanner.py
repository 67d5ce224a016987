"""From a mounted filesystem to boot options, and ``bootd scan`` on images and
block devices.

:func:`parse_view` runs every parser on one device in a worker process of
the platform's :class:`~bootd.platform.parse_pool.ParsePool`, with CPU,
memory and wall-clock limits, so one device whose files are slow or hostile
cannot hold up the others, and is killed when its device goes away.
:func:`mounted_sources` attaches image files read-only on loop devices
(partitions too), mounts block devices read-only and cleans all of it up
afterwards.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import tempfile
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path, PurePosixPath

from bootd.discovery.mounts import Mounter
from bootd.discovery.udev import to_device
from bootd.errors import BootdError
from bootd.jsoncodec import device_to_json, result_from_json
from bootd.model import N_, Device, Diagnostic, ParseResult, Severity, Text
from bootd.parsers import ParseContext
from bootd.parsers.view import DirectoryView
from bootd.platform import Platform
from bootd.platform.block import BlockDevice, LoopDevice
from bootd.platform.parse_pool import ParseFailed, ParsePool

log = logging.getLogger(__name__)

PARSE_TIMEOUT = 15.0
"""Seconds the parsers may spend on one device before it is given up."""

Status = Callable[[Severity, str | Text], None]
"""Where a scan reports a source it skips: a :class:`Text` a client translates."""


CANNOT_START = N_("cannot start its parser: {error}")


async def parse_view(
    view: DirectoryView, ctx: ParseContext, *, pool: ParsePool, timeout: float = PARSE_TIMEOUT
) -> ParseResult:
    """Every parser on ``view``, in a worker process, within ``timeout``
    seconds; never raises (apart from cancellation, which kills the worker)."""
    others = [
        {"root": str(v.root), "device": device_to_json(v.device)}
        for v in ctx.others.values()
        if isinstance(v, DirectoryView) and v.device.id != view.device.id
    ]
    request = {
        "root": str(view.root),
        "device": device_to_json(view.device),
        "others": others,
        "arch": ctx.arch,
        "firmware": ctx.firmware,
    }
    try:
        return result_from_json(await pool.parse(request, timeout=timeout))
    except ParseFailed as e:
        return ParseResult(
            diagnostics=(Diagnostic(Severity.ERROR, e.text.text, None, None, e.text.template, e.text.args),)
        )
    except OSError as e:
        return ParseResult(diagnostics=(Diagnostic.of(Severity.ERROR, CANNOT_START, error=e.strerror or e),))
    except BootdError as e:
        return ParseResult(diagnostics=(Diagnostic.of(Severity.ERROR, CANNOT_START, error=e),))


def _log_status(severity: Severity, message: str | Text) -> None:
    level = {Severity.INFO: logging.INFO, Severity.WARNING: logging.WARNING}.get(severity, logging.ERROR)
    log.log(level, "%s", message)


def _scan_root() -> Path:
    base = Path("/run/bootd") if os.geteuid() == 0 else Path(tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="scan-" if base.name == "bootd" else "bootd-scan-", dir=base))


def _source_id(image: Path, node: str, whole: str) -> str:
    """``disk.img`` for a filesystem image, ``disk.img-p2`` for its second partition."""
    if node == whole:
        return image.name
    return f"{image.name}-p{node[len(whole) :].lstrip('p')}"


def _source_label(image: Path, node: str, whole: str) -> str | Text:
    """How a user knows the filesystem: ``disk.img``, or ``disk.img partition 2 (/dev/loop64p2)``."""
    if node == whole:
        return str(image)
    return Text.of(
        N_("{image} partition {number} ({node})"), image=image, number=node[len(whole) :].lstrip("p"), node=node
    )


@asynccontextmanager
async def mounted_sources(
    platform: Platform, paths: Sequence[Path], *, status: Status | None = None
) -> AsyncIterator[list[DirectoryView]]:
    """One read-only :class:`DirectoryView` per filesystem found in ``paths``.

    An image file is attached read-only on a new loop device and each of its
    partitions (or the whole image, when it holds a filesystem itself) is
    mounted; a block device node is mounted as it is (a whole disk: its
    partitions).  A directory is viewed as it is.  Everything is unmounted and
    detached on exit, also on error or cancellation.
    """
    report = status or _log_status
    block = platform.block
    mount_root = _scan_root()
    mounter = Mounter(block, mount_root)
    loops: list[LoopDevice] = []
    views: list[DirectoryView] = []
    try:
        for path in paths:
            try:
                st = path.stat()
            except OSError as e:
                raise BootdError(f"{path}: {e.strerror}") from None
            if stat.S_ISDIR(st.st_mode):
                views.append(DirectoryView(path, Device(id=path.name or "root", mountpoint=PurePosixPath(path))))
                continue
            if stat.S_ISREG(st.st_mode):
                loop = await block.attach_loop(path.resolve())
                loops.append(loop)
                whole = loop.node
                name_for = path
            elif stat.S_ISBLK(st.st_mode):
                whole = str(path)
                name_for = None
            else:
                raise BootdError.of(N_("{path}: not a directory, image file or block device"), path=path)
            nodes = block.partitions(whole) or [whole]
            for node in nodes:
                where = node if name_for is None else _source_label(name_for, node, whole)
                bdev = await block.probe(node)
                if bdev is None or not bdev.fstype:
                    report(Severity.WARNING, Text.of(N_("{where}: no filesystem found; skipped"), where=where))
                    continue
                if name_for is not None:
                    bdev = replace(bdev, name=_source_id(name_for, node, whole))
                views.extend(await _mount_view(mounter, bdev, report, where))
        yield views
    finally:
        await asyncio.shield(_cleanup(platform, mounter, loops, mount_root))


async def _mount_view(mounter: Mounter, bdev: BlockDevice, report: Status, where: str | Text) -> list[DirectoryView]:
    try:
        m = await mounter.mount(bdev)
    except BootdError as e:
        report(Severity.WARNING, Text.of(N_("{where}: {error}; skipped"), where=where, error=e))
        return []
    device = replace(to_device(bdev), mountpoint=PurePosixPath(m.root))
    return [DirectoryView(m.root, device)]


async def _cleanup(platform: Platform, mounter: Mounter, loops: list[LoopDevice], mount_root: Path) -> None:
    await mounter.unmount_all()
    for loop in reversed(loops):
        try:
            await platform.block.detach_loop(loop)
        except BootdError as e:
            log.warning("could not detach %s: %s", loop.node, e)
    try:
        mount_root.rmdir()
    except OSError as e:
        log.warning("could not remove %s: %s", mount_root, e.strerror)
