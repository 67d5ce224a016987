"""The autoboot decision (layer L1, pure): which option would boot on its own.

Only options their own configuration marks default are candidates (bootable
Linux entries, not hidden).  Among them the choice is a total, documented
order, so the same machine autoboots the same entry on every power-on,
whatever order its devices finish scanning in:

1. **device priority from the boot order**: the position of the first
   selector that matches the option's device.  Selectors are device types
   (``disk``, ``usb``, ``optical``, ``network``, ``any``), ``uuid:U`` (the
   device's filesystem UUID is U) and ``mac:M`` (the network interface with
   address M).  Candidates no selector matches never autoboot;
2. **a stable device key**: local before remote (disk, usb, optical, then
   network and anything else), then the device id in natural order
   (``sda2`` < ``sda10`` < ``sdb1``; a ``uuid:`` selector pins a disk whose
   kernel name is not stable);
3. **the config's own default**: the device's menu order (its first parser's
   default first), then the option id.

The countdown's target (``incumbent``) therefore changes only when a
candidate that ranks strictly higher appears; the :class:`Choice` then says
which one it replaced and why.  A one-shot ``next_boot`` choice overrides
all of this when its option exists.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from bootd.model import N_, BootOption, Device, DeviceType, Record, Text, record

_set = object.__setattr__


@record
class Choice(Record):
    option: BootOption
    rank: int
    """Position of the matching selector in the boot order; lower is better
    (``-1``: the one-shot next-boot choice)."""
    reason: Text
    """Why it autoboots, as people read it (translated by each client)."""
    replaced: str | None = None
    """The id of the incumbent this choice displaced (it ranks lower), if any."""

    def __init__(
        self,
        option: BootOption,
        rank: int,
        reason: Text,
        replaced: str | None = None,
    ) -> None:
        _set(self, "option", option)
        _set(self, "rank", rank)
        _set(self, "reason", reason)
        _set(self, "replaced", replaced)


_LOCAL_FIRST = (DeviceType.DISK, DeviceType.USB, DeviceType.OPTICAL, DeviceType.NETWORK)
_CHUNKS = re.compile(r"(\d+)")


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


def natural(text: str) -> tuple[tuple[int, int | str], ...]:
    """``text`` as a natural sort key: digit runs compare as numbers."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in _CHUNKS.split(text) if part)


def device_key(device_id: str, device: Device | None) -> tuple[int, tuple[tuple[int, int | str], ...]]:
    """The stable device key (step 2 of the order)."""
    dtype = device.type if device is not None else None
    kind = _LOCAL_FIRST.index(dtype) if dtype in _LOCAL_FIRST else len(_LOCAL_FIRST)
    return kind, natural(device_id)


def _rank(option: BootOption, devices: Mapping[str, Device], boot_order: Sequence[str]) -> int | None:
    device = devices.get(option.device)
    return next((i for i, sel in enumerate(boot_order) if selector_matches(sel, device)), None)


def sort_key(option: BootOption, rank: int, devices: Mapping[str, Device]) -> tuple[object, ...]:
    """Where ``option`` stands in the documented order (lower boots first)."""
    return rank, device_key(option.device, devices.get(option.device)), option.order, option.id


def _why(winner: BootOption, w_rank: int, loser: BootOption, l_rank: int, boot_order: Sequence[str]) -> Text:
    if w_rank != l_rank:
        return Text.of(
            N_("boot order {first} comes before {second}"),
            first=repr(boot_order[w_rank]),
            second=repr(boot_order[l_rank]),
        )
    if winner.device != loser.device:
        return Text.of(
            N_("device {first} comes before {second} (boot order {selector})"),
            first=winner.device,
            second=loser.device,
            selector=repr(boot_order[w_rank]),
        )
    return Text.of(N_("it comes first in the menu of {device}"), device=winner.device)


def choose(
    options: Sequence[BootOption],
    devices: Mapping[str, Device],
    boot_order: Sequence[str],
    *,
    next_boot: str | None = None,
    incumbent: str | None = None,
) -> Choice | None:
    """The option autoboot would boot now, or None.  ``incumbent`` is the id of
    the option the countdown runs for: the result names it in ``replaced``
    when a candidate ranking higher took its place."""
    if next_boot is not None:
        for opt in options:
            if opt.id == next_boot and opt.kernel is not None:
                return Choice(opt, -1, Text.of(N_("chosen for the next boot")))
    ranked: list[tuple[tuple[object, ...], int, BootOption]] = []
    for opt in options:
        if not (opt.default and bootable(opt)):
            continue
        rank = _rank(opt, devices, boot_order)
        if rank is not None:
            ranked.append((sort_key(opt, rank, devices), rank, opt))
    if not ranked:
        return None
    _, rank, best = min(ranked, key=lambda r: r[0])
    selector = repr(boot_order[rank])
    old = next((r for r in ranked if r[2].id == incumbent), None) if incumbent is not None else None
    if old is None or old[2].id == best.id:
        return Choice(best, rank, Text.of(N_("default entry, boot order {selector}"), selector=selector))
    reason = Text.of(
        N_("default entry, boot order {selector}; replaces {old} ({old_id}): {why}"),
        selector=selector,
        old=old[2].name,
        old_id=old[2].id,
        why=_why(best, rank, old[2], old[1], boot_order),
    )
    return Choice(best, rank, reason, replaced=old[2].id)
