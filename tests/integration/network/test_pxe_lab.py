"""Network boot against a real dnsmasq (DHCP + TFTP) and an HTTP server in a
network namespace made by the test; bootd runs in a second namespace and
takes the lease with busybox udhcpc."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.network.lab import CLIENT_MAC, HTTP_PORT, PYTHON, ROOT, SERVER_IP, Lab, available

pytestmark = [pytest.mark.root, pytest.mark.skipif(available() is not None, reason=str(available()))]

KERNEL = bytes(range(256)) * 12_000  # ~3 MB
INITRD = b"initrd" * 200_000
HTTP = f"http://{SERVER_IP}:{HTTP_PORT}"
MENU = """\
DEFAULT linux
LABEL linux
  MENU LABEL Install
  KERNEL vmlinuz
  APPEND initrd=initrd.img console=ttyS0
  IPAPPEND 2
LABEL rescue
  KERNEL vmlinuz
  APPEND single
"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    tmp = tmp_path_factory.mktemp("netlab")
    with Lab(tmp) as lab:
        boot = lab.tftp / "boot"
        (boot / "pxelinux.cfg").mkdir(parents=True)
        (boot / "vmlinuz").write_bytes(KERNEL)
        (boot / "initrd.img").write_bytes(INITRD)
        # only the 6-digit hex name exists: the MAC name and the longer ones are tried first
        (boot / "pxelinux.cfg" / "0A4D00").write_text(MENU)
        (lab.tftp / "other").mkdir()
        (lab.tftp / "other" / "kernel.bin").write_bytes(KERNEL[:5000])
        with open(lab.tftp / "huge.img", "wb") as f:  # 2 GiB, sparse
            f.truncate(2 * 1024**3)
        (lab.www / "cfg").mkdir()
        (lab.www / "cfg" / "menu.cfg").write_text("INCLUDE common.cfg\nDEFAULT web\nLABEL web\n  KERNEL linux\n")
        (lab.www / "images").mkdir()
        (lab.www / "images" / "common.cfg").write_text("LABEL common\n  KERNEL /abs/linux\n  INITRD rd.gz\n")
        (lab.www / "images" / "linux").write_bytes(KERNEL)
        (lab.www / "images" / "rd.gz").write_bytes(INITRD)
        (lab.www / "prefix" / "pxelinux.cfg").mkdir(parents=True)
        (lab.www / "prefix" / "pxelinux.cfg" / "default").write_text("LABEL fromprefix\n  KERNEL k\n")
        lab.start_http()
        yield lab


def of_kind(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["kind"] == kind]


def options(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["option"]["id"]: e["option"] for e in of_kind(events, "option-added")}


def test_lease_search_order_download_and_release(lab: Lab) -> None:
    lab.start_dnsmasq(
        ["--dhcp-option=66,10.77.0.1", "--dhcp-option=67,boot/pxelinux.0", "--dhcp-option=6,10.77.0.53",
         "--dhcp-option=15,lab.test"]
    )  # fmt: skip
    events = lab.driver("--options", "2", "--download", "--release", "--dns")
    # the lease's DNS servers were applied (to the driver's resolver file)
    assert of_kind(events, "done")[0]["resolv"] == "search lab.test\nnameserver 10.77.0.53\n"

    # the interface is a network device with its MAC as uuid, and the lease shows on it
    dev = [e for e in of_kind(events, "device-changed") if "ip" in e["props"]][0]
    assert dev["device"] == "eth0" and dev["uuid"] == CLIENT_MAC
    assert dev["props"]["ip"].startswith("10.77.0.")

    # pxelinux's search order: MAC, full hex address, shortened one digit at a time
    log = lab.log()
    hexip = "".join(f"{int(o):02X}" for o in dev["props"]["ip"].split("."))
    tried = re.findall(r"file \S+/boot/pxelinux\.cfg/(\S+) not found", log)
    assert tried == ["01-" + CLIENT_MAC.replace(":", "-"), hexip, hexip[:7]]
    assert "sent" in log and "pxelinux.cfg/0A4D00" in log

    opts = options(events)
    assert list(opts) == ["eth0/pxe/linux", "eth0/pxe/rescue"]
    linux = opts["eth0/pxe/linux"]
    assert linux["default"] is True and linux["source"] == "pxe" and linux["name"] == "Install"
    assert linux["kernel"] == {"url": "tftp://10.77.0.1/boot/vmlinuz"}
    assert linux["initrds"] == [{"url": "tftp://10.77.0.1/boot/initrd.img"}]
    assert "BOOTIF=01-52-54-00-77-00-42" in linux["args"]

    # the default option's kernel and initrd download over TFTP, with progress
    fetched = of_kind(events, "fetched")
    assert [f["url"] for f in fetched] == [linux["kernel"]["url"], linux["initrds"][0]["url"]]
    assert Path(fetched[0]["path"]).read_bytes() == KERNEL
    assert Path(fetched[1]["path"]).read_bytes() == INITRD
    prog = [p for p in of_kind(events, "progress") if p["url"].endswith("vmlinuz")]
    assert prog[-1]["done"] == len(KERNEL) and prog[-1]["total"] == len(KERNEL)
    assert len(prog) >= 2 and prog[0]["done"] < len(KERNEL)  # its first step and its end, at least
    assert all(a["done"] <= b["done"] for a, b in zip(prog, prog[1:], strict=False))

    # giving the lease back removes the options
    assert {e["option"]["id"] for e in of_kind(events, "option-removed")} == set(opts)
    assert of_kind(events, "released")[0]["options"] == []
    assert "DHCPRELEASE" in lab.log()


