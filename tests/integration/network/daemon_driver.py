"""``bootd serve`` on a sandbox machine whose network is real, run inside the
lab's client namespace: disks, boot and kexec come from the sandbox machine
(nothing of this machine is scanned or booted), interfaces, ``ip`` and busybox
``udhcpc`` are the namespace's own (:class:`LinuxNet`), so what the daemon
does to ``eth0`` is seen by ``ip addr`` in that namespace.  The resolver file
is the state directory's, never the host's."""

from __future__ import annotations

import argparse
import asyncio
import logging
from dataclasses import replace
from pathlib import Path

from bootd.app import ServeOptions, serve
from bootd.platform import Platform
from bootd.platform.linux_net import LinuxNet
from bootd.platform.run import RealRunner
from bootd.platform.sandbox import sandbox_platform


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bus", required=True)
    ap.add_argument("--machine", type=Path, required=True)
    ap.add_argument("--state-dir", type=Path, required=True)
    ap.add_argument("--config-root", type=Path, required=True)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    def machine(state_dir: Path) -> Platform:
        net = LinuxNet(RealRunner(), state_dir=state_dir / "net", resolv_conf=state_dir / "resolv.conf")
        return replace(sandbox_platform(args.machine, state_dir), net=net)

    opts = ServeOptions(bus=args.bus, sandbox=args.machine, state_dir=args.state_dir, config_root=args.config_root)
    return asyncio.run(serve(opts, machine=machine))


if __name__ == "__main__":
    raise SystemExit(main())
