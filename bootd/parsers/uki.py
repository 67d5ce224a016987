"""Unified Kernel Images: Boot Loader Specification type #2 entries.

Every ``*.efi`` file in ``/EFI/Linux/`` (any letter case, as on FAT; also
``/boot/EFI/Linux/`` where the ESP is mounted below a root filesystem) whose
PE sections hold a ``.linux`` kernel and an ``.osrel`` is one entry, read the
way systemd-boot reads it:

* title: ``PRETTY_NAME`` of the embedded os-release, else ``NAME``, else
  ``ID``, else the file name; version: ``IMAGE_VERSION``, else ``VERSION``,
  else ``VERSION_ID``, else ``BUILD_ID``; sort key: ``IMAGE_ID``, else ``ID``;
* the command line is the ``.cmdline`` section; the kernel is ``.linux``, the
  initrds ``.ucode`` then ``.initrd``, the device tree the first ``.dtb``, each
  a :class:`~bootd.model.Resource` naming its section of the file (the loader
  copies it out at boot time);
* multi-profile images give one entry per ``.profile`` (``@0``, ``@1``, …),
  titled with the profile's ``TITLE`` (else ``ID``); ``@0`` is the one the
  stub boots unattended;
* boot counting in the file name (``NAME+LEFT-DONE.efi``) and the menu order
  are those of type #1 entries (:func:`bootd.parsers._bls_entry.sort_entries`);
* an image whose ``.linux`` is a PE kernel built for another architecture is
  hidden, with a note (the stub's own architecture does not matter to kexec).

Only the PE headers and the small text sections are read while scanning
(:mod:`bootd.parsers._pe`), never the kernel or initrd.

:mod:`bootd.parsers.bls` lists these images in one menu with the type #1
entries of the same partition, as the specification says a boot loader
does: one order, one ``loader.conf`` default (which names an image as
``NAME.efi``).  Type #1 entries that name an image with ``uki PATH`` (or an
``efi PATH`` that holds a ``.linux``) become options here too
(:func:`image_options`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import PurePosixPath

from bootd.model import N_, BootOption, Diagnostic, Record, Resource, Severity, Source, record
from bootd.parsers import ParseContext, _pe, paths
from bootd.parsers._bls_entry import BlsEntry, parse_entry
from bootd.parsers._text import Finder
from bootd.parsers.view import DeviceView, ViewError, normalize

_set = object.__setattr__

log = logging.getLogger(__name__)

DIRECTORIES: tuple[str, ...] = paths.UKI_DIRECTORIES
MAX_IMAGES = 256
"""The most images read from one directory."""
MAX_TEXT_BYTES = 64 * 1024
"""The most bytes read of a text section (``.osrel``, ``.cmdline``, ``.uname``, ``.profile``)."""


@record
class Image(Record):
    """One image's headers and text sections, as read while scanning."""

    path: PurePosixPath
    sections: tuple[_pe.Section, ...]
    osrel: dict[str, str]
    arch: str | None
    """The architecture of the ``.linux`` kernel, when it is a PE file."""

    def __init__(
        self,
        path: PurePosixPath,
        sections: tuple[_pe.Section, ...],
        osrel: dict[str, str],
        arch: str | None,
    ) -> None:
        _set(self, "path", path)
        _set(self, "sections", sections)
        _set(self, "osrel", osrel)
        _set(self, "arch", arch)

    def text(self, view: DeviceView, section: _pe.Section | None) -> str:
        if section is None:
            return ""
        data = view.read_range(self.path, section.offset, min(section.size, MAX_TEXT_BYTES))
        return data.split(b"\0", 1)[0].decode("utf-8", errors="replace")


def read_image(view: DeviceView, path: PurePosixPath) -> Image:
    """The sections of one file; :class:`_pe.PeError` or :class:`ViewError` with
    the reason when it is not a usable Unified Kernel Image."""
    size = view.size(path)
    if size is None:
        raise ViewError(f"{path}: no such file")
    header = view.read_range(path, 0, min(size, _pe.HEADER_BYTES))
    sections = _pe.section_table(header, size)
    names = {s.name for s in sections}
    if ".linux" not in names:
        raise _pe.PeError("no .linux section: an EFI program, not a unified kernel image")
    base = _pe.profiles(sections)[0].sections
    linux = base[".linux"]
    arch = _pe.machine(view.read_range(path, linux.offset, min(linux.size, 4096)))
    osrel_section = base.get(".osrel")
    image = Image(path, sections, {}, arch)
    osrel = _pe.key_values(image.text(view, osrel_section)) if osrel_section else {}
    return Image(path, sections, osrel, arch)


