"""Network interfaces on the real machine.

Interfaces are read from ``/sys/class/net`` (the view of the network namespace
bootd runs in); udev ``net`` events (pyudev, imported lazily) wake the
discovery loop at once, and link state (carrier) is re-read on every poll.

DHCP is busybox ``udhcpc`` run in the foreground, asking for the PXE options
(``tftp`` 66, ``bootfile`` 67, ``pxeconffile`` 209, ``pxepathprefix`` 210,
``reboottime`` 211).  Its lease script, written by this module, configures the
address and default route with ``ip`` and then reports the event (DNS servers
are applied by network discovery through :meth:`LinuxNet.set_dns`, when the
settings ask for it):

* to the daemon over D-Bus by running ``bootd event --udhcpc EVENT`` (the
  client's environment carries the lease), when no callback is given;
* or, when bootd runs the client for itself (``bootd watch``), by dumping the
  environment to a file and naming it on the client's standard output, which
  this module reads and hands to the callback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bootd.errors import CommandError, NetworkError
from bootd.model import N_
from bootd.platform.net import DhcpClient, Interface, LeaseCallback, StaticAddress, lease_params
from bootd.platform.run import Runner, spawn

log = logging.getLogger(__name__)

PXE_OPTIONS = ("tftp", "bootfile", "pxeconffile", "pxepathprefix", "reboottime")
EVENT_MARK = "BOOTD-EVENT "
IFF_UP = 0x1

LEASE_SCRIPT = """#!/bin/sh
# udhcpc lease script written by bootd: configure the interface, then report.
case "$1" in
deconfig)
    ip -4 addr flush dev "$interface"
    ip link set dev "$interface" up
    ;;
bound|renew)
    if [ "$1" = bound ]; then ip -4 addr flush dev "$interface"; fi
    ip addr replace "$ip/${{mask:-${{subnet:-24}}}}" ${{broadcast:+broadcast "$broadcast"}} dev "$interface"
    if [ -n "$router" ]; then
        for r in $router; do ip route replace default via "$r" dev "$interface" && break; done
    fi
    ;;
esac
if [ "$BOOTD_EVENT_OUTPUT" = stdout ]; then
    f="$BOOTD_EVENT_DIR/event.$$"
    env -0 > "$f" && echo "{mark}$1 $f"
else
    exec {command} "$1"
