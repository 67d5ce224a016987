"""bootd's network side, run inside the lab's client namespace.

Builds the real platform's network part (:class:`LinuxNet`: sysfs, ``ip``,
busybox ``udhcpc``), an inventory and :class:`NetworkDiscovery`, and prints
one JSON line per thing that happens (``t`` = ms since start), so the test in
the host namespace can assert on it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any, cast

from bootd.discovery.network import InterfaceSettings, Method, NetworkDiscovery, NetworkSettings
from bootd.errors import BootdError
from bootd.inventory import Inventory, InventoryEvent
from bootd.jsoncodec import option_to_json
from bootd.loader.download import fetch
from bootd.model import Severity, Transfer
from bootd.platform import Platform
from bootd.platform.linux_net import LinuxNet
from bootd.platform.net import StaticAddress
from bootd.platform.run import RealRunner

T0 = time.monotonic()


def emit(kind: str, **data: Any) -> None:
    print(json.dumps({"t": round((time.monotonic() - T0) * 1000, 2), "kind": kind, **data}), flush=True)


def on_inventory(event: InventoryEvent) -> None:
    if event.device is not None:
        emit(str(event.kind), device=event.device.id, props=dict(event.device.properties), uuid=event.device.uuid)
    if event.option is not None:
        emit(str(event.kind), option=option_to_json(event.option))


async def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tmp", type=Path, required=True)
    ap.add_argument("--options", type=int, default=1, help="wait until eth0 has this many options")
    ap.add_argument("--wait", type=float, default=30)
    ap.add_argument("--timeout", type=float, default=5, help="download stall timeout")
    ap.add_argument("--max-bytes", type=int, default=256 * 1024 * 1024)
    ap.add_argument("--download", action="store_true", help="download the default option's kernel and initrds")
    ap.add_argument("--release", action="store_true", help="give the lease back at the end")
    ap.add_argument("--no-dhcp", action="store_true", help="do not wait for a lease")
    ap.add_argument("--hold", type=float, default=0, help="keep watching interfaces this long after settling")
    ap.add_argument("--poll", type=float, default=2.0, help="interface poll interval")
    ap.add_argument("--dns", action="store_true", help="apply the lease's DNS servers")
    ap.add_argument("--static", help="ADDRESS/PREFIX: configure eth0 statically instead of DHCP")
    ap.add_argument("--add-url", action="append", default=[])
    ap.add_argument("--fetch", action="append", default=[], help="fetch this URL and report")
    args = ap.parse_args()

    work = args.tmp / f"client-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    runner = RealRunner()
    net = LinuxNet(runner, state_dir=work / "net", resolv_conf=work / "resolv.conf")
    platform = Platform("linux", "x86_64", "efi", runner, cast(Any, None), cast(Any, None), net)
    inventory = Inventory()
    inventory.subscribe(on_inventory)
    changed = asyncio.Event()
    inventory.subscribe(lambda _e: changed.set())
    settings = NetworkSettings(timeout=args.timeout, dns=args.dns, poll_interval=args.poll)
    if args.static:
        address, _, prefix = args.static.partition("/")
        static = InterfaceSettings(Method.STATIC, StaticAddress(address, int(prefix or 24)))
        settings = NetworkSettings(timeout=args.timeout, interfaces={"eth0": static}, poll_interval=args.poll)
    disc = NetworkDiscovery(
        platform, inventory, settings, status=lambda sev, msg: emit("status", severity=str(sev), message=str(msg)),
        work_dir=work,
    )  # fmt: skip
    try:
        await disc.start()
        if not args.no_dhcp and not args.static:
            deadline = time.monotonic() + args.wait
            while len(inventory.options_of("eth0")) < args.options and time.monotonic() < deadline:
                changed.clear()
                try:
                    await asyncio.wait_for(changed.wait(), deadline - time.monotonic())
                except TimeoutError:
                    break
            await disc.wait_idle()
            emit("settled", options=[o.id for o in inventory.options_of("eth0")])
        if args.hold:
            emit("holding")
            await asyncio.sleep(args.hold)
        for url in args.add_url:
            try:
                added = await disc.add_url(url)
                emit("added", url=url, options=[option_to_json(o) for o in added])
            except BootdError as e:
                emit("error", url=url, error=type(e).__name__, message=str(e))
        urls = list(args.fetch)
        if args.download:
            default = next((o for o in inventory.options_of("eth0") if o.default), None)
            if default is None:
                emit("error", message="no default option")
            else:
                for res in (default.kernel, *default.initrds):
                    if res is not None and res.url is not None:
                        urls.append(res.url)
        for i, url in enumerate(urls):
            dest = work / f"download-{i}"

            def progress(t: Transfer, url: str = url) -> None:
                emit("progress", url=url, done=t.done, total=t.total)

            start = time.monotonic()
            try:
                n = await fetch(url, dest, max_bytes=args.max_bytes, timeout=args.timeout, progress=progress)
                emit("fetched", url=url, bytes=n, path=str(dest), seconds=time.monotonic() - start)
            except BootdError as e:
                emit("error", url=url, error=type(e).__name__, message=str(e), seconds=time.monotonic() - start,
                     left=sorted(p.name for p in work.iterdir() if p.name.startswith("download-")))  # fmt: skip
        if args.release:
            await disc.release("eth0")
            deadline = time.monotonic() + 10
            while inventory.options_of("eth0") and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            emit("released", options=[o.id for o in inventory.options_of("eth0")])
    finally:
        await disc.stop()
    resolv = work / "resolv.conf"
    emit("done", severity=str(Severity.INFO), resolv=resolv.read_text() if resolv.exists() else None)
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