def test_full_url_conffile_and_url_prefix_over_http(lab: Lab) -> None:
    lab.start_dnsmasq(
        [
            "--dhcp-option=66,10.77.0.1",
            f"--dhcp-option=209,{HTTP}/cfg/menu.cfg",
            f"--dhcp-option=210,{HTTP}/images/",
        ]
    )
    events = lab.driver("--options", "2", "--download")
    opts = options(events)
    assert list(opts) == ["eth0/pxe/common", "eth0/pxe/web"]
    # relative names (INCLUDE too) resolve against the path prefix; /abs against the server root
    assert opts["eth0/pxe/web"]["kernel"] == {"url": f"{HTTP}/images/linux"}
    assert opts["eth0/pxe/common"]["kernel"] == {"url": f"{HTTP}/abs/linux"}
    assert opts["eth0/pxe/common"]["initrds"] == [{"url": f"{HTTP}/images/rd.gz"}]
    assert opts["eth0/pxe/web"]["default"] is True
    fetched = of_kind(events, "fetched")
    assert [f["url"] for f in fetched] == [f"{HTTP}/images/linux"]
    assert Path(fetched[0]["path"]).read_bytes() == KERNEL
    assert of_kind(events, "progress")[-1]["done"] == len(KERNEL)


def test_bootfile_without_config_is_one_option(lab: Lab) -> None:
    lab.start_dnsmasq(["--dhcp-option=66,10.77.0.1", "--dhcp-option=67,other/kernel.bin"])
    events = lab.driver("--options", "1")
    opts = options(events)
    assert list(opts) == ["eth0/pxe/bootfile"]
    assert opts["eth0/pxe/bootfile"]["kernel"] == {"url": "tftp://10.77.0.1/other/kernel.bin"}
    assert any("no PXE configuration found" in e["message"] for e in of_kind(events, "status"))
    # every candidate was tried before giving up
    assert lab.log().count("other/pxelinux.cfg/") == 1 + 8 + 1


def test_stalled_servers_time_out_with_a_clear_error(lab: Lab) -> None:
    lab.start_dnsmasq(dhcp=False)
    # a TFTP "server" that reads requests and never answers
    lab.spawn_server(
        [PYTHON, "-c", f"import socket;s=socket.socket(2,2);s.bind(('{SERVER_IP}',6969))\nwhile 1: s.recv(9000)"]
    )
    events = lab.driver(
        "--static", "10.77.0.10/24", "--no-dhcp", "--timeout", "2",
        "--fetch", f"{HTTP}/stall/kernel", "--fetch", f"tftp://{SERVER_IP}:6969/kernel",
    )  # fmt: skip
    errors = of_kind(events, "error")
    assert [e["error"] for e in errors] == ["Timeout", "Timeout"]
    assert "no data from the server for 2 s" in errors[0]["message"]
    assert "no answer from the TFTP server for 2 s" in errors[1]["message"]
    for e in errors:
        assert 1.5 < e["seconds"] < 6
        assert e["left"] == []  # the partial file is gone


def test_stalled_config_server_leaves_the_interface_usable(lab: Lab) -> None:
    lab.start_dnsmasq(["--dhcp-option=66,10.77.0.1", f"--dhcp-option=209,{HTTP}/stall/menu.cfg"])
    events = lab.driver("--options", "1", "--wait", "5", "--timeout", "2")
    lease = [e for e in of_kind(events, "device-changed") if "ip" in e["props"]][0]
    [error] = [e for e in of_kind(events, "status") if e["severity"] == "error"]
    assert error["message"] == f"eth0: {HTTP}/stall/menu.cfg: no data from the server for 2 s; giving up"
    assert 1500 < error["t"] - lease["t"] < 6000
    assert of_kind(events, "option-added") == [] and of_kind(events, "settled")[0]["options"] == []


