"""The D-Bus service (layer L4): dbus-fast interfaces over the daemon's
:class:`Backend`.  Adapters only: each method checks who is calling, turns
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
from collections.abc import Awaitable, Callable, Coroutine
from typing import Annotated, Any, TypeVar

from dbus_fast import DBusError, Message, MessageType, NameFlag, RequestNameReply, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusSignature
from dbus_fast.constants import PropertyAccess
from dbus_fast.service import ServiceInterface, dbus_method, dbus_property, dbus_signal

from bootd.dbus import codec, names
from bootd.dbus.backend import Backend, BackendEvent, ManagerChanged, ProgressEvent, SettingsChanged, StatusEvent
from bootd.dbus.gate import MAX_IN_FLIGHT, MAX_IN_FLIGHT_PER_CALLER, SENDER, Gate, guarded, option_id_arg
from bootd.dbus.objects import DeviceObject, ObjectsExporter, OptionObject, managed_objects_reply
from bootd.dbus.transport import connect_bus
from bootd.errors import Busy, InvalidArgument, PermissionDenied
from bootd.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")

S = Annotated[str, DBusSignature("s")]
O = Annotated[str, DBusSignature("o")]  # noqa: E741
B = Annotated[bool, DBusSignature("b")]
U = Annotated[int, DBusSignature("u")]
D = Annotated[float, DBusSignature("d")]
AS = Annotated[list[str], DBusSignature("as")]
AO = Annotated[list[str], DBusSignature("ao")]
ASV = Annotated[dict[str, Variant], DBusSignature("a{sv}")]
ASS = Annotated[dict[str, str], DBusSignature("a{ss}")]
CONSOLES = Annotated[list[list[str]], DBusSignature("a(sss)")]
SS = Annotated[list[Any], DBusSignature("ss")]
SD = Annotated[list[Any], DBusSignature("sd")]


# -- org.bootd.Manager1 ----------------------------------------------------------------------
SIGNAL_ARGS = {"Status": ("level", "message"), "BootProgress": ("stage", "fraction")}


class Manager(ServiceInterface):
    def __init__(self, gate: Gate) -> None:
        super().__init__(names.MANAGER_IFACE)
        self._gate = gate
        self._backend = gate.backend
        for sig in ServiceInterface._get_signals(self):
            for arg, name in zip(sig.introspection.args, SIGNAL_ARGS.get(sig.name, ()), strict=False):
                arg.name = name

    def _call(self, what: str, fn: Callable[[str], Awaitable[T]], *, trusted: bool = True) -> Coroutine[Any, Any, T]:
        return guarded(self._gate, what, fn, trusted=trusted)

    @dbus_method()
    async def Boot(self, option: O, console: S, overrides: ASV) -> None:
        async def run(sender: str) -> None:
            oid = option_id_arg(option)
            ov = codec.overrides_from_dbus(overrides)
            opt = self._backend.inventory.option(oid)
            changed = ov.args is not None and (opt is None or ov.args != opt.args)
            needed = False
            if changed or self._backend.settings.restrict == names.Restrict.ALL:
                needed = self._gate.require_password(sender, "boot" if not changed else "boot with changed arguments")
            try:
                await self._backend.boot(oid, console, ov)
            finally:
                if needed:  # the next boot needs the password again
                    self._gate.end_authentication(sender)

        await self._call("Boot", run)

    @dbus_method()
    async def BootCustom(self, spec: ASV, console: S) -> None:
        async def run(sender: str) -> None:
            needed = self._gate.require_password(sender, "boot a custom entry")
            try:
                await self._backend.boot_custom(dict(spec), console)
            finally:
                if needed:
                    self._gate.end_authentication(sender)

        await self._call("BootCustom", run)

    @dbus_method()
    async def CancelAutoboot(self) -> None:
        async def run(sender: str) -> None:
            self._backend.cancel_autoboot()

        await self._call("CancelAutoboot", run)

    @dbus_method()
    async def CancelBoot(self) -> B:
        async def run(sender: str) -> bool:
            if self._backend.settings.restrict == names.Restrict.ALL:
                self._gate.require_password(sender, "cancel a boot")
            return self._backend.cancel_boot()

        return await self._call("CancelBoot", run)

    @dbus_method()
    async def Rescan(self) -> None:
        async def run(sender: str) -> None:
            await self._backend.rescan()

        await self._call("Rescan", run)

    @dbus_method()
    async def AddUrl(self, url: S) -> AO:
        async def run(sender: str) -> list[str]:
            self._gate.require_password(sender, "add a boot URL")
            if len(url) > codec.MAX_TEXT or "\0" in url:
                raise InvalidArgument("the URL is too long or contains a NUL byte")
            return [names.option_path(o.id) for o in await self._backend.add_url(url)]

        return await self._call("AddUrl", run)

    @dbus_method()
    async def Authenticate(self, password: S) -> None:
        async def run(sender: str) -> None:
            from bootd.settings import check_password

            stored = self._backend.settings.password
            if not stored:
                self._gate.authenticate(sender)
                return
            if not check_password(stored, password):
                raise PermissionDenied("wrong password")
            self._gate.authenticate(sender)

        await self._call("Authenticate", run)

    @dbus_method()
    async def SetNextBoot(self, option: O) -> None:
        async def run(sender: str) -> None:
            self._gate.require_password(sender, "choose the next boot")
            self._backend.set_next_boot(None if option == names.NO_OBJECT else option_id_arg(option))

        await self._call("SetNextBoot", run)

    @dbus_method()
    async def Event(self, event: S, params: ASS) -> None:
        async def run(sender: str) -> None:
            await self._backend.handle_event(event, dict(params))

        await self._call("Event", run)

    # -- properties
    @dbus_property(access=PropertyAccess.READ)
    def State(self) -> S:
        return str(self._backend.state)

    @dbus_property(access=PropertyAccess.READ)
    def AutobootOption(self) -> O:
        opt = self._backend.countdown.option
        return names.option_path(opt.id) if opt is not None else names.NO_OBJECT

    @dbus_property(access=PropertyAccess.READ)
    def AutobootRemaining(self) -> D:
        rem = self._backend.countdown.remaining
        return -1.0 if rem is None else float(rem)

    @dbus_property(access=PropertyAccess.READ)
    def Consoles(self) -> CONSOLES:
        return codec.consoles_to_dbus(self._backend.consoles())

    @dbus_property(access=PropertyAccess.READ)
    def Version(self) -> S:
        return self._backend.info()["version"]

    @dbus_property(access=PropertyAccess.READ)
    def Platform(self) -> S:
        return self._backend.info()["platform"]

    @dbus_property(access=PropertyAccess.READ)
    def Architecture(self) -> S:
        return self._backend.info()["arch"]

    @dbus_property(access=PropertyAccess.READ)
    def Firmware(self) -> S:
        return self._backend.info()["firmware"]

    @dbus_property(access=PropertyAccess.READ)
    def Lockdown(self) -> S:
        return self._backend.info()["lockdown"]

    @dbus_property(access=PropertyAccess.READ)
    def LastBoot(self) -> ASV:
        return codec.boot_record_to_dbus(self._backend.last_boot)

    @dbus_property(access=PropertyAccess.READ)
    def NextBoot(self) -> O:
        nb = self._backend.next_boot
        return names.option_path(nb) if nb else names.NO_OBJECT

    @dbus_property(access=PropertyAccess.READ)
    def AuthRequired(self) -> B:
        return bool(self._backend.settings.password)

    # -- signals
    @dbus_signal()
    def Status(self, level: str, message: str) -> SS:
        return [level, message]

    @dbus_signal()
    def BootProgress(self, stage: str, fraction: float) -> SD:
        return [stage, fraction]

    def values(self, props: tuple[str, ...]) -> dict[str, Any]:
        return {p: getattr(self, p) for p in props}


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
        backend: Backend,
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
    async def connect(cls, bus: str, backend: Backend, *, now: Callable[[], float] | None = None) -> "Service":
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

    def _on_backend_event(self, event: BackendEvent) -> None:
        if not self.backend_listening or not self.bus.connected:
            return
        if isinstance(event, StatusEvent):
            self.manager.Status(event.level, event.message)
        elif isinstance(event, ProgressEvent):
            self.manager.BootProgress(event.stage, event.fraction)
        elif isinstance(event, ManagerChanged):
            self.manager.emit_properties_changed(self.manager.values(event.names))
        elif isinstance(event, SettingsChanged):
            if "password" in event.keys:
                self.gate.authenticated.clear()  # a new password needs a new Authenticate
            self.settings.emit_properties_changed(self.settings.values(event.keys))


__all__ = [
    "MAX_IN_FLIGHT",
    "MAX_IN_FLIGHT_PER_CALLER",
    "SENDER",
    "Backend",
    "BackendEvent",
    "DeviceObject",
    "ManagerChanged",
    "OptionObject",
    "ProgressEvent",
    "Service",
    "SettingsChanged",
    "StatusEvent",
    "guarded",
]
