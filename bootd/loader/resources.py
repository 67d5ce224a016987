"""Resolve an option's kernel, initrds and DTB to files the loader can use.

A resource is a path on the option's own device, a path on another device
(by id, or by UUID/label once that device is known) or a URL.  Device paths
are resolved inside the device's mountpoint (``..`` and symbolic links may not
lead out of it); URLs are fetched into the work directory with
:func:`bootd.loader.download.fetch` (size cap, timeout, progress).  Several
initrds are concatenated into one file, as GRUB does.  A resource that names
a PE section (the parts of a Unified Kernel Image) is copied out of its image
into the work directory.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from bootd.errors import ResourceError, ResourceNotFound
from bootd.model import N_, BootOption, Device, Resource, Text, Transfer
from bootd.parsers import _pe
from bootd.parsers.isoview import LOADER_CPU_SECONDS, ImageError, open_view
from bootd.parsers.view import DirectoryView, ViewError

log = logging.getLogger(__name__)

MAX_KERNEL_BYTES = 512 * 1024 * 1024
MAX_INITRD_BYTES = 2 * 1024 * 1024 * 1024
MAX_DTB_BYTES = 16 * 1024 * 1024
MAX_IMAGE_BYTES = MAX_KERNEL_BYTES + MAX_INITRD_BYTES
"""A Unified Kernel Image holds a kernel and an initrd (and small sections)."""
MAX_ISO_BYTES = 64 * 1024 * 1024 * 1024
"""The largest ISO9660 image files are taken from (only its directories and
the one file are read)."""
FETCH_TIMEOUT = 120.0

Progress = Callable[[Text, float], None]
Downloading = Callable[[Text, float, Transfer], None]
"""``downloading(step, fraction, transfer)``: a download's bytes, rate and time left."""


@dataclass(frozen=True)
class Staged:
    kernel: Path
    initrd: Path | None
    dtb: bytes | None
    """The option's own DTB, when it has one."""


def find_device(resource: Resource, option_device: str, devices: Mapping[str, Device]) -> Device:
    """The device a path resource lives on."""
    if resource.device is not None:
        dev = devices.get(resource.device)
        if dev is None:
            raise ResourceError.of(
                N_("{resource}: device {device} is not present"), resource=resource.describe(), device=resource.device
            )
        return dev
    if resource.selector is not None:
        dev = next((d for d in devices.values() if d.matches(resource.selector)), None)
        if dev is None:
            raise ResourceError.of(
                N_("{resource}: no device with {selector} is present"),
                resource=resource.describe(),
                selector=resource.selector,
            )
        return dev
    dev = devices.get(option_device)
    if dev is None:
        raise ResourceError.of(
            N_("{resource}: device {device} is not present"), resource=resource.describe(), device=option_device
        )
    return dev


def local_path(resource: Resource, option_device: str, devices: Mapping[str, Device], *, max_bytes: int) -> Path:
    """The real path of a device resource, confined to the device's root."""
    dev = find_device(resource, option_device, devices)
    if dev.mountpoint is None:
        raise ResourceError.of(
            N_("{resource}: device {device} is not mounted"), resource=resource.describe(), device=dev.id
        )
    if resource.path is None:
        raise ResourceError.of(N_("{resource}: no path"), resource=resource.describe())
    root = Path(str(dev.mountpoint))
    try:
        real = DirectoryView(root, dev)._resolve(resource.path)
    except ViewError as e:
        raise ResourceError.of(N_("{resource}: {error}"), resource=resource.describe(), error=e) from None
    try:
        st = os.stat(real)
        inside = os.path.realpath(real).startswith(os.path.realpath(root).rstrip("/") + "/")
    except OSError:
        raise ResourceNotFound.of(
            N_("{resource}: no such file on {device}"), resource=resource.describe(), device=dev.title
        ) from None
    if not inside:
        raise ResourceError.of(
            N_("{resource}: the path leads outside its device; refused"), resource=resource.describe()
        )
    if not stat.S_ISREG(st.st_mode):
        raise ResourceError.of(N_("{resource}: not a regular file"), resource=resource.describe())
    if st.st_size > max_bytes:
        raise ResourceError.of(
            N_("{resource}: {size} bytes is more than the {limit}-byte limit"),
            resource=resource.describe(),
            size=st.st_size,
            limit=max_bytes,
        )
    return real


async def fetch_one(
    resource: Resource,
    option_device: str,
    devices: Mapping[str, Device],
    work_dir: Path,
    name: str,
    *,
    max_bytes: int,
    progress: Callable[[float], None] | None = None,
    downloading: Callable[[float, Transfer], None] | None = None,
) -> Path:
    """A file holding ``resource``: its confined path on a device, or a download
    (``progress`` gets the fraction downloaded, when the size is known;
    ``downloading`` every report with the fraction and the bytes, rate and time left)."""
    if resource.url is None and resource.inside is not None:
        image = local_path(resource, option_device, devices, max_bytes=MAX_ISO_BYTES)
        return await asyncio.to_thread(extract_inside, image, resource, work_dir / name, max_bytes=max_bytes)
    if resource.url is None and resource.section is not None:
        image = local_path(resource, option_device, devices, max_bytes=MAX_IMAGE_BYTES)
        return await asyncio.to_thread(extract_section, image, resource, work_dir / name, max_bytes=max_bytes)
    if resource.url is None:
        return local_path(resource, option_device, devices, max_bytes=max_bytes)
    from bootd.loader import download  # urllib/ssl load only when something is downloaded

    dest = work_dir / name

    def step(report: Transfer) -> None:
        fraction = report.fraction or 0.0
        if downloading is not None:
            downloading(fraction, report)
        if progress is not None and report.total:
            progress(fraction)

    await download.fetch(resource.url, dest, max_bytes=max_bytes, timeout=FETCH_TIMEOUT, progress=step)
    return dest


