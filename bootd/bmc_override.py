"""The BMC's boot-device override (IPMI), as Petitboot honours it: a PXE, disk
or CD-ROM override replaces the boot order, safe and bios stop the autoboot,
and a one-shot override is cleared on the BMC once it was acted on.  Part of
:class:`bootd.daemon.Daemon`."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from bootd.api import EventHub
from bootd.errors import BootdError
from bootd.model import N_, Severity, Text
from bootd.platform.bmc import Bmc, BmcDevice, BootFlags

log = logging.getLogger(__name__)

BMC_BOOT_ORDER: dict[BmcDevice, tuple[str, ...]] = {
    BmcDevice.PXE: ("network",),
    BmcDevice.DISK: ("disk",),
    BmcDevice.CDROM: ("optical",),
}
"""The boot order a BMC override stands for (Petitboot's reading of the IPMI
boot device); safe and bios stop the autoboot instead."""


class BmcOverride:
    def __init__(
        self,
        bmc: Bmc | None,
        events: EventHub,
        *,
        changed: Callable[[], None],
        enabled: Callable[[], bool] = lambda: True,
    ) -> None:
        self.bmc = bmc
        self.events = events
        self._changed = changed
        self._enabled = enabled
        """The ``ipmi`` setting: "off" leaves the BMC's flags unread (and so never cleared)."""
        self.flags: BootFlags | None = None

    async def read(self) -> None:
        """Ask the BMC (where there is one, and ``ipmi`` is not "off") for a boot-device override."""
        if self.bmc is None:
            return
        if not self._enabled():
            log.info('ipmi = "off": the BMC\'s boot flags are not read')
            return
        self.flags = await self.bmc.boot_flags()
        if self.flags is not None:
            how = N_("{device} (every boot)") if self.flags.persistent else N_("{device} (next boot only)")
            what = Text.of(how, device=self.flags.device)
            if self.stops_autoboot():
                self.events.status(Severity.INFO, Text.of(N_("The BMC asks for {what}: no autoboot"), what=what))
            else:
                self.events.status(Severity.INFO, Text.of(N_("The BMC asks to boot from {what}"), what=what))
            self._changed()

    def stops_autoboot(self) -> bool:
        return self.flags is not None and self.flags.device in (BmcDevice.SAFE, BmcDevice.BIOS)

    def boot_order(self, configured: Sequence[str]) -> tuple[str, ...]:
        """The boot order autoboot follows: the BMC's override, else ``configured``."""
        if self.flags is not None and self.flags.device in BMC_BOOT_ORDER:
            return BMC_BOOT_ORDER[self.flags.device]
        return tuple(configured)

    async def used(self) -> None:
        """An autoboot acted on the override: clear a one-shot one on the BMC, as BMCs expect."""
        flags, self.flags = self.flags, None
        if flags is None or flags.persistent or self.bmc is None:
            self.flags = flags
            return
        try:
            await self.bmc.clear_boot_flags()
            text = Text.of(N_("Cleared the BMC's one-shot boot override ({device})"), device=flags.device)
            self.events.status(Severity.INFO, text)
        except BootdError as e:
            self.events.status(
                Severity.WARNING, Text.of(N_("Could not clear the BMC's boot override: {error}"), error=e)
            )