fi
"""


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return None


def read_interfaces(sys_class_net: Path) -> list[Interface]:
    """Interfaces under ``sys_class_net`` (``/sys/class/net``), sorted by name."""
    out: list[Interface] = []
    try:
        names = sorted(os.listdir(sys_class_net))
    except OSError:
        return out
    for name in names:
        d = sys_class_net / name
        mac = (_read(d / "address") or "").lower()
        try:
            flags = int(_read(d / "flags") or "0", 16)
        except ValueError:
            flags = 0
        try:
            hw_type = int(_read(d / "type") or "0")
        except ValueError:
            hw_type = 0
        carrier = _read(d / "carrier") == "1"
        out.append(Interface(name=name, mac=mac, up=bool(flags & IFF_UP), carrier=carrier, hw_type=hw_type))
    return out


def parse_env_dump(data: bytes) -> dict[str, str]:
    """``env -0`` output → a mapping."""
    env: dict[str, str] = {}
    for item in data.split(b"\0"):
        key, sep, value = item.partition(b"=")
        if sep and key:
            env[key.decode("ascii", "replace")] = value.decode("utf-8", "replace")
    return env


class Udhcpc:
    """One running ``udhcpc``."""

    def __init__(self, name: str, proc: asyncio.subprocess.Process, on_event: LeaseCallback | None, mac: str) -> None:
        self._name = name
        self._proc = proc
        self._on_event = on_event
        self._mac = mac
        self._reader = asyncio.create_task(self._read(), name=f"udhcpc-{name}")

    @property
    def interface(self) -> str:
        return self._name

    @property
    def pid(self) -> int:
        return self._proc.pid

    async def _read(self) -> None:
        assert self._proc.stdout is not None
        while True:
            raw = await self._proc.stdout.readline()
            if not raw:
                break
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if not line.startswith(EVENT_MARK):
                log.debug("udhcpc %s: %s", self._name, line)
                continue
            event, _, dump = line[len(EVENT_MARK) :].partition(" ")
            path = Path(dump)
            try:
                data = await asyncio.to_thread(path.read_bytes)
                await asyncio.to_thread(path.unlink)
            except OSError as e:
                log.warning("udhcpc %s: cannot read lease dump %s: %s", self._name, path, e)
                continue
            params = lease_params(parse_env_dump(data), mac=self._mac)
            log.info("udhcpc %s: %s %s", self._name, event, params.get("ip", ""))
            if self._on_event is not None:
                try:
                    await self._on_event(event, params)
                except Exception:
                    log.exception("lease event handler failed")
        rc = await self._proc.wait()
        if rc not in (0, -signal.SIGTERM):
            log.warning("udhcpc on %s exited with status %s", self._name, rc)

    async def release(self) -> None:
        if self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.send_signal(signal.SIGUSR2)

    async def stop(self) -> None:
        if self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.terminate()
            try:
                await asyncio.wait_for(self._proc.wait(), 3)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self._proc.kill()
                await self._proc.wait()
        try:
            await asyncio.wait_for(self._reader, 3)
        except (TimeoutError, asyncio.CancelledError):
            self._reader.cancel()


class LinuxNet:
    """Network side effects on this machine (or the network namespace it runs in)."""

    def __init__(
        self,
        runner: Runner,
        *,
        sys_class_net: Path = Path("/sys/class/net"),
        state_dir: Path | None = None,
        resolv_conf: Path = Path("/etc/resolv.conf"),
        udhcpc: Sequence[str] = ("busybox", "udhcpc"),
        event_command: Sequence[str] | None = None,
    ) -> None:
        self.runner = runner
        self.lease_files: Path | None = None  # file:// URLs from a real network are refused
        self.sys_class_net = sys_class_net
        self._state_dir = state_dir
        self._own_state_dir = False
        self.resolv_conf = resolv_conf
        """Where :meth:`set_dns` writes DNS servers (network discovery calls it
        only when the settings say so)."""
        self.udhcpc = tuple(udhcpc)
        self.event_command = tuple(event_command or (sys.executable, "-m", "bootd", "event", "--udhcpc"))
        self._changed: asyncio.Event | None = None
        self._monitor: Any = None

    # -- interfaces ----------------------------------------------------
    async def interfaces(self) -> list[Interface]:
        return await asyncio.to_thread(read_interfaces, self.sys_class_net)

    def _start_monitor(self) -> None:
        self._changed = asyncio.Event()
        try:
            import pyudev

            monitor = pyudev.Monitor.from_netlink(pyudev.Context())
            monitor.filter_by("net")
            monitor.start()
        except Exception as e:  # no udev here: polling alone
            log.debug("no udev monitor for net events: %s", e)
            return
        self._monitor = monitor
        changed = self._changed

        def readable() -> None:
            while monitor.poll(timeout=0) is not None:
                changed.set()

        asyncio.get_running_loop().add_reader(monitor.fileno(), readable)

    async def wait_for_change(self, timeout: float) -> None:
        if self._changed is None:
            self._start_monitor()
        assert self._changed is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)
        self._changed.clear()

    def close(self) -> None:
        if self._monitor is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self._monitor.fileno())
            self._monitor = None
            self._changed = None
        if self._own_state_dir and self._state_dir is not None:
            shutil.rmtree(self._state_dir, ignore_errors=True)
            self._state_dir = None
            self._own_state_dir = False

    # -- configuration ---------------------------------------------------
    async def link_up(self, name: str) -> None:
        await self.runner.run(["ip", "link", "set", "dev", name, "up"])

    async def configure_static(self, name: str, config: StaticAddress) -> None:
        await self.link_up(name)
        await self.runner.run(["ip", "-4", "addr", "flush", "dev", name])
        await self.runner.run(["ip", "addr", "add", f"{config.address}/{config.prefix}", "dev", name])
        if config.gateway:
            await self.runner.run(["ip", "route", "replace", "default", "via", config.gateway, "dev", name])
        if config.dns:
            await self.set_dns(config.dns, None)

    async def deconfigure(self, name: str) -> None:
        await self.runner.run(["ip", "-4", "addr", "flush", "dev", name])

    async def set_dns(self, servers: Sequence[str], search: str | None) -> None:
        text = "".join([f"search {search}\n" if search else "", *(f"nameserver {s}\n" for s in servers)])
        await asyncio.to_thread(_write_atomic, self.resolv_conf, text)

    # -- DHCP ------------------------------------------------------------
    def state_dir(self) -> Path:
        if self._state_dir is None:
            self._state_dir = Path(tempfile.mkdtemp(prefix="bootd-net-"))
            self._own_state_dir = True
        self._state_dir.mkdir(parents=True, exist_ok=True)
        return self._state_dir

    def lease_script(self) -> Path:
        """Write the lease script (once) and return its path."""
        path = self.state_dir() / "udhcpc-script"
        text = LEASE_SCRIPT.format(mark=EVENT_MARK, command=shlex.join(self.event_command))
        if _read(path) != text.strip():
            _write_atomic(path, text)
            path.chmod(0o755)
        return path

    async def start_dhcp(self, name: str, mac: str, on_event: LeaseCallback | None) -> DhcpClient:
        script = await asyncio.to_thread(self.lease_script)
        argv = [*self.udhcpc, "-f", "-i", name, "-s", str(script), "-t", "4", "-T", "2", "-A", "10"]
        for opt in PXE_OPTIONS:
            argv += ["-O", opt]
        env = {
            "BOOTD_MAC": mac,
            "BOOTD_EVENT_OUTPUT": "stdout" if on_event is not None else "dbus",
            "BOOTD_EVENT_DIR": str(self.state_dir()),
        }
        try:
            proc = await spawn(argv, env=env, output=subprocess.PIPE, stdin=subprocess.DEVNULL, merge_stderr=True)
        except CommandError:
            raise NetworkError.of(
                N_("cannot start the DHCP client: {program} is not installed"), program=argv[0]
            ) from None
        return Udhcpc(name, proc, on_event, mac)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
