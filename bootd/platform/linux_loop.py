"""Loop device nodes on the real machine: creating and removing them through
``/dev/loop-control`` (the ``LOOP_CTL_ADD`` / ``LOOP_CTL_REMOVE`` ioctls).

bootd numbers its own loop devices from :data:`FIRST_LOOP` up and refuses to
remove any below it, so loop devices it did not create are left alone.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from pathlib import Path

from bootd.errors import InvalidArgument
from bootd.model import N_

LOOP_CTL_ADD = 0x4C80
LOOP_CTL_REMOVE = 0x4C81
LOOP_CONTROL = Path("/dev/loop-control")
FIRST_LOOP = 64
"""bootd creates its own loop devices from this number up and never uses
loop devices it did not create."""


def loop_add(first: int = FIRST_LOOP, limit: int = 4096) -> int:
    """Create a new loop device node numbered ``first`` or above; returns its number."""
    fd = os.open(LOOP_CONTROL, os.O_RDWR | os.O_CLOEXEC)
    try:
        for n in range(first, first + limit):
            if Path(f"/sys/block/loop{n}").exists():
                continue
            try:
                return int(fcntl.ioctl(fd, LOOP_CTL_ADD, n))
            except OSError as e:
                if e.errno == errno.EEXIST:
                    continue
                raise
    finally:
        os.close(fd)
    raise OSError(errno.ENOSPC, f"no free loop device number from {first}")


def loop_remove(number: int, *, attempts: int = 50) -> None:
    """Remove a loop device node this process created (retrying while udev holds it)."""
    if number < FIRST_LOOP:
        raise InvalidArgument.of(
            N_("refusing to remove loop{number}: bootd only removes loop devices it created"), number=number
        )
    fd = os.open(LOOP_CONTROL, os.O_RDWR | os.O_CLOEXEC)
    try:
        for i in range(attempts):
            try:
                fcntl.ioctl(fd, LOOP_CTL_REMOVE, number)
                return
            except OSError as e:
                if e.errno == errno.ENODEV:
                    return
                if e.errno != errno.EBUSY or i == attempts - 1:
                    raise
                time.sleep(0.05)
    finally:
        os.close(fd)
