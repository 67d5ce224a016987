"""The physical volume writer of the guest test, checked on the host (the guest's
lvm2 reading it is the real check): lvm2's checksum on a header lvm2 2.03.16
wrote, and the written image read back field by field."""

from __future__ import annotations

import struct
from pathlib import Path

from tests.e2e.discovery.lvm import EXTENT, MDA_MAGIC, MDA_START, PE_START, SECTOR, lvm_crc, write_physical_volume


def test_checksum_matches_a_header_lvm2_wrote() -> None:
    # the metadata area header of a 48 MiB disk after `lvcreate` (lvm2 2.03.16), checksum field left out
    rest = MDA_MAGIC + struct.pack("<IQQ", 1, 4096, 0xFF000) + struct.pack("<QQII", 1536, 1034, 0xE7B0BE56, 0)
    rest += bytes(SECTOR - 4 - len(rest))
    assert lvm_crc(rest) == 0xCF9C182D


def test_written_volume_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "pv.img"
    layout = write_physical_volume(path, vg="testvg", lv="root", disk_mb=48, lv_mb=32)
    assert (layout.offset, layout.size) == (PE_START, 32 << 20)
    data = path.read_bytes()
    assert len(data) == 48 << 20
    label = data[SECTOR : 2 * SECTOR]
    assert label[:8] == b"LABELONE" and label[24:32] == b"LVM2 001"
    sector, crc = struct.unpack_from("<QI", label, 8)
    assert sector == 1 and crc == lvm_crc(label[20:])
    (dev_size,) = struct.unpack_from("<Q", label, 64)
    assert dev_size == 48 << 20
    assert struct.unpack_from("<QQQQ", label, 72) == (PE_START, 0, 0, 0)
    assert struct.unpack_from("<QQ", label, 104) == (MDA_START, PE_START - MDA_START)

    mda = data[MDA_START : MDA_START + SECTOR]
    assert struct.unpack_from("<I", mda)[0] == lvm_crc(mda[4:])
    assert mda[4:20] == MDA_MAGIC
    offset, size, checksum, _flags = struct.unpack_from("<QQII", mda, 40)
    text = data[MDA_START + offset : MDA_START + offset + size]
    assert checksum == lvm_crc(text) and text.endswith(b"\0")
    meta = text.decode()
    assert meta.startswith("testvg {") and f"extent_size = {EXTENT // SECTOR}" in meta
    assert "pe_count = 11" in meta and "extent_count = 8" in meta and "root {" in meta
    # nothing else written: the extents are still zero
    assert not data[PE_START:].strip(b"\0")
