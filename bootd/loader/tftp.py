"""A small TFTP client (RFC 1350) over asyncio UDP, with the option extension
(RFC 2347): block size (RFC 2348), transfer size (RFC 2349) and window size
(RFC 7440).

Used through :func:`bootd.loader.download.fetch` for ``tftp://host[:port]/file``
URLs.  The file name sent to the server is the URL path without its leading
``/`` (RFC 3617), percent-decoded.  Lost packets are retransmitted; the
transfer gives up after ``timeout`` seconds without a new block.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from bootd.errors import BootdError, NetworkError, ResourceError, ResourceNotFound, Timeout
from bootd.loader.transfer import ProgressMeter, describe_size, too_large
from bootd.model import N_
from bootd.platform import sockets

log = logging.getLogger(__name__)

RRQ, WRQ, DATA, ACK, ERROR, OACK = 1, 2, 3, 4, 5, 6
DEFAULT_PORT = 69
BLKSIZE = 1468
"""Largest block that fits an Ethernet frame (1500 - IP - UDP - TFTP headers)."""
WINDOWSIZE = 8
RETRY_INTERVAL = 1.0
FLUSH_BYTES = 1024 * 1024

ERR_NOT_FOUND = 1
ERR_ACCESS = 2
ERR_DISK_FULL = 3
ERR_UNKNOWN_TID = 5
ERR_OPTIONS = 8


@dataclass(frozen=True)
class TftpUrl:
    host: str
    port: int
    filename: str


def parse_tftp_url(url: str) -> TftpUrl:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() != "tftp" or not parts.hostname:
        raise ResourceError.of(N_("{url} is not a tftp://host/file URL"), url=url)
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise ResourceError.of(N_("{url}: invalid port"), url=url) from None
    name = urllib.parse.unquote(parts.path)
    if name.startswith("/"):
        name = name[1:]
    # ";mode=octet" (RFC 3617) is the only mode we speak
    name = name.split(";", 1)[0]
    if not name:
        raise ResourceError.of(N_("{url} names no file"), url=url)
    if "\0" in name or len(name.encode()) > 400:
        raise ResourceError.of(N_("{url}: invalid file name"), url=url)
    return TftpUrl(parts.hostname, port, name)


def build_rrq(filename: str, options: dict[str, int]) -> bytes:
    body = filename.encode() + b"\0octet\0"
    for key, value in options.items():
        body += key.encode() + b"\0" + str(value).encode() + b"\0"
    return struct.pack("!H", RRQ) + body


def build_ack(block: int) -> bytes:
    return struct.pack("!HH", ACK, block & 0xFFFF)


def build_error(code: int, message: str) -> bytes:
    return struct.pack("!HH", ERROR, code) + message.encode() + b"\0"


def parse_oack(payload: bytes) -> dict[str, str]:
    fields = payload.split(b"\0")
    if fields and fields[-1] == b"":
        fields.pop()
    out: dict[str, str] = {}
    for i in range(0, len(fields) - 1, 2):
        out[fields[i].decode(errors="replace").lower()] = fields[i + 1].decode(errors="replace")
    return out


class _OptionsRefused(Exception):
    pass


class _Client(asyncio.DatagramProtocol):
    """One transfer, driven from the datagram callback (no per-packet task or
    timer); a watchdog every :data:`RETRY_INTERVAL` retransmits and times out."""

    def __init__(self, url: str, server: tuple[str, int], max_bytes: int, timeout: float, meter: ProgressMeter) -> None:
        self.url = url
        self.server = server
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.meter = meter
        self.loop = asyncio.get_running_loop()
        self.done: asyncio.Future[None] = self.loop.create_future()
        self.chunks: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.transport: asyncio.DatagramTransport | None = None
        self.options: dict[str, int] = {}
        self.blksize = 512
        self.window = 1
        self.block = 0
        self.received = 0
        self.in_window = 0
        self.buffer = bytearray()
        self.tid: tuple[str, int] | None = None
        self.last_sent = b""
        self.last_dest = server
        self.last_packet = self.last_progress = time.monotonic()
        self.watchdog: asyncio.TimerHandle | None = None

    # -- plumbing ------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def start(self, filename: str, options: dict[str, int]) -> None:
        self.options = options
        self._send(build_rrq(filename, options), self.server)
        self.last_packet = self.last_progress = time.monotonic()
        self.watchdog = self.loop.call_later(RETRY_INTERVAL, self._tick)

    def _send(self, packet: bytes, dest: tuple[str, int]) -> None:
        assert self.transport is not None
        self.last_sent, self.last_dest = packet, dest
        self.transport.sendto(packet, dest)

    def _fail(self, exc: BaseException) -> None:
        if not self.done.done():
            self.done.set_exception(exc)
        self._stop()

    def _stop(self) -> None:
        if self.watchdog is not None:
            self.watchdog.cancel()
            self.watchdog = None

    def _tick(self) -> None:
        if self.done.done():
            return
        now = time.monotonic()
        if now - self.last_progress > self.timeout:
            what = "no answer from" if self.tid is None else "transfer stalled on"
            self._fail(Timeout(f"{self.url}: {what} the TFTP server for {self.timeout:g} s; giving up"))
            return
        if now - self.last_packet >= RETRY_INTERVAL * 0.9:
            assert self.transport is not None
            self.transport.sendto(self.last_sent, self.last_dest)
        wait = min(RETRY_INTERVAL, max(0.01, self.timeout - (now - self.last_progress) + 0.01))
        self.watchdog = self.loop.call_later(wait, self._tick)

    def error_received(self, exc: Exception) -> None:
        if isinstance(exc, ConnectionRefusedError):
            self._fail(NetworkError(f"cannot fetch {self.url}: no TFTP server at {self.server[0]} (port unreachable)"))
        else:
            log.debug("%s: socket error %s", self.url, exc)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self._fail(NetworkError(f"cannot fetch {self.url}: the socket closed"))

    # -- protocol ------------------------------------------------------------------
    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.done.done():
            return
        if self.tid is None:
            if addr[0] != self.server[0]:
                return
            self.tid = addr
        elif addr != self.tid:
            assert self.transport is not None
            self.transport.sendto(build_error(ERR_UNKNOWN_TID, "unknown transfer ID"), addr)
            return
        if len(data) < 4:
            return
        self.last_packet = time.monotonic()
        opcode = (data[0] << 8) | data[1]
        try:
            if opcode == DATA:
                self._data((data[2] << 8) | data[3], data[4:])
            elif opcode == OACK and self.block == 0 and self.options:
                self._oack(parse_oack(data[2:]))
            elif opcode == ERROR:
                (code,) = struct.unpack("!H", data[2:4])
                message = data[4:].split(b"\0", 1)[0].decode(errors="replace")
                self._fail(_error(self.url, code, message, bool(self.options) and self.block == 0))
        except BootdError as e:
            self._fail(e)

    def _oack(self, opts: dict[str, str]) -> None:
        assert self.tid is not None
        try:
            blksize = int(opts.get("blksize", "512"))
            window = int(opts.get("windowsize", "1"))
            tsize = int(opts["tsize"]) if "tsize" in opts else None
        except ValueError:
            self._send(build_error(ERR_OPTIONS, "bad option value"), self.tid)
            raise NetworkError.of(
                N_("cannot fetch {url}: the server sent invalid TFTP options {options}"), url=self.url, options=opts
            ) from None
        if not 8 <= blksize <= BLKSIZE or not 1 <= window <= WINDOWSIZE:
            self._send(build_error(ERR_OPTIONS, "option value not offered"), self.tid)
            raise NetworkError.of(
                N_("cannot fetch {url}: the server answered with options we did not offer: {options}"),
                url=self.url,
                options=opts,
            )
        self.blksize, self.window = blksize, window
        if tsize is not None and tsize > 0:
            self.meter.total = tsize
            if tsize > self.max_bytes:
                self._send(build_error(ERR_DISK_FULL, "file too large"), self.tid)
                raise too_large(self.url, tsize, self.max_bytes)
        self._send(build_ack(0), self.tid)
        self.last_progress = time.monotonic()

    def _data(self, block: int, payload: bytes) -> None:
        assert self.tid is not None
        if block != (self.block + 1) & 0xFFFF:
            # duplicate or out of order: say where we are
            self._send(build_ack(self.block), self.tid)
            self.in_window = 0
            return
        if len(payload) > self.blksize:
            self._send(build_error(0, "block too large"), self.tid)
            raise NetworkError.of(N_("cannot fetch {url}: the server sent a block larger than agreed"), url=self.url)
        self.block = block
        self.received += len(payload)
        if self.received > self.max_bytes:
            self._send(build_error(ERR_DISK_FULL, "file too large"), self.tid)
            raise ResourceError.of(
                N_("{url} is too large: more than the limit of {limit}"),
                url=self.url,
                limit=describe_size(self.max_bytes),
            )
        self.buffer += payload
        self.last_progress = self.last_packet
        self.in_window += 1
        final = len(payload) < self.blksize
        if final or self.in_window >= self.window:
            self._send(build_ack(block), self.tid)
            self.in_window = 0
        self.meter.update(self.received)
        if len(self.buffer) >= FLUSH_BYTES or final:
            self.chunks.put_nowait(bytes(self.buffer))
            self.buffer.clear()
        if final:
            self._stop()
            self.done.set_result(None)


async def _write_chunks(client: _Client, out: BinaryIO) -> None:
    while True:
        chunk = await client.chunks.get()
        if chunk is None:
            return
        await asyncio.to_thread(out.write, chunk)


async def _transfer(
    url: str,
    family: int,
    server: tuple[str, int],
    filename: str,
    options: dict[str, int],
    out: BinaryIO,
    *,
    max_bytes: int,
    timeout: float,
    meter: ProgressMeter,
) -> int:
    transport, client = await sockets.open_udp(lambda: _Client(url, server, max_bytes, timeout, meter), family)
    writer = asyncio.create_task(_write_chunks(client, out))
    try:
        client.start(filename, options)
        await client.done
        client.chunks.put_nowait(None)
        await writer
        return client.received
    finally:
        client._stop()
        transport.close()
        if not writer.done():
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer


async def tftp_fetch(url: str, part: Path, *, max_bytes: int, timeout: float, meter: ProgressMeter) -> int:
    """Download ``url`` into ``part``; see :func:`bootd.loader.download.fetch`."""
    target = parse_tftp_url(url)
    try:
        family, server = await asyncio.wait_for(sockets.resolve_udp(target.host, target.port), timeout)
    except TimeoutError:
        raise Timeout.of(
            N_("{url}: resolving {host} took longer than {timeout} s"),
            url=url,
            host=target.host,
            timeout=f"{timeout:g}",
        ) from None
    except OSError:
        raise NetworkError.of(
            N_("cannot fetch {url}: cannot resolve host {host}"), url=url, host=repr(target.host)
        ) from None
    out = await asyncio.to_thread(open, part, "wb")
    try:
        options = {"blksize": BLKSIZE, "tsize": 0, "windowsize": WINDOWSIZE}
        try:
            n = await _transfer(
                url, family, server, target.filename, options, out, max_bytes=max_bytes, timeout=timeout, meter=meter
            )
        except _OptionsRefused:
            log.info("%s: server refused TFTP options; retrying without", url)
            await asyncio.to_thread(out.seek, 0)
            await asyncio.to_thread(out.truncate)
            n = await _transfer(
                url, family, server, target.filename, {}, out, max_bytes=max_bytes, timeout=timeout, meter=meter
            )
        meter.update(n, final=True)
        return n
    finally:
        await asyncio.to_thread(out.close)


def _error(url: str, code: int, message: str, during_options: bool) -> BaseException:
    detail = f" ({message})" if message else ""
    if code == ERR_NOT_FOUND:
        return ResourceNotFound(f"{url}: not found on the TFTP server{detail}")
    if code == ERR_ACCESS:
        return ResourceError(f"cannot fetch {url}: access denied by the TFTP server{detail}")
    if code == ERR_OPTIONS and during_options:
        return _OptionsRefused()
    return ResourceError(f"cannot fetch {url}: TFTP error {code}{detail}")