def _first(values: dict[str, str], *keys: str) -> str | None:
    return next((values[k] for k in keys if values.get(k)), None)


def image_options(
    view: DeviceView,
    ctx: ParseContext,
    image: Image,
    *,
    entry_id: str,
    title: str,
    args: str | None = None,
    diags: list[Diagnostic],
) -> list[BootOption]:
    """One option per profile of ``image`` (``args``: a type #1 entry's own
    ``options``, which replace an image's missing ``.cmdline``)."""
    if image.arch is not None and image.arch != ctx.arch:
        diags.append(
            Diagnostic.of(
                Severity.INFO,
                N_("kernel for {architecture} hidden on this {arch} machine"),
                str(image.path),
                architecture=image.arch,
                arch=ctx.arch,
            )
        )
        return []
    out: list[BootOption] = []
    for profile in _pe.profiles(image.sections):
        secs = profile.sections
        meta = _pe.key_values(image.text(view, secs.get(".profile"))) if profile.number is not None else {}
        cmdline = " ".join(image.text(view, secs.get(".cmdline")).split()) if ".cmdline" in secs else None
        name = title
        label = _first(meta, "TITLE", "ID")
        if profile.number is not None:
            name = f"{title} ({label})" if label else f"{title} (@{profile.number})"

        def part(section: str, profile: _pe.Profile = profile) -> Resource:
            return Resource(path=image.path, section=profile.ref(section))

        props = [("uki-cmdline", "embedded" if cmdline is not None else "none")]
        if image.osrel.get("ID"):
            props.append(("os-release-id", image.osrel["ID"]))
        if ".uname" in secs:
            props.append(("uname", image.text(view, secs[".uname"]).strip()))
        if profile.number is not None:
            props.append(("uki-profile", str(profile.number)))
        out.append(
            BootOption(
                id="",
                device=view.device.id,
                name=name,
                kernel=part(".linux"),
                initrds=tuple(part(s) for s in (".ucode", ".initrd") if s in secs),
                dtb=part(".dtb") if ".dtb" in secs else None,
                args=cmdline if cmdline is not None else (args or ""),
                source=Source.UKI,
                entry_id=entry_id if profile.number is None else f"{entry_id}@{profile.number}",
                properties=tuple(props),
            )
        )
    return out


def image_files(view: DeviceView) -> list[PurePosixPath]:
    """The ``*.efi`` files of the type #2 directories, first directory first."""
    out: list[PurePosixPath] = []
    seen: set[str] = set()
    listed = Finder(view)  # rules out, from one listing a directory, those that cannot be there
    for directory in DIRECTORIES:
        real = None if listed.absent(directory) else view.find(directory)
        if real is None or not view.is_dir(real):
            continue
        names = [n for n in view.listdir(real) if n.lower().endswith(".efi")]
        for name in names[:MAX_IMAGES]:
            if name.lower() not in seen:
                seen.add(name.lower())
                out.append(normalize(f"{real}/{name}"))
    return out


def as_entry(image: Image) -> BlsEntry:
    """The type #1 view of an image, for the specification's menu order."""
    base = parse_entry("", image.path.name[:-4] + ".conf", path=str(image.path), directory=str(image.path.parent))
    osrel = image.osrel
    return BlsEntry(
        file_stem=base.file_stem,
        title=_first(osrel, "PRETTY_NAME", "NAME", "ID"),
        version=_first(osrel, "IMAGE_VERSION", "VERSION", "VERSION_ID", "BUILD_ID"),
        sort_key=_first(osrel, "IMAGE_ID", "ID"),
        tries_left=base.tries_left,
        tries_done=base.tries_done,
        path=str(image.path),
        directory=str(image.path.parent),
    )


def read_images(
    view: DeviceView, files: Sequence[PurePosixPath], diags: list[Diagnostic]
) -> list[tuple[Image, BlsEntry]]:
    found: list[tuple[Image, BlsEntry]] = []
    for path in files:
        try:
            image = read_image(view, path)
        except (_pe.PeError, ViewError) as e:
            diags.append(Diagnostic.of(Severity.INFO, N_("skipped: {error}"), str(path), error=e))
            continue
        if not image.osrel:
            diags.append(
                Diagnostic.of(Severity.INFO, N_("skipped: no .osrel section (systemd-boot lists none)"), str(path))
            )
            continue
        found.append((image, as_entry(image)))
    return found
