"""GRUB device names and paths, mapped onto the devices bootd knows.

GRUB names disks like ``hd0,gpt2`` or ``cd0``; a config written on one
machine means "the disk I am on" with those names, so any such name means
the device being scanned.  ``search`` finds other devices by UUID, label or
file and hands back a name; this table remembers which device each name
stands for.  A UUID or label that no known device carries yet becomes an
*unresolved* target: its resources are named by UUID/label and resolved
when that device appears.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from pathlib import PurePosixPath

from bootd.model import Device, DeviceType, Record, Resource, _set, record
from bootd.parsers.view import DeviceView, normalize


@record
class Target(Record):
    """Where a GRUB device name points."""

    view: DeviceView | None = None
    """The device's files, when known."""
    device_id: str | None = None
    """Another known device's id (None: the scanned device)."""
    selector: str | None = None
    """``uuid=…``/``label=…`` for a device not known yet."""
    url: str | None = None
    """``(http,host)``-style network devices: the URL prefix."""
    image: str | None = None
    """``loopback`` devices: the ISO9660 image's path on the device above
    (``view`` then shows the files inside the image)."""

    def __init__(
        self,
        view: DeviceView | None = None,
        device_id: str | None = None,
        selector: str | None = None,
        url: str | None = None,
        image: str | None = None,
    ) -> None:
        _set(self, "view", view)
        _set(self, "device_id", device_id)
        _set(self, "selector", selector)
        _set(self, "url", url)
        _set(self, "image", image)

    def resource(self, path: str) -> Resource:
        norm = clean(path)
        if self.image is not None:
            return Resource(path=PurePosixPath(self.image), device=self.device_id, selector=self.selector,
                            inside=PurePosixPath(norm))  # fmt: skip
        if self.url is not None:
            return Resource.remote(self.url + norm)
        if self.selector is not None:
            return Resource(path=clean_path(norm), selector=self.selector)
        return Resource(path=clean_path(norm), device=self.device_id)

    def where(self, path: str) -> str:
        """How a file on this target is named in messages (and cached by)."""
        base = "" if self.device_id is None else f"({self.device_id})"
        if self.image is not None:
            return f"{base}{self.image}[{path}]"
        return base + path if base else path


def _parsed_path_maker() -> Callable[[str], PurePosixPath]:
    """The path object of a path :func:`clean` gave, without parsing it again.

    Python 3.11's PurePosixPath parses its text (splits, checks and interns
    every part) each time it is made: a third of the time a loader command
    takes.  The text of a clean path is already in parts, so the object is
    made from them.  Later Pythons parse lazily; there, and whenever the
    made object would not be the one the constructor gives, the constructor
    is used."""
    make_parsed = getattr(PurePosixPath, "_from_parsed_parts", None)
    if sys.version_info >= (3, 12) or make_parsed is None:
        return PurePosixPath

    def made(norm: str) -> PurePosixPath:
        path: PurePosixPath = make_parsed("", "/", ["/", *norm[1:].split("/")] if len(norm) > 1 else ["/"])
        return path

    for sample in ("/", "/boot", "/boot/vmlinuz-6.1.0 x", "/EFI/ubuntu/grub.cfg"):
        ours, theirs = made(sample), PurePosixPath(sample)
        if ours != theirs or str(ours) != str(theirs) or ours.parts != theirs.parts or hash(ours) != hash(theirs):
            return PurePosixPath
    return made


clean_path = _parsed_path_maker()
"""``PurePosixPath(norm)`` for a ``norm`` from :func:`clean` (absolute, no empty, ``.`` or ``..`` part)."""


def clean(path: str) -> str:
    """``path`` made absolute with ``.``/``..`` collapsed (never above the root)."""
    if path.startswith("/") and "//" not in path and "/." not in path:
        return path.rstrip("/") or "/"
    return str(normalize(path))


_FIRMWARE_DISK = re.compile(r"(?:hd|cd|fd)\d{1,3}(?:,[a-z]{0,6}\d{1,3}){0,3}")


def split_path(text: str) -> tuple[str | None, str]:
    """``(dev)/path`` → (``dev``, ``/path``); a bare path → (None, path)."""
    if text.startswith("("):
        end = text.find(")")
        if end > 0:
            return text[1:end], text[end + 1 :] or "/"
    return None, text


