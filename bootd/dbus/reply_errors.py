"""D-Bus error replies mapped back to :class:`~bootd.errors.BootdError`.

The daemon answers a failed call with the ``dbus_name`` of the error it
raised (``org.bootd.Error.*``); the bus itself answers with
``org.freedesktop.DBus.Error.*`` names.  :func:`error_from_reply` turns either
into the BootdError subclass callers of the client catch.
"""

from __future__ import annotations

from bootd import errors
from bootd.dbus import names
from bootd.dbus.schema import ERRORS as _ERRORS


def error_from_reply(name: str, text: str) -> errors.BootdError:
    """The BootdError a D-Bus error reply stands for."""
    cls = _ERRORS.get(name)
    if cls is not None and cls is not errors.CommandError:
        return cls(text)
    if name in ("org.freedesktop.DBus.Error.AccessDenied", "org.freedesktop.DBus.Error.AuthFailed"):
        return errors.PermissionDenied(f"the bus refused the call: {text}")
    if name in ("org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner"):
        return errors.NotFound("the bootd daemon is not running (no owner of org.bootd on this bus)")
    if name in ("org.freedesktop.DBus.Error.NoReply", "org.freedesktop.DBus.Error.Timeout"):
        return errors.Timeout(f"the daemon did not answer: {text}")
    if name == names.INTERNAL_ERROR:
        return errors.BootdError(f"the daemon had an internal error: {text}")
    return errors.BootdError(f"{text} ({name})")
