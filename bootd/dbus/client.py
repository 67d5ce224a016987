"""The typed asyncio client of the daemon's D-Bus API (layer L4); what the
CLI and the TUI use.  Methods return :mod:`bootd.model` objects and raise
:class:`~bootd.errors.BootdError` subclasses (the daemon's ``org.bootd.Error.*``
mapped back), so callers never see D-Bus types.

Public API (stable)::

    client = await BootdClient.connect("system" | "session" | ADDRESS)
    await client.list_options() -> list[BootOption]
    await client.list_devices() -> list[Device]
    await client.get_state() -> DaemonState
    await client.consoles() -> list[Console]
    await client.boot(option_id, console="", args=None, next=False)
    await client.boot_custom(kernel=…, initrds=(), dtb=None, args="", device="", name="", console="")
    await client.cancel_autoboot()
    await client.cancel_boot() -> bool              # False: no boot was in progress
    await client.rescan()
    await client.add_url(url) -> list[str]          # ids of the options it added
    await client.authenticate(password)
    await client.set_next_boot(option_id | None)
    await client.event(event, params)
    await client.get_settings() -> SettingsView
    await client.set_setting(key, value)            # bootd.toml key names
    client.on_option_added(cb(BootOption)), on_option_changed(cb(BootOption)), on_option_removed(cb(id))
    client.on_device_added(cb(Device)), on_device_removed(cb(id)), on_device_changed(cb(Device))
    client.on_status(cb(level, message)), on_status_text(cb(level, Text)), on_progress(cb(stage, fraction))
    client.on_download(cb(stage, fraction, Transfer))   # bytes, total, rate, time left
    client.on_state(cb(DaemonState))                # state, countdown, last boot changes
    client.on_settings(cb(SettingsView))
    client.on_daemon_lost(cb()), on_daemon_appeared(cb())   # daemon restarts
    await client.wait_disconnected()                # the bus connection itself ended
    client.close()

Every ``on_*`` returns a function that unsubscribes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from dbus_fast import Message, MessageType, Variant
from dbus_fast.aio import MessageBus

from bootd import errors
from bootd.dbus import codec, names, schema
from bootd.dbus.reply_errors import error_from_reply
from bootd.dbus.transport import connect_bus
from bootd.dbus.views import DaemonState, SettingsView, settings_from_props, state_from_props
from bootd.model import MAX_TEXT_ARGS, N_, BootOption, Console, Device, Text, Transfer
from bootd.settings_table import TABLE, InterfaceConfig, NetworkConfig, Setting, Table, Widget

log = logging.getLogger(__name__)

T = TypeVar("T")


Props = dict[str, Any]
Callback = Callable[..., None]


def _plain(props: Mapping[str, Any]) -> Props:
    return {k: codec.unwrap(v) for k, v in props.items()}


class BootdClient:
    def __init__(self, bus: MessageBus, table: Table = TABLE) -> None:
        self._bus = bus
        self.table = table
        """The settings table the daemon serves (what Settings1 carries)."""
        self._subs: dict[str, list[Callback]] = {}
        self._options: dict[str, Props] = {}
        self._devices: dict[str, Props] = {}
        self._manager: Props = {}
        self._settings: Props = {}
        self._managed_pending: asyncio.Future[dict[str, dict[str, Props]]] | None = None
        bus.add_message_handler(self._on_message)

    # -- connection ---------------------------------------------------------------
    @classmethod
    async def connect(cls, bus: str = "system", *, table: Table = TABLE) -> BootdClient:
        """Connect to ``system``, ``session`` or a bus ADDRESS and subscribe to
        signals; ``table``: the settings the daemon was built with."""
        mb = await connect_bus(bus)
        client = cls(mb, table)
        for rule in (
            f"type='signal',sender='{names.BUS_NAME}',path_namespace='{names.ROOT_PATH}'",
            f"type='signal',sender='org.freedesktop.DBus',member='NameOwnerChanged',arg0='{names.BUS_NAME}'",
        ):
            await client._call_bus("AddMatch", "s", [rule])
        return client

    async def wait_disconnected(self) -> None:
        """Return when this client's bus connection ends (not when the daemon
        restarts: see :meth:`on_daemon_lost`)."""
        try:
            await self._bus.wait_for_disconnect()  # type: ignore[no-untyped-call]
        except Exception as e:
            log.debug("bus connection ended: %s", e)

    def close(self) -> None:
        self._bus.remove_message_handler(self._on_message)
        self._bus.disconnect()

    async def _call_bus(self, member: str, signature: str, body: list[Any]) -> list[Any]:
        msg = Message(
            destination="org.freedesktop.DBus",
            path="/org/freedesktop/DBus",
            interface="org.freedesktop.DBus",
            member=member,
            signature=signature,
            body=body,
        )
        return await self._send(msg)

    async def _send(self, msg: Message) -> list[Any]:
        try:
            reply = await self._bus.call(msg)
        except EOFError:
            raise errors.NotFound.of(N_("lost the connection to the bus")) from None
        if reply is None:
            raise errors.BootdError.of(N_("no reply from the daemon"))
        if reply.message_type == MessageType.ERROR:
            text = str(reply.body[0]) if reply.body else str(reply.error_name)
            raise error_from_reply(str(reply.error_name), text, reply.body)
        return list(reply.body)

    async def _call(self, member: str, signature: str = "", body: Sequence[Any] = (), *, iface: str = "") -> list[Any]:
        return await self._send(
            Message(
                destination=names.BUS_NAME,
                path=names.ROOT_PATH,
                interface=iface or names.MANAGER_IFACE,
                member=member,
                signature=signature,
                body=list(body),
            )
        )

    async def _invoke(self, method: schema.Method, *body: Any, iface: str = names.MANAGER_IFACE) -> list[Any]:
        """Call a method as :mod:`bootd.dbus.schema` declares it (default: of Manager1)."""
        return await self._call(method.name, method.signature, body, iface=iface)

    async def _get_all(self, iface: str) -> Props:
        body = await self._call("GetAll", "s", [iface], iface=names.PROPERTIES_IFACE)
        return _plain(body[0])

    async def _set(self, iface: str, prop: str, sig: str, value: Any) -> None:
        await self._call("Set", "ssv", [iface, prop, Variant(sig, value)], iface=names.PROPERTIES_IFACE)

    # -- queries ----------------------------------------------------------------------
    async def _managed(self) -> dict[str, dict[str, Props]]:
        """All objects; callers that ask while a request is on its way share its
        reply (a menu asks for options and devices at once: one large reply, not two).
        Replies come in order on this connection, so the shared one is as new as
        anything this client has seen when it joined.  Callers only read it; only
        the option properties kept for PropertiesChanged are updated later, and
        those come from the newest reply."""
        pending = self._managed_pending
        if pending is None:
            pending = asyncio.ensure_future(self._fetch_managed())
            self._managed_pending = pending
            pending.add_done_callback(self._managed_done)
        return await asyncio.shield(pending)

    def _managed_done(self, fut: asyncio.Future[dict[str, dict[str, Props]]]) -> None:
        if self._managed_pending is fut:
            self._managed_pending = None
        if not fut.cancelled():
            fut.exception()  # retrieved: each waiter gets it raised

    async def _fetch_managed(self) -> dict[str, dict[str, Props]]:
        body = await self._call("GetManagedObjects", iface=names.OBJECT_MANAGER_IFACE)
        wire: dict[str, dict[str, Mapping[str, Any]]] = body[0]
        body.clear()
        out: dict[str, dict[str, Props]] = {}
        for path in list(wire):  # in order, each object's wire form freed once converted
            out[path] = {i: _plain(p) for i, p in wire.pop(path).items()}
        return out

    async def list_options(self) -> list[BootOption]:
        objs = await self._managed()
        devices = [codec.device_from_props(i[names.DEVICE_IFACE]) for i in objs.values() if names.DEVICE_IFACE in i]
        rank = {d.id: n for n, d in enumerate(devices)}
        self._options = {path: i[names.OPTION_IFACE] for path, i in objs.items() if names.OPTION_IFACE in i}
        opts = [codec.option_from_props(p) for p in self._options.values()]
        return sorted(opts, key=lambda o: (rank.get(o.device, len(rank)), o.order, o.id))

    async def list_devices(self) -> list[Device]:
        objs = await self._managed()
        self._devices = {path: i[names.DEVICE_IFACE] for path, i in objs.items() if names.DEVICE_IFACE in i}
        return [codec.device_from_props(p) for p in self._devices.values()]

    async def get_state(self) -> DaemonState:
        self._manager = await self._get_all(names.MANAGER_IFACE)
        return self._state()

    def _state(self) -> DaemonState:
        return state_from_props(self._manager)

    async def consoles(self) -> list[Console]:
        body = await self._call("Get", "ss", [names.MANAGER_IFACE, "Consoles"], iface=names.PROPERTIES_IFACE)
        return codec.consoles_from_dbus(codec.unwrap(body[0]))

    async def get_settings(self) -> SettingsView:
        self._settings = await self._get_all(names.SETTINGS_IFACE)
        return self._settings_view()

    def _settings_view(self) -> SettingsView:
        return settings_from_props(self._settings, self.table)

    # -- actions -----------------------------------------------------------------------
    async def boot(self, option_id: str, console: str = "", args: str | None = None, next: bool = False) -> None:
        """Boot an option now (returns when the kernel was executed or the boot
        failed), or with ``next=True`` make it the next autoboot's choice."""
        path = names.option_path(option_id)
        if next:
            await self._invoke(schema.SET_NEXT_BOOT, path)
            return
        await self._invoke(schema.BOOT, path, console, codec.overrides_to_dbus(args=args))

    async def boot_custom(
        self,
        *,
        kernel: str,
        initrds: Sequence[str] = (),
        dtb: str | None = None,
        args: str = "",
        device: str = "",
        name: str = "",
        console: str = "",
    ) -> None:
        spec = codec.custom_to_dbus(kernel=kernel, initrds=initrds, dtb=dtb, args=args, device=device, name=name)
        await self._invoke(schema.BOOT_CUSTOM, spec, console)

    async def cancel_autoboot(self) -> None:
        await self._invoke(schema.CANCEL_AUTOBOOT)

    async def cancel_boot(self) -> bool:
        """Cancel the boot in progress; False when there was none."""
        body = await self._invoke(schema.CANCEL_BOOT)
        return bool(body[0])

    async def rescan(self) -> None:
        await self._invoke(schema.RESCAN)

    async def add_url(self, url: str) -> list[str]:
        body = await self._invoke(schema.ADD_URL, url)
        return [names.option_id_from_path(p) for p in body[0]]

    async def find_option(self, name: str) -> str:
        """The id of the option with this id, entry id or title (the daemon decides)."""
        body = await self._invoke(schema.FIND_OPTION, name)
        return names.option_id_from_path(str(body[0]))

    async def authenticate(self, password: str) -> None:
        await self._invoke(schema.AUTHENTICATE, password)

    async def set_next_boot(self, option_id: str | None) -> None:
        await self._invoke(schema.SET_NEXT_BOOT, names.option_path(option_id) if option_id else names.NO_OBJECT)

    async def event(self, event: str, params: Mapping[str, str]) -> None:
        await self._invoke(schema.EVENT, event, dict(params))

    def _bus_row(self, key: str) -> Setting:
        row = self.table.row(key) if key in self.table else None
        if row is None or not row.dbus:
            known = ", ".join(r.name for r in self.table.on_bus)
            raise errors.InvalidArgument.of(N_("unknown setting {key} (known: {known})"), key=repr(key), known=known)
        return row

    async def set_setting(self, key: str, value: Any) -> None:
        """Set a setting by its bootd.toml name (``timeout``, ``boot_order``…);
        ``password`` takes the plain text (empty removes the password)."""
        row = self._bus_row(key)
        await self._set(names.SETTINGS_IFACE, row.dbus, row.signature, row.to_bus(value))

    async def update_settings(self, changes: Mapping[str, Any]) -> None:
        """Set several settings (bootd.toml names) at once: all are written or none."""
        body: dict[str, Variant] = {}
        for key, value in changes.items():
            row = self._bus_row(key)
            body[key] = Variant(row.signature, row.to_bus(value))
        await self._invoke(schema.UPDATE, body, iface=names.SETTINGS_IFACE)

    # -- subscriptions -------------------------------------------------------------------
    def _on(self, kind: str, cb: Callback) -> Callable[[], None]:
        self._subs.setdefault(kind, []).append(cb)

        def unsubscribe() -> None:
            if cb in self._subs.get(kind, []):
                self._subs[kind].remove(cb)

        return unsubscribe

    def on_option_added(self, cb: Callable[[BootOption], None]) -> Callable[[], None]:
        return self._on("option-added", cb)

    def on_option_changed(self, cb: Callable[[BootOption], None]) -> Callable[[], None]:
        return self._on("option-changed", cb)

    def on_option_removed(self, cb: Callable[[str], None]) -> Callable[[], None]:
        return self._on("option-removed", cb)

    def on_device_added(self, cb: Callable[[Device], None]) -> Callable[[], None]:
        return self._on("device-added", cb)

    def on_device_removed(self, cb: Callable[[str], None]) -> Callable[[], None]:
        return self._on("device-removed", cb)

    def on_device_changed(self, cb: Callable[[Device], None]) -> Callable[[], None]:
        """A device's details changed (a label, an interface's lease); needs
        :meth:`list_devices` called once so the client knows the device."""
        return self._on("device-changed", cb)

    def on_status(self, cb: Callable[[str, str], None]) -> Callable[[], None]:
        """A status message: its level and English text."""
        return self._on("status", cb)

    def on_status_text(self, cb: Callable[[str, Text], None]) -> Callable[[], None]:
        """A status message as a :class:`~bootd.model.Text`, which the
        subscriber translates (an older daemon's has no template: shown as it is)."""
        return self._on("status-text", cb)

    def on_progress(self, cb: Callable[[str, float], None]) -> Callable[[], None]:
        return self._on("progress", cb)

    def on_download(self, cb: Callable[[str, float, Transfer], None]) -> Callable[[], None]:
        """A download of the boot in progress: step, fraction of the boot, and its
        bytes, total, rate and time left (comes before that step's on_progress)."""
        return self._on("download", cb)

    def on_progress_text(self, cb: Callable[[Text, float], None]) -> Callable[[], None]:
        """:meth:`on_progress` with the step as a :class:`~bootd.model.Text`, for the subscriber to translate."""
        return self._on("progress-text", cb)

    def on_download_text(self, cb: Callable[[Text, float, Transfer], None]) -> Callable[[], None]:
        """:meth:`on_download` with the step as a :class:`~bootd.model.Text`."""
        return self._on("download-text", cb)

    def on_state(self, cb: Callable[[DaemonState], None]) -> Callable[[], None]:
        return self._on("state", cb)

    def on_settings(self, cb: Callable[[SettingsView], None]) -> Callable[[], None]:
        return self._on("settings", cb)

    def on_daemon_lost(self, cb: Callable[[], None]) -> Callable[[], None]:
        return self._on("lost", cb)

    def on_daemon_appeared(self, cb: Callable[[], None]) -> Callable[[], None]:
        return self._on("appeared", cb)

    def _fire(self, kind: str, *args: Any) -> None:
        for cb in list(self._subs.get(kind, [])):
            try:
                cb(*args)
            except Exception:
                log.exception("a %s subscriber failed", kind)

    def _on_message(self, msg: Message) -> bool:
        if msg.message_type != MessageType.SIGNAL:
            return False
        try:
            self._dispatch(msg)
        except (ValueError, KeyError, TypeError, IndexError, errors.BootdError):
            log.warning("ignoring a malformed %s signal from %s", msg.member, msg.sender)
        return False

    def _dispatch(self, msg: Message) -> None:
        member, body, path = msg.member, msg.body, msg.path or ""
        if member == "NameOwnerChanged" and msg.interface == "org.freedesktop.DBus":
            if body[0] == names.BUS_NAME:
                self._fire("lost" if not body[2] else "appeared")
            return
        if not path.startswith(names.ROOT_PATH):
            return
        if member == "InterfacesAdded":
            obj, ifaces = body[0], body[1]
            if names.OPTION_IFACE in ifaces:
                props = _plain(ifaces[names.OPTION_IFACE])
                self._options[obj] = props
                self._fire("option-added", codec.option_from_props(props))
            if names.DEVICE_IFACE in ifaces:
                props = _plain(ifaces[names.DEVICE_IFACE])
                self._devices[obj] = props
                self._fire("device-added", codec.device_from_props(props))
        elif member == "InterfacesRemoved":
            obj, ifaces = body[0], body[1]
            if names.OPTION_IFACE in ifaces:
                self._options.pop(obj, None)
                self._fire("option-removed", names.option_id_from_path(obj))
            if names.DEVICE_IFACE in ifaces:
                self._devices.pop(obj, None)
                self._fire("device-removed", names.device_id_from_path(obj))
        elif member == "PropertiesChanged":
            iface, changed = body[0], _plain(body[1])
            if iface == names.MANAGER_IFACE:
                self._manager.update(changed)
                self._fire("state", self._state())
            elif iface == names.SETTINGS_IFACE:
                self._settings.update(changed)
                self._fire("settings", self._settings_view())
            elif iface == names.OPTION_IFACE and path in self._options:
                self._options[path].update(changed)
                self._fire("option-changed", codec.option_from_props(self._options[path]))
            elif iface == names.DEVICE_IFACE and path in self._devices:
                self._devices[path].update(changed)
                self._fire("device-changed", codec.device_from_props(self._devices[path]))
        elif member == schema.STATUS.name and msg.interface == names.MANAGER_IFACE:
            text = _status_text(body)
            self._fire("status", str(body[0]), text.text)
            self._fire("status-text", str(body[0]), text)
        elif member == schema.BOOT_PROGRESS.name and msg.interface == names.MANAGER_IFACE:
            stage = _text(body[0], body[2:4])
            self._fire("progress", stage.text, float(body[1]))
            self._fire("progress-text", stage, float(body[1]))
        elif member == schema.DOWNLOAD_PROGRESS.name and msg.interface == names.MANAGER_IFACE:
            stage, transfer = _text(body[0], body[6:8]), codec.transfer_from_dbus(*body[2:6])
            self._fire("download", stage.text, float(body[1]), transfer)
            self._fire("download-text", stage, float(body[1]), transfer)


def _status_text(body: list[Any]) -> Text:
    """A Status signal's message, template and arguments (a daemon before
    templates sends only the first two; a hostile one is held to MAX_TEXT_ARGS)."""
    return _text(body[1], body[2:4])


def _text(text: Any, extra: list[Any]) -> Text:
    """A signal's English ``text`` and, from ``extra``, its template and arguments
    (absent from an older daemon's signals)."""
    template = str(extra[0]) if extra else ""
    args = extra[1] if len(extra) > 1 and isinstance(extra[1], dict) else {}
    pairs = tuple((str(k), str(v)) for k, v in list(args.items())[:MAX_TEXT_ARGS])
    return Text(str(text), template, pairs)


# DaemonState, SettingsView and the settings table are part of this client's API:
# the TUI may import only the model, the errors and the client (DESIGN.md), so
# they stay importable here.
__all__ = [
    "TABLE",
    "BootdClient",
    "DaemonState",
    "InterfaceConfig",
    "NetworkConfig",
    "Setting",
    "SettingsView",
    "Table",
    "Widget",
]
