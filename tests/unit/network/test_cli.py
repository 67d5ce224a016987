"""``bootd scan --url`` and ``bootd event`` as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bootd.cli.event import parse_params, udhcpc_params
from bootd.errors import InvalidArgument
from bootd.platform.net import lease_params


def bootd(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bootd", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_scan_url(tmp_path: Path) -> None:
    (tmp_path / "menu.cfg").write_text("DEFAULT a\nLABEL a\n  KERNEL vmlinuz\n  APPEND root=/dev/sda1\n")
    (tmp_path / "p" / "pxelinux.cfg").mkdir(parents=True)
    (tmp_path / "p" / "pxelinux.cfg" / "default").write_text("LABEL b\n  KERNEL ../k\n")
    r = bootd("scan", "--json", "--url", (tmp_path / "menu.cfg").as_uri(), "--url", f"{tmp_path.as_uri()}/p/")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert [d["id"] for d in doc["devices"]] == ["url"]
    assert [(o["name"], o["kernel"]) for o in doc["options"]] == [
        ("a", {"url": f"{tmp_path.as_uri()}/vmlinuz"}),
        ("b", {"url": f"{tmp_path.as_uri()}/k"}),
    ]
    assert doc["options"][0]["args"] == "root=/dev/sda1" and doc["options"][0]["source"] == "pxe"

    r = bootd("scan", "--url", (tmp_path / "none.cfg").as_uri())
    assert r.returncode == 1
    assert "no boot configuration could be retrieved" in r.stderr and "Traceback" not in r.stderr
    r = bootd("scan")
    assert r.returncode == 1 and "give at least one SOURCE or --url" in r.stderr


def test_event_print_and_udhcpc_mode() -> None:
    r = bootd("event", "bound", "interface=eth0", "ip=10.0.0.2", "--print")
    assert r.returncode == 0
    assert json.loads(r.stdout) == {"event": "bound", "params": {"interface": "eth0", "ip": "10.0.0.2"}}
    env = {
        "interface": "eth1",
        "ip": "10.0.0.3",
        "siaddr": "10.0.0.1",
        "opt209": "6d656e752e63666700",
        "BOOTD_MAC": "AA:BB:CC:00:11:22",
    }
    r = bootd("event", "--udhcpc", "bound", "--print", env=env)
    assert r.returncode == 0, r.stderr
    params = json.loads(r.stdout)["params"]
    assert params["pxeconffile"] == "menu.cfg" and params["mac"] == "aa:bb:cc:00:11:22"
    r = bootd("event", "bound", "oops", "--print")
    assert r.returncode == 1 and "is not KEY=VALUE" in r.stderr
    # no daemon on this bus: a clear error, no traceback
    r = bootd("event", "bound", "interface=eth0", "--bus", "unix:path=/nonexistent/bus")
    assert r.returncode == 1 and "cannot connect" in r.stderr and "Traceback" not in r.stderr


def test_lease_params_mapping(tmp_path: Path) -> None:
    env = {
        "interface": "eth0", "ip": "10.0.0.9", "tftp": "10.0.0.1", "bootfile": "pxelinux.0", "boot_file": "x",
        "pxepathprefix": "/p/", "opt211": "0000003c", "unrelated": "y", "dns": "", "PATH": "/bin",
    }  # fmt: skip
    assert lease_params(env, mac="aa:bb:cc:dd:ee:ff") == {
        "interface": "eth0", "ip": "10.0.0.9", "tftp": "10.0.0.1", "bootfile": "pxelinux.0", "boot_file": "x",
        "pxepathprefix": "/p/", "reboottime": "60", "mac": "aa:bb:cc:dd:ee:ff",
    }  # fmt: skip
    assert lease_params({"opt209": "zz"}) == {}
    (tmp_path / "eth5").mkdir()
    (tmp_path / "eth5" / "address").write_text("AA:BB:CC:DD:EE:05\n")
    assert udhcpc_params({"interface": "eth5"}, tmp_path)["mac"] == "aa:bb:cc:dd:ee:05"
    assert parse_params(["a=b=c", "d="]) == {"a": "b=c", "d": ""}
    with pytest.raises(InvalidArgument):
        parse_params(["=x"])


def test_watch_network_on_a_sandbox_machine(tmp_path: Path) -> None:
    machine = tmp_path / "machine"
    (machine / "tftp" / "pxelinux.cfg").mkdir(parents=True)
    (machine / "tftp" / "pxelinux.cfg" / "default").write_text("DEFAULT net\nLABEL net\n  KERNEL vmlinuz\n")
    (machine / "machine.toml").write_text(
        '[machine]\narch = "x86_64"\n\n[[interface]]\nname = "eth0"\nmac = "52:54:00:00:00:05"\nlease_after = 0.2\n'
        '[interface.lease]\nip = "192.168.7.2"\npxepathprefix = "file://{machine}/tftp/"\n'
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "bootd", "watch", "--sandbox", str(machine), "--network", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    events: list[dict[str, object]] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            events.append(json.loads(line))
            if events[-1]["event"] == "option-added":
                break
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    option = events[-1]["option"]
    assert isinstance(option, dict)
    assert option["id"] == "eth0/pxe/net" and option["kernel"] == {"url": f"file://{machine}/tftp/vmlinuz"}
