"""Loader test helpers: trees compiled and decompiled by the real dtc."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from tests.conftest import DATA, ROOT

LOADER_DATA = DATA / "loader"
DEMO_MACHINE = ROOT / "config" / "demo"
DEMO_DTS = DEMO_MACHINE / "machine.dts"
ARM64_DTS = LOADER_DATA / "arm64-virt.dts"
# machine.toml tables for an arm64 sandbox board: a PL011 console and a display-less framebuffer
ARM_TOML = """
[[console]]
name = "ttyAMA0"
kind = "serial"
dt_path = "/pl011@9000000"

[[framebuffer]]
name = "fb0"
width = 1024
height = 768
depth = 32
stride = 4096
address = 0x7fc00000
size = 3145728
"""


def compile_dts(source: Path | str, *, version: int = 17) -> bytes:
    """``dtc -I dts -O dtb`` on a file or on dts text."""
    if isinstance(source, Path):
        argv = ["dtc", "-q", "-I", "dts", "-O", "dtb", "-V", str(version), str(source)]
        return subprocess.run(argv, check=True, capture_output=True).stdout
    argv = ["dtc", "-q", "-I", "dts", "-O", "dtb", "-V", str(version), "-"]
    return subprocess.run(argv, check=True, capture_output=True, input=source.encode()).stdout


def decompile(blob: bytes) -> str:
    """``dtc -I dtb -O dts``: fails (CalledProcessError) on a blob dtc cannot read."""
    return subprocess.run(
        ["dtc", "-q", "-I", "dtb", "-O", "dts", "-s", "-"], check=True, capture_output=True, input=blob
    ).stdout.decode()


def dts_model(text: str) -> tuple[list[str], dict[str, dict[str, str]]]:
    """dtc's own .dts output as ``(memreserve lines, {node path: {prop: value text}})``."""
    rsv: list[str] = []
    nodes: dict[str, dict[str, str]] = {}
    stack: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("/dts-v1/"):
            continue
        if line.startswith("/memreserve/"):
            rsv.append(" ".join(line.split()))
            continue
        if line.endswith("{"):
            name = line[:-1].strip()
            name = re.sub(r"^[\w-]+:\s*", "", name)  # drop labels
            path = "/" if name == "/" else (("" if stack[-1] == "/" else stack[-1]) + "/" + name)
            stack.append(path)
            nodes.setdefault(path, {})
            continue
        if line == "};":
            stack.pop()
            continue
        name, _, value = line.rstrip(";").partition(" = ")
        nodes[stack[-1]][name.strip()] = value
    return rsv, nodes


def model_of(blob: bytes) -> tuple[list[str], dict[str, dict[str, str]]]:
    return dts_model(decompile(blob))


def changed(before: bytes, after: bytes) -> set[tuple[str, str]]:
    """``(node, property)`` pairs that differ, by dtc's reading; ``(node, "")`` for whole nodes."""
    r1, n1 = model_of(before)
    r2, n2 = model_of(after)
    assert r1 == r2, f"/memreserve/ changed: {r1} -> {r2}"
    out: set[tuple[str, str]] = set()
    for path in n1.keys() | n2.keys():
        if path not in n1 or path not in n2:
            out.add((path, ""))
            continue
        for prop in n1[path].keys() | n2[path].keys():
            if n1[path].get(prop) != n2[path].get(prop):
                out.add((path, prop))
    return out


def expand(blob: bytes, dest: Path) -> None:
    """Write a tree out the way /proc/device-tree shows it (a directory per node)."""
    import libfdt

    fdt = libfdt.Fdt(blob)

    def walk(off: int, where: Path) -> None:
        where.mkdir(parents=True, exist_ok=True)
        p = fdt.first_property_offset(off, (libfdt.NOTFOUND,))
        while p >= 0:
            prop = fdt.get_property_by_offset(p)
            (where / prop.name).write_bytes(bytes(prop))
            p = fdt.next_property_offset(p, (libfdt.NOTFOUND,))
        c = fdt.first_subnode(off, (libfdt.NOTFOUND,))
        while c >= 0:
            walk(c, where / fdt.get_name(c))
            c = fdt.next_subnode(c, (libfdt.NOTFOUND,))

    walk(0, dest)


def make_machine(
    dest: Path,
    *,
    dts: Path = DEMO_DTS,
    arch: str = "aarch64",
    lockdown: str = "none",
    systemd: bool = False,
    extra: str = "",
) -> Path:
    """A sandbox machine directory with ``dts`` as its live tree."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(dts, dest / "machine.dts")
    text = (
        f'[machine]\narch = "{arch}"\nfirmware = "efi"\ndevice_tree = "machine.dts"\n'
        f'lockdown = "{lockdown}"\nsystemd = {"true" if systemd else "false"}\n{extra}'
    )
    (dest / "machine.toml").write_text(text)
    return dest


def executable(path: Path, text: str) -> Path:
    path.write_text(text)
    os.chmod(path, 0o755)
    return path


def bls_disk(root: Path, *, kernel: bytes = b"KERNEL", dtb: bytes | None = None) -> Path:
    """A directory standing in for a boot partition with one BLS entry (id ``demo``)."""
    (root / "loader/entries").mkdir(parents=True)
    (root / "boot").mkdir()
    (root / "boot/vmlinuz-6.1").write_bytes(kernel)
    (root / "boot/initrd-6.1.img").write_bytes(b"INITRD" * 100)
    lines = ["title Demo Linux", "linux /boot/vmlinuz-6.1", "initrd /boot/initrd-6.1.img"]
    lines.append("options root=/dev/vda2 ro")
    if dtb is not None:
        (root / "boot/board.dtb").write_bytes(dtb)
        lines.append("devicetree /boot/board.dtb")
    (root / "loader/entries/demo.conf").write_text("\n".join(lines) + "\n")
    return root


def ppc64_vmlinux() -> bytes:
    """The smallest ELF file that looks like a ppc64le vmlinux to kexec staging."""
    import struct

    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    ehdr = struct.pack("<16sHHIQQQIHHHHHH", ident, 2, 21, 1, 0, 64, 0, 0, 64, 56, 1, 0, 0, 0)
    phdr = struct.pack("<IIQQQQQQ", 1, 5, 0x10000, 0xC000000000000000, 0, 0x1000, 0x1000, 0x10000)
    body = ehdr + phdr
    return body + bytes(0x11000 - len(body))
