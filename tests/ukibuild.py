"""Build Unified Kernel Images the way systemd documents for systems without
ukify: ``objcopy --add-section`` of each part onto systemd-boot-efi's stub.

The stub's own architecture does not matter to kexec (only the ``.linux``
section's does), so the host's x86-64 stub serves every test.  objcopy cannot
add a second section of a name it already has, which a multi-profile image
needs; such sections are added under a unique name and renamed in the section
table afterwards (the bytes ukify would have written).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

STUB = Path("/usr/lib/systemd/boot/efi/linuxx64.efi.stub")
OSREL = 'ID=debian\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_ID="12"\nVERSION="12 (bookworm)"\n'


def need_tools() -> None:
    if not STUB.is_file():
        pytest.skip("systemd-boot-efi is not installed (make test installs it)")
    if shutil.which("objcopy") is None:
        pytest.skip("objcopy (binutils) is not installed")


def build_uki(out: Path, sections: Sequence[tuple[str, bytes]], *, stub: Path = STUB) -> Path:
    """``out``: the stub with ``sections`` appended in this order."""
    need_tools()
    work = out.parent / f".{out.name}.parts"
    work.mkdir(parents=True, exist_ok=True)
    argv: list[str] = ["objcopy"]
    renames: list[tuple[str, str]] = []
    seen: set[str] = set()
    vma = 0x1000000
    for i, (name, data) in enumerate(sections):
        real = name
        if name in seen:
            real = f".u{i:06d}"[:8]
            renames.append((real, name))
        seen.add(name)
        part = work / f"{i:03d}"
        part.write_bytes(data)
        argv += ["--add-section", f"{real}={part}", "--change-section-vma", f"{real}={vma:#x}"]
        vma += (len(data) + 0xFFFF) // 0x10000 * 0x10000 + 0x10000
    argv += [str(stub), str(out)]
    subprocess.run(argv, check=True, capture_output=True)
    if renames:
        _rename(out, dict(renames))
    shutil.rmtree(work)
    return out


def _rename(path: Path, names: dict[str, str]) -> None:
    data = bytearray(path.read_bytes())
    pe_at = int.from_bytes(data[0x3C:0x40], "little")
    count = int.from_bytes(data[pe_at + 6 : pe_at + 8], "little")
    optional = int.from_bytes(data[pe_at + 20 : pe_at + 22], "little")
    table = pe_at + 24 + optional
    for i in range(count):
        at = table + 40 * i
        name = bytes(data[at : at + 8]).rstrip(b"\0").decode()
        if name in names:
            data[at : at + 8] = names[name].encode().ljust(8, b"\0")
    path.write_bytes(bytes(data))


def arm64_pe_kernel(size: int = 8192) -> bytes:
    """A stand-in for an arm64 ``Image`` for parser tests: its first bytes are
    a PE header with Machine = AArch64 (as an EFI-stub kernel has)."""
    head = bytearray(size)
    head[0:2] = b"MZ"
    head[0x3C:0x40] = (0x40).to_bytes(4, "little")
    head[0x40:0x44] = b"PE\0\0"
    head[0x44:0x46] = (0xAA64).to_bytes(2, "little")
    return bytes(head)
