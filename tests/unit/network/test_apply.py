"""Network settings put in force while discovery runs (:meth:`NetworkDiscovery.apply`)
on a sandbox machine, and the strict check a settings write passes first
(:func:`checked_network_settings`).  The real namespace and daemon are in
``tests/integration/network/test_settings_apply.py``."""

from __future__ import annotations

import asyncio
import http.server
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bootd import settings
from bootd.discovery.network import InterfaceSettings, Method, NetworkDiscovery, NetworkSettings
from bootd.discovery.network_settings import checked_network_settings, load_network_settings
from bootd.errors import ConfigError
from bootd.inventory import Inventory
from bootd.loader.download import fetch, set_default_proxies
from bootd.model import Severity
from bootd.platform import Platform
from bootd.platform.net import StaticAddress
from bootd.platform.run import RecordingRunner
from bootd.platform.sandbox import sandbox_platform
from tests.unit.network.machines import machine_text, make_machine

MACHINE = machine_text(
    0.01, {"ip": "192.168.0.10", "pxepathprefix": "file://{machine}/tftp/"}, [("eth1", "52:54:00:00:00:02")]
)

START = NetworkSettings(interfaces={"eth1": InterfaceSettings(Method.IGNORE)}, poll_interval=30)
STATIC = InterfaceSettings(Method.STATIC, StaticAddress("10.9.0.2", 24, "10.9.0.1"))


@pytest.fixture
def machine(tmp_path: Path) -> Path:
    root = make_machine(tmp_path / "machine", MACHINE)
    (root / "tftp" / "pxelinux.cfg" / "default").write_text("DEFAULT a\nLABEL a\n  KERNEL vmlinuz\n")
    return root


@dataclass
class Running:
    disc: NetworkDiscovery
    inventory: Inventory
    platform: Platform
    messages: list[tuple[Severity, str]]


@pytest.fixture
async def running(machine: Path, tmp_path: Path) -> AsyncIterator[Running]:
    platform = sandbox_platform(machine, tmp_path / "state")
    inventory = Inventory()
    messages: list[tuple[Severity, str]] = []
    disc = NetworkDiscovery(
        platform, inventory, START, status=lambda s, m: messages.append((s, str(m))), work_dir=tmp_path
    )
    await disc.start()
    await wait_for(lambda: inventory.options_of("eth0"))
    await disc.wait_idle()
    yield Running(disc, inventory, platform, messages)
    await disc.stop()


async def wait_for(pred: object, timeout: float = 5.0) -> None:
    assert callable(pred)
    deadline = asyncio.get_running_loop().time() + timeout
    while not pred():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def calls(platform: Platform) -> list[tuple[str, ...]]:
    assert isinstance(platform.runner, RecordingRunner)
    return list(platform.runner.calls)


async def test_dhcp_to_static_and_an_ignored_interface_taken_up(running: Running) -> None:
    disc, inventory, platform = running.disc, running.inventory, running.platform
    assert [o.id for o in inventory.options_of("eth0")] == ["eth0/pxe/a"] and inventory.device("eth1") is None
    before = len(calls(platform))
    done = await disc.apply(NetworkSettings(interfaces={"eth0": STATIC}, poll_interval=30))
    assert done == [
        "eth0: static 10.9.0.2/24 via 10.9.0.1 (DHCP stopped, its boot options removed)",
        "eth1: DHCP",
    ]
    new = calls(platform)[before:]
    assert new.index(("ip", "-4", "addr", "flush", "dev", "eth0")) < new.index(
        ("ip", "addr", "add", "10.9.0.2/24", "dev", "eth0")
    ), "the lease's address goes before the static one comes"
    assert ("udhcpc", "-i", "eth1") in new and ("udhcpc", "-i", "eth0") not in new
    assert inventory.options_of("eth0") == []
    eth0 = inventory.device("eth0")
    assert eth0 is not None and eth0.prop("ip") == "10.9.0.2"
    assert inventory.device("eth1") is not None, "no longer ignored: it is a boot source again"

    # a report the stopped client still had on its way is not taken for a lease
    await disc.handle_event("bound", {"interface": "eth0", "ip": "192.168.0.10", "pxepathprefix": "file:///x/"})
    await disc.wait_idle()
    assert inventory.options_of("eth0") == []

    # static -> ignore: the interface goes, with its address
    before = len(calls(platform))
    done = await disc.apply(NetworkSettings(interfaces={"eth0": InterfaceSettings(Method.IGNORE)}, poll_interval=30))
    assert done == ["eth0: ignored"]
    assert inventory.device("eth0") is None
    assert ("ip", "-4", "addr", "flush", "dev", "eth0") in calls(platform)[before:]


