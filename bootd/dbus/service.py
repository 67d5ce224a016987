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
from bootd.dbus import codec, names
from bootd.dbus.gate import MAX_IN_FLIGHT, MAX_IN_FLIGHT_PER_CALLER, SENDER, Gate, guarded
from bootd.dbus.manager import Manager
from bootd.dbus.objects import DeviceObject, ObjectsExporter, OptionObject, managed_objects_reply
from bootd.dbus.transport import connect_bus
from bootd.errors import Busy, PermissionDenied
from bootd.settings import Settings

log = logging.getLogger(__name__)

S = Annotated[str, DBusSignature("s")]
B = Annotated[bool, DBusSignature("b")]
U = Annotated[int, DBusSignature("u")]
AS = Annotated[list[str], DBusSignature("as")]
ASV = Annotated[dict[str, Any], DBusSignature("a{sv}")]


# -- org.bootd.Settings1 ----------------------------------------------------------------------
class SettingsIface(ServiceInterface):
    def __init__(self, gate: Gate) -> None:
        super().__init__(names.SETTINGS_IFACE)
        self._gate = gate
        self._backend = gate.backend

    async def _set(self, key: str, value: Any) -> None:
        async def run(sender: str) -> None:
            self._gate.require_password(sender, "change settings")
            await self._backend.set_setting(key, value)

        await guarded(self._gate, f"setting {key}", run)

    @property
    def _s(self) -> Settings:
        return self._backend.settings

    @method()
    async def Update(self, changes: ASV) -> None:
        """Write every setting in ``changes`` (bootd.toml names) or none."""

        async def run(sender: str) -> None:
            self._gate.require_password(sender, "change settings")
            await self._backend.set_settings({str(k): codec.unwrap(v) for k, v in changes.items()})

        await guarded(self._gate, "Update", run)

    @dbus_property()
    def Autoboot(self) -> B:
        return self._s.autoboot

    @Autoboot.setter
    async def _set_autoboot(self, value: B) -> None:
        await self._set("autoboot", value)

    @dbus_property()
    def Timeout(self) -> U:
        return self._s.timeout

    @Timeout.setter
    async def _set_timeout(self, value: U) -> None:
        await self._set("timeout", value)

    @dbus_property()
    def BootOrder(self) -> AS:
        return list(self._s.boot_order)

    @BootOrder.setter
    async def _set_boot_order(self, value: AS) -> None:
        await self._set("boot_order", value)

    @dbus_property()
    def Console(self) -> S:
        return self._s.console

    @Console.setter
    async def _set_console(self, value: S) -> None:
        await self._set("console", value)

    @dbus_property(access=PropertyAccess.WRITE)
    def Password(self) -> S:
        return ""

    @Password.setter
    async def _set_password(self, value: S) -> None:
        await self._set("password", value)

    @dbus_property(access=PropertyAccess.READ)
    def PasswordSet(self) -> B:
        return bool(self._s.password)

    @dbus_property(access=PropertyAccess.READ)
    def Problems(self) -> AS:
        return list(self._backend.settings_problems)

    @dbus_property()
    def Restrict(self) -> S:
        return self._s.restrict

    @Restrict.setter
    async def _set_restrict(self, value: S) -> None:
        await self._set("restrict", value)

    @dbus_property()
    def ScanLoopDevices(self) -> B:
        return self._s.scan_loop_devices

    @ScanLoopDevices.setter
    async def _set_scan_loop_devices(self, value: B) -> None:
        await self._set("scan_loop_devices", value)

    @dbus_property()
    def AllowShell(self) -> B:
        return self._s.allow_shell

    @AllowShell.setter
    async def _set_allow_shell(self, value: B) -> None:
        await self._set("allow_shell", value)

    @dbus_property()
    def AuthTimeout(self) -> U:
        return self._s.auth_timeout

    @AuthTimeout.setter
    async def _set_auth_timeout(self, value: U) -> None:
        await self._set("auth_timeout", value)

    def values(self, keys: tuple[str, ...]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in keys:
            prop, _sig = names.SETTING_PROPERTIES[key]
            if key == "password":
                out[names.PASSWORD_SET_PROPERTY] = self.PasswordSet
            else:
                out[prop] = getattr(self, prop)
        return out


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
        self.settings = SettingsIface(self.gate)
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
            raise PermissionDenied(f"cannot own {names.BUS_NAME} on the {bus} bus: {e.text}") from None
        if reply not in (RequestNameReply.PRIMARY_OWNER, RequestNameReply.ALREADY_OWNER):
            mb.disconnect()
            raise Busy(f"another daemon already owns {names.BUS_NAME} on the {bus} bus")
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
            self.manager.Status(str(event.severity), event.message)
        elif isinstance(event, ProgressEvent):
            self.manager.BootProgress(event.stage, event.fraction)
        elif isinstance(event, DownloadEvent):
            self.manager.DownloadProgress(event.stage, event.fraction, event.transfer)
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
    "guarded",
]