class DeviceTable:
    """Names GRUB uses for devices, for one scan."""

    def __init__(self, view: DeviceView, others: Mapping[str, DeviceView]) -> None:
        self.view = view
        self.others = dict(others)
        dev = view.device
        self.root_name = "cd0" if dev.type is DeviceType.OPTICAL else "hd0,gpt1"
        self.self_target = Target(view=view)
        self.names: dict[str, Target] = {}
        self._devices: list[tuple[Device, Target]] | None = None
        self._targets: dict[str, Target] = {}
        """What names not in ``names`` were found to point to (the devices do not change)."""

    def devices(self) -> list[tuple[Device, Target]]:
        """The scanned device first, then the others in a stable order."""
        if self._devices is None:
            found = [(self.view.device, self.self_target)]
            for dev_id, other in sorted(self.others.items()):
                if dev_id != self.view.device.id:
                    found.append((other.device, Target(view=other, device_id=dev_id)))
            self._devices = found
        return list(self._devices)

    def name_for(self, device: Device, target: Target) -> str:
        """The name ``search`` reports for a device."""
        if target is self.self_target:
            return self.root_name
        name = device.uuid or device.label or f"bootd-{device.id}"
        self.names[name] = target
        return name

    def name_unresolved(self, selector: str) -> str:
        self.names[selector] = Target(selector=selector)
        return selector

    def target(self, name: str) -> Target:
        """What a device name (without parentheses) points to."""
        name = name.strip()
        if name.startswith("(") and name.endswith(")"):
            name = name[1:-1]
        known = self.names.get(name) or self._targets.get(name)
        if known is not None:
            return known
        if len(self._targets) >= 4096:
            self._targets.clear()
        found = self._targets[name] = self._find(name)
        return found

    def _find(self, name: str) -> Target:
        kind, sep, rest = name.partition("=")
        if sep and kind in ("uuid", "label"):
            return Target(selector=name)
        proto, comma, host = name.partition(",")
        if comma and proto in ("http", "https", "tftp") and host:
            return Target(url=f"{proto}://{host}")
        lowered = name.lower()
        for dev, target in self.devices():
            if dev.uuid and dev.uuid.lower() == lowered:
                return target
        return self.self_target

    def may_exist(self, name: str) -> bool:
        """Whether GRUB could find a device by this name on the machine: one
        this scan knows (by its name, UUID or label) or a firmware disk name
        (``hd0,gpt2``, ``cd0``, ``fd0``), which this device may well be.  Any
        other name (``(nosuch)``, an LVM or RAID volume, a loop device never
        set up) is no device, and GRUB's ``test -e`` on it is false."""
        name = name.strip()
        if name.startswith("(") and name.endswith(")"):
            name = name[1:-1]
        if not name or name in self.names or name == self.root_name or _FIRMWARE_DISK.fullmatch(name):
            return True
        lowered = name.lower()
        return any(lowered in {(d.uuid or "").lower(), (d.label or "").lower()} for d, _ in self.devices())

    def locate(self, text: str, root: str) -> tuple[Target, str]:
        """Split a GRUB path into a device target and a path on it."""
        dev, path = split_path(text)
        target = self.target(dev if dev is not None else root)
        return target, clean(path)

    def resource(self, text: str, root: str) -> Resource:
        target, path = self.locate(text, root)
        return target.resource(path)


def in_subvolume(target: Target, path: str, subvol: str) -> str:
    """Where ``path`` is on the device while ``btrfs_subvol`` is ``subvol``.

    SUSE's GRUB (while ``btrfs_relative_path`` is on: see
    :mod:`bootd.parsers.grub.btrfs`, which decides whether ``subvol`` is
    given) reads btrfs files inside the subvolume that variable names (a
    path from the top-level subvolume, like ``/@/.snapshots/7/snapshot``): its
    snapshot entries set it so that ``/boot/vmlinuz-…`` is the snapshot's
    kernel.  The device's files are seen from the top level or from ``@``, so
    the subvolume is looked for both ways.  A path already inside the subvolume
    (``$2/boot/grub2/grub.cfg`` of those entries) stays as it is.  Devices of
    another known file system are not affected.
    """
    view = target.view
    if not subvol or view is None or view.device.fstype not in (None, "btrfs"):
        return path
    sub = clean(subvol)
    if sub == "/":
        return path
    bases = [sub, sub[2:]] if sub.startswith("/@/") else [sub]
    for base in bases:
        if path == base or path.startswith(base + "/"):
            return path
    base = next((b for b in bases if view.is_dir(PurePosixPath(b))), bases[-1])
    return clean(base + path)


def is_file(target: Target, path: str) -> bool:
    return target.view is not None and target.view.is_file(clean_path(path))
