"""The BMC's boot-device override (IPMI "boot flags", System Boot Options
parameter 5), read and cleared with ipmitool, as Petitboot honours it on
OpenPOWER machines: an admin runs ``ipmitool chassis bootdev pxe|disk|safe|
cdrom|bios [options=persistent]`` on the BMC and the next boot (or every boot)
follows it.

Parameter 5's data (IPMI 2.0, table 28-14): byte 1 bit 7 says the flags are
valid, bit 6 that they apply to every boot (else only to the next one); bits
5..2 of byte 2 select the device.  Flags that are not valid are ignored, as
firmware must.  After a one-shot override was used the flags are cleared (all
zero), as BMCs expect of the firmware that consumed them.
"""

from __future__ import annotations

import logging
import re
from enum import StrEnum

from bootd.errors import CommandError
from bootd.model import Record, record
from bootd.platform.run import Runner

_set = object.__setattr__

log = logging.getLogger(__name__)


class BmcDevice(StrEnum):
    NONE = "none"
    PXE = "pxe"
    DISK = "disk"
    SAFE = "safe"
    CDROM = "cdrom"
    BIOS = "bios"


SELECTORS = {
    0x0: BmcDevice.NONE,
    0x1: BmcDevice.PXE,
    0x2: BmcDevice.DISK,
    0x3: BmcDevice.SAFE,
    0x5: BmcDevice.CDROM,
    0x6: BmcDevice.BIOS,
}


@record
class BootFlags(Record):
    device: BmcDevice
    persistent: bool

    def __init__(
        self,
        device: BmcDevice,
        persistent: bool,
    ) -> None:
        _set(self, "device", device)
        _set(self, "persistent", persistent)

    def describe(self) -> str:
        return f"{self.device} ({'every boot' if self.persistent else 'next boot only'})"


_DATA = re.compile(r"Boot parameter data:\s*([0-9A-Fa-f]{10})\b")


def parse_boot_flags(output: str, *, valid_bit: bool = True) -> BootFlags | None:
    """The override ``ipmitool chassis bootparam get 5`` reports; None when
    there is none (flags not valid, device "none" or one bootd does not know).
    ``valid_bit=False`` is for a BMC that keeps only the device selector
    (OpenIPMI's ipmi_sim): a selected device is then a one-shot override."""
    m = _DATA.search(output)
    if m is None:
        return None
    data = bytes.fromhex(m.group(1))
    if valid_bit and not data[0] & 0x80:
        return None
    device = SELECTORS.get((data[1] >> 2) & 0x0F)
    if device is None or device is BmcDevice.NONE:
        return None
    return BootFlags(device, persistent=bool(data[0] & 0x40))


@record
class BmcTarget(Record):
    """How ipmitool reaches the BMC: the local interface (``open``, /dev/ipmi0)
    or ``lanplus`` to a host and port."""

    interface: str = "open"
    host: str = ""
    port: int = 623
    user: str = ""
    password: str = ""
    valid_bit: bool = True
    """The BMC reports the flags' valid and persistent bits (every real one should)."""

    def __init__(
        self,
        interface: str = "open",
        host: str = "",
        port: int = 623,
        user: str = "",
        password: str = "",
        valid_bit: bool = True,
    ) -> None:
        _set(self, "interface", interface)
        _set(self, "host", host)
        _set(self, "port", port)
        _set(self, "user", user)
        _set(self, "password", password)
        _set(self, "valid_bit", valid_bit)


class Bmc:
    def __init__(self, runner: Runner, target: BmcTarget = BmcTarget()) -> None:  # noqa: B008  # a frozen record
        self.runner = runner
        self.target = target

    def _argv(self, *args: str) -> list[str]:
        t = self.target
        argv = ["ipmitool", "-I", t.interface]
        if t.interface != "open":
            # -E: the password from $IPMI_PASSWORD (not on the command line); -C 3: the cipher suite every
            # IPMI 2.0 BMC offers (RAKP-HMAC-SHA1, AES-128), so ipmitool need not ask for the list first
            argv += ["-H", t.host, "-p", str(t.port), "-U", t.user, "-E", "-C", "3"]
        return [*argv, *args]

    def _env(self) -> dict[str, str] | None:
        return {"IPMI_PASSWORD": self.target.password} if self.target.interface != "open" else None

    async def boot_flags(self) -> BootFlags | None:
        """The BMC's override; None when it sets none or cannot be asked (logged)."""
        r = await self.runner.run(
            self._argv("chassis", "bootparam", "get", "5"), check=False, timeout=20, env=self._env()
        )
        if not r.ok:
            log.warning("cannot read the BMC's boot flags: %s", r.stderr.strip() or f"exit status {r.returncode}")
            return None
        return parse_boot_flags(r.stdout, valid_bit=self.target.valid_bit)

    async def clear_boot_flags(self) -> None:
        """Mark the flags used (all zero: not valid, no device)."""
        argv = self._argv("raw", "0x00", "0x08", "0x05", "0x00", "0x00", "0x00", "0x00", "0x00")
        r = await self.runner.run(argv, check=False, timeout=20, env=self._env())
        if not r.ok:
            raise CommandError(argv, r.returncode, r.stdout, r.stderr)
