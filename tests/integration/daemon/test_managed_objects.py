"""The service's one-pass GetManagedObjects answers exactly what the D-Bus
library's generic handler answers for the same objects, and option objects
announce only the properties that changed."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from dbus_fast import Message, MessageType, Variant
from dbus_fast.aio import MessageBus

from bootd.dbus import names
from bootd.dbus.objects import DeviceObject, OptionObject, managed_objects_reply
from bootd.model import BootOption, Device, DeviceType, Resource
from tests.integration.daemon.helpers import PrivateBus

OPTIONS = [
    BootOption(
        f"d{i % 3}/e{i}",
        f"d{i % 3}",
        f"Entry {i}",
        Resource.local(f"/boot/vmlinuz-{i}"),
        initrds=(Resource.local("/boot/initrd.img"), Resource.remote("http://127.0.0.1/i")) if i % 2 else (),
        dtb=Resource.by_uuid("1234-abcd", "/dtb") if i == 4 else None,
        args=f"root=/dev/sda{i} quiet",
        default=i == 1,
        order=i,
        group="Advanced" if i > 5 else None,
        entry_id=f"id{i}" if i % 3 else None,
    )
    for i in range(9)
]
DEVICES = [
    Device(f"d{i}", DeviceType.DISK, node=f"/dev/sd{i}", uuid=f"u{i}", label=f"L{i}", properties=(("k", str(i)),))
    for i in range(3)
]


def plain(value: Any) -> Any:
    if isinstance(value, Variant):
        return (value.signature, plain(value.value))
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


async def managed(bus: MessageBus, destination: str | None, path: str) -> Any:
    reply = await bus.call(
        Message(destination=destination, path=path, interface=names.OBJECT_MANAGER_IFACE, member="GetManagedObjects")
    )
    assert reply is not None and reply.message_type == MessageType.METHOD_RETURN, reply
    assert reply.signature == "a{oa{sa{sv}}}"
    return plain(reply.body[0])


async def test_one_pass_reply_matches_the_library(open_bus: PrivateBus) -> None:
    fast = await MessageBus(bus_address=open_bus.address).connect()
    generic = await MessageBus(bus_address=open_bus.address).connect()
    caller = await MessageBus(bus_address=open_bus.address).connect()
    try:
        answered: list[str | None] = []

        def one_pass(msg: Message) -> Message | bool:
            reply = managed_objects_reply(fast, msg)
            if reply is not False:
                answered.append(msg.path)
            return reply

        fast.add_message_handler(one_pass)
        for bus in (fast, generic):
            for dev in DEVICES:
                bus.export(names.device_path(dev.id), DeviceObject(dev))
            for opt in OPTIONS:
                bus.export(names.option_path(opt.id), OptionObject(opt))
        for path in (names.ROOT_PATH, names.OPTIONS_PATH, "/"):
            ours = await managed(caller, fast.unique_name, path)
            theirs = await managed(caller, generic.unique_name, path)
            assert ours == theirs
            assert list(ours) == list(theirs)
        assert answered == [names.ROOT_PATH, names.OPTIONS_PATH, "/"]  # the fast path answered, not the library
        everything = await managed(caller, fast.unique_name, names.ROOT_PATH)
        assert len(everything) == len(OPTIONS) + len(DEVICES)
        first = everything[names.option_path(OPTIONS[1].id)][names.OPTION_IFACE]
        assert first["Name"] == ("s", "Entry 1") and first["Default"] == ("b", True)
        assert first["Initrds"] == ("aa{ss}", [{"path": "/boot/initrd.img"}, {"url": "http://127.0.0.1/i"}])
        # an option that changes is answered with its new values (nothing kept from the last answer)
        obj = fast._path_exports[names.option_path(OPTIONS[1].id)][names.OPTION_IFACE]
        assert isinstance(obj, OptionObject)
        obj.set_option(replace(OPTIONS[1], name="Renamed", default=False, args="ro"))
        again = await managed(caller, fast.unique_name, names.ROOT_PATH)
        changed = again[names.option_path(OPTIONS[1].id)][names.OPTION_IFACE]
        assert changed["Name"] == ("s", "Renamed") and changed["Default"] == ("b", False)
        assert changed["Args"] == ("s", "ro")
        assert {k: v for k, v in changed.items() if k not in ("Name", "Default", "Args")} == {
            k: v for k, v in first.items() if k not in ("Name", "Default", "Args")
        }
    finally:
        for bus in (fast, generic, caller):
            bus.disconnect()


class Recording(OptionObject):
    def __init__(self, opt: BootOption) -> None:
        super().__init__(opt)
        self.emitted: list[dict[str, Any]] = []

    def emit_properties_changed(self, changed: dict[str, Any], invalidated: list[str] | None = None) -> None:
        self.emitted.append(changed)


def test_option_object_announces_only_changed_properties() -> None:
    obj = Recording(OPTIONS[2])
    obj.set_option(OPTIONS[2])
    assert obj.emitted == []
    obj.set_option(replace(OPTIONS[2], name="Renamed", args="ro"))
    assert obj.emitted == [{"Name": "Renamed", "Args": "ro"}]
    assert obj.p["Name"] == "Renamed" and obj.Name == "Renamed"
