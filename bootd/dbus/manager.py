"""``org.bootd.Manager1`` (layer L4): the daemon's methods, properties and
signals over the daemon's :class:`~bootd.api.DaemonApi`.  Each method is an
adapter: it checks the caller through the :class:`~bootd.dbus.gate.Gate`,
turns D-Bus values into model values and calls the backend.  Exported by
:class:`bootd.dbus.service.Service`.
"""

from collections.abc import Awaitable, Callable, Coroutine
from typing import Annotated, Any, TypeVar

from dbus_fast import Variant
from dbus_fast.annotations import DBusSignature
from dbus_fast.constants import PropertyAccess
from dbus_fast.service import ServiceInterface, dbus_method, dbus_property, dbus_signal

from bootd.api import Fact
from bootd.dbus import codec, names, schema
from bootd.dbus.gate import Gate, guarded, option_id_arg
from bootd.errors import InvalidArgument, PermissionDenied
from bootd.model import N_, Text, Transfer

T = TypeVar("T")

S = Annotated[str, DBusSignature("s")]
O = Annotated[str, DBusSignature("o")]  # noqa: E741
B = Annotated[bool, DBusSignature("b")]
D = Annotated[float, DBusSignature("d")]
AO = Annotated[list[str], DBusSignature("ao")]
ASV = Annotated[dict[str, Variant], DBusSignature("a{sv}")]
ASS = Annotated[dict[str, str], DBusSignature("a{ss}")]
CONSOLES = Annotated[list[list[str]], DBusSignature("a(sss)")]

SSSAS = Annotated[list[Any], DBusSignature("sssa{ss}")]
SDSAS = Annotated[list[Any], DBusSignature("sdsa{ss}")]
SDTXDDSAS = Annotated[list[Any], DBusSignature("sdtxddsa{ss}")]

FACT_PROPS: dict[Fact, tuple[str, ...]] = {
    Fact.STATE: ("State",),
    Fact.COUNTDOWN: ("State", "AutobootOption", "AutobootRemaining"),
    Fact.NEXT_BOOT: ("NextBoot",),
    Fact.LAST_BOOT: ("LastBoot",),
    Fact.AUTH_REQUIRED: ("AuthRequired",),
}
"""Which Manager1 properties show each fact of the daemon."""

SIGNAL_ARGS = {s.name: tuple(a.name for a in s.args) for s in schema.MANAGER.signals}
"""dbus-fast names no signal arguments itself: they come from the declaration."""


