"""D-Bus error replies mapped back to :class:`~bootd.errors.BootdError`.

The daemon answers a failed call with the ``dbus_name`` of the error it
raised (``org.bootd.Error.*``); the bus itself answers with
``org.freedesktop.DBus.Error.*`` names.  :func:`error_from_reply` turns either
into the BootdError subclass callers of the client catch.

A daemon's error made with :meth:`~bootd.errors.BootdError.of` is sent as
``(s message, s template, a{ss} args)``: the error keeps the template and its
arguments, so a client translates it (:meth:`bootd.model.Text.of_error`); the
template is only ever a catalogue key.  A reply with only its message (the bus,
an older daemon, an error without a template) stays as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bootd import errors
from bootd.dbus import names
from bootd.dbus.schema import ERRORS as _ERRORS
from bootd.model import MAX_TEXT_ARGS, N_


def error_from_reply(name: str, text: str, body: Sequence[Any] = ()) -> errors.BootdError:
    """The BootdError a D-Bus error reply stands for (``body``: the reply's
    arguments, where a daemon's error carries its template)."""
    cls = _ERRORS.get(name)
    if cls is not None and cls is not errors.CommandError:
        error = cls(text)
        template, args = _template(body)
        if template:
            error.template, error.template_args = template, args
        return error
    if name in ("org.freedesktop.DBus.Error.AccessDenied", "org.freedesktop.DBus.Error.AuthFailed"):
        return errors.PermissionDenied.of(N_("the bus refused the call: {error}"), error=text)
    if name in ("org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner"):
        return errors.NotFound.of(N_("the bootd daemon is not running (no owner of org.bootd on this bus)"))
    if name in ("org.freedesktop.DBus.Error.NoReply", "org.freedesktop.DBus.Error.Timeout"):
        return errors.Timeout.of(N_("the daemon did not answer: {error}"), error=text)
    if name == names.INTERNAL_ERROR:
        return errors.BootdError.of(N_("the daemon had an internal error: {error}"), error=text)
    return errors.BootdError(f"{text} ({name})")


def _template(body: Sequence[Any]) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The template and arguments after an error reply's message; none when
    the reply has no such arguments or they are not strings (at most
    ``MAX_TEXT_ARGS`` arguments kept, as of a Status signal)."""
    if len(body) < 3 or not isinstance(body[1], str) or not isinstance(body[2], dict):
        return "", ()
    args = tuple((k, v) for k, v in body[2].items() if isinstance(k, str) and isinstance(v, str))[:MAX_TEXT_ARGS]
    return body[1], args
