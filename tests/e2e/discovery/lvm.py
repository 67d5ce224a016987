"""An LVM2 physical volume written as a plain file, without lvm2 or a loop device.

The test machine's kernel has no device-mapper, and a physical volume that
appears on one of its loop devices is picked up by the machine's own udev
rules (lvm2 autoactivation, which writes to its ``/etc/lvm``).  So the disk
image is written here, in the on-disk format lvm2 2.03 writes: the label in
sector 1, one metadata area at 4 KiB holding the volume group's text
metadata, extents from 1 MiB.  The guest's lvm2 reads it; bootd activating
it there is what proves it right.
"""

from __future__ import annotations

import secrets
import string
import struct
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

SECTOR = 512
MDA_START = 4096
PE_START = 1 << 20
EXTENT = 4 << 20
INITIAL_CRC = 0xF597A6CF
MDA_MAGIC = b" LVM2 x[5A%r0N*>"
_UUID_CHARS = string.ascii_letters + string.digits


def lvm_crc(data: bytes, initial: int = INITIAL_CRC) -> int:
    """lvm2's checksum: CRC-32 (reflected, 0xEDB88320) from ``initial``, without the final inversion."""
    return zlib.crc32(data, initial ^ 0xFFFFFFFF) ^ 0xFFFFFFFF


def _uuid() -> str:
    """32 characters; the metadata text shows them as 6-4-4-4-4-4-6 groups."""
    return "".join(secrets.choice(_UUID_CHARS) for _ in range(32))


def _dashed(uuid: str) -> str:
    cuts = (6, 4, 4, 4, 4, 4, 6)
    parts, i = [], 0
    for n in cuts:
        parts.append(uuid[i : i + n])
        i += n
    return "-".join(parts)


@dataclass(frozen=True)
class Layout:
    """Where the logical volume's data lies in the image (bytes)."""

    offset: int
    size: int


def _metadata(vg: str, lv: str, *, pv_uuid: str, dev_bytes: int, pe_count: int, lv_extents: int) -> bytes:
    now = int(time.time())
    text = f"""{vg} {{
id = "{_dashed(_uuid())}"
seqno = 1
format = "lvm2"
status = ["RESIZEABLE", "READ", "WRITE"]
flags = []
extent_size = {EXTENT // SECTOR}
max_lv = 0
max_pv = 0
metadata_copies = 0

physical_volumes {{

pv0 {{
id = "{_dashed(pv_uuid)}"
device = "/dev/vda"

status = ["ALLOCATABLE"]
flags = []
dev_size = {dev_bytes // SECTOR}
pe_start = {PE_START // SECTOR}
pe_count = {pe_count}
}}
}}

logical_volumes {{

{lv} {{
id = "{_dashed(_uuid())}"
status = ["READ", "WRITE", "VISIBLE"]
flags = []
creation_time = {now}
creation_host = "bootd-test"
segment_count = 1

segment1 {{
start_extent = 0
extent_count = {lv_extents}

type = "striped"
stripe_count = 1

stripes = [
"pv0", 0
]
}}
}}
}}

}}

contents = "Text Format Volume Group"
version = 1

description = "bootd test image"

creation_host = "bootd-test"
creation_time = {now}

"""
    return text.encode() + b"\0"


def write_physical_volume(path: Path, *, vg: str, lv: str, disk_mb: int, lv_mb: int) -> Layout:
    """Make ``path`` a ``disk_mb`` MiB disk that is one physical volume of ``vg``, with one linear
    logical volume ``lv`` of ``lv_mb`` MiB at its first extent (its data left zero)."""
    dev_bytes = disk_mb << 20
    pe_count = (dev_bytes - PE_START) // EXTENT
    lv_extents = (lv_mb << 20) // EXTENT
    if lv_extents < 1 or lv_extents > pe_count or (lv_mb << 20) % EXTENT:
        raise ValueError(f"a {lv_mb} MiB volume does not fit {pe_count} extents of 4 MiB")
    pv_uuid = _uuid()
    mda_size = PE_START - MDA_START

    # sector 1: label header, then the PV header with its data and metadata areas
    pv = pv_uuid.encode() + struct.pack("<Q", dev_bytes)
    pv += struct.pack("<QQ", PE_START, 0) + bytes(16)  # data areas: one, from pe_start to the end
    pv += struct.pack("<QQ", MDA_START, mda_size) + bytes(16)  # metadata areas: one
    pv += struct.pack("<II", 2, 1) + bytes(16)  # extension v2, flags: in a VG; no bootloader area
    body = struct.pack("<I", 32) + b"LVM2 001" + pv
    body += bytes(SECTOR - 20 - len(body))
    label = b"LABELONE" + struct.pack("<QI", 1, lvm_crc(body)) + body

    text = _metadata(vg, lv, pv_uuid=pv_uuid, dev_bytes=dev_bytes, pe_count=pe_count, lv_extents=lv_extents)
    text_offset = SECTOR  # relative to the metadata area
    locn = struct.pack("<QQII", text_offset, len(text), lvm_crc(text), 0) + bytes(24)
    rest = MDA_MAGIC + struct.pack("<IQQ", 1, MDA_START, mda_size) + locn
    rest += bytes(SECTOR - 4 - len(rest))
    mda_header = struct.pack("<I", lvm_crc(rest)) + rest

    with path.open("wb") as f:
        f.truncate(dev_bytes)
        f.seek(SECTOR)
        f.write(label)
        f.seek(MDA_START)
        f.write(mda_header)
        f.seek(MDA_START + text_offset)
        f.write(text)
    return Layout(offset=PE_START, size=lv_extents * EXTENT)
