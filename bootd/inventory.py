"""Devices and boot options in memory; emits change events.

Pure (layer L1): no I/O, no event loop.  Options are stored as parsed; the
view handed out has resources that name another device by UUID or label
resolved against the devices known now, and changes back when that device
leaves.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from enum import StrEnum

from bootd.errors import InvalidArgument, NotFound
from bootd.model import N_, BootOption, Device, Record, Resource, Trust, record

_set = object.__setattr__

log = logging.getLogger(__name__)


class EventKind(StrEnum):
    DEVICE_ADDED = "device-added"
    DEVICE_CHANGED = "device-changed"
    DEVICE_REMOVED = "device-removed"
    OPTION_ADDED = "option-added"
    OPTION_CHANGED = "option-changed"
    OPTION_REMOVED = "option-removed"

    def is_device(self) -> bool:
        return self in (EventKind.DEVICE_ADDED, EventKind.DEVICE_CHANGED, EventKind.DEVICE_REMOVED)


@record
class InventoryEvent(Record):
    kind: EventKind
    device: Device | None = None
    option: BootOption | None = None

    def __init__(self, kind: EventKind, device: Device | None = None, option: BootOption | None = None) -> None:
        _set(self, "kind", kind)
        _set(self, "device", device)
        _set(self, "option", option)


Listener = Callable[[InventoryEvent], None]


def resolve_resource(res: Resource | None, devices: Iterable[Device]) -> Resource | None:
    """Bind a ``uuid=``/``label=`` resource to a known device, or unbind it."""
    if res is None or res.selector is None:
        return res
    for dev in devices:
        if dev.matches(res.selector):
            return replace(res, device=dev.id)
    return replace(res, device=None)


def resolve_option(opt: BootOption, devices: Sequence[Device]) -> BootOption:
    if not _has_selector(opt):
        return opt
    return replace(
        opt,
        kernel=resolve_resource(opt.kernel, devices),
        initrds=tuple(r for r in (resolve_resource(i, devices) for i in opt.initrds) if r is not None),
        dtb=resolve_resource(opt.dtb, devices),
    )


def _has_selector(opt: BootOption) -> bool:
    return any(r is not None and r.selector is not None for r in (opt.kernel, opt.dtb, *opt.initrds))


def find_option(options: Iterable[BootOption], wanted: str) -> BootOption:
    """The option ``wanted`` names: its id, else its config's own entry id, else
    its title (exactly, then ignoring case).  NotFound when none does;
    InvalidArgument naming the candidates when several do at the same step."""
    opts = list(options)
    steps: list[Callable[[BootOption], bool]] = [
        lambda o: o.id == wanted,
        lambda o: o.entry_id == wanted,
        lambda o: o.name == wanted,
        lambda o: o.name.lower() == wanted.lower(),
    ]
    for match in steps:
        found = [o for o in opts if match(o)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            ids = ", ".join(o.id for o in found)
            raise InvalidArgument.of(N_("{name} names several options ({ids}); give an id"), name=repr(wanted), ids=ids)
    raise NotFound.of(N_("no boot option is called {name} (see `bootd list`)"), name=repr(wanted))


class Inventory:
    """The daemon's one list of devices and options."""

    def __init__(self) -> None:
        self._devices: dict[str, Device] = {}
        self._raw: dict[str, BootOption] = {}
        self._resolved: dict[str, BootOption] = {}
        self._listeners: list[Listener] = []

    # -- subscriptions -------------------------------------------------
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` for every event; returns the unsubscribe function."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def _emit(self, event: InventoryEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("inventory listener failed on %s", event.kind)

    # -- queries ---------------------------------------------------------
    def devices(self) -> list[Device]:
        return list(self._devices.values())

    def device(self, device_id: str) -> Device | None:
        return self._devices.get(device_id)

    def options(self) -> list[BootOption]:
        """Options in menu order: devices in the order they appeared, then ``order``."""
        rank = {d: i for i, d in enumerate(self._devices)}
        return sorted(self._resolved.values(), key=lambda o: (rank.get(o.device, len(rank)), o.order))

    def option(self, option_id: str) -> BootOption | None:
        return self._resolved.get(option_id)

    def options_of(self, device_id: str) -> list[BootOption]:
        return sorted((o for o in self._resolved.values() if o.device == device_id), key=lambda o: o.order)

    # -- changes -----------------------------------------------------------
    def add_device(self, device: Device) -> None:
        """Add or update a device; options naming it by UUID/label resolve."""
        known = self._devices.get(device.id)
        self._devices[device.id] = device
        if known is None:
            self._emit(InventoryEvent(EventKind.DEVICE_ADDED, device=device))
        elif known != device:
            self._emit(InventoryEvent(EventKind.DEVICE_CHANGED, device=device))
        self._reresolve()

    def remove_device(self, device_id: str) -> None:
        """Remove a device and its options; options naming it go unresolved."""
        for opt in self.options_of(device_id):
            self._drop_option(opt.id)
        device = self._devices.pop(device_id, None)
        if device is not None:
            self._emit(InventoryEvent(EventKind.DEVICE_REMOVED, device=device))
        self._reresolve()

    def set_options(self, device_id: str, options: Sequence[BootOption]) -> None:
        """Replace the options of one device, emitting only the differences."""
        new = {o.id: replace(o, device=device_id) for o in options}
        for oid in [o.id for o in self.options_of(device_id)]:
            if oid not in new:
                self._drop_option(oid)
        for opt in new.values():
            self.put_option(opt)

    def put_option(self, option: BootOption) -> None:
        """Add or replace one option (user-made and URL options use this).

        An option that comes back unchanged (a rescan) keeps its trust state."""
        known = self._raw.get(option.id)
        if known is not None and option.trust is Trust.UNCHECKED and not option.trust_reason:
            if replace(known, trust=Trust.UNCHECKED, trust_reason="") == option:
                option = known
        self._raw[option.id] = option
        resolved = resolve_option(option, list(self._devices.values()))
        old = self._resolved.get(option.id)
        self._resolved[option.id] = resolved
        if old is None:
            self._emit(InventoryEvent(EventKind.OPTION_ADDED, option=resolved))
        elif old != resolved:
            self._emit(InventoryEvent(EventKind.OPTION_CHANGED, option=resolved))

    def set_trust(self, option_id: str, trust: Trust, reason: str) -> None:
        """Record signed boot's verdict on an option (an option-changed event when it differs)."""
        raw = self._raw.get(option_id)
        if raw is None or (raw.trust, raw.trust_reason) == (trust, reason):
            return
        self._raw[option_id] = replace(raw, trust=trust, trust_reason=reason)
        old = self._resolved[option_id]
        self._resolved[option_id] = new = replace(old, trust=trust, trust_reason=reason)
        self._emit(InventoryEvent(EventKind.OPTION_CHANGED, option=new))

    def remove_option(self, option_id: str) -> None:
        self._drop_option(option_id)

    def clear(self) -> None:
        for device_id in list(self._devices):
            self.remove_device(device_id)
        for oid in list(self._resolved):
            self._drop_option(oid)

    def _drop_option(self, option_id: str) -> None:
        self._raw.pop(option_id, None)
        opt = self._resolved.pop(option_id, None)
        if opt is not None:
            self._emit(InventoryEvent(EventKind.OPTION_REMOVED, option=opt))

    def _reresolve(self) -> None:
        devices = list(self._devices.values())
        for oid, raw in list(self._raw.items()):
            if not _has_selector(raw):
                continue
            resolved = resolve_option(raw, devices)
            if resolved != self._resolved.get(oid):
                self._resolved[oid] = resolved
                self._emit(InventoryEvent(EventKind.OPTION_CHANGED, option=resolved))
