"""``bootd demo``: the whole product on a sandbox machine, unprivileged.

A private D-Bus daemon in a temporary directory, ``bootd serve --sandbox``
on it (kexec is recorded, never run), and the console menu in this terminal.
A boot ends the demo with what would have happened: the kexec command line,
the chosen console's device-tree path and the device-tree changes.  Every
process and temporary file is removed on the way out.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from bootd.cli import N_
from bootd.cli.i18n import _

if TYPE_CHECKING:
    import asyncio

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>{address}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""

READY_TIMEOUT = 20.0
DEMO_TIMEOUT = 30


def default_machine() -> Path:
    """The demo machine shipped with the project (``config/demo``, installed as ``bootd/demo_machine``)."""
    import bootd

    return Path(bootd.__file__).resolve().parent / "demo_machine"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--machine",
        "--sandbox",
        dest="machine",
        type=Path,
        metavar="DIR",
        help=N_(
            "the sandbox machine's directory (default: the bundled config/demo); "
            "`bootd serve` takes the same option under both names"
        ),
    )
    parser.add_argument(
        "--keep", type=Path, metavar="DIR", help=N_("put the bus, daemon log and records in DIR and keep them")
    )
    parser.add_argument(
        "--timeout",
        type=int,
        default=DEMO_TIMEOUT,
        metavar="SECONDS",
        help=N_("autoboot countdown (default: %(default)s, time to look around; 0 boots at once)"),
    )
    parser.add_argument("--ascii", action="store_true", help=N_("draw the menu with ASCII only"))
    parser.add_argument("--mono", action="store_true", help=N_("draw the menu without colours"))


def run(args: argparse.Namespace) -> int:
    import asyncio

    from bootd.errors import BootdError

    machine = (args.machine or default_machine()).resolve()
    if not (machine / "machine.toml").is_file():
        raise BootdError(
            _("{machine} is not a sandbox machine (no machine.toml); give one with --machine DIR").format(
                machine=machine
            )
        )
    if not sys.stdin.isatty() or not sys.stdout.isatty():
        raise BootdError(_("the demo shows a menu and needs a terminal (run it in a terminal, not through a pipe)"))
    return asyncio.run(_main(machine, args))


async def _main(machine: Path, args: argparse.Namespace) -> int:
    """Run the demo; a hang-up or termination still cleans everything up."""
    import asyncio
    import signal

    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    assert task is not None
    for sig in (signal.SIGHUP, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    try:
        return await _demo(machine, args)
    except asyncio.CancelledError:
        return 130


async def _demo(machine: Path, args: argparse.Namespace) -> int:
    import asyncio
    import os
    import shutil
    import tempfile

    from bootd.platform.run import spawn

    work = Path(args.keep).resolve() if args.keep else Path(tempfile.mkdtemp(prefix="bootd-demo-"))
    work.mkdir(parents=True, exist_ok=True)
    address = f"unix:path={work / 'bus'}"
    (work / "bus.conf").write_text(BUS_CONFIG.format(address=address), encoding="utf-8")
    log_path = work / "daemon.log"
    procs: list[asyncio.subprocess.Process] = []
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        procs.append(
            await spawn(
                ["dbus-daemon", f"--config-file={work / 'bus.conf'}", "--nofork", "--nopidfile"],
                output=log_fd,
                stdin=asyncio.subprocess.DEVNULL,
            )
        )
        await _wait_for(lambda: (work / "bus").exists(), procs[0], _("the private bus"), log_path)
        if args.timeout is not None:
            # the vendor layer: the settings screen can still change it
            vendor = work / "state" / "usr" / "lib" / "bootd"
            vendor.mkdir(parents=True, exist_ok=True)
            (vendor / "bootd.toml").write_text(f"timeout = {max(0, args.timeout)}\n", encoding="utf-8")
        bootd = [sys.executable, "-m", "bootd"]
        serve = [*bootd, "serve", "--bus", address, "--sandbox", str(machine), "--state-dir", str(work / "state")]
        procs.append(await spawn(serve, output=log_fd, stdin=asyncio.subprocess.DEVNULL))
        await _wait_for_daemon(address, procs[1], log_path)
        menu = [sys.executable, "-m", "bootd_menu", "--bus", address, "--exit-on-boot"]
        menu += ["--ascii"] if args.ascii else []
        menu += ["--mono"] if args.mono else []
        tui = await spawn(menu)
        procs.append(tui)
        rc = await tui.wait()
        if rc != 0:
            print(_tail(log_path), file=sys.stderr)
        return rc
    finally:
        for p in reversed(procs):
            await _stop(p)
        os.close(log_fd)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


async def _wait_for(ready: Callable[[], bool], proc: asyncio.subprocess.Process, what: str, log_path: Path) -> None:
    import asyncio

    from bootd.errors import BootdError

    loop = asyncio.get_running_loop()
    deadline = loop.time() + READY_TIMEOUT
    while not ready():
        if proc.returncode is not None:
            raise BootdError(
                _("{what} exited with status {status}:").format(what=what, status=proc.returncode)
                + "\n"
                + _tail(log_path)
            )
        if loop.time() > deadline:
            raise BootdError(
                _("{what} did not start within {seconds} s:").format(what=what, seconds=f"{READY_TIMEOUT:g}")
                + "\n"
                + _tail(log_path)
            )
        await asyncio.sleep(0.05)


async def _wait_for_daemon(address: str, proc: asyncio.subprocess.Process, log_path: Path) -> None:
    """Wait until the daemon answers on the bus."""
    import asyncio

    from bootd.dbus.client import BootdClient
    from bootd.errors import BootdError

    client = await BootdClient.connect(address)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + READY_TIMEOUT
    try:
        while True:
            try:
                await client.get_state()
                return
            except BootdError:
                pass
            if proc.returncode is not None:
                raise BootdError(
                    _("the daemon exited with status {status}:").format(status=proc.returncode) + "\n" + _tail(log_path)
                )
            if loop.time() > deadline:
                raise BootdError(
                    _("the daemon did not answer within {seconds} s:").format(seconds=f"{READY_TIMEOUT:g}")
                    + "\n"
                    + _tail(log_path)
                )
            await asyncio.sleep(0.1)
    finally:
        client.close()


async def _stop(proc: asyncio.subprocess.Process) -> None:
    import asyncio

    if proc.returncode is not None:
        return
    proc.terminate()
    try:
        await asyncio.wait_for(proc.wait(), 5.0)
    except TimeoutError:
        proc.kill()
        await proc.wait()


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
