"""The machine facts and side effects the loader needs: live device tree,
consoles, framebuffers, lockdown, kexec.

The Protocol every implementation (``linux_boot``, ``sandbox_boot``) meets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

from bootd.model import Console, Framebuffer
from bootd.platform.run import Result


class BootPlatform(Protocol):
    """Loader side effects.  Fact queries are blocking and cheap; call the
    device-tree reader from a thread in daemon code."""

    def live_dtb(self) -> bytes | None:
        """The running kernel's device tree as a flattened blob, or None when
        the machine has none (x86 without CONFIG_OF)."""
        ...

    def consoles(self) -> list[Console]:
        """Consoles the next kernel may use, with DT nodes where known."""
        ...

    def framebuffers(self) -> list[Framebuffer]:
        """Framebuffers (fb0 first) with their mode and memory."""
        ...

    def display_node(self, fb: str) -> str | None:
        """The device-tree path of framebuffer ``fb``'s display node, if any."""
        ...

    def random_bytes(self, count: int) -> bytes:
        """``count`` fresh bytes from the kernel's RNG (boot seeds for the next kernel)."""
        ...

    def lockdown(self) -> str:
        """``none``, ``integrity`` or ``confidentiality``."""
        ...

    def under_systemd(self) -> bool:
        """Whether systemd is PID 1 (then ``systemctl kexec`` executes)."""
        ...

    async def run_hook(self, path: Path, env: Mapping[str, str], *, timeout: float) -> Result:
        """Run one boot hook; its exit status is the caller's to judge."""
        ...

    async def kexec(self, argv: Sequence[str]) -> Result:
        """Run one kexec-tools (or ``systemctl kexec``) command; never raises on
        a non-zero exit: the loader turns that into a KexecError."""
        ...
