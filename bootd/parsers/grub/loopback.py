"""GRUB's ``loopback``: a device whose file system is an ISO9660 image file.

``loopback NAME FILE`` makes ``(NAME)`` the file system inside the image
``FILE`` (a GRUB path: on the current ``$root`` unless it names a device), so
``linux (NAME)/casper/vmlinuz``, ``configfile (NAME)/boot/grub/loopback.cfg``
and ``[ -f (NAME)/x ]`` read inside the image; ``loopback -d NAME`` removes the
device.  As in GRUB, a name already in use is an error and keeps the device it
names.  Resources found on the device are "this file inside that image on that
device" (:attr:`bootd.model.Resource.inside`); the loader copies them out.

The image must be a regular file of the device view (its links stay inside
the device), and is read through the view; a damaged or hostile image is a
warning for the script and a failed command, never an exception.  Each image
is opened once per scan, and at most :data:`MAX_IMAGES` are.
"""

from __future__ import annotations

import logging
import time
import weakref
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from bootd.parsers.grub.budget import metered
from bootd.parsers.grub.devices import DeviceTable, Target
from bootd.parsers.isoview import OPEN_CPU_SECONDS, ImageError, open_view
from bootd.parsers.view import DeviceView, ViewError

if TYPE_CHECKING:
    from bootd.parsers.grub.interpreter import Interpreter

log = logging.getLogger(__name__)

MAX_IMAGES = 32
"""The most ISO images one scan opens."""
BAD_ARGUMENT = 18
"""GRUB's status for a name already in use (``GRUB_ERR_BAD_ARGUMENT``)."""

_opened: weakref.WeakKeyDictionary[DeviceTable, dict[str, DeviceView | tuple[str, int]]] = weakref.WeakKeyDictionary()
"""Per scan: each image opened (by where it is), or why it could not be."""
_owners: weakref.WeakKeyDictionary[DeviceTable, dict[str, object]] = weakref.WeakKeyDictionary()
"""Per scan: which evaluation made each loopback device (the entry or
submenu whose body ran, or None: the script itself)."""


Failure = tuple[str, int]
"""Why an image has no view, and the status GRUB's ``loopback`` returns then."""

FILE_NOT_FOUND = 5
BAD_FILE_TYPE = 4


def _open(it: Interpreter, base: Target, path: str) -> DeviceView | Failure:
    """The image's view, or why there is none."""
    view = base.view
    assert view is not None
    cache = _opened.setdefault(it.table, {})
    where = base.where(path)
    known = cache.get(where)
    if known is not None:
        return known
    found: DeviceView | Failure
    if len(cache) >= MAX_IMAGES:
        found = (f"loopback {where}: more than {MAX_IMAGES} images in one scan; not opened", 1)
    elif not view.is_file(PurePosixPath(path)):
        if view.find(path) is None:
            found = (f"loopback {where}: no such regular file", FILE_NOT_FOUND)
        else:
            found = (f"loopback {where}: not a regular file (or a link out of the device)", BAD_FILE_TYPE)
    else:
        size = view.size(PurePosixPath(path)) or 0

        def read_at(offset: int, length: int) -> bytes:
            return view.read_range(PurePosixPath(path), offset, length)

        # within what is left of the script's CPU time (an entry gets more later)
        cpu = max(0.05, min(OPEN_CPU_SECONDS, it.cpu_deadline - time.process_time()))
        try:
            found = metered(open_view(view.device, PurePosixPath(path), read_at, size, cpu_seconds=cpu), it.meter)
        except (ImageError, ViewError) as e:
            # GRUB makes the device all the same; only reading inside it fails
            prefix = "" if base.device_id is None else f"({base.device_id})"
            found = (f"loopback: {prefix}{e}", 0)
    cache[where] = found
    return found


def cmd_loopback(it: Interpreter, args: list[str]) -> int:
    delete = False
    words: list[str] = []
    for arg in args:
        if arg in ("-d", "--delete"):
            delete = True
        elif arg.startswith("-") and not words:
            continue
        else:
            words.append(arg)
    if not words:
        return 1
    name = words[0]
    if name.startswith("(") and name.endswith(")"):
        name = name[1:-1]
    names = it.table.names
    if delete:
        known = names.get(name)
        if known is None or known.image is None:
            return 1
        del names[name]
        return 0
    if len(words) < 2:
        return 1
    owners = _owners.setdefault(it.table, {})
    owner = owners.get(name)
    if name in names and names[name].image is not None and (owner is None or owner is it.evaluating):
        # A device the script made is there when any entry runs; one that
        # another entry made while it was evaluated never exists (GRUB runs
        # one entry).
        it.warn(f"loopback {name}: the device name is already in use; kept as it is", once=True)
        return BAD_ARGUMENT
    owners[name] = it.evaluating
    base, path = it.locate(words[1])
    if base.image is not None:
        it.warn(f"loopback {name}: an image inside an image is not followed", once=True)
        return 1
    if base.url is not None:
        it.warn(f"loopback {name}: an image on the network is not followed", once=True)
        return 1
    if base.view is None:  # a device not known yet: the resources still name the image
        names[name] = Target(device_id=base.device_id, selector=base.selector, image=path)
        return 0
    view = _open(it, base, path)
    if isinstance(view, tuple):
        # The entry still names the image (the loader says again why it cannot
        # be read) where GRUB would find nothing to load, and nothing inside
        # it is found while scanning.
        message, status = view
        it.warn(message, once=True)
        names[name] = Target(device_id=base.device_id, selector=base.selector, image=path)
        return status
    names[name] = Target(view=view, device_id=base.device_id, selector=base.selector, image=path)
    return 0
