"""A Settings1 write of the network settings takes effect in the running daemon.

The lab's server namespace runs dnsmasq (DHCP with the PXE options, TFTP);
the daemon runs in the client namespace on a sandbox machine whose network is
the namespace's real one (``daemon_driver``).  Each write goes over a private
system-like bus, as the menu's network screen and ``bootd settings set`` send
it, and what the daemon did is read back from the namespace with
``ip -j addr`` and from the daemon's own objects: no restart in between."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bootd.dbus.client import InterfaceConfig, NetworkConfig
from bootd.errors import BootdError
from tests.integration.network.lab import ROOT, Lab, available
from tests.integration.network.settings_daemon import DHCP, OPTION, STATIC, Daemon, leased, pxe_lab, running_daemon

REASON = available() or (None if shutil.which("dbus-daemon") and shutil.which("busctl") else "needs dbus-daemon")
pytestmark = [pytest.mark.root, pytest.mark.skipif(REASON is not None, reason=str(REASON))]


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    with pxe_lab(tmp_path) as lab:
        yield lab


@pytest.fixture
async def daemon(lab: Lab, tmp_path: Path) -> AsyncIterator[Daemon]:
    async with running_daemon(lab, tmp_path) as running:
        yield running


async def test_switching_between_dhcp_and_static_applies_at_once(daemon: Daemon) -> None:
    await daemon.until("a DHCP lease and its boot option", lambda: daemon.options())
    assert await daemon.options() == {OPTION}
    assert leased(daemon.addresses()), daemon.addresses()
    assert daemon.dhcp_clients() == 1

    # dhcp -> static: the static address replaces the lease, the client stops, the lease's option goes
    await daemon.client.update_settings({"network": STATIC})
    assert daemon.addresses() == ["10.77.0.200/24"]
    assert await daemon.options() == set()
    assert daemon.dhcp_clients() == 0
    eth0 = {d.id: d for d in await daemon.client.list_devices()}["eth0"]
    assert eth0.prop("ip") == "10.77.0.200" and eth0.prop("router") == "10.77.0.1"
    route = daemon.lab.client(["ip", "-4", "route", "show", "default"])
    assert "via 10.77.0.1 dev eth0" in route
    assert (daemon.state / "resolv.conf").read_text() == "nameserver 10.77.0.53\n", "DNS: the next resolver write"
    await daemon.until("the status line", lambda: any("Network settings applied" in s for s in daemon.statuses))
    [applied] = [s for s in daemon.statuses if "Network settings applied" in s]
    assert "eth0: static 10.77.0.200/24 via 10.77.0.1 (DHCP stopped, its boot options removed)" in applied, applied

    # a changed static address replaces the old one (a Set of Settings1.Network this time)
    daemon.statuses.clear()
    moved = NetworkConfig(interfaces=(InterfaceConfig("eth0", "static", "10.77.0.201/24"),))
    await daemon.client.set_setting("network", moved)
    assert daemon.addresses() == ["10.77.0.201/24"]
    await daemon.until("the status line", lambda: any("was 10.77.0.200/24" in s for s in daemon.statuses))

    # static -> dhcp: the client starts again, a lease replaces the static address, its option comes back
    await daemon.client.update_settings({"network": DHCP})
    assert "10.77.0.201/24" not in daemon.addresses()
    await daemon.until("a new lease", lambda: leased(daemon.addresses()))
    await daemon.until("the lease's boot option", lambda: daemon.options())
    assert await daemon.options() == {OPTION}
    assert daemon.dhcp_clients() == 1

    # ignore: the interface is no longer used, its options and its address go
    await daemon.client.update_settings({"network": NetworkConfig(interfaces=(InterfaceConfig("eth0", "ignore"),))})
    assert await daemon.options() == set()
    assert "eth0" not in {d.id for d in await daemon.client.list_devices()}
    assert daemon.addresses() == [] and daemon.dhcp_clients() == 0


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        (NetworkConfig(interfaces=(InterfaceConfig("eth0", "static", "10.77.0.200/24", "10.99.0.1"),)), "outside"),
        (NetworkConfig(interfaces=(InterfaceConfig("eth0", "static", "10.77.0.300/24"),)), "ADDRESS/PREFIX"),
    ],
)
async def test_a_refused_write_leaves_everything_as_it_was(daemon: Daemon, bad: NetworkConfig, why: str) -> None:
    await daemon.until("a DHCP lease and its boot option", lambda: daemon.options())
    before = (daemon.addresses(), daemon.config.read_text(), (await daemon.client.get_settings()).network)
    assert leased(before[0])
    with pytest.raises(BootdError, match=why):
        await daemon.client.update_settings({"network": bad, "timeout": 3})
    await asyncio.sleep(0.5)  # nothing is applied later either
    assert (daemon.addresses(), daemon.config.read_text(), (await daemon.client.get_settings()).network) == before
    assert await daemon.options() == {OPTION}
    assert daemon.dhcp_clients() == 1
    assert (await daemon.client.get_settings()).timeout != 3, "all or nothing: the other setting was not written"
    assert not any("Network settings applied" in s for s in daemon.statuses)


def cli(daemon: Daemon, *args: str) -> subprocess.CompletedProcess[str]:
    """``bootd settings ...`` as the admin runs it, against the daemon's bus."""
    return subprocess.run(
        [sys.executable, "-m", "bootd", "settings", *args, "--bus", daemon.bus],
        capture_output=True, text=True, timeout=60, check=False, cwd=ROOT,
    )  # fmt: skip


