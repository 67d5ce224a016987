"""Connecting to a message bus, with one repair to the library's writer.

dbus-fast writes to its non-blocking socket directly and treats ``EAGAIN``
(the kernel's send buffer is full, which happens when a burst of signals
outruns the bus daemon) as a fatal error: the connection is dropped.  Here
the writer's socket is wrapped so that ``EAGAIN`` reads as "nothing written
yet"; the writer then waits for the socket to become writable, as it already
does after a partial write.
"""

from __future__ import annotations

import socket
from typing import Any

from dbus_fast import BusType
from dbus_fast.aio import MessageBus

from bootd.errors import NotFound
from bootd.model import N_


class _PatientSocket:
    """A socket whose ``send``/``sendmsg`` return 0 instead of raising EAGAIN."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def send(self, data: Any, *args: Any) -> int:
        try:
            return self._sock.send(data, *args)
        except (BlockingIOError, InterruptedError):
            return 0

    def sendmsg(self, *args: Any) -> int:
        try:
            return self._sock.sendmsg(*args)
        except (BlockingIOError, InterruptedError):
            return 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def _harden(bus: MessageBus) -> None:
    writer = getattr(bus, "_writer", None)
    sock = getattr(writer, "sock", None)
    if writer is not None and isinstance(sock, socket.socket):
        writer.sock = _PatientSocket(sock)


async def connect_bus(bus: str) -> MessageBus:
    """Connect to ``system``, ``session`` or a bus address."""
    try:
        if bus == "system":
            mb = await MessageBus(bus_type=BusType.SYSTEM).connect()
        elif bus == "session":
            mb = await MessageBus(bus_type=BusType.SESSION).connect()
        else:
            mb = await MessageBus(bus_address=bus).connect()
    except Exception as e:  # OSError, ValueError, the library's AuthError
        raise NotFound.of(N_("cannot connect to the {bus} bus: {error}"), bus=bus, error=e) from None
    _harden(mb)
    return mb
