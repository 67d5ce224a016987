"""Network interfaces and DHCP: enumerate, follow link changes, run the client.

The Protocol every implementation (``linux_net``, ``sandbox_net``) meets.
"""

from __future__ import annotations

from typing import Protocol


class NetPlatform(Protocol):
    """Network side effects; see the implementations for details."""
