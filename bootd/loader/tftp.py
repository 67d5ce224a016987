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
import logging
import socket
import struct
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from bootd.errors import NetworkError, ResourceError, Timeout

if TYPE_CHECKING:
    from bootd.loader.download import ProgressMeter

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
        raise ResourceError(f"{url} is not a tftp://host/file URL")
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise ResourceError(f"{url}: invalid port") from None
    name = urllib.parse.unquote(parts.path)
    if name.startswith("/"):
        name = name[1:]
    # ";mode=octet" (RFC 3617) is the only mode we speak
    name = name.split(";", 1)[0]
    if not name:
        raise ResourceError(f"{url} names no file")
    if "\0" in name or len(name.encode()) > 400:
        raise ResourceError(f"{url}: invalid file name")
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


class _Endpoint(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[tuple[bytes, tuple[str, int]] | OSError] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.queue.put_nowait((data, addr))

    def error_received(self, exc: Exception) -> None:
        if isinstance(exc, OSError):
            self.queue.put_nowait(exc)


class _Transfer:
    def __init__(self, url: str, max_bytes: int, timeout: float, meter: ProgressMeter, out: BinaryIO) -> None:
        self.url = url
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.meter = meter
        self.out = out
        self.blksize = 512
        self.window = 1
        self.block = 0
        self.received = 0
        self.buffer = bytearray()

    async def flush(self) -> None:
        if self.buffer:
            data = bytes(self.buffer)
            self.buffer.clear()
            await asyncio.to_thread(self.out.write, data)


async def tftp_fetch(url: str, part: Path, *, max_bytes: int, timeout: float, meter: ProgressMeter) -> int:
    """Download ``url`` into ``part``; see :func:`bootd.loader.download.fetch`."""
    target = parse_tftp_url(url)
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(loop.getaddrinfo(target.host, target.port, type=socket.SOCK_DGRAM), timeout)
    except TimeoutError:
        raise Timeout(f"{url}: resolving {target.host} took longer than {timeout:g} s") from None
    except OSError:
        raise NetworkError(f"cannot fetch {url}: cannot resolve host {target.host!r}") from None
    family, _, _, _, sockaddr = infos[0]
    server = (str(sockaddr[0]), int(sockaddr[1]))
    transport, endpoint = await loop.create_datagram_endpoint(_Endpoint, family=family)
    out = await asyncio.to_thread(open, part, "wb")
    try:
        xfer = _Transfer(url, max_bytes, timeout, meter, out)
        options = {"blksize": BLKSIZE, "tsize": 0, "windowsize": WINDOWSIZE}
        try:
            await _run(xfer, transport, endpoint, server, target.filename, options)
        except _OptionsRefused:
            log.info("%s: server refused TFTP options; retrying without", url)
            await asyncio.to_thread(out.seek, 0)
            await asyncio.to_thread(out.truncate)
            xfer = _Transfer(url, max_bytes, timeout, meter, out)
            await _run(xfer, transport, endpoint, server, target.filename, {})
        await xfer.flush()
        meter.update(xfer.received, final=True)
        return xfer.received
    finally:
        transport.close()
        await asyncio.to_thread(out.close)


class _OptionsRefused(Exception):
    pass


async def _run(
    xfer: _Transfer,
    transport: asyncio.DatagramTransport,
    endpoint: _Endpoint,
    server: tuple[str, int],
    filename: str,
    options: dict[str, int],
) -> None:
    last_sent = build_rrq(filename, options)
    last_dest: tuple[str, int] = server
    tid: tuple[str, int] | None = None
    transport.sendto(last_sent, last_dest)
    last_progress = time.monotonic()
    in_window = 0
    while True:
        now = time.monotonic()
        if now - last_progress > xfer.timeout:
            what = "no answer from" if tid is None else "transfer stalled on"
            raise Timeout(f"{xfer.url}: {what} the TFTP server for {xfer.timeout:g} s; giving up")
        wait = min(RETRY_INTERVAL, xfer.timeout - (now - last_progress)) + 0.001
        try:
            item = await asyncio.wait_for(endpoint.queue.get(), wait)
        except TimeoutError:
            transport.sendto(last_sent, last_dest)
            continue
        if isinstance(item, OSError):
            if isinstance(item, ConnectionRefusedError):
                raise NetworkError(f"cannot fetch {xfer.url}: no TFTP server at {server[0]} (port unreachable)")
            log.debug("%s: socket error %s", xfer.url, item)
            continue
        data, addr = item
        if tid is None:
            if addr[0] != server[0]:
                continue
            tid = addr
            last_dest = tid
        elif addr != tid:
            transport.sendto(build_error(ERR_UNKNOWN_TID, "unknown transfer ID"), addr)
            continue
        if len(data) < 4:
            continue
        (opcode,) = struct.unpack("!H", data[:2])
        if opcode == ERROR:
            (code,) = struct.unpack("!H", data[2:4])
            message = data[4:].split(b"\0", 1)[0].decode(errors="replace")
            _raise_error(xfer.url, code, message, bool(options) and xfer.block == 0)
        elif opcode == OACK and xfer.block == 0 and options:
            _accept_oack(xfer, parse_oack(data[2:]), transport, tid)
            last_sent = build_ack(0)
            transport.sendto(last_sent, tid)
            last_progress = time.monotonic()
        elif opcode == DATA:
            (block,) = struct.unpack("!H", data[2:4])
            payload = data[4:]
            if block != (xfer.block + 1) & 0xFFFF:
                # duplicate or out of order: say where we are
                last_sent = build_ack(xfer.block)
                transport.sendto(last_sent, tid)
                in_window = 0
                continue
            if len(payload) > xfer.blksize:
                transport.sendto(build_error(0, "block too large"), tid)
                raise NetworkError(f"cannot fetch {xfer.url}: the server sent a block larger than agreed")
            xfer.block = block
            xfer.received += len(payload)
            if xfer.received > xfer.max_bytes:
                transport.sendto(build_error(ERR_DISK_FULL, "file too large"), tid)
                raise ResourceError(f"{xfer.url} is too large: more than the limit of {_size(xfer.max_bytes)}")
            xfer.buffer += payload
            xfer.meter.update(xfer.received)
            last_progress = time.monotonic()
            in_window += 1
            final = len(payload) < xfer.blksize
            if final or in_window >= xfer.window:
                last_sent = build_ack(block)
                transport.sendto(last_sent, tid)
                in_window = 0
            if len(xfer.buffer) >= FLUSH_BYTES:
                await xfer.flush()
            if final:
                return


def _accept_oack(
    xfer: _Transfer, opts: dict[str, str], transport: asyncio.DatagramTransport, tid: tuple[str, int]
) -> None:
    try:
        blksize = int(opts.get("blksize", "512"))
        window = int(opts.get("windowsize", "1"))
        tsize = int(opts["tsize"]) if "tsize" in opts else None
    except ValueError:
        transport.sendto(build_error(ERR_OPTIONS, "bad option value"), tid)
        raise NetworkError(f"cannot fetch {xfer.url}: the server sent invalid TFTP options {opts}") from None
    if not 8 <= blksize <= BLKSIZE or not 1 <= window <= WINDOWSIZE:
        transport.sendto(build_error(ERR_OPTIONS, "option value not offered"), tid)
        raise NetworkError(f"cannot fetch {xfer.url}: the server answered with options we did not offer: {opts}")
    xfer.blksize = blksize
    xfer.window = window
    if tsize is not None and tsize > 0:
        xfer.meter.total = tsize
        if tsize > xfer.max_bytes:
            transport.sendto(build_error(ERR_DISK_FULL, "file too large"), tid)
            raise ResourceError(f"{xfer.url} is too large: {_size(tsize)} exceeds the limit of {_size(xfer.max_bytes)}")


def _raise_error(url: str, code: int, message: str, during_options: bool) -> None:
    detail = f" ({message})" if message else ""
    if code == ERR_NOT_FOUND:
        from bootd.loader.download import ResourceNotFound

        raise ResourceNotFound(f"{url}: not found on the TFTP server{detail}")
    if code == ERR_ACCESS:
        raise ResourceError(f"cannot fetch {url}: access denied by the TFTP server{detail}")
    if code == ERR_OPTIONS and during_options:
        raise _OptionsRefused()
    raise ResourceError(f"cannot fetch {url}: TFTP error {code}{detail}")


def _size(n: int) -> str:
    from bootd.loader.download import describe_size

    return describe_size(n)
