"""``bootd event EVENT [KEY=VALUE...]``: report a network event to the daemon.

Scripts use it to tell the daemon about DHCP leases (``Manager1.Event``)::

    bootd event bound interface=eth0 ip=192.168.0.10 siaddr=192.168.0.1 bootfile=pxelinux.0

With ``--udhcpc`` it is busybox udhcpc's lease script: the event is the first
argument and the lease comes from udhcpc's environment (``ip``, ``siaddr``,
``tftp``, ``bootfile``, ``pxeconffile``, ``pxepathprefix``, ``reboottime``…);
the interface's MAC is added from ``BOOTD_MAC`` or sysfs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from bootd.cli import N_
from bootd.cli.i18n import _
from bootd.errors import InvalidArgument


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("event", help=N_("event name: bound, renew, deconfig, leasefail, nak"))
    parser.add_argument("params", nargs="*", metavar="KEY=VALUE", help=N_("event parameters"))
    parser.add_argument(
        "--udhcpc", action="store_true", help=N_("take the parameters from udhcpc's environment (lease script mode)")
    )
    parser.add_argument(
        "--bus",
        default=os.environ.get("BOOTD_BUS", "system"),
        help=N_("bus of the daemon: system, session or an address (default: $BOOTD_BUS or system)"),
    )
    parser.add_argument("--print", action="store_true", help=N_("print the event as JSON instead of sending it"))


def parse_params(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidArgument(_("parameter {item} is not KEY=VALUE").format(item=repr(item)))
        out[key] = value
    return out


def udhcpc_params(env: Mapping[str, str], sys_class_net: Path = Path("/sys/class/net")) -> dict[str, str]:
    from bootd.platform.net import lease_params

    mac = env.get("BOOTD_MAC", "").strip().lower()
    iface = env.get("interface", "")
    if not mac and iface and "/" not in iface:
        try:
            mac = (sys_class_net / iface / "address").read_text(encoding="ascii").strip().lower()
        except OSError:
            mac = ""
    return lease_params(env, mac=mac or None)


def run(args: argparse.Namespace) -> int:
    params = udhcpc_params(os.environ) if args.udhcpc else {}
    params.update(parse_params(args.params))
    if args.print:
        print(json.dumps({"event": args.event, "params": params}, sort_keys=True))
        return 0
    import asyncio

    async def send() -> None:
        from bootd.dbus.client import BootdClient

        client = await BootdClient.connect(args.bus)
        try:
            await client.event(args.event, params)
        finally:
            client.close()

    asyncio.run(send())
    if args.verbose:
        print(
            _("sent {event} for {interface}").format(event=args.event, interface=params.get("interface", "?")),
            file=sys.stderr,
        )
    return 0