class Manager(ServiceInterface):
    def __init__(self, gate: Gate) -> None:
        super().__init__(names.MANAGER_IFACE)
        self._gate = gate
        self._backend = gate.backend
        for sig in ServiceInterface._get_signals(self):
            for arg, name in zip(sig.introspection.args, SIGNAL_ARGS.get(sig.name, ()), strict=False):
                arg.name = name
        schema.conform(self, schema.MANAGER)

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
                needed = self._gate.require_password(
                    sender, N_("boot") if not changed else N_("boot with changed arguments")
                )
            try:
                await self._backend.boot(oid, console, ov)
            finally:
                if needed:  # the next boot needs the password again
                    self._gate.end_authentication(sender)

        await self._call("Boot", run)

    @dbus_method()
    async def BootCustom(self, spec: ASV, console: S) -> None:
        async def run(sender: str) -> None:
            needed = self._gate.require_password(sender, N_("boot a custom entry"))
            try:
                await self._backend.boot_custom(codec.custom_from_dbus(spec, "custom"), console)
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
                self._gate.require_password(sender, N_("cancel a boot"))
            return self._backend.boots.cancel()

        return await self._call("CancelBoot", run)

    @dbus_method()
    async def Rescan(self) -> None:
        async def run(sender: str) -> None:
            await self._backend.rescan()

        await self._call("Rescan", run)

    @dbus_method()
    async def AddUrl(self, url: S) -> AO:
        async def run(sender: str) -> list[str]:
            self._gate.require_password(sender, N_("add a boot URL"))
            if len(url) > codec.MAX_TEXT or "\0" in url:
                raise InvalidArgument.of(N_("the URL is too long or contains a NUL byte"))
            return [names.option_path(o.id) for o in await self._backend.add_url(url)]

        return await self._call("AddUrl", run)

    @dbus_method()
    async def FindOption(self, name: S) -> O:
        async def run(sender: str) -> str:
            from bootd.inventory import find_option

            if len(name) > codec.MAX_TEXT or "\0" in name:
                raise InvalidArgument.of(N_("the name is too long or contains a NUL byte"))
            return names.option_path(find_option(self._backend.inventory.options(), name).id)

        return await self._call("FindOption", run, trusted=False)

    @dbus_method()
    async def Authenticate(self, password: S) -> None:
        async def run(sender: str) -> None:
            from bootd.settings import check_password

            stored = self._backend.settings.password
            if not stored:
                self._gate.authenticate(sender)
                return
            if not check_password(stored, password):
                raise PermissionDenied.of(N_("wrong password"))
            self._gate.authenticate(sender)

        await self._call("Authenticate", run)

    @dbus_method()
    async def SetNextBoot(self, option: O) -> None:
        async def run(sender: str) -> None:
            self._gate.require_password(sender, N_("choose the next boot"))
            self._backend.options.set_next_boot(None if option == names.NO_OBJECT else option_id_arg(option))

        await self._call("SetNextBoot", run)

    @dbus_method()
    async def Event(self, event: S, params: ASS) -> None:
        async def run(sender: str) -> None:
            await self._backend.handle_event(event, dict(params))

        await self._call("Event", run)

    # -- properties
    @dbus_property(access=PropertyAccess.READ)
    def State(self) -> S:
        return str(self._backend.boots.state)

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
        return codec.consoles_to_dbus(self._backend.options.consoles())

    @dbus_property(access=PropertyAccess.READ)
    def Version(self) -> S:
        return self._backend.info().version

    @dbus_property(access=PropertyAccess.READ)
    def Platform(self) -> S:
        return self._backend.info().platform

    @dbus_property(access=PropertyAccess.READ)
    def Architecture(self) -> S:
        return self._backend.info().arch

    @dbus_property(access=PropertyAccess.READ)
    def Firmware(self) -> S:
        return self._backend.info().firmware

    @dbus_property(access=PropertyAccess.READ)
    def Lockdown(self) -> S:
        return self._backend.info().lockdown

    @dbus_property(access=PropertyAccess.READ)
    def LastBoot(self) -> ASV:
        return codec.boot_record_to_dbus(self._backend.boots.last_boot)

    @dbus_property(access=PropertyAccess.READ)
    def NextBoot(self) -> O:
        nb = self._backend.options.next_boot
        return names.option_path(nb) if nb else names.NO_OBJECT

    @dbus_property(access=PropertyAccess.READ)
    def AuthRequired(self) -> B:
        return bool(self._backend.settings.password)

    # -- signals
    @dbus_signal()
    def Status(self, level: str, text: Text) -> SSSAS:
        return [level, text.text, text.template, dict(text.args)]

    @dbus_signal()
    def BootProgress(self, stage: Text, fraction: float) -> SDSAS:
        return [stage.text, fraction, stage.template, dict(stage.args)]

    @dbus_signal()
    def DownloadProgress(self, stage: Text, fraction: float, transfer: Transfer) -> SDTXDDSAS:
        return [stage.text, fraction, *codec.transfer_to_dbus(transfer), stage.template, dict(stage.args)]

    def values(self, props: tuple[str, ...]) -> dict[str, Any]:
        return {p: getattr(self, p) for p in props}

    def changed(self, facts: tuple[Fact, ...]) -> dict[str, Any]:
        """The properties that show ``facts``, with their values."""
        props = dict.fromkeys(p for fact in facts for p in FACT_PROPS[fact])
        return self.values(tuple(props))
