"""The [network] table of bootd.toml."""

from __future__ import annotations

import tomllib

import pytest

from bootd.discovery.network import InterfaceSettings, Method, network_settings
from bootd.errors import ConfigError
from bootd.platform.net import Interface, StaticAddress

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