async def test_the_cli_sets_the_network_settings_at_once_and_keeps_the_comments(daemon: Daemon) -> None:
    await daemon.until("a DHCP lease and its boot option", lambda: daemon.options())
    with daemon.config.open("a") as f:
        f.write('# the admin\'s own words\n[network.interface.eth1]  # not in this lab\nmethod = "ignore"\n')
    await daemon.reload()  # a hand edit is read at SIGHUP

    r = await asyncio.to_thread(
        cli, daemon, "set", "network.interface.eth0", "static", "address=10.77.0.200/24", "gateway=10.77.0.1",
        "dns=10.77.0.53",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr + daemon.log.read_text()
    assert "network.interface.eth0 = static address=10.77.0.200/24 gateway=10.77.0.1 dns=10.77.0.53" in r.stdout
    assert "Network settings applied: eth0: static 10.77.0.200/24 via 10.77.0.1" in r.stdout, r.stdout
    assert daemon.addresses() == ["10.77.0.200/24"], "applied at once, no restart"
    assert daemon.dhcp_clients() == 0 and await daemon.options() == set()
    text = daemon.config.read_text()
    for comment in ("# the lab's TFTP server is near", "# the admin's own words", "# not in this lab"):
        assert comment in text, text
    assert 'address = "10.77.0.200/24"' in text

    r = await asyncio.to_thread(cli, daemon, "set", "network.nameservers", "10.77.0.54")
    assert r.returncode == 0, r.stderr
    assert "network.nameservers = 10.77.0.54" in r.stdout
    assert (await daemon.client.get_settings()).network.nameservers == ("10.77.0.54",)

    # refused as a whole, before anything is written or applied
    before = (daemon.config.read_text(), daemon.addresses())
    for words, why in (
        (["static", "address=10.77.0.200/24", "gateway=10.99.0.1"], "outside"),
        (["static", "address=10.77.0.300/24"], "ADDRESS/PREFIX"),
        (["sttic"], "not a method"),
    ):
        r = await asyncio.to_thread(cli, daemon, "set", "network.interface.eth0", *words)
        assert r.returncode != 0 and why in r.stderr and "Traceback" not in r.stderr, (words, r.stderr)
    assert (daemon.config.read_text(), daemon.addresses()) == before

    r = await asyncio.to_thread(cli, daemon, "set", "network.interface.eth0", "dhcp")
    assert r.returncode == 0, r.stderr
    await daemon.until("a new lease", lambda: leased(daemon.addresses()))
    await daemon.until("the lease's boot option", lambda: daemon.options())
    r = await asyncio.to_thread(cli, daemon, "get", "network")
    assert "network.interface.eth0 = dhcp" in r.stdout and "network.interface.eth1 = ignore" in r.stdout, r.stdout


async def test_a_hand_edit_applies_at_sighup_and_an_invalid_one_is_refused(daemon: Daemon) -> None:
    await daemon.until("a DHCP lease and its boot option", lambda: daemon.options())
    original = daemon.config.read_text()
    edited = original + (
        '[network.interface.eth0]  # set by hand\nmethod = "static"\naddress = "10.77.0.210/24"\n'
        'gateway = "10.77.0.1"\n'
    )
    daemon.config.write_text(edited)
    await asyncio.sleep(0.5)
    assert leased(daemon.addresses()), "nothing happens before the signal"

    line = await daemon.reload()
    assert line.startswith("Settings reloaded from ") and "network" in line, line
    await daemon.until("the status line", lambda: any("Network settings applied" in s for s in daemon.statuses))
    assert daemon.addresses() == ["10.77.0.210/24"]
    assert daemon.dhcp_clients() == 0 and await daemon.options() == set()
    assert "via 10.77.0.1 dev eth0" in daemon.lab.client(["ip", "-4", "route", "show", "default"])
    assert daemon.config.read_text() == edited, "a reload writes nothing"

    # invalid in three ways: each refused, the settings in force (and the address) kept
    for bad, why in (
        (edited.replace("10.77.0.1", "10.99.0.1"), "outside"),
        (edited.replace("autoboot = false", 'autoboot = "maybe"'), "autoboot"),
        (edited + "[[broken\n", str(daemon.config)),
    ):
        daemon.config.write_text(bad)
        line = await daemon.reload()
        assert line.startswith("settings not reloaded: ") and why in line, line
        assert line.endswith("the settings in force are kept"), line
        assert daemon.addresses() == ["10.77.0.210/24"]
        settings = await daemon.client.get_settings()
        assert settings.autoboot is False and settings.network.interface("eth0") == InterfaceConfig(
            "eth0", "static", "10.77.0.210/24", "10.77.0.1"
        )

    daemon.config.write_text(original)  # back to DHCP by hand
    await daemon.reload()
    await daemon.until("a new lease", lambda: leased(daemon.addresses()))
    await daemon.until("the lease's boot option", lambda: daemon.options())
