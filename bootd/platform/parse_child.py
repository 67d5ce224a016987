"""The parse worker: the process that reads untrusted media (``python -m
bootd.platform.parse_child``).

It is started by :class:`bootd.platform.parse_pool.ParsePool`, confines
itself before it reads anything, then answers requests, one JSON line in,
one JSON line out, until its stdin closes:

- it dies with the daemon (``PR_SET_PDEATHSIG``) and can never gain
  privileges (``PR_SET_NO_NEW_PRIVS``);
- run as root, it keeps only ``CAP_DAC_READ_SEARCH`` (read any file of the
  mounted tree) and drops every other capability, bounding set included:
  it cannot mount, kexec, load modules, trace or signal other processes.
  It stays uid 0 because a FUSE mount (vfat, iso9660) refuses other users;
- address space (``RLIMIT_AS``), open files, file size (0: it writes
  nothing) and core dumps are capped for its whole life;
- each parse gets a CPU-time timer (``ITIMER_PROF``): a parse that runs past
  it is killed by ``SIGPROF`` (default action), not asked to stop;
- after a parse that grew the process past ``retire_rss`` it answers and
  exits, so memory a hostile config made is given back to the system; an
  idle worker exits by itself after ``idle_exit`` seconds.

The request: ``{"root", "device", "others": [{"root", "device"}], "arch",
"firmware", "cpu"}``; the answer: the :class:`~bootd.model.ParseResult` in
the model's JSON (:func:`bootd.jsoncodec.result_to_json`) plus ``"retire"``.
"""

from __future__ import annotations

import ctypes
import importlib
import json
import os
import resource
import select
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bootd.jsoncodec import device_from_json, result_to_json
from bootd.parsers import REGISTRY, ParseContext, parse_device
from bootd.parsers.view import DeviceView, DirectoryView

PR_SET_PDEATHSIG = 1
PR_SET_KEEPCAPS = 8
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
CAP_DAC_READ_SEARCH = 2
_CAP_V3 = 0x20080522
MAX_ANSWER = 16 * 1024 * 1024
"""Bytes of one answer; options beyond it are left out (with a diagnostic)."""


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def confine(memory: int, files: int) -> list[str]:
    """Apply the process-wide limits; returns what could not be applied."""
    problems: list[str] = []
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        problems.append("PR_SET_PDEATHSIG")
    if os.geteuid() == 0:
        last_cap = int(Path("/proc/sys/kernel/cap_last_cap").read_text().strip() or 40)
        for cap in range(last_cap + 1):
            if cap != CAP_DAC_READ_SEARCH:
                libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
        header = _CapHeader(_CAP_V3, 0)
        data = (_CapData * 2)()
        data[0].effective = data[0].permitted = 1 << CAP_DAC_READ_SEARCH
        if libc.capset(ctypes.byref(header), data) != 0:
            problems.append(f"capset: {os.strerror(ctypes.get_errno())}")
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        problems.append("PR_SET_NO_NEW_PRIVS")
    for limit, value in (
        (resource.RLIMIT_AS, memory),
        (resource.RLIMIT_NOFILE, files),
        (resource.RLIMIT_FSIZE, 0),
        (resource.RLIMIT_CORE, 0),
    ):
        try:
            _, hard = resource.getrlimit(limit)
            soft = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(limit, (soft, soft))
        except (ValueError, OSError) as e:
            problems.append(f"rlimit {limit}: {e}")
    return problems


def _vm_size() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0


def _view(data: dict[str, Any]) -> DirectoryView:
    return DirectoryView(Path(str(data["root"])), device_from_json(data["device"]))


def answer(request: dict[str, Any]) -> dict[str, Any]:
    view = _view(request)
    others: dict[str, DeviceView] = {}
    for other in request.get("others", []):
        v = _view(other)
        others[v.device.id] = v
    ctx = ParseContext(others=others, arch=str(request["arch"]), firmware=str(request["firmware"]))
    signal.setitimer(signal.ITIMER_PROF, float(request["cpu"]))
    try:
        result = parse_device(view, ctx)
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
    return result_to_json(result, max_bytes=MAX_ANSWER)


def _preload() -> None:
    """Import every parser now, so the first parse does not pay for it."""
    for entry in REGISTRY:
        importlib.import_module(entry.module)


def _requests(idle_exit: float) -> Iterator[str]:
    """Lines from stdin; ends at EOF or after ``idle_exit`` seconds without one."""
    stdin = sys.stdin.buffer
    while True:
        ready, _, _ = select.select([stdin], [], [], idle_exit)
        if not ready:
            return
        line = stdin.readline()
        if not line:
            return
        yield line.decode()


def main() -> int:
    memory_room, files, retire_rss = (int(a) for a in sys.argv[1:4])
    idle_exit = float(sys.argv[4]) if len(sys.argv) > 4 else 300.0
    _preload()
    base = _vm_size()
    problems = confine(base + memory_room, files)
    out = sys.stdout
    out.write(json.dumps({"ready": os.getpid(), "problems": problems}) + "\n")
    out.flush()
    for line in _requests(idle_exit):
        reply = answer(json.loads(line))
        retire = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 > retire_rss
        reply["retire"] = retire
        out.write(json.dumps(reply) + "\n")
        out.flush()
        if retire:
            return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
