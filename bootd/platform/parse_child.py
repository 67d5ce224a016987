"""The parse worker: the process that reads untrusted media.

Workers are forked by :mod:`multiprocessing`'s fork server, which has this
module (and so every parser) loaded: a new worker is ready in milliseconds,
not the 0.2-0.5 s a fresh interpreter needs.  :func:`serve` is a worker's
life: it confines itself before it reads anything, then answers requests,
one JSON message in, one out, until its connection closes:

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
import signal
from multiprocessing.connection import Connection
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


def serve(conn: Connection, memory_room: int, files: int, retire_rss: int, idle_exit: float) -> None:
    """The worker's life: confine, say ready, answer requests until the
    connection closes, the worker is idle for ``idle_exit`` s or retires."""
    base = _vm_size()
    problems = confine(base + memory_room, files)
    conn.send_bytes(json.dumps({"ready": os.getpid(), "problems": problems}).encode())
    while conn.poll(idle_exit):
        try:
            request = conn.recv_bytes()
        except EOFError:
            return
        reply = answer(json.loads(request))
        retire = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 > retire_rss
        reply["retire"] = retire
        conn.send_bytes(json.dumps(reply).encode())
        if retire:
            return


_preload()  # in the fork server: every worker forked from it starts with the parsers loaded
