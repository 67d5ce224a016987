"""``bootd settings set network...``: the words made into the network setting
(validated by the settings table's own validator), and the write into the
file when no daemon is on the bus.  With a daemon (applied at once):
``tests/integration/network/test_settings_apply.py``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bootd.cli.settings_network import network_lines, network_value
from bootd.errors import ConfigError
from bootd.settings_table import TABLE, InterfaceConfig, NetworkConfig

STATIC = ["static", "address=10.0.0.5/24", "gateway=10.0.0.1", "dns=10.0.0.53,10.0.0.54"]


def test_an_interface_is_changed_key_by_key() -> None:
    cfg = network_value(NetworkConfig(), "network.interface.eth0", STATIC, TABLE)
    assert cfg.interfaces == (InterfaceConfig("eth0", "static", "10.0.0.5/24", "10.0.0.1", ("10.0.0.53", "10.0.0.54")),)
    moved = network_value(cfg, "network.interface.eth0", ["address=10.0.0.6/24", "dns="], TABLE)
    assert moved.interfaces == (InterfaceConfig("eth0", "static", "10.0.0.6/24", "10.0.0.1"),), "the rest stays"
    assert network_value(cfg, "network.interface.eth0", ["dhcp"], TABLE).interfaces == (InterfaceConfig("eth0"),)
    mac = network_value(cfg, "network.interface.52:54:00:AA:BB:CC", ["ignore"], TABLE)
    assert [i.name for i in mac.interfaces] == ["52:54:00:aa:bb:cc", "eth0"]
    assert network_value(cfg, "network.interface.eth0", ["delete"], TABLE).interfaces == ()


def test_the_global_keys_and_the_whole_table() -> None:
    cfg = network_value(NetworkConfig(), "network.nameservers", ["10.0.0.53", "10.0.0.54"], TABLE)
    assert cfg.nameservers == ("10.0.0.53", "10.0.0.54")
    cfg = network_value(cfg, "network.proxy", ["http://proxy:3128"], TABLE)
    assert cfg.proxy == "http://proxy:3128" and cfg.nameservers == ("10.0.0.53", "10.0.0.54")
    assert network_value(cfg, "network.proxy", [""], TABLE).proxy == ""
    whole = network_value(cfg, "network", ['{interface = {eth1 = {method = "ignore"}}}'], TABLE)
    assert whole == NetworkConfig(interfaces=(InterfaceConfig("eth1", "ignore"),)), "the whole table replaced"
    assert network_lines(network_value(NetworkConfig(), "network.interface.eth0", STATIC, TABLE))[-1] == (
        "network.interface.eth0 = " + " ".join(STATIC)
    )


@pytest.mark.parametrize(
    ("key", "words", "why"),
    [
        ("network.interface.eth0", ["static", "address=10.0.0.300/24"], "ADDRESS/PREFIX"),
        ("network.interface.eth0", ["static"], "ADDRESS/PREFIX"),
        ("network.interface.eth0", ["sttic"], "not a method"),
        ("network.interface.eth0", ["mtu=9000"], "not a method"),
        ("network.interface.eth0", ["static", "address=10.0.0.5/24", "dns=x"], "not an IP address"),
        ("network.interface.eth 0", ["dhcp"], "not an interface name"),
        ("network.interface.eth9", ["delete"], "no such interface"),
        ("network.interface.eth0", [], "usage"),
        ("network.proxy", ["ftp://proxy"], "http:// or https://"),
        ("network.nameservers", ["1.2.3"], "not an IP address"),
        ("network.timeout", ["5"], "unknown network setting"),
        ("network", ["{interface ="], "not a TOML inline table"),
        ("network", ["[1, 2]"], "inline table"),
        ("network.interface.eth0", ["dhcp"] * 17, "too many"),
    ],
)
def test_bad_words_are_refused_with_the_reason(key: str, words: list[str], why: str) -> None:
    with pytest.raises(ConfigError, match=why):
        network_value(NetworkConfig(), key, words, TABLE)


def bootd(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bootd", *args], capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "BOOTD_BUS": "unix:path=/nonexistent/bootd-test-bus"},
    )  # fmt: skip


def test_with_no_daemon_the_file_is_written_with_the_same_checks(tmp_path: Path) -> None:
    main = tmp_path / "etc/bootd/bootd.toml"
    main.parent.mkdir(parents=True)
    main.write_text("# the admin's\ntimeout = 3\n[network]\ntimeout = 5  # near\n")
    r = bootd("settings", "set", "network.interface.eth0", *STATIC, "--config-root", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert f"written to {main}; applied at the daemon's next start" in r.stderr
    text = main.read_text()
    assert text.startswith("# the admin's\ntimeout = 3\n[network]\ntimeout = 5  # near\n"), text
    assert '[network.interface.eth0]\nmethod = "static"\naddress = "10.0.0.5/24"\ngateway = "10.0.0.1"' in text

    # refused as a whole: the strict check a daemon's write passes (a gateway outside the network)
    r = bootd("settings", "set", "network.interface.eth0", "gateway=10.9.0.1", "--config-root", str(tmp_path))
    assert r.returncode == 1 and "gateway 10.9.0.1 is outside 10.0.0.5/24: nothing was written" in r.stderr
    assert main.read_text() == text
    r = bootd("settings", "set", "network.interface.eth0", "static", "address=10.0.0.300/24", "--config-root",
              str(tmp_path))  # fmt: skip
    assert r.returncode == 1 and "ADDRESS/PREFIX" in r.stderr and "Traceback" not in r.stderr
    assert main.read_text() == text
