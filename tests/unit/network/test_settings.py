"""The [network] table of bootd.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bootd.discovery.network import InterfaceSettings, Method, NetworkSettings, network_settings
from bootd.discovery.network_settings import load_network_settings
from bootd.errors import ConfigError
from bootd.platform.net import Interface, StaticAddress
from bootd.settings import Paths

TOML = """
[network]
bring_up = false
timeout = 12.5
proxy = "http://proxy.lab:3128"
method = "ignore"
[network.interface.eth0]
method = "static"
address = "192.168.1.5/24"
gateway = "192.168.1.1"
dns = ["192.168.1.1", "9.9.9.9"]
[network.interface."52:54:00:AA:BB:CC"]
method = "dhcp"
"""


def test_parse() -> None:
    s = network_settings(tomllib.loads(TOML)["network"])
    assert s.enabled and not s.bring_up and s.timeout == 12.5 and s.proxy == "http://proxy.lab:3128"
    eth0 = s.for_interface(Interface("eth0", "52:54:00:00:00:01"))
    assert eth0 == InterfaceSettings(
        Method.STATIC, StaticAddress("192.168.1.5", 24, "192.168.1.1", ("192.168.1.1", "9.9.9.9"))
    )
    assert s.for_interface(Interface("enp2s0", "52:54:00:aa:bb:cc")).method is Method.DHCP
    assert s.for_interface(Interface("enp3s0", "52:54:00:aa:bb:cd")).method is Method.IGNORE
    assert network_settings({}).default.method is Method.DHCP


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("colour = 1", "unknown key"),
        ("enabled = 1", "enabled must be true or false"),
        ("timeout = 0", "timeout must be"),
        ("method = 'auto'", "method must be dhcp, static or ignore"),
        ("[interface.eth0]\nmethod = 'static'", "needs address"),
        ("[interface.eth0]\nmethod = 'static'\naddress = '1.2.3.4/40'", "is not an IPv4"),
        ("[interface.eth0]\nmethod = 'static'\naddress = '1.2.3.4/8'\ndns = '1.1.1.1'", "dns must be a list"),
        ("[interface.eth0]\nmtu = 9000", "unknown key"),
        ("interface = 3", "must be a table"),
        ("proxy = 'socks://x'", "proxy must be an http"),
    ],
)
def test_errors_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        network_settings(tomllib.loads(text))


def test_load_from_layers(tmp_path: Path) -> None:
    paths = Paths(tmp_path)
    paths.vendor.parent.mkdir(parents=True)
    paths.vendor.write_text('[network]\ntimeout = 5\n[network.interface.eth0]\nmethod = "ignore"\n')
    paths.dropin_dir.mkdir(parents=True)
    (paths.dropin_dir / "10-net.toml").write_text(
        '[network]\ndns = true\n[network.interface.eth1]\nmethod = "ignore"\n'
    )
    s = load_network_settings(paths)
    assert s.timeout == 5 and s.dns
    assert set(s.interfaces) == {"eth0", "eth1"}
    assert load_network_settings(Paths(tmp_path / "none")) == NetworkSettings()
    paths.main.write_text("[network]\ntimeout = -1\n")
    warnings: list[str] = []
    assert load_network_settings(paths, lambda t: warnings.append(t.text)) == NetworkSettings()
    assert "timeout must be" in warnings[0]
