"""``bootd serve``: run the daemon."""

from __future__ import annotations

import argparse
from pathlib import Path

from bootd.cli import N_


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--bus", default="system", metavar="system|session|ADDRESS", help=N_("the bus to serve on (default: system)")
    )
    parser.add_argument(
        "--sandbox",
        "--machine",
        dest="sandbox",
        type=Path,
        metavar="DIR",
        help=N_("run on the sandbox machine in DIR (kexec recorded, not run); `bootd demo` takes the same option"),
    )
    parser.add_argument(
        "--state-dir", type=Path, metavar="DIR", help=N_("records, work files and the next-boot choice")
    )
    parser.add_argument(
        "--config-root",
        type=Path,
        metavar="DIR",
        help=N_(
            "read settings from DIR/etc/bootd and DIR/usr/lib/bootd (default: /, or the state directory on a sandbox)"
        ),
    )


def run(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    from bootd.app import ServeOptions, serve

    if args.verbose == 0:
        logging.getLogger().setLevel(logging.INFO)
    # Absolute paths: devices' mountpoints and file:// URLs on the sandbox are published to clients
    # that run elsewhere, and must not depend on this process's working directory.
    sandbox, state_dir, config_root = (
        None if p is None else p.resolve() for p in (args.sandbox, args.state_dir, args.config_root)
    )
    opts = ServeOptions(bus=args.bus, sandbox=sandbox, state_dir=state_dir, config_root=config_root)
    return asyncio.run(serve(opts))
