"""Block devices: enumerate, follow hotplug, attach images, mount read-only.

The Protocol every implementation (``linux_block``, ``sandbox_block``) meets.
"""

from __future__ import annotations

from typing import Protocol


class BlockPlatform(Protocol):
    """Block-device side effects; see the implementations for details."""