def test_two_gigabyte_kernel_is_refused(lab: Lab) -> None:
    lab.start_dnsmasq(dhcp=False)
    cap = 64 * 1024 * 1024
    events = lab.driver(
        "--static", "10.77.0.10/24", "--no-dhcp", "--max-bytes", str(cap),
        "--fetch", f"{HTTP}/huge/{2 * 1024**3}",          # size announced: refused up front
        "--fetch", f"{HTTP}/stream/{2 * 1024**3}",        # size not announced: stopped at the cap
        "--fetch", f"tftp://{SERVER_IP}/huge.img",        # tsize announced
    )  # fmt: skip
    errors = of_kind(events, "error")
    assert [e["error"] for e in errors] == ["ResourceError"] * 3
    assert "2.0 GiB exceeds the limit of 64.0 MiB" in errors[0]["message"]
    assert "more than the limit of 64.0 MiB" in errors[1]["message"]
    assert "2.0 GiB exceeds the limit of 64.0 MiB" in errors[2]["message"]
    assert errors[0]["seconds"] < 2 and errors[2]["seconds"] < 2
    assert all(e["left"] == [] for e in errors)
    streamed = [p["done"] for p in of_kind(events, "progress") if "/stream/" in p["url"]]
    assert max(streamed) <= cap


def test_add_url_config_and_prefix(lab: Lab) -> None:
    lab.start_dnsmasq(dhcp=False)
    events = lab.driver(
        "--static", "10.77.0.10/24", "--no-dhcp",
        "--add-url", f"{HTTP}/cfg/menu.cfg", "--add-url", f"{HTTP}/prefix/", "--add-url", f"{HTTP}/nothing.cfg",
    )  # fmt: skip
    added = of_kind(events, "added")
    # base: the config's own directory (its INCLUDE common.cfg is not there and is skipped)
    assert [o["name"] for o in added[0]["options"]] == ["web"]
    assert added[0]["options"][0]["kernel"] == {"url": f"{HTTP}/cfg/linux"}
    assert [o["name"] for o in added[1]["options"]] == ["fromprefix"]
    assert added[1]["options"][0]["kernel"] == {"url": f"{HTTP}/prefix/k"}
    err = of_kind(events, "error")
    assert err[0]["url"] == f"{HTTP}/nothing.cfg" and "no boot configuration" in err[0]["message"]
    # the static address was applied to the interface
    assert "10.77.0.10/24" in lab.client(["ip", "-4", "addr", "show", "dev", "eth0"])


def test_bootd_watch_shows_pxe_entries_after_a_lease(lab: Lab) -> None:
    lab.start_dnsmasq(["--dhcp-option=66,10.77.0.1", "--dhcp-option=67,boot/pxelinux.0"])
    argv = [
        "ip", "netns", "exec", lab.client_ns, PYTHON, "-m", "bootd", "watch", "--network", "--json",
        "--device", "no-such-disk", "--mount-root", str(lab.tmp / "mnt"),
    ]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    seen: list[dict[str, Any]] = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(json.loads(line))
            if sum(1 for e in seen if e["event"] == "option-added") == 2:
                break
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    added = [e["option"] for e in seen if e["event"] == "option-added"]
    assert [o["id"] for o in added] == ["eth0/pxe/linux", "eth0/pxe/rescue"]
    devices = [e["device"] for e in seen if e["event"].startswith("device-")]
    assert devices[0]["id"] == "eth0" and devices[0]["type"] == "network"
    # the DHCP client went with the watch
    pids = subprocess.run(["ip", "netns", "pids", lab.client_ns], capture_output=True, text=True, check=False)
    assert pids.stdout.split() == []


def test_interfaces_come_and_go(lab: Lab) -> None:
    lab.start_dnsmasq(dhcp=False)
    argv = [
        "ip", "netns", "exec", lab.client_ns, PYTHON, "-m", "tests.integration.network.driver", "--tmp", str(lab.tmp),
        "--static", "10.77.0.10/24", "--no-dhcp", "--hold", "6", "--poll", "0.3",
    ]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    events: list[dict[str, Any]] = []

    def until(pred: Any) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("{"):
                events.append(json.loads(line))
                if pred(events[-1]):
                    return
        raise AssertionError(f"driver ended first: {events}")

    try:
        until(lambda e: e["kind"] == "holding")
        for name, mac in (("eth1", "52:54:00:77:00:43"), ("eth2", CLIENT_MAC)):  # eth2 repeats eth0's MAC
            lab.client(
                ["ip", "link", "add", name, "address", mac, "type", "veth", "peer", f"p{name}", "netns", lab.server_ns]
            )
        if Path("/dev/net/tun").exists():
            lab.client(["ip", "tuntap", "add", "tun0", "mode", "tun"])
        until(lambda e: e["kind"] == "device-added" and e["device"] == "eth1")
        assert events[-1]["uuid"] == "52:54:00:77:00:43"
        lab.client(["ip", "link", "del", "eth1"])
        until(lambda e: e["kind"] == "device-removed" and e["device"] == "eth1")
    finally:
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    added = [e["device"] for e in events if e["kind"] == "device-added"]
    assert added == ["eth0", "eth1"], "eth2 repeats a MAC and tun0 is a tunnel: both ignored"
