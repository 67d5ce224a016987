"""The composition root of ``bootd serve`` (layer L5): picks the real or the
sandbox platform (the one place that choice is made), wires discovery, the
inventory, autoboot, the loader and the D-Bus service, owns their tasks and
shuts them down cleanly on SIGTERM (mounts released, bus name dropped).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import shutil
import signal
from collections.abc import Callable
from pathlib import Path

from bootd import __version__, settings
from bootd.autoboot import Clock, MonotonicClock
from bootd.composition import choose_platform
from bootd.daemon import Daemon, NetworkLike
from bootd.dbus.service import Service
from bootd.inventory import Inventory
from bootd.model import Record, Severity, record
from bootd.platform import Platform

log = logging.getLogger(__name__)

_set = object.__setattr__


# -- composition --------------------------------------------------------------------------
@record
class ServeOptions(Record):
    bus: str = "system"
    """``system``, ``session`` or a bus address."""
    sandbox: Path | None = None
    """Run on this sandbox machine instead of the real one."""
    state_dir: Path | None = None
    """Records, work files, the next-boot choice (default: a new temporary
    directory on a sandbox, /var/lib/bootd otherwise)."""
    config_root: Path | None = None
    """Prefix of etc/bootd and usr/lib/bootd (default: / on the real machine,
    the state directory on a sandbox)."""

    def __init__(
        self,
        bus: str = "system",
        sandbox: Path | None = None,
        state_dir: Path | None = None,
        config_root: Path | None = None,
    ) -> None:
        _set(self, "bus", bus)
        _set(self, "sandbox", sandbox)
        _set(self, "state_dir", state_dir)
        _set(self, "config_root", config_root)


def make_platform(opts: ServeOptions, state_dir: Path) -> Platform:
    return choose_platform(opts.sandbox, state_dir)


async def read_nvram(platform: Platform) -> settings.NvramValues:
    """Petitboot's NVRAM keys, on a real machine that has the ``nvram`` tool."""
    if platform.name != "linux" or shutil.which("nvram") is None:
        return {}
    result = await platform.runner.run(["nvram", "--print-config"], check=False, timeout=10)
    if not result.ok:
        log.warning("nvram --print-config failed: %s", result.stderr.strip())
        return {}
    return settings.parse_nvram(result.stdout)


def make_network(platform: Platform, daemon: Daemon) -> NetworkLike | None:
    """The network discovery, when this build has it."""
    try:
        module = importlib.import_module("bootd.discovery.network")
    except ModuleNotFoundError as e:
        if e.name != "bootd.discovery.network":
            raise
        log.warning("this build has no network discovery")
        return None
    net_dir = daemon.boots.work_dir / "net"
    net_dir.mkdir(parents=True, exist_ok=True)
    net_settings = module.load_network_settings(
        daemon.paths, lambda msg: daemon.events.status(Severity.WARNING, msg), nvram=daemon.config.nvram
    )
    net: NetworkLike = module.NetworkDiscovery(
        platform,
        daemon.inventory,
        net_settings,
        status=daemon.events.status_logged,
        work_dir=net_dir,
        paths=daemon.paths,
        nvram=daemon.config.nvram,
    )
    return net


async def serve(
    opts: ServeOptions,
    *,
    clock: Clock | None = None,
    ready: Callable[[], None] | None = None,
    machine: Callable[[Path], Platform] | None = None,
) -> int:
    """Run the daemon until SIGTERM/SIGINT or the bus goes away; SIGHUP reloads the settings.

    ``machine(state_dir)`` builds the platform instead of :func:`make_platform`
    (a test's sandbox machine whose network is a namespace's real one)."""
    sandbox = opts.sandbox is not None
    if opts.state_dir is not None:
        state_dir = opts.state_dir
    else:
        if sandbox:
            import tempfile  # (and the random module it loads) only where it is used

            state_dir = Path(tempfile.mkdtemp(prefix="bootd-sandbox-"))
        else:
            state_dir = Path("/var/lib/bootd")
    if sandbox:
        state_dir.mkdir(parents=True, exist_ok=True)
    root = opts.config_root or (state_dir if sandbox else Path("/"))
    platform = machine(state_dir) if machine is not None else make_platform(opts, state_dir)
    log.info(
        "bootd %s on %s (%s); state in %s; settings under %s",
        __version__,
        platform.name,
        platform.arch,
        state_dir,
        root,
    )
    daemon = Daemon(
        platform,
        Inventory(),
        settings.Paths(root),
        nvram=await read_nvram(platform),
        state_dir=state_dir,
        work_dir=state_dir / "work" if sandbox else Path("/run/bootd/work"),
        hooks_dir=root / "etc/bootd/boot.d",
        clock=clock or MonotonicClock(),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    hup = asyncio.Event()  # SIGHUP: read the settings files again (systemctl reload bootd)
    loop.add_signal_handler(signal.SIGHUP, hup.set)
    # Take the name first (clients may connect while devices are scanned).
    service = await Service.connect(opts.bus, daemon, now=daemon.clock.now)
    status = 0
    try:
        # Only now that the name is ours: a daemon that could not start leaves no trace on the machine.
        state_dir.mkdir(parents=True, exist_ok=True)
        if ready is not None:
            ready()
        from bootd.discovery.manager import Discovery

        daemon.discovery = Discovery(
            platform,
            daemon.inventory,
            scan_loop_devices=daemon.settings.scan_loop_devices,
            status=daemon.events.status_logged,
            mount_root=state_dir / "mnt" if sandbox else Path("/run/bootd/mnt"),
        )
        daemon.network = make_network(platform, daemon)
        await platform.parsers.start()  # parse workers are ready before the first device
        async with asyncio.TaskGroup() as tg:
            await daemon.bmc.read()
            await daemon.discovery.start()
            if daemon.network is not None:
                await daemon.network.start()
            tasks = [
                tg.create_task(daemon.autoboot.run(), name="autoboot"),
                tg.create_task(service.wait_disconnected(), name="bus"),
                tg.create_task(stop.wait(), name="stop"),
                tg.create_task(_reloads(daemon, hup), name="reload"),
            ]
            await asyncio.wait(tasks[1:3], return_when=asyncio.FIRST_COMPLETED)
            if not stop.is_set():
                log.error("lost the connection to the bus; stopping")
                status = 1
            for task in tasks:
                task.cancel()
    finally:
        log.info("shutting down")
        await daemon.shutdown()
        await platform.parsers.close()
        await service.close()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(sig)
    return status


async def _reloads(daemon: Daemon, hup: asyncio.Event) -> None:
    """Reload the settings at each SIGHUP (one reload for signals that come while one runs)."""
    while True:
        await hup.wait()
        hup.clear()
        try:
            await daemon.reload_settings()
        except Exception:
            log.exception("reloading the settings failed")
