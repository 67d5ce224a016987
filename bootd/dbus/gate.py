"""Caller checks shared by every interface of the service (layer L4): who is
calling (remembered per message), their uid, per-connection authentication,
the cap on calls in flight, and the mapping of errors to D-Bus errors."""

import contextvars
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from dbus_fast import DBusError, Message, MessageType
from dbus_fast.aio import MessageBus

from bootd.api import DaemonApi
from bootd.dbus import names
from bootd.errors import AuthenticationRequired, BootdError, Busy, InvalidArgument, PermissionDenied
from bootd.model import N_, Text

log = logging.getLogger(__name__)

SENDER: contextvars.ContextVar[str | None] = contextvars.ContextVar("bootd_dbus_sender", default=None)
MAX_IN_FLIGHT_PER_CALLER = 16
MAX_IN_FLIGHT = 256


class Gate:
    """Caller checks shared by every interface of one service."""

    def __init__(
        self,
        bus: MessageBus,
        backend: DaemonApi,
        *,
        trusted_uids: frozenset[int],
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bus = bus
        self.backend = backend
        self.trusted_uids = trusted_uids
        self.now = now
        self.uids: dict[str, int] = {}
        self.authenticated: dict[str, float] = {}
        """Connections that gave the password, with when they last used it."""
        self.in_flight: dict[str, int] = {}
        self.total = 0

    def forget(self, name: str) -> None:
        self.uids.pop(name, None)
        self.authenticated.pop(name, None)

    def authenticate(self, sender: str) -> None:
        self.authenticated[sender] = self.now()

    def end_authentication(self, sender: str) -> None:
        self.authenticated.pop(sender, None)

    async def uid(self, sender: str) -> int:
        if sender not in self.uids:
            reply = await self.bus.call(
                Message(
                    destination="org.freedesktop.DBus",
                    path="/org/freedesktop/DBus",
                    interface="org.freedesktop.DBus",
                    member="GetConnectionUnixUser",
                    signature="s",
                    body=[sender],
                )
            )
            if reply is None or reply.message_type != MessageType.METHOD_RETURN:
                raise PermissionDenied.of(N_("could not find out who is calling"))
            self.uids[sender] = int(reply.body[0])
        return self.uids[sender]

    async def require_trusted(self, sender: str) -> None:
        uid = await self.uid(sender)
        if uid not in self.trusted_uids:
            raise PermissionDenied.of(N_("only root may do this (you are uid {uid})"), uid=uid)

    def require_password(self, sender: str, what: str) -> bool:
        """AuthenticationRequired unless ``sender`` authenticated and used it
        within ``auth_timeout`` seconds; True when the password was needed."""
        s = self.backend.settings
        if not s.password:
            return False
        last = self.authenticated.get(sender)
        if last is None:
            raise AuthenticationRequired.of(N_("a password is set: authenticate first to {what}"), what=Text.of(what))
        now = self.now()
        if s.auth_timeout and now - last > s.auth_timeout:
            del self.authenticated[sender]
            raise AuthenticationRequired.of(
                N_("the authentication expired after {seconds} s without use: authenticate again to {what}"),
                seconds=s.auth_timeout,
                what=Text.of(what),
            )
        self.authenticated[sender] = now
        return True


T = TypeVar("T")


class TemplatedError(DBusError):
    """An error reply that carries, after its English message, the message's
    template and arguments (``s message, s template, a{ss} args``), so that a
    client can say it in its own language (:class:`bootd.model.Text`).  The error
    name is the API; busctl, gdbus and other clients read the first argument only."""

    def __init__(self, name: str, text: str, template: str, args: tuple[tuple[str, str], ...]) -> None:
        super().__init__(name, text)
        self.template = template
        self.args_ = dict(args)

    def _as_message(self, msg: Message) -> Message:
        return Message(
            message_type=MessageType.ERROR,
            reply_serial=msg.serial,
            destination=msg.sender,
            error_name=self.type,
            signature="ssa{ss}",
            body=[self.text, self.template, self.args_],
        )


def reply_error(e: BootdError) -> DBusError:
    """The D-Bus error reply of ``e``: its name, its message and, when it was
    made with :meth:`BootdError.of`, its template and arguments."""
    if e.template:
        return TemplatedError(e.dbus_name, e.message, e.template, e.template_args)
    return DBusError(e.dbus_name, e.message)


def _sender() -> str:
    sender = SENDER.get()
    if not sender:
        raise PermissionDenied.of(N_("calls must come through a message bus"))
    return sender


async def guarded(gate: Gate, what: str, fn: Callable[[str], Awaitable[T]], *, trusted: bool = True) -> T:
    """Run ``fn(sender)`` with the in-flight cap, the uid check and error mapping."""
    sender = _sender()
    if gate.total >= MAX_IN_FLIGHT or gate.in_flight.get(sender, 0) >= MAX_IN_FLIGHT_PER_CALLER:
        raise reply_error(Busy.of(N_("too many calls in flight; try again")))
    gate.total += 1
    gate.in_flight[sender] = gate.in_flight.get(sender, 0) + 1
    try:
        if trusted:
            await gate.require_trusted(sender)
        return await fn(sender)
    except DBusError:
        raise
    except BootdError as e:
        raise reply_error(e) from None
    except Exception as e:
        log.exception("internal error in %s", what)
        raise DBusError(names.INTERNAL_ERROR, f"internal error in {what}: {type(e).__name__}") from None
    finally:
        gate.total -= 1
        left = gate.in_flight.get(sender, 1) - 1
        if left:
            gate.in_flight[sender] = left
        else:
            gate.in_flight.pop(sender, None)


def option_id_arg(path: str) -> str:
    """The option id an object path argument names; InvalidArgument otherwise."""
    try:
        return names.option_id_from_path(path)
    except ValueError as e:
        raise InvalidArgument(str(e)) from None  # a malformed path: the caller is a program
