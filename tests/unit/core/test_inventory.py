"""Inventory: devices and options, UUID/label resolution, change events."""

from __future__ import annotations

from bootd.inventory import EventKind, Inventory, InventoryEvent, resolve_option
from bootd.model import BootOption, Device, Resource


def opt(oid: str, device: str, kernel: Resource | None = None, order: int = 0) -> BootOption:
    return BootOption(id=oid, device=device, name=oid, kernel=kernel or Resource.local("/v"), order=order)


def recorder(inv: Inventory) -> list[tuple[str, str]]:
    events: list[tuple[str, str]] = []

    def on(e: InventoryEvent) -> None:
        what = e.device.id if e.device else e.option.id if e.option else "?"
        events.append((str(e.kind), what))

    inv.subscribe(on)
    return events


def test_options_follow_their_device_and_order() -> None:
    inv = Inventory()
    events = recorder(inv)
    inv.add_device(Device(id="b"))
    inv.add_device(Device(id="a"))
    inv.set_options("a", [opt("a/1", "a", order=1), opt("a/0", "a", order=0)])
    inv.set_options("b", [opt("b/0", "b")])
    assert [o.id for o in inv.options()] == ["b/0", "a/0", "a/1"]
    inv.set_options("a", [opt("a/0", "a")])
    assert ("option-removed", "a/1") in events
    inv.remove_device("a")
    assert [o.id for o in inv.options()] == ["b/0"]
    assert events[-2:] == [("option-removed", "a/0"), ("device-removed", "a")]


def test_uuid_reference_resolves_when_the_device_appears_and_unresolves_when_it_leaves() -> None:
    inv = Inventory()
    inv.add_device(Device(id="esp"))
    inv.set_options("esp", [opt("esp/x", "esp", Resource.by_uuid("ABCD", "/vmlinuz"))])
    first = inv.option("esp/x")
    assert first is not None and first.kernel is not None and first.kernel.is_unresolved
    events = recorder(inv)
    inv.add_device(Device(id="root", uuid="abcd"))
    resolved = inv.option("esp/x")
    assert resolved is not None and resolved.kernel is not None and resolved.kernel.device == "root"
    assert ("option-changed", "esp/x") in events
    inv.remove_device("root")
    again = inv.option("esp/x")
    assert again is not None and again.kernel is not None and again.kernel.is_unresolved


def test_device_change_events_only_on_change() -> None:
    inv = Inventory()
    events = recorder(inv)
    inv.add_device(Device(id="d", label="A"))
    inv.add_device(Device(id="d", label="A"))
    inv.add_device(Device(id="d", label="B"))
    assert events == [("device-added", "d"), ("device-changed", "d")]
    assert EventKind.DEVICE_CHANGED.is_device() and not EventKind.OPTION_ADDED.is_device()


def test_a_failing_listener_does_not_stop_others() -> None:
    inv = Inventory()

    def bad(e: InventoryEvent) -> None:
        raise RuntimeError("listener bug")

    inv.subscribe(bad)
    events = recorder(inv)
    inv.add_device(Device(id="d"))
    assert events == [("device-added", "d")]


def test_unsubscribe_and_clear() -> None:
    inv = Inventory()
    events: list[InventoryEvent] = []
    stop = inv.subscribe(events.append)
    inv.add_device(Device(id="d"))
    stop()
    inv.add_device(Device(id="e"))
    assert len(events) == 1
    inv.put_option(opt("url/1", "network"))
    inv.clear()
    assert inv.devices() == [] and inv.options() == []


def test_resolve_option_by_label_initrds_and_dtb() -> None:
    o = BootOption(
        id="x",
        device="a",
        name="x",
        kernel=Resource.by_label("ROOT", "/v"),
        initrds=(Resource.by_label("ROOT", "/i"), Resource.local("/j")),
        dtb=Resource.by_label("NONE", "/d"),
    )
    r = resolve_option(o, [Device(id="r", label="ROOT")])
    assert r.kernel == Resource(path=r.kernel.path if r.kernel else None, selector="label=ROOT", device="r")
    assert [i.device for i in r.initrds] == ["r", None]
    assert r.dtb is not None and r.dtb.is_unresolved
    plain = opt("p", "a")
    assert resolve_option(plain, []) is plain
