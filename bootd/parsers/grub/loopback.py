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

from bootd.model import N_, Text
from bootd.parsers.grub.budget import metered
from bootd.parsers.grub.devices import DeviceTable, Target
from bootd.parsers.isoview import ImageError, open_view
from bootd.parsers.view import DeviceView, ViewError

if TYPE_CHECKING:
    from bootd.parsers.grub.interpreter import Interpreter

log = logging.getLogger(__name__)

MAX_IMAGES = 32
"""The most ISO images one scan opens."""
IMAGES_CPU_SECONDS = 0.7
"""CPU time one scan may spend opening images, beside the script's own
(``Limits.cpu_seconds``; a parse worker stops at 2 s).  An image of about
4,000 files takes 0.4-0.8 s here; what does not fit is named in a message."""
BAD_ARGUMENT = 18
"""GRUB's status for a name already in use (``GRUB_ERR_BAD_ARGUMENT``)."""

_opened: weakref.WeakKeyDictionary[DeviceTable, dict[str, DeviceView | tuple[Text, int]]] = weakref.WeakKeyDictionary()
"""Per scan: each image opened (by where it is), or why it could not be."""
_spent: weakref.WeakKeyDictionary[DeviceTable, float] = weakref.WeakKeyDictionary()
"""Per scan: CPU seconds spent opening images."""
_owners: weakref.WeakKeyDictionary[DeviceTable, dict[str, tuple[object, object]]] = weakref.WeakKeyDictionary()
"""Per scan: which evaluation made each loopback device: the entry or
submenu whose body ran (None: the script itself), and the context it ran in."""


def _exists_for(it: Interpreter, owner: tuple[object, object] | None) -> bool:
    """Whether GRUB, running the entry evaluated now, would have the device
    that ``owner``'s evaluation made: one the script made, one this entry's
    own body made, or one the body of the submenu around this entry made."""
    if owner is None:
        return False
    item, ctx = owner
    current = it.evaluating
    return item is None or item is current or (current is not None and current.ctx is ctx)


Failure = tuple[Text, int]
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
        found = (
            Text.of(
                N_("loopback {file}: more than {count} images in one scan; not opened"), file=where, count=MAX_IMAGES
            ),
            1,
        )
    elif not view.is_file(PurePosixPath(path)):
        if view.find(path) is None:
            found = (Text.of(N_("loopback {file}: no such regular file"), file=where), FILE_NOT_FOUND)
        else:
            found = (
                Text.of(N_("loopback {file}: not a regular file (or a link out of the device)"), file=where),
                BAD_FILE_TYPE,
            )
    else:
        size = view.size(PurePosixPath(path)) or 0

        def read_at(offset: int, length: int) -> bytes:
            return view.read_range(PurePosixPath(path), offset, length)

        # Images have CPU time of their own (IMAGES_CPU_SECONDS for all of one
        # scan's): the script's own budget is moved on by what opening took.
        spent = _spent.get(it.table, 0.0)
        start = time.process_time()
        try:
            if spent >= IMAGES_CPU_SECONDS:
                raise ImageError(
                    f"{path}: the scan's CPU time for images ({IMAGES_CPU_SECONDS:g} s) is used up; not read"
                )
            opened = open_view(view.device, PurePosixPath(path), read_at, size, cpu_seconds=IMAGES_CPU_SECONDS - spent)
            found = metered(opened, it.meter)
        except (ImageError, ViewError) as e:
            # GRUB makes the device all the same; only reading inside it fails
            prefix = "" if base.device_id is None else f"({base.device_id})"
            found = (Text.of(N_("loopback: {prefix}{error}"), prefix=prefix, error=e), 0)
        used = time.process_time() - start
        _spent[it.table] = spent + used
        it.cpu_deadline += used
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
    if name in names and names[name].image is not None and _exists_for(it, owners.get(name)):
        # A device another entry made while it was evaluated never exists
        # (GRUB runs one entry): only the others are in use.
        it.warn(Text.of(N_("loopback {name}: the device name is already in use; kept as it is"), name=name), once=True)
        return BAD_ARGUMENT
    owners[name] = (it.evaluating, it.ctx)
    base, path = it.locate(words[1])
    if base.image is not None:
        it.warn(Text.of(N_("loopback {name}: an image inside an image is not followed"), name=name), once=True)
        return 1
    if base.url is not None:
        it.warn(Text.of(N_("loopback {name}: an image on the network is not followed"), name=name), once=True)
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
