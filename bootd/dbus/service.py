"""The D-Bus service (layer L4): dbus-fast interfaces over the daemon's
:class:`~bootd.api.DaemonApi`.  Adapters only: each method checks who is calling, turns
D-Bus values into model values, calls the backend and maps errors.

* Mutating methods and property writes are refused unless the caller's uid
  (``GetConnectionUnixUser``) is root or the daemon's own user; the bus policy
  says the same, this is the second lock.
* When a password is set, gated calls need a prior ``Authenticate`` on the same
  connection; it ends when the connection goes away, after ``auth_timeout``
  seconds without a gated call, and after each boot that needed it.
* A :class:`~bootd.errors.BootdError` becomes its ``org.bootd.Error.*``; any
  other exception is logged once and becomes ``org.bootd.Error.Internal``.
* Calls in flight are capped per connection and in total (``Busy``), so a
  flood from one client cannot starve the others.
"""

import logging
import os
import time
from collections.abc import Callable
from typing import Annotated, Any

from dbus_fast import DBusError, Message, MessageType, NameFlag, RequestNameReply
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusSignature
from dbus_fast.constants import PropertyAccess
from dbus_fast.service import ServiceInterface, dbus_property, method

from bootd.api import DaemonApi, DaemonChanged, DaemonEvent, DownloadEvent, ProgressEvent, SettingsChanged, StatusEvent
from bootd.dbus import codec, names, schema
from bootd.dbus.gate import MAX_IN_FLIGHT, MAX_IN_FLIGHT_PER_CALLER, SENDER, Gate, guarded
from bootd.dbus.manager import Manager
from bootd.dbus.objects import DeviceObject, ObjectsExporter, OptionObject, managed_objects_reply
from bootd.dbus.transport import connect_bus
from bootd.errors import Busy, PermissionDenied
from bootd.model import N_, Text
from bootd.settings_table import TABLE, Setting, Table

log = logging.getLogger(__name__)

B = Annotated[bool, DBusSignature("b")]
AS = Annotated[list[str], DBusSignature("as")]
ASV = Annotated[dict[str, Any], DBusSignature("a{sv}")]
ASS = Annotated[dict[str, str], DBusSignature("a{ss}")]


# -- org.bootd.Settings1 (derived from the settings table) -----------------------------------
class SettingsIface(ServiceInterface):
    """The members every Settings1 has; :func:`settings_iface` adds one
    property per setting of the table."""

    table: Table = TABLE

    def __init__(self, gate: Gate) -> None:
        super().__init__(names.SETTINGS_IFACE)
        self._gate = gate
        self._backend = gate.backend
        schema.conform(self, schema.settings_interface(self.table))

    async def _set(self, key: str, value: Any) -> None:
        async def run(sender: str) -> None:
            self._gate.require_password(sender, N_("change settings"))
            await self._backend.set_setting(key, value)

        await guarded(self._gate, f"setting {key}", run)

    @method()
    async def Update(self, changes: ASV) -> None:
        """Write every setting in ``changes`` (bootd.toml names) or none."""

        async def run(sender: str) -> None:
            self._gate.require_password(sender, N_("change settings"))
            await self._backend.set_settings({str(k): codec.unwrap(v) for k, v in changes.items()})

        await guarded(self._gate, "Update", run)

    @dbus_property(access=PropertyAccess.READ, name=names.PROBLEMS_PROPERTY)
    def prop_Problems(self) -> AS:  # noqa: N802 (named like the generated properties, for their order)
        return list(self._backend.settings_problems)

    @dbus_property(access=PropertyAccess.READ, name=names.ORIGINS_PROPERTY)
    def prop_Origins(self) -> ASS:  # noqa: N802 (named like the generated properties, for their order)
        return dict(self._backend.settings_origins)

    def values(self, keys: tuple[str, ...]) -> dict[str, Any]:
        """The properties that show ``keys`` (settings the bus does not carry have none)."""
        out: dict[str, Any] = {}
        for key in keys:
            if key not in self.table or not self.table.row(key).dbus:
                continue
            row = self.table.row(key)
            prop = row.set_property if row.secret else row.dbus
            out[prop] = getattr(self, _attr(prop))
        if keys:
            out[names.ORIGINS_PROPERTY] = self.prop_Origins
        return out


def _attr(prop: str) -> str:
    return f"prop_{prop}"


def _getter(row: Setting) -> Callable[[SettingsIface], Any]:
    def get(self: SettingsIface) -> Any:
        return row.to_bus(getattr(self._backend.settings, row.name))

    return get


def _properties(row: Setting) -> dict[str, Any]:
    """The dbus-fast properties of one setting: read-write, or for a secret
    write-only plus a read-only ``<name>Set``."""
    sig = Annotated[Any, DBusSignature(row.signature)]

    def get_nothing(self: SettingsIface) -> Any:
        return ""

    async def put(self: SettingsIface, value: Any) -> None:
        await self._set(row.name, value)

    getter = get_nothing if row.secret else _getter(row)
    getter.__annotations__ = {"return": sig}
    getter.__name__ = _attr(row.dbus)  # dbus-fast reads a property by its getter's name
    put.__annotations__ = {"value": sig, "return": None}
    access = PropertyAccess.WRITE if row.secret else PropertyAccess.READWRITE
    out = {_attr(row.dbus): dbus_property(access=access, name=row.dbus)(getter).setter(put)}
    if row.secret:

        def is_set(self: SettingsIface) -> Any:
            return bool(getattr(self._backend.settings, row.name))

        is_set.__annotations__ = {"return": B}
        is_set.__name__ = _attr(row.set_property)
        out[_attr(row.set_property)] = dbus_property(access=PropertyAccess.READ, name=row.set_property)(is_set)
    return out


