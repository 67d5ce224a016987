"""The autoboot decision (layer L1, pure): which option would boot on its own.

Only options their own configuration marks default are candidates.  The boot
order is a list of selectors: device types (``disk``, ``usb``, ``optical``,
``network``, ``any``), ``uuid:U`` (the option's device has filesystem UUID U)
and ``mac:M`` (the option came from the network interface with address M).
The first selector that matches a candidate wins; candidates no selector
matches are never booted automatically.  A candidate found later replaces
the current one (``incumbent``) only when it matches an earlier selector: with
equal rank the first one found keeps the countdown.  A one-shot
``next_boot`` choice overrides all of this when its option exists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bootd.model import BootOption, Device, DeviceType


@dataclass(frozen=True)
class Choice:
    option: BootOption
    rank: int
    """Position of the matching selector in the boot order; lower is better
    (``-1``: the one-shot next-boot choice)."""
    reason: str


def selector_matches(selector: str, device: Device | None) -> bool:
    if device is None:
        return selector == "any"
    kind, sep, value = selector.partition(":")
    if not sep:
        return kind == DeviceType.ANY or kind == device.type
    if kind == "uuid":
        return device.uuid is not None and device.uuid.lower() == value.lower()
    if kind == "mac":
        mac = device.prop("mac") or device.prop("ID_NET_ADDRESS") or ""
        return mac.lower() == value.lower()
    return False


def bootable(option: BootOption) -> bool:
    return option.kind == "linux" and option.kernel is not None and not option.hidden


def choose(
    options: Sequence[BootOption],
    devices: Mapping[str, Device],
    boot_order: Sequence[str],
    *,
    next_boot: str | None = None,
    incumbent: str | None = None,
) -> Choice | None:
    """The option autoboot would boot now, or None.  ``incumbent`` is the id of
    the option the countdown runs for, which a candidate of equal rank does
    not displace."""
    if next_boot is not None:
        for opt in options:
            if opt.id == next_boot and opt.kernel is not None:
                return Choice(opt, -1, "chosen for the next boot")
    candidates = [o for o in options if o.default and bootable(o)]
    for rank, selector in enumerate(boot_order):
        matching = [o for o in candidates if selector_matches(selector, devices.get(o.device))]
        if matching:
            kept = next((o for o in matching if o.id == incumbent), matching[0])
            return Choice(kept, rank, f"default entry, boot order {selector!r}")
    return None
