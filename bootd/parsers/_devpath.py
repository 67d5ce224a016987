"""Device-qualified paths in yaboot and kboot configs (``hd:3,/vmlinux``,
``/dev/sda1:/boot/vmlinux``, ``partition=3``): which device a file is on."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from bootd.model import N_, Device, Resource, Text

_P_PART = re.compile(r"^(?P<disk>.*\d)p(?P<num>\d+)$")
_PART = re.compile(r"^(?P<disk>.*[a-z])(?P<num>\d+)$")
_WHOLE = re.compile(r"(?:^|/)(?:nvme\d+n\d+|mmcblk\d+|loop\d+|md\d+|nbd\d+)$")
_LINUX_DISK = re.compile(r"^(?:/dev/)?(?:[shv]d[a-z]+|xvd[a-z]+|nvme\d+n\d+|mmcblk\d+|vd[a-z]+)(?:p?\d+)?$")


def split_node(node: str) -> tuple[str, int | None]:
    """``/dev/sda2`` → (``/dev/sda``, 2); ``/dev/nvme0n1p3`` → (``/dev/nvme0n1``, 3);
    a whole disk (``/dev/sda``, ``/dev/nvme0n1``) → (itself, None)."""
    if _WHOLE.search(node):
        return node, None
    m = _P_PART.match(node) or _PART.match(node)
    if m is None:
        return node, None
    return m.group("disk"), int(m.group("num"))


def partition_node(disk: str, number: int) -> str:
    """The node of partition ``number`` of ``disk`` (``p`` after a digit)."""
    return f"{disk}p{number}" if disk[-1:].isdigit() else f"{disk}{number}"


def is_linux_device(name: str) -> bool:
    return bool(_LINUX_DISK.match(name))


def on_partition(device: Device, disk: str | None, partition: int | None, path: str) -> tuple[Resource, Text | None]:
    """A resource for ``path`` on ``partition`` of ``disk`` (None: this
    device's disk / this partition), and a note when that cannot be known."""
    p = PurePosixPath("/" + path.lstrip("/"))
    own_disk, own_part = split_node(device.node) if device.node else (None, None)
    if disk is None and partition is None:
        return Resource.local(p), None
    if disk is not None and not disk.startswith("/dev/"):
        disk = "/dev/" + disk
    if disk is not None and partition is None:
        d, part = split_node(disk)
        if part is not None:
            disk, partition = d, part
    target_disk = disk or own_disk
    if target_disk is None:
        return Resource.local(p), Text.of(
            N_("partition {partition}: this device's disk is unknown; this partition is used"), partition=partition
        )
    if partition is None:
        if disk is None or disk == own_disk:
            return Resource.local(p), None
        return Resource(path=p, selector=f"node={disk}"), None
    if target_disk == own_disk and partition == own_part:
        return Resource.local(p), None
    return Resource(path=p, selector=f"node={partition_node(target_disk, partition)}"), None