def settings_iface(table: Table = TABLE) -> type[SettingsIface]:
    """The Settings1 service class of ``table``: the base's members and a
    property for each setting the table puts on the bus."""
    namespace: dict[str, Any] = {"table": table, "__module__": __name__}
    for row in table.on_bus:
        namespace.update(_properties(row))
    return type("SettingsIface", (SettingsIface,), namespace)


# -- the service ------------------------------------------------------------------------------
class Service:
    """Everything the daemon exports on one bus connection."""

    def __init__(
        self,
        bus: MessageBus,
        backend: DaemonApi,
        *,
        trusted_uids: frozenset[int] | None = None,
        now: Callable[[], float] | None = None,
    ) -> None:
        self.bus = bus
        self.backend = backend
        self.gate = Gate(
            bus, backend, trusted_uids=trusted_uids or frozenset({0, os.getuid()}), now=now or time.monotonic
        )
        self.manager = Manager(self.gate)
        self.settings = settings_iface(backend.settings_table)(self.gate)
        self.objects = ObjectsExporter(bus)
        self._unsubscribe: Callable[[], None] | None = None
        self.backend_listening = True

    @classmethod
    async def connect(cls, bus: str, backend: DaemonApi, *, now: Callable[[], float] | None = None) -> "Service":
        """Connect to ``system``, ``session`` or an address, export everything,
        then take the name ``org.bootd``.  ``now`` is the clock of
        authentication expiry (default: monotonic time)."""
        mb = await connect_bus(bus)
        service = cls(mb, backend, now=now)
        await service.start()
        try:
            reply = await mb.request_name(names.BUS_NAME, NameFlag.DO_NOT_QUEUE)
        except DBusError as e:
            mb.disconnect()
            raise PermissionDenied.of(
                N_("cannot own {name} on the {bus} bus: {error}"), name=names.BUS_NAME, bus=bus, error=e.text
            ) from None
        if reply not in (RequestNameReply.PRIMARY_OWNER, RequestNameReply.ALREADY_OWNER):
            mb.disconnect()
            raise Busy.of(N_("another daemon already owns {name} on the {bus} bus"), name=names.BUS_NAME, bus=bus)
        log.info("serving %s on the %s bus as %s", names.BUS_NAME, bus, mb.unique_name)
        return service

    async def wait_disconnected(self) -> None:
        try:
            await self.bus.wait_for_disconnect()  # type: ignore[no-untyped-call]
        except Exception as e:
            log.warning("bus connection ended: %s", e)

    async def close(self) -> None:
        """Drop the name and the connection."""
        self.stop()
        if self.bus.connected:
            try:
                await self.bus.release_name(names.BUS_NAME)
            except Exception as e:
                log.debug("releasing %s: %s", names.BUS_NAME, e)
            self.bus.disconnect()

    def _on_message(self, msg: Message) -> Message | bool:
        """Runs before dispatch: remember who is calling; forget who left;
        answer GetManagedObjects for the inventory's objects in one pass."""
        if msg.message_type == MessageType.METHOD_CALL:
            SENDER.set(msg.sender)
            return managed_objects_reply(self.bus, msg)
        elif (
            msg.message_type == MessageType.SIGNAL
            and msg.member == "NameOwnerChanged"
            and msg.sender == "org.freedesktop.DBus"
            and len(msg.body) == 3
            and not msg.body[2]
        ):
            self.gate.forget(str(msg.body[0]))
        return False

    async def start(self) -> None:
        self.bus.add_message_handler(self._on_message)
        await self.bus.call(
            Message(
                destination="org.freedesktop.DBus",
                path="/org/freedesktop/DBus",
                interface="org.freedesktop.DBus",
                member="AddMatch",
                signature="s",
                body=["type='signal',sender='org.freedesktop.DBus',member='NameOwnerChanged'"],
            )
        )
        self.bus.export(names.ROOT_PATH, self.manager)
        self.bus.export(names.ROOT_PATH, self.settings)
        inv = self.backend.inventory
        for dev in inv.devices():
            self.objects.device_added(dev)
        for opt in inv.options():
            self.objects.option_added(opt)
        self._unsubscribe = inv.subscribe(self.objects.on_inventory_event)
        self.backend.subscribe(self._on_backend_event)

    def stop(self) -> None:
        self.backend_listening = False
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.bus.remove_message_handler(self._on_message)

    def _on_backend_event(self, event: DaemonEvent) -> None:
        if not self.backend_listening or not self.bus.connected:
            return
        if isinstance(event, StatusEvent):
            self.manager.Status(str(event.severity), event.text or Text(event.message))
        elif isinstance(event, ProgressEvent):
            self.manager.BootProgress(event.text or Text(event.stage), event.fraction)
        elif isinstance(event, DownloadEvent):
            self.manager.DownloadProgress(event.text or Text(event.stage), event.fraction, event.transfer)
        elif isinstance(event, DaemonChanged):
            self.manager.emit_properties_changed(self.manager.changed(event.facts))
        elif isinstance(event, SettingsChanged):
            if "password" in event.keys:
                self.gate.authenticated.clear()  # a new password needs a new Authenticate
            self.settings.emit_properties_changed(self.settings.values(event.keys))


__all__ = [
    "MAX_IN_FLIGHT",
    "MAX_IN_FLIGHT_PER_CALLER",
    "SENDER",
    "DeviceObject",
    "OptionObject",
    "Service",
    "SettingsIface",
    "guarded",
    "settings_iface",
]
