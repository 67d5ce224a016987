"""PE/COFF section tables of Unified Kernel Images, read with ``pefile``.

Only the headers are parsed here (at most :data:`HEADER_BYTES` of the file);
section contents are read by the caller, range by range, so a 100 MB image
costs a few kilobytes to list.  What a section holds follows the UKI
specification: its bytes start at ``PointerToRawData``; its length is the
``VirtualSize`` (what ``objcopy --add-section`` and ukify write as the real
size) when that is set and not larger than ``SizeOfRawData`` (the size padded
to the file alignment), else ``SizeOfRawData``.

Multi-profile images: every ``.profile`` section starts a profile (``@0``,
``@1``, …); the sections before the first one are the base profile, and a
profile sees its own sections, else the base profile's.  An image without
``.profile`` sections has one profile, the base.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bootd.model import Record, record

_set = object.__setattr__

HEADER_BYTES = 64 * 1024
"""The most bytes of a file read for its PE headers and section table."""

MAX_SECTIONS = 96
"""PE/COFF's own limit on the number of sections."""

MACHINES: Mapping[int, str] = {
    0x8664: "x86_64",
    0x014C: "i686",
    0xAA64: "aarch64",
    0x01C4: "armv7l",
    0x5064: "riscv64",
    0x6264: "loongarch64",
}
"""PE ``Machine`` values as ``uname -m`` names."""

_SECTION_REF = re.compile(r"^(?:@(?P<profile>\d{1,4}):)?(?P<name>\.[a-z0-9]{1,7})$")


class PeError(Exception):
    """Not a PE file, or one whose headers do not fit the file."""


@record
class Section(Record):
    name: str
    offset: int
    size: int

    def __init__(self, name: str, offset: int, size: int) -> None:
        _set(self, "name", name)
        _set(self, "offset", offset)
        _set(self, "size", size)


@dataclass(frozen=True)
class Profile:
    """What one profile of an image sees."""

    number: int | None
    """``None`` for an image without profiles."""
    sections: Mapping[str, Section] = field(default_factory=dict)
    """The first section of each name this profile sees (own, else base)."""
    own: frozenset[str] = frozenset()
    """Names of the sections this profile defines itself."""

    def ref(self, name: str) -> str:
        """The :attr:`~bootd.model.Resource.section` text of ``name`` here."""
        return name if self.number is None or name not in self.own else f"@{self.number}:{name}"


def is_pe(header: bytes) -> bool:
    if len(header) < 0x40 or header[:2] != b"MZ":
        return False
    pe_at = int.from_bytes(header[0x3C:0x40], "little")
    return 0 < pe_at <= len(header) - 4 and header[pe_at : pe_at + 4] == b"PE\0\0"


def machine(header: bytes) -> str | None:
    """The ``uname -m`` name of a PE file's ``Machine`` field, when it is one."""
    if not is_pe(header):
        return None
    pe_at = int.from_bytes(header[0x3C:0x40], "little")
    if pe_at + 6 > len(header):
        return None
    return MACHINES.get(int.from_bytes(header[pe_at + 4 : pe_at + 6], "little"))


def section_table(header: bytes, file_size: int) -> tuple[Section, ...]:
    """The sections of a PE file in file order, from its first bytes.

    Raises :class:`PeError` with a reason for anything that is not a PE file
    whose sections lie inside ``file_size`` bytes."""
    if not is_pe(header):
        raise PeError("not a PE/COFF file (no MZ and PE signatures)")
    import pefile  # only where an image is looked at: its import costs ~20 ms

    try:
        pe = pefile.PE(data=header, fast_load=True)
    except pefile.PEFormatError as e:
        raise PeError(f"malformed PE headers: {e.value}") from None
    except Exception as e:  # pefile's own checks stop at struct and index errors on hostile input
        raise PeError(f"malformed PE headers: {type(e).__name__}") from None
    try:
        declared = int(pe.FILE_HEADER.NumberOfSections)
        if declared > MAX_SECTIONS:
            raise PeError(f"{declared} sections (PE allows {MAX_SECTIONS})")
        if len(pe.sections) < declared:
            raise PeError(f"section table truncated ({len(pe.sections)} of {declared} sections readable)")
        out: list[Section] = []
        for s in pe.sections:
            name = bytes(s.Name).rstrip(b"\0").decode("ascii", errors="replace")
            raw, virtual, offset = int(s.SizeOfRawData), int(s.Misc_VirtualSize), int(s.PointerToRawData)
            size = virtual if 0 < virtual <= raw else raw
            if offset + size > file_size:
                raise PeError(f"section {name} ({size} bytes at {offset}) lies beyond the end of the file")
            out.append(Section(name, offset, size))
        return tuple(out)
    finally:
        pe.close()


def profiles(sections: Sequence[Section]) -> list[Profile]:
    """The profiles of an image, in order (one when it has none)."""
    base: dict[str, Section] = {}
    groups: list[dict[str, Section]] = []
    for s in sections:
        if s.name == ".profile":
            groups.append({".profile": s})
            continue
        target = groups[-1] if groups else base
        target.setdefault(s.name, s)
    if not groups:
        return [Profile(None, base, frozenset(base))]
    return [Profile(i, {**base, **own}, frozenset(own)) for i, own in enumerate(groups)]


def find_section(sections: Sequence[Section], ref: str) -> Section:
    """The section a :attr:`~bootd.model.Resource.section` text names: the
    first of that name in the base profile, or in profile ``@N``'s own part."""
    m = _SECTION_REF.match(ref)
    if m is None:
        raise PeError(f"{ref!r} names no PE section")
    name = m.group("name")
    wanted = int(m.group("profile")) if m.group("profile") is not None else None
    current: int | None = None
    count = 0
    for s in sections:
        if s.name == ".profile":
            current, count = count, count + 1
        elif s.name == name and current == wanted:
            return s
    raise PeError(f"the image has no {ref} section")


def key_values(text: str) -> dict[str, str]:
    """``KEY=value`` lines as os-release(5) writes them (``.osrel``, ``.profile``):
    quotes removed, backslash escapes in double quotes honoured."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip()
        if not key.replace("_", "").isalnum():
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            quote, value = value[0], value[1:-1]
            if quote == '"':
                value = re.sub(r"\\(.)", r"\1", value)
        out.setdefault(key, value)
    return out
