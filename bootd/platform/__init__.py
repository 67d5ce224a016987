"""The only code that touches the operating system.

A :class:`Platform` bundles one object per kind of side effect; layer-3 code
(discovery, loader, network) receives a Platform and never imports
:mod:`bootd.platform.linux` or :mod:`bootd.platform.sandbox` itself.  The
choice between the real machine and a sandbox machine is made once, in
``bootd.app`` / ``bootd.__main__``.
"""

from __future__ import annotations

from dataclasses import field
from typing import TYPE_CHECKING

from bootd.model import Record, record

if TYPE_CHECKING:
    from bootd.platform.block import BlockPlatform
    from bootd.platform.bmc import Bmc
    from bootd.platform.boot import BootPlatform
    from bootd.platform.net import NetPlatform
    from bootd.platform.parse_pool import ParsePool
    from bootd.platform.run import Runner

_EXPORTS = {
    "BlockPlatform": "bootd.platform.block",
    "BootPlatform": "bootd.platform.boot",
    "NetPlatform": "bootd.platform.net",
    "Runner": "bootd.platform.run",
}
"""Names this package hands on, loaded when first asked for: a command that
only needs :class:`Platform` (or :mod:`bootd.platform.firmware`) does not
import every side's protocol and its dataclasses."""


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def _parse_pool() -> ParsePool:
    """The pool and the asyncio and multiprocessing it needs are loaded only
    where a Platform is built (``bootd scan`` of a directory builds none)."""
    from bootd.platform.parse_pool import ParsePool

    return ParsePool()


_set = object.__setattr__


@record
class Platform(Record):
    name: str
    """``linux`` or ``sandbox``."""
    arch: str
    """``uname -m`` of the machine bootd runs on."""
    firmware: str
    """GRUB's ``grub_platform`` for this machine: ``efi``, ``pc``, ``ieee1275``."""
    runner: Runner
    block: BlockPlatform
    boot: BootPlatform
    net: NetPlatform
    bmc: Bmc | None = None
    """The BMC's boot-device override, where the machine has a BMC bootd can reach."""
    parsers: ParsePool = field(default_factory=_parse_pool)
    """Worker processes that parse untrusted media (the same on every machine:
    they only read)."""

    def __init__(
        self,
        name: str,
        arch: str,
        firmware: str,
        runner: Runner,
        block: BlockPlatform,
        boot: BootPlatform,
        net: NetPlatform,
        bmc: Bmc | None = None,
        parsers: ParsePool | None = None,
    ) -> None:
        _set(self, "name", name)
        _set(self, "arch", arch)
        _set(self, "firmware", firmware)
        _set(self, "runner", runner)
        _set(self, "block", block)
        _set(self, "boot", boot)
        _set(self, "net", net)
        _set(self, "bmc", bmc)
        _set(self, "parsers", _parse_pool() if parsers is None else parsers)  # the field's default_factory


__all__ = ["BlockPlatform", "BootPlatform", "NetPlatform", "Platform", "Runner"]
