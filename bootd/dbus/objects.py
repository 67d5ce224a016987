"""The per-device and per-option objects (``org.bootd.Device1`` under
``/org/bootd/devices/…``, ``org.bootd.BootOption1`` under
``/org/bootd/options/…``), exported and unexported as the inventory changes;
the library emits ``InterfacesAdded``/``InterfacesRemoved`` for each."""

import inspect
import logging
from collections.abc import Callable
from typing import Annotated, Any

from dbus_fast import Message, MessageFlag, MessageType, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusSignature
from dbus_fast.constants import PropertyAccess
from dbus_fast.service import ServiceInterface, dbus_property
from dbus_fast.signature import SignatureTree, get_signature_tree

from bootd.dbus import codec, names
from bootd.inventory import EventKind, InventoryEvent
from bootd.model import BootOption, Device

log = logging.getLogger(__name__)

S = Annotated[str, DBusSignature("s")]
O = Annotated[str, DBusSignature("o")]  # noqa: E741
B = Annotated[bool, DBusSignature("b")]
I = Annotated[int, DBusSignature("i")]  # noqa: E741
AS = Annotated[list[str], DBusSignature("as")]
ASS = Annotated[dict[str, str], DBusSignature("a{ss}")]
AASS = Annotated[list[dict[str, str]], DBusSignature("aa{ss}")]
R = PropertyAccess.READ


class _Props(ServiceInterface):
    def __init__(self, name: str, props: dict[str, Any]) -> None:
        super().__init__(name)
        self.p = props

    def update(self, props: dict[str, Any]) -> None:
        changed = {k: v for k, v in props.items() if self.p.get(k) != v}
        self.p = props
        if changed:
            self.emit_properties_changed(changed)


class OptionObject(ServiceInterface):
    """Keeps the option itself (the inventory holds it anyway) and derives the
    properties when asked, instead of a second copy of every option's values."""

    def __init__(self, opt: BootOption) -> None:
        super().__init__(names.OPTION_IFACE)
        self.opt = opt
        self._variants: dict[str, Variant] | None = None

    @property
    def p(self) -> dict[str, Any]:
        return codec.option_props(self.opt)

    def variants(self) -> dict[str, Variant]:
        """The properties as ``GetManagedObjects`` sends them, made once per
        value of the option (:meth:`set_option` drops them); the caller must
        not change the dict."""
        made = self._variants
        if made is None:
            props = self.p
            made = self._variants = {
                name: _variant(name, tree, props[name]) for name, tree, _get in _trees(OptionObject)
            }
        return made

    def set_option(self, opt: BootOption) -> None:
        old = self.p
        self.opt = opt
        self._variants = None
        changed = {k: v for k, v in self.p.items() if old.get(k) != v}
        if changed:
            self.emit_properties_changed(changed)

    @dbus_property(access=R)
    def Id(self) -> S:
        return str(self.p["Id"])

    @dbus_property(access=R)
    def Device(self) -> O:
        return str(self.p["Device"])

    @dbus_property(access=R)
    def DeviceId(self) -> S:
        return str(self.p["DeviceId"])

    @dbus_property(access=R)
    def Name(self) -> S:
        return str(self.p["Name"])

    @dbus_property(access=R)
    def Kernel(self) -> ASS:
        return dict(self.p["Kernel"])

    @dbus_property(access=R)
    def Initrds(self) -> AASS:
        return list(self.p["Initrds"])

    @dbus_property(access=R)
    def Dtb(self) -> ASS:
        return dict(self.p["Dtb"])

    @dbus_property(access=R)
    def Args(self) -> S:
        return str(self.p["Args"])

    @dbus_property(access=R)
    def Default(self) -> B:
        return bool(self.p["Default"])

    @dbus_property(access=R)
    def Source(self) -> S:
        return str(self.p["Source"])

    @dbus_property(access=R)
    def Order(self) -> I:
        return int(self.p["Order"])

    @dbus_property(access=R)
    def Hidden(self) -> B:
        return bool(self.p["Hidden"])

    @dbus_property(access=R)
    def Group(self) -> S:
        return str(self.p["Group"])

    @dbus_property(access=R)
    def EntryId(self) -> S:
        return str(self.p["EntryId"])

    @dbus_property(access=R)
    def Kind(self) -> S:
        return str(self.p["Kind"])

    @dbus_property(access=R)
    def Trust(self) -> S:
        return str(self.p["Trust"])

    @dbus_property(access=R)
    def TrustReason(self) -> S:
        return str(self.p["TrustReason"])


class DeviceObject(_Props):
    def __init__(self, dev: Device) -> None:
        super().__init__(names.DEVICE_IFACE, codec.device_props(dev))

    @dbus_property(access=R)
    def Id(self) -> S:
        return str(self.p["Id"])

    @dbus_property(access=R)
    def Type(self) -> S:
        return str(self.p["Type"])

    @dbus_property(access=R)
    def Node(self) -> S:
        return str(self.p["Node"])

    @dbus_property(access=R)
    def Uuid(self) -> S:
        return str(self.p["Uuid"])

    @dbus_property(access=R)
    def Label(self) -> S:
        return str(self.p["Label"])

    @dbus_property(access=R)
    def Mountpoint(self) -> S:
        return str(self.p["Mountpoint"])

    @dbus_property(access=R)
    def Fstype(self) -> S:
        return str(self.p["Fstype"])

    @dbus_property(access=R)
    def Title(self) -> S:
        return str(self.p["Title"])

    @dbus_property(access=R)
    def Properties(self) -> ASS:
        return dict(self.p["Properties"])


