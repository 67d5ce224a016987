"""Which btrfs subvolume a path is read from, as SUSE's GRUB reads it.

openSUSE's and SLES's GRUB carry patches to the btrfs driver that upstream
GRUB (and Debian's) does not have.  With them, a path on a btrfs device is
read from:

* the top-level subvolume (id 5) while ``btrfs_relative_path`` does not
  start with ``y`` or ``1`` -- upstream GRUB's rule; ``btrfs_subvol`` and
  ``btrfs_subvolid`` are then not looked at;
* otherwise the subvolume ``btrfs_subvol`` names (a path from the top level,
  ``/@/.snapshots/7/snapshot``: snapper's "Start bootloader from a read-only
  snapshot" entries set it so that ``/boot/vmlinuz`` is the snapshot's own
  kernel), else the subvolume with id ``btrfs_subvolid``, else the
  filesystem's default subvolume (``btrfs subvolume set-default``; on a SUSE
  install the snapshot the system runs from).

Discovery views a btrfs device from its default subvolume when that is where
the boot files are (see :mod:`bootd.discovery.mounts`), so "the default
subvolume" is the view's root, and a ``btrfs_subvol`` path is looked for from
the view's root and from the top level (:func:`~bootd.parsers.grub.devices.in_subvolume`).
``btrfs_subvolid`` alone names a subvolume by a number no directory view can
resolve; such paths stay in the default subvolume.
"""

from __future__ import annotations

from collections.abc import Callable


def relative_paths(get: Callable[[str], str]) -> bool:
    """Whether SUSE's GRUB reads paths relative to a subvolume (``btrfs_relative_path``)."""
    return get("btrfs_relative_path")[:1] in ("y", "1")


def active_subvolume(get: Callable[[str], str]) -> str:
    """The ``btrfs_subvol`` paths are read from, or "" for the view's own root."""
    return get("btrfs_subvol") if relative_paths(get) else ""
