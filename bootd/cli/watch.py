"""``bootd watch [--json]``: discovery on this machine (or a sandbox machine),
printing device and option events as they happen until interrupted.

SIGINT and SIGTERM stop it cleanly: every mount it made is unmounted.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import shutil
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bootd.cli import N_
from bootd.cli.i18n import _
from bootd.errors import PermissionDenied

if TYPE_CHECKING:
    from collections.abc import Callable

    from bootd.discovery.network import NetworkDiscovery
    from bootd.inventory import Inventory
    from bootd.platform import Platform


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help=N_("print one JSON object per line"))
    parser.add_argument("--sandbox", type=Path, metavar="DIR", help=N_("watch a sandbox machine instead of this one"))
    parser.add_argument("--loop-devices", action="store_true", help=N_("scan loop devices too (off by default)"))
    parser.add_argument(
        "--device",
        action="append",
        default=[],
        metavar="GLOB",
        help=N_("only devices whose kernel name (or whose disk's name) matches; repeatable"),
    )
    parser.add_argument(
        "--mount-root",
        type=Path,
        default=Path("/run/bootd/mnt"),
        metavar="DIR",
        help=N_("where devices are mounted read-only (default: /run/bootd/mnt)"),
    )
    parser.add_argument(
        "--parse-timeout", type=float, default=15.0, metavar="SECONDS", help=N_("time limit for reading one device")
    )
    parser.add_argument("--network", action="store_true", help=NETWORK_HELP)


def _emit(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _printer(as_json: bool) -> Any:
    from bootd.inventory import InventoryEvent
    from bootd.jsoncodec import device_to_json, option_to_json

    def on_event(event: InventoryEvent) -> None:
        if as_json:
            obj: dict[str, Any] = {"event": str(event.kind)}
            if event.device is not None:
                obj["device"] = device_to_json(event.device)
            if event.option is not None:
                obj["option"] = option_to_json(event.option)
            _emit(json.dumps(obj))
            return
        sign = {"added": "+", "removed": "-", "changed": "~"}[str(event.kind).split("-")[1]]
        if event.device is not None:
            d = event.device
            where = f" on {d.mountpoint}" if d.mountpoint else ""
            _emit(f"{sign} device {d.id}: {d.title} {d.fstype or ''}{where}".rstrip())
        if event.option is not None:
            o = event.option
            kernel = o.kernel.describe() if o.kernel else "-"
            mark = " (default)" if o.default else ""
            _emit(f"{sign} option {o.id}: {o.name!r}{mark} [{o.source}] kernel {kernel}")

    return on_event


async def _watch(args: argparse.Namespace) -> int:
    import asyncio
    import tempfile

    from bootd.discovery.manager import Discovery
    from bootd.inventory import Inventory
    from bootd.model import Severity, Text
    from bootd.platform.block import BlockDevice

    state_dir: Path | None = None
    if args.sandbox is not None:
        from bootd.composition import choose_platform

        state_dir = Path(tempfile.mkdtemp(prefix="bootd-watch-"))
        platform = choose_platform(args.sandbox, state_dir)
    else:
        import os

        if os.geteuid() != 0:
            raise PermissionDenied(_("bootd watch mounts devices read-only and needs root; run it with sudo"))
        from bootd.composition import real_platform

        platform = real_platform()

    def status(severity: Severity, message: str | Text) -> None:
        message = str(message)  # event lines stay English: scripts read them
        if args.json:
            _emit(json.dumps({"event": "status", "severity": str(severity), "message": message}))
        else:
            _emit(f"! {severity}: {message}")

    inventory = Inventory()
    inventory.subscribe(_printer(args.json))
    discovery = Discovery(
        platform,
        inventory,
        scan_loop_devices=args.loop_devices,
        status=status,
        mount_root=args.mount_root,
        parse_timeout=args.parse_timeout,
    )
    globs: list[str] = list(args.device)

    def wanted(dev: BlockDevice) -> bool:
        return any(fnmatch.fnmatchcase(n, g) for g in globs for n in (dev.name, dev.parent or ""))

    discovery.device_filter = wanted if globs else None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    network = _network(platform, inventory, status) if args.network else None
    try:
        await platform.parsers.start()  # parse workers ready before the first device
        await discovery.start()
        if network is not None:
            await network.start()
        settled = asyncio.create_task(discovery.settled())
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({settled, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if settled.done():
            _emit(json.dumps({"event": "ready"}) if args.json else _("# watching; press Ctrl-C to stop"))
        else:
            settled.cancel()
        await stopping
    finally:
        if network is not None:
            await network.stop()
        await discovery.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        if state_dir is not None:
            shutil.rmtree(state_dir, ignore_errors=True)
    return 0


def run(args: argparse.Namespace) -> int:
    import asyncio

    return asyncio.run(_watch(args))


# -- network interfaces (DHCP/PXE) ---------------------------------------------------
NETWORK_HELP = N_("also bring network interfaces up, run DHCP on them and show their PXE options")


def _network(platform: Platform, inventory: Inventory, status: Callable[..., None]) -> NetworkDiscovery:
    from bootd.discovery.network import NetworkDiscovery

    return NetworkDiscovery(platform, inventory, status=status)