class ObjectsExporter:
    """Keeps the exported objects in step with the inventory."""

    def __init__(self, bus: MessageBus) -> None:
        self.bus = bus
        self.options: dict[str, OptionObject] = {}
        self.devices: dict[str, DeviceObject] = {}

    def device_added(self, dev: Device) -> None:
        obj = self.devices.get(dev.id)
        if obj is not None:
            obj.update(codec.device_props(dev))
            return
        obj = DeviceObject(dev)
        self.devices[dev.id] = obj
        self.bus.export(names.device_path(dev.id), obj)

    def device_removed(self, dev: Device) -> None:
        if self.devices.pop(dev.id, None) is not None:
            self.bus.unexport(names.device_path(dev.id))

    def option_added(self, opt: BootOption) -> None:
        obj = self.options.get(opt.id)
        if obj is not None:
            obj.set_option(opt)
            return
        obj = OptionObject(opt)
        self.options[opt.id] = obj
        self.bus.export(names.option_path(opt.id), obj)

    def option_removed(self, opt: BootOption) -> None:
        if self.options.pop(opt.id, None) is not None:
            self.bus.unexport(names.option_path(opt.id))

    def on_inventory_event(self, event: InventoryEvent) -> None:
        if event.device is not None:
            if event.kind == EventKind.DEVICE_REMOVED:
                self.device_removed(event.device)
            else:
                self.device_added(event.device)
        if event.option is not None:
            if event.kind == EventKind.OPTION_REMOVED:
                self.option_removed(event.option)
            else:
                self.option_added(event.option)


_Getters = tuple[tuple[str, str, Callable[[Any], Any]], ...]
_GETTERS: dict[type, _Getters] = {}
_TREES: dict[type, tuple[tuple[str, SignatureTree, Callable[[Any], Any]], ...]] = {}


def _getters(cls: type) -> _Getters:
    """``(name, signature, getter)`` of a class's readable properties, in the
    order the library lists them (sorted by attribute name)."""
    found = _GETTERS.get(cls)
    if found is None:
        props: list[Any] = [m for _attr, m in inspect.getmembers(cls) if isinstance(m, property)]
        found = tuple(
            (p.name, p.signature, p.prop_getter)
            for p in props
            if hasattr(p, "prop_getter") and not p.disabled and p.access.readable()
        )
        _GETTERS[cls] = found
    return found


def _trees(cls: type) -> tuple[tuple[str, SignatureTree, Callable[[Any], Any]], ...]:
    """:func:`_getters` with each signature parsed once (a Variant made from a
    parsed signature skips parsing it again)."""
    found = _TREES.get(cls)
    if found is None:
        found = _TREES[cls] = tuple((name, get_signature_tree(sig), get) for name, sig, get in _getters(cls))
    return found


_REPEATED = frozenset(
    {"Device", "DeviceId", "Args", "Default", "Source", "Hidden", "Group", "Kind", "Trust", "TrustReason"}
)
"""Option properties whose values most options share (their device, the flags,
one command line for all entries of a config): one Variant serves them all."""
_SHARED: dict[tuple[str, object], Variant] = {}
_MAX_SHARED = 4096


def _variant(name: str, tree: SignatureTree, value: Any) -> Variant:
    if name not in _REPEATED:
        return Variant(tree, value)
    key = (tree.signature, value)
    found = _SHARED.get(key)
    if found is None:
        found = Variant(tree, value)
        if len(_SHARED) < _MAX_SHARED:
            _SHARED[key] = found
    return found


def managed_objects_reply(bus: MessageBus, msg: Message) -> Message | bool:
    """Answer ``GetManagedObjects`` for the option and device objects in one
    pass (the library's generic handler rescans its whole result after each
    object: quadratic in the number of options).  ``False`` when this is not
    such a call or the objects it covers are not all ours: the library answers."""
    if (
        msg.message_type != MessageType.METHOD_CALL
        or msg.member != "GetManagedObjects"
        or msg.interface != names.OBJECT_MANAGER_IFACE
        or not msg.path
    ):
        return False
    prefix = msg.path + "/"
    result: dict[str, dict[str, dict[str, Variant]]] = {}
    for node, ifaces in bus._path_exports.items():
        if msg.path != "/" and not node.startswith(prefix):
            continue
        values: dict[str, dict[str, Variant]] = {}
        for name, iface in ifaces.items():
            if type(iface) is OptionObject:
                values[name] = iface.variants()
            elif type(iface) is DeviceObject:
                values[name] = {p: Variant(tree, get(iface)) for p, tree, get in _trees(DeviceObject)}
            else:
                return False
        result[node] = values
    if msg.flags & MessageFlag.NO_REPLY_EXPECTED:
        return True
    return Message.new_method_return(msg, "a{oa{sa{sv}}}", [result])
