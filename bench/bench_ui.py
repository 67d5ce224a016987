"""Menu benchmarks: process start to first full paint (seen from outside, in
tmux), key press to redraw with 1,000 options (in process, and end to end in
tmux), RSS of ``bootd-menu``.  Aims: first paint < 400 ms, redraw < 30 ms,
RSS < 35 MB."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bootd.model import BootOption, Device, DeviceType, Resource
from tests.integration.daemon.helpers import DaemonProcess, PrivateBus
from tests.integration.ui.machine import make_menu_machine
from tests.integration.ui.tmux import Tmux

OPTIONS = 1000


def emit(metric: str, value: float, unit: str, **extra: object) -> None:
    print(json.dumps({"bench": "ui", "metric": metric, "value": round(value, 3), "unit": unit, **extra}), flush=True)


def redraw_in_process() -> None:
    """keypress + render of the whole 80x24 screen, as the main loop does per key."""
    from ui.controllers.menu import build_rows
    from ui.views.common import Chrome, Glyphs
    from ui.views.menu import MainMenuView

    devices = {f"d{i}": Device(f"d{i}", DeviceType.DISK, node=f"/dev/sd{i}") for i in range(20)}
    options = [
        BootOption(f"d{i % 20}/e{i}", f"d{i % 20}", f"Entry {i}", Resource.local("/vmlinuz"), order=i)
        for i in range(OPTIONS)
    ]
    chrome = Chrome(on_help=lambda: None, on_back=lambda: None, glyphs=Glyphs(utf8=True))
    view = MainMenuView(lambda a, o: None)
    t0 = time.perf_counter()
    view.set_rows(build_rows(devices, options, None))
    emit("rows_1000_first_build", (time.perf_counter() - t0) * 1000, "ms")
    t0 = time.perf_counter()
    view.set_rows(build_rows(devices, [*options, BootOption("d0/new", "d0", "New", None, order=-1)], None))
    emit("rows_1000_rebuild_after_hotplug", (time.perf_counter() - t0) * 1000, "ms")
    chrome.show(view)
    chrome.render((80, 24), focus=True)
    times = []
    for i in range(300):
        key = "down" if (i // 100) % 2 == 0 else "up"
        t = time.perf_counter()
        chrome.keypress((80, 24), key)
        chrome.render((80, 24), focus=True)
        times.append((time.perf_counter() - t) * 1000)
    emit("key_to_redraw_1000_in_process_median", statistics.median(times), "ms", options=OPTIONS)
    emit("key_to_redraw_1000_in_process_p95", sorted(times)[int(len(times) * 0.95)], "ms", options=OPTIONS)


async def wait_options(address: str, count: int) -> None:
    from bootd.dbus.client import BootdClient

    client = await BootdClient.connect(address)
    try:
        for _ in range(600):
            if len(await client.list_options()) >= count:
                return
            await asyncio.sleep(0.1)
    finally:
        client.close()


def menu_pid(address: str) -> int | None:
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"ui" in argv and address.encode() in argv:
            return int(cmdline.parent.name)
    return None


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def focused(tmux: Tmux, pane: str) -> str:
    """The line drawn in the cursor bar's colours (black on light gray)."""
    for line in tmux("capture-pane", "-p", "-e", "-t", pane).splitlines():
        if "\x1b[30m" in line or "\x1b[30;47m" in line or "\x1b[47m" in line:
            return line
    return ""


def end_to_end(base: Path, options: int) -> None:
    machine = make_menu_machine(base / "machine", extra_disk_entries=options - 3, plug_after=600)
    conf = base / "state" / "etc" / "bootd" / "bootd.toml.d"
    conf.mkdir(parents=True)
    (conf / "50-bench.toml").write_text("autoboot = false\n")
    bus = PrivateBus.start(base / "bus", system_like=False)
    daemon = DaemonProcess(bus, machine, base / "state")
    tmux = Tmux(base / "tmux.sock")
    try:
        daemon.wait_ready()
        asyncio.run(wait_options(bus.address, options))
        argv = [sys.executable, "-m", "ui", "--bus", bus.address]
        # a session that outlives each measured one: killing the server's last
        # session stops the server, and the next run's start would race its exit
        tmux("new-session", "-d", "-s", "hold", "sleep 3600")
        paints = []
        for run in range(5):
            t0 = time.perf_counter()
            pane = tmux.start(argv, name=f"paint{run}")
            while True:
                text = tmux.screen(pane)
                if "[Disk: sda2]" in text and "Enter=boot" in text:
                    break
                if time.perf_counter() - t0 > 30:
                    raise RuntimeError(f"the menu did not paint: {text}")
                time.sleep(0.005)
            paints.append((time.perf_counter() - t0) * 1000)
            if run < 4:
                tmux("kill-session", "-t", f"paint{run}")
        emit(f"first_paint_{options}_options_median", statistics.median(paints), "ms", runs=len(paints))
        pid = menu_pid(bus.address)
        if pid is not None:
            emit(f"rss_menu_{options}_options", rss_mb(pid), "MB")
        if options < OPTIONS:
            return
        pane = "paint4"
        times = []
        for i in range(20):
            before = focused(tmux, pane)
            t = time.perf_counter()
            tmux.keys(pane, "Down" if i % 2 == 0 else "Up")
            while focused(tmux, pane) == before and time.perf_counter() - t < 5:
                time.sleep(0.002)
            times.append((time.perf_counter() - t) * 1000)
        emit(f"key_to_redraw_{options}_tmux_median", statistics.median(times), "ms", note="includes tmux send/capture")
    finally:
        tmux.kill()
        daemon.stop()
        bus.stop()


def main() -> None:
    redraw_in_process()
    if not (shutil.which("tmux") and shutil.which("dbus-daemon") and shutil.which("busctl")):
        print(json.dumps({"bench": "ui", "error": "needs tmux, dbus-daemon and busctl"}), flush=True)
        return
    for options in (3, OPTIONS):
        base = Path(tempfile.mkdtemp(prefix="bm-bench-"))
        try:
            end_to_end(base, options)
        finally:
            shutil.rmtree(base, ignore_errors=True)
    emit("load_average_1min", os.getloadavg()[0], "", note="the machine's load while measuring")


if __name__ == "__main__":
    main()
