"""The machine facts and side effects the loader needs: live device tree,
consoles, framebuffers, lockdown, kexec.

The Protocol every implementation (``linux_boot``, ``sandbox_boot``) meets.
"""

from __future__ import annotations

from typing import Protocol


class BootPlatform(Protocol):
    """Loader side effects; see the implementations for details."""