def extract_section(image: Path, resource: Resource, dest: Path, *, max_bytes: int) -> Path:
    """Copy the PE section ``resource.section`` of a Unified Kernel Image into
    ``dest``; the section table is read again from the file itself, so what is
    booted is what the image holds now."""
    assert resource.section is not None
    try:
        with open(image, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            table = _pe.section_table(f.read(_pe.HEADER_BYTES), size)
            section = _pe.find_section(table, resource.section)
            if section.size > max_bytes:
                raise ResourceError.of(
                    N_("{resource}: {size} bytes is more than the {limit}-byte limit"),
                    resource=resource.describe(),
                    size=section.size,
                    limit=max_bytes,
                )
            f.seek(section.offset)
            left = section.size
            with open(dest, "wb") as out:
                while left:
                    chunk = f.read(min(1 << 20, left))
                    if not chunk:
                        raise ResourceError.of(
                            N_("{resource}: the image ends inside the section"), resource=resource.describe()
                        )
                    out.write(chunk)
                    left -= len(chunk)
    except _pe.PeError as e:
        raise ResourceError.of(N_("{resource}: {error}"), resource=resource.describe(), error=e) from None
    except OSError as e:
        raise ResourceError.of(N_("{resource}: {error}"), resource=resource.describe(), error=e.strerror) from None
    return dest


def extract_inside(image: Path, resource: Resource, dest: Path, *, max_bytes: int) -> Path:
    """Copy the file ``resource.inside`` of the ISO9660 image ``image`` into
    ``dest``; the image is read again now, so what is booted is what it holds."""
    assert resource.inside is not None and resource.path is not None
    try:
        with open(image, "rb") as f:
            fd = f.fileno()
            size = os.fstat(fd).st_size

            def read_at(offset: int, length: int) -> bytes:
                return os.pread(fd, length, offset)

            view = open_view(Device(id="image"), resource.path, read_at, size, cpu_seconds=LOADER_CPU_SECONDS)
            with open(dest, "wb") as out:
                view.copy_to(resource.inside, out, max_bytes=max_bytes)
    except (ImageError, ViewError) as e:
        raise ResourceError.of(N_("{resource}: {error}"), resource=resource.describe(), error=e) from None
    except OSError as e:
        raise ResourceError.of(N_("{resource}: {error}"), resource=resource.describe(), error=e.strerror) from None
    return dest


def concatenate(parts: list[Path], dest: Path, *, max_bytes: int) -> Path:
    """Write ``parts`` one after the other into ``dest`` (several initrds → one)."""
    total = 0
    with open(dest, "wb") as out:
        for part in parts:
            with open(part, "rb") as f:
                while chunk := f.read(1 << 20):
                    total += len(chunk)
                    if total > max_bytes:
                        raise ResourceError.of(
                            N_("the initrds together are larger than the {limit}-byte limit"), limit=max_bytes
                        )
                    out.write(chunk)
    return dest


async def stage(
    option: BootOption,
    devices: Mapping[str, Device],
    work_dir: Path,
    progress: Progress | None = None,
    downloading: Downloading | None = None,
) -> Staged:
    """Resolve (and fetch) everything ``option`` needs to boot; ``progress``
    gets each step and the fraction of the staging done, ``downloading`` each
    download's reports (with the same step and fraction)."""
    if option.kernel is None:
        raise ResourceError.of(N_("{name}: the option has no kernel"), name=option.name)
    work_dir.mkdir(parents=True, exist_ok=True)
    # One stage per file, announced once; the fraction (of all the staging) only grows.
    count = 1 + len(option.initrds) + (option.dtb is not None)
    done = 0

    async def load(what: str, res: Resource, name: str, max_bytes: int) -> Path:
        """``what``: the step's template (its ``{resource}`` is the file's place)."""
        nonlocal done
        label = Text.of(what, resource=res.describe())
        start = done
        if progress:
            progress(label, start / count)

        def step(fraction: float) -> None:
            if progress:
                progress(label, (start + fraction) / count)

        def transfer(fraction: float, report: Transfer) -> None:
            if downloading:
                downloading(label, (start + fraction) / count, report)

        path = await fetch_one(
            res, option.device, devices, work_dir, name, max_bytes=max_bytes, progress=step, downloading=transfer
        )
        done += 1
        return path

    kernel = await load(N_("Loading kernel {resource}"), option.kernel, "kernel", MAX_KERNEL_BYTES)
    parts = [
        await load(N_("Loading initrd {resource}"), res, f"initrd-{i}", MAX_INITRD_BYTES)
        for i, res in enumerate(option.initrds)
    ]
    initrd: Path | None = parts[0] if len(parts) == 1 else None
    if len(parts) > 1:
        initrd = await asyncio.to_thread(concatenate, parts, work_dir / "initrd", max_bytes=MAX_INITRD_BYTES)
    dtb: bytes | None = None
    if option.dtb is not None:
        path = await load(N_("Loading device tree {resource}"), option.dtb, "entry.dtb", MAX_DTB_BYTES)
        try:
            dtb = await asyncio.to_thread(path.read_bytes)
        except OSError as e:
            raise ResourceError.of(
                N_("{resource}: {error}"), resource=option.dtb.describe(), error=e.strerror
            ) from None
    return Staged(kernel, initrd, dtb)
