"""A small TFTP server on loopback for protocol tests the real server cannot
stage: lost packets, tiny blocks (block-number wrap-around), no option support.
The ordinary paths are tested against dnsmasq in tests/integration/network."""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass, field
from typing import cast


@dataclass
class Behaviour:
    files: dict[str, bytes]
    blksize: int | None = None
    """Block size to grant (None: grant what is asked)."""
    options: bool = True
    """Answer options with an OACK (False: plain RFC 1350)."""
    drop_data_once: set[int] = field(default_factory=set)
    """Sequence numbers (1-based, not wrapped) whose first transmission is lost."""
    refuse_options: bool = False
    """Answer a request with options by ERROR 8 (option negotiation refused)."""
    retransmit: float = 0.1
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)


class _Transfer(asyncio.DatagramProtocol):
    def __init__(self, behaviour: Behaviour, data: bytes, blksize: int, oack: bytes | None) -> None:
        self.b = behaviour
        self.data = data
        self.blksize = blksize
        self.oack = oack
        self.acks: asyncio.Queue[int] = asyncio.Queue()
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if len(data) >= 4 and struct.unpack("!H", data[:2])[0] == 4:
            self.acks.put_nowait(struct.unpack("!H", data[2:4])[0])

    async def wait_ack(self, block: int, send: bytes) -> bool:
        assert self.transport is not None
        for _ in range(50):
            try:
                while True:
                    got = await asyncio.wait_for(self.acks.get(), self.b.retransmit)
                    if got == block & 0xFFFF:
                        return True
            except TimeoutError:
                self.transport.sendto(send)
        return False

    async def run(self) -> None:
        assert self.transport is not None
        if self.oack is not None:
            self.transport.sendto(self.oack)
            if not await self.wait_ack(0, self.oack):
                return
        seq = 1
        while True:
            chunk = self.data[(seq - 1) * self.blksize : seq * self.blksize]
            packet = struct.pack("!HH", 3, seq & 0xFFFF) + chunk
            if seq in self.b.drop_data_once:
                self.b.drop_data_once.discard(seq)
            else:
                self.transport.sendto(packet)
            if not await self.wait_ack(seq, packet):
                return
            if len(chunk) < self.blksize:
                return
            seq += 1


class TftpServer(asyncio.DatagramProtocol):
    def __init__(self, behaviour: Behaviour) -> None:
        self.b = behaviour
        self.transport: asyncio.DatagramTransport | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        fields = data[2:].split(b"\0")
        name = fields[0].decode()
        opts = {fields[i].decode().lower(): fields[i + 1].decode() for i in range(2, len(fields) - 1, 2)}
        self.b.requests.append((name, opts))
        task = asyncio.create_task(self._serve(name, opts, addr))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _serve(self, name: str, opts: dict[str, str], addr: tuple[str, int]) -> None:
        loop = asyncio.get_running_loop()
        content = self.b.files.get(name)
        if content is None:
            assert self.transport is not None
            self.transport.sendto(struct.pack("!HH", 5, 1) + b"File not found\0", addr)
            return
        if self.b.refuse_options and opts:
            assert self.transport is not None
            self.transport.sendto(struct.pack("!HH", 5, 8) + b"no options\0", addr)
            return
        blksize = 512
        oack: bytes | None = None
        if self.b.options and opts:
            granted: dict[str, str] = {}
            if "blksize" in opts:
                blksize = self.b.blksize or int(opts["blksize"])
                granted["blksize"] = str(blksize)
            if "tsize" in opts:
                granted["tsize"] = str(len(content))
            oack = struct.pack("!H", 6) + b"".join(k.encode() + b"\0" + v.encode() + b"\0" for k, v in granted.items())
        transport, proto = await loop.create_datagram_endpoint(
            lambda: _Transfer(self.b, content, blksize, oack), local_addr=("127.0.0.1", 0), remote_addr=addr
        )
        try:
            await proto.run()
        finally:
            transport.close()


async def start(behaviour: Behaviour) -> tuple[asyncio.DatagramTransport, int]:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(lambda: TftpServer(behaviour), local_addr=("127.0.0.1", 0))
    return transport, transport.get_extra_info("sockname")[1]