async def test_static_to_dhcp_brings_the_lease_and_its_options_back(running: Running) -> None:
    disc, inventory, platform = running.disc, running.inventory, running.platform
    await disc.apply(NetworkSettings(interfaces={"eth0": STATIC}, poll_interval=30))
    assert inventory.options_of("eth0") == []
    done = await disc.apply(START)
    assert done == ["eth0: DHCP", "eth1: ignored"]
    await wait_for(lambda: inventory.options_of("eth0"))
    assert [o.id for o in inventory.options_of("eth0")] == ["eth0/pxe/a"]
    assert calls(platform).count(("udhcpc", "-i", "eth0")) == 2


async def test_unchanged_settings_touch_nothing(running: Running) -> None:
    disc, platform = running.disc, running.platform
    before = calls(platform)
    assert await disc.apply(START) == []
    assert calls(platform) == before


class Echo(http.server.BaseHTTPRequestHandler):
    """Says whether the request came through a proxy (an absolute URL) or straight."""

    def do_GET(self) -> None:  # noqa: N802  # the stdlib's name
        body = b"proxy" if self.path.startswith("http://") else b"direct"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002  # the stdlib's name
        pass


@pytest.fixture
def echo_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy"):
        monkeypatch.delenv(var, raising=False)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        set_default_proxies(None)


async def test_a_proxy_applies_to_the_next_download(running: Running, echo_url: str, tmp_path: Path) -> None:
    disc = running.disc

    async def how() -> str:
        await fetch(f"{echo_url}/x", tmp_path / "x", max_bytes=100, timeout=5)
        return (tmp_path / "x").read_text()

    assert await how() == "direct"
    done = await disc.apply(NetworkSettings(interfaces=dict(START.interfaces), proxy=echo_url, poll_interval=30))
    assert done == [f"proxy {echo_url} for the next download"]
    assert await how() == "proxy"
    await disc.apply(START)
    assert await how() == "direct", "a proxy removed is no longer used"


# -- the strict check a write passes first ------------------------------------------------
def paths_with(tmp_path: Path, main: str, dropin: str = "") -> settings.Paths:
    paths = settings.Paths(tmp_path / "root")
    paths.main.parent.mkdir(parents=True)
    paths.main.write_text(main)
    if dropin:
        paths.dropin_dir.mkdir(parents=True)
        (paths.dropin_dir / "50-net.toml").write_text(dropin)
    return paths


def test_the_check_reads_the_write_about_to_be_made_with_the_other_layers(tmp_path: Path) -> None:
    paths = paths_with(tmp_path, "[network]\ntimeout = 20\n", '[network.interface.eth1]\nmethod = "ignore"\n')
    assert paths.dropins(), "the drop-in is one of the layers"
    main = {"network": {"timeout": 20, "interface": {"eth0": {"method": "static", "address": "10.0.0.5/24"}}}}
    checked = checked_network_settings(paths, main=main)
    assert checked.timeout == 20 and checked.interfaces["eth1"].method is Method.IGNORE
    assert checked.interfaces["eth0"].static == StaticAddress("10.0.0.5", 24)
    assert checked_network_settings(paths).interfaces.keys() == {"eth1"}, "None: the file as it is"


@pytest.mark.parametrize(
    ("table", "why"),
    [
        ({"eth0": {"method": "static", "address": "10.0.0.5/24", "gateway": "10.1.0.1"}}, "outside 10.0.0.5/24"),
        (
            {
                "eth0": {"method": "static", "address": "10.0.0.5/24"},
                "eth1": {"method": "static", "address": "10.0.0.5/24"},
            },
            "10.0.0.5 is already the address of eth0",
        ),
        ({"eth0": {"method": "static", "address": "10.0.0.5/24", "gateway": "fe80::1"}}, "is not IPv4"),
        ({"eth0": {"method": "sometimes"}}, "method must be dhcp, static or ignore"),
    ],
)
def test_what_cannot_be_applied_is_refused(tmp_path: Path, table: dict[str, object], why: str) -> None:
    paths = paths_with(tmp_path, "")
    with pytest.raises(ConfigError, match=why):
        checked_network_settings(paths, main={"network": {"interface": table}})


def test_an_invalid_layer_is_refused_where_the_start_falls_back(tmp_path: Path) -> None:
    paths = paths_with(tmp_path, "", "[network]\ntimeout = 0\n")
    warnings: list[str] = []
    loaded = load_network_settings(paths, lambda t: warnings.append(t.text))
    assert loaded == NetworkSettings(), "the start: defaults and a warning"
    assert warnings
    with pytest.raises(ConfigError, match="network.timeout"):
        checked_network_settings(paths, main={"network": {"interface": {"eth0": {"method": "dhcp"}}}})
