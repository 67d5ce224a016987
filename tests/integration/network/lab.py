"""A network lab made of two network namespaces joined by a veth pair.

The *server* namespace runs a real ``dnsmasq`` (DHCP with the PXE options,
TFTP from a tree the test writes) and an HTTP server; the *client* namespace
has ``eth0`` (left down: bootd brings it up) and is where bootd runs.  Nothing
touches the host's own network; :meth:`Lab.close` kills what the lab started
and deletes both namespaces.

Used by the integration tests and by ``bench/bench_network.py``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
SERVER_IP = "10.77.0.1"
HTTP_PORT = 8080
CLIENT_MAC = "52:54:00:77:00:42"
PYTHON = sys.executable


def available() -> str | None:
    """Why the lab cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    for tool in ("ip", "dnsmasq", "busybox"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    return None


def _sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=check)


class Lab:
    def __init__(self, tmp: Path) -> None:
        tag = f"{os.getpid()}-{secrets.token_hex(3)}"
        self.server_ns = f"bootd-srv-{tag}"
        self.client_ns = f"bootd-cli-{tag}"
        self.tmp = tmp
        self.tftp = tmp / "tftp"
        self.www = tmp / "www"
        self.tftp.mkdir(parents=True, exist_ok=True)
        self.www.mkdir(parents=True, exist_ok=True)
        self._dnsmasq: subprocess.Popen[bytes] | None = None
        self._procs: list[subprocess.Popen[bytes]] = []
        self._made: list[str] = []

    # -- set-up -----------------------------------------------------------------
    def open(self) -> Lab:
        try:
            for ns in (self.server_ns, self.client_ns):
                _sh("ip", "netns", "add", ns)
                self._made.append(ns)
                _sh("ip", "-n", ns, "link", "set", "lo", "up")
            _sh(
                "ip", "-n", self.server_ns, "link", "add", "veth0", "type", "veth",
                "peer", "name", "eth0", "netns", self.client_ns,
            )  # fmt: skip
            _sh("ip", "-n", self.client_ns, "link", "set", "eth0", "address", CLIENT_MAC)
            _sh("ip", "-n", self.server_ns, "addr", "add", f"{SERVER_IP}/24", "dev", "veth0")
            _sh("ip", "-n", self.server_ns, "link", "set", "veth0", "up")
        except BaseException:
            self.close()
            raise
        return self

    def start_dnsmasq(self, options: Sequence[str] = (), *, dhcp: bool = True) -> None:
        """(Re)start dnsmasq with extra ``--dhcp-option=…``-style arguments."""
        self.stop_dnsmasq()
        argv = [
            "ip", "netns", "exec", self.server_ns, "dnsmasq", "-k", "--conf-file=/dev/null", "--port=0",
            "--interface=veth0", "--bind-interfaces", "--user=root", "--group=root",
            "--enable-tftp", f"--tftp-root={self.tftp}",
            f"--pid-file={self.tmp / 'dnsmasq.pid'}", f"--log-facility={self.tmp / 'dnsmasq.log'}",
            "--log-dhcp",
        ]  # fmt: skip
        if dhcp:
            argv += [
                "--dhcp-range=10.77.0.50,10.77.0.99,255.255.255.0,1h",
                f"--dhcp-leasefile={self.tmp / 'leases'}",
                "--dhcp-authoritative",
            ]
        argv += list(options)
        self._dnsmasq = subprocess.Popen(argv, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            ports = _sh("ip", "netns", "exec", self.server_ns, "ss", "-uln", check=False).stdout
            if ":69 " in ports and (not dhcp or ":67 " in ports):
                return
            if self._dnsmasq.poll() is not None:
                raise RuntimeError(f"dnsmasq exited: {self.log()}")
            time.sleep(0.05)
        raise RuntimeError("dnsmasq did not start listening")

    def stop_dnsmasq(self) -> None:
        if self._dnsmasq is not None:
            self._dnsmasq.terminate()
            self._dnsmasq.wait(10)
            self._dnsmasq = None

    def start_http(self) -> None:
        argv = [
            "ip", "netns", "exec", self.server_ns, PYTHON, str(Path(__file__).with_name("httpd.py")),
            "--dir", str(self.www), "--bind", SERVER_IP, "--port", str(HTTP_PORT),
        ]  # fmt: skip
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL)
        self._procs.append(proc)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            ports = _sh("ip", "netns", "exec", self.server_ns, "ss", "-tln", check=False).stdout
            if f":{HTTP_PORT} " in ports:
                return
            time.sleep(0.05)
        raise RuntimeError("the HTTP server did not start")

    def spawn_server(self, argv: Sequence[str]) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(["ip", "netns", "exec", self.server_ns, *argv], stdin=subprocess.DEVNULL)
        self._procs.append(proc)
        return proc

    def log(self) -> str:
        try:
            return (self.tmp / "dnsmasq.log").read_text(errors="replace")
        except OSError:
            return ""

    # -- the client side ------------------------------------------------------
    def client(
        self, argv: Sequence[str], *, timeout: float = 60, env: dict[str, str] | None = None, stderr: bool = False
    ) -> str:
        """Run ``argv`` in the client namespace; returns stdout (and stderr if asked; raises on failure)."""
        r = subprocess.run(
            ["ip", "netns", "exec", self.client_ns, *argv],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            check=False,
        )
        if r.returncode != 0:
            raise AssertionError(f"{argv} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
        return r.stdout + (r.stderr if stderr else "")

    def driver(self, *args: str, timeout: float = 60) -> list[dict[str, Any]]:
        """Run the bootd driver in the client namespace; its JSON-line events."""
        out = self.client(
            [PYTHON, "-m", "tests.integration.network.driver", "--tmp", str(self.tmp), *args], timeout=timeout
        )
        return [json.loads(line) for line in out.splitlines() if line.startswith("{")]

    # -- teardown ---------------------------------------------------------------
    def close(self) -> None:
        self.stop_dnsmasq()
        for proc in self._procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self._procs.clear()
        for ns in self._made:
            # processes left in our namespaces (a DHCP client of a killed driver) are ours
            pids = _sh("ip", "netns", "pids", ns, check=False).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            _sh("ip", "netns", "del", ns, check=False)
        self._made.clear()

    def __enter__(self) -> Lab:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()
