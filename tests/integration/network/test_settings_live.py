"""The ``[network]`` keys beyond the interfaces take effect in the running
daemon when a hand edit is read at SIGHUP (``systemctl reload bootd``):
``enabled`` stops and starts network discovery, ``bring_up`` takes up an
interface that waited for its link, ``lease_reports`` reaches the next DHCP
client; and a write of another setting never puts an unread hand edit of
``[network]`` in the settings while the interfaces stay as they were.

A real daemon in the lab's client namespace (dnsmasq in the server
namespace), on a private system-like bus (see ``settings_daemon``)."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from bootd.dbus.client import InterfaceConfig, NetworkConfig
from bootd.errors import BootdError
from tests.integration.network.lab import available
from tests.integration.network.settings_daemon import (
    CONFIG,
    DHCP,
    OPTION,
    Daemon,
    leased,
    pxe_lab,
    running_daemon,
)

REASON = available() or (None if shutil.which("dbus-daemon") and shutil.which("busctl") else "needs dbus-daemon")
pytestmark = [pytest.mark.root, pytest.mark.skipif(REASON is not None, reason=str(REASON))]
IGNORE = NetworkConfig(interfaces=(InterfaceConfig("eth0", "ignore"),))


async def test_enabled_false_stops_network_discovery_and_true_starts_it(tmp_path: Path) -> None:
    with pxe_lab(tmp_path) as lab:
        async with running_daemon(lab, tmp_path) as daemon:
            await daemon.until("a DHCP lease and its boot option", daemon.options)
            assert leased(daemon.addresses()) and daemon.dhcp_clients() == 1

            daemon.config.write_text(CONFIG.replace("[network]\n", "[network]\nenabled = false\n"))
            line = await daemon.reload()
            assert line.startswith("Settings reloaded from "), line
            applied = await daemon.applied()
            assert "network discovery stopped: eth0 no longer used, their boot options removed" in applied, applied
            assert "next start" not in applied
            assert daemon.dhcp_clients() == 0, "the DHCP client is stopped"
            assert daemon.addresses() == [], "the lease's address goes"
            assert await daemon.options() == set() and "eth0" not in await daemon.devices()
            await asyncio.sleep(3)  # more than a watch round (2 s): nothing takes the interface up again
            assert daemon.dhcp_clients() == 0 and "eth0" not in await daemon.devices()

            # interface settings written while it is off wait for it, and the status line says so
            daemon.statuses.clear()
            await daemon.client.update_settings({"network": DHCP})
            assert "network discovery is off (network.enabled = false)" in await daemon.applied()
            assert daemon.dhcp_clients() == 0 and daemon.addresses() == []

            daemon.config.write_text(CONFIG)
            await daemon.reload()
            assert "network discovery started" in await daemon.applied()
            await daemon.until("a new lease", lambda: leased(daemon.addresses()))
            await daemon.until("the lease's boot option", daemon.options)
            assert await daemon.options() == {OPTION} and daemon.dhcp_clients() == 1


async def test_bring_up_true_takes_up_a_waiting_interface_and_false_brings_none_down(tmp_path: Path) -> None:
    # the lab leaves eth0 down; with bring_up = false the daemon leaves it alone
    with pxe_lab(tmp_path) as lab:
        async with running_daemon(lab, tmp_path, CONFIG + "bring_up = false\n") as daemon:
            await daemon.until("eth0 listed", lambda: _has_eth0(daemon))
            await asyncio.sleep(1)
            assert not daemon.link_up() and daemon.dhcp_clients() == 0 and daemon.addresses() == []

            daemon.config.write_text(CONFIG + "bring_up = true\n")
            await daemon.reload()
            assert "eth0: brought up (DHCP)" in await daemon.applied()
            assert daemon.link_up()
            await daemon.until("a lease", lambda: leased(daemon.addresses()))
            await daemon.until("the lease's boot option", daemon.options)
            assert daemon.dhcp_clients() == 1

            daemon.config.write_text(CONFIG + "bring_up = false\n")
            await daemon.reload()
            assert "no link is brought down" in await daemon.applied()
            await asyncio.sleep(1)
            assert daemon.link_up() and leased(daemon.addresses()) and daemon.dhcp_clients() == 1
            assert await daemon.options() == {OPTION}


async def _has_eth0(daemon: Daemon) -> bool:
    return "eth0" in await daemon.devices()


async def test_lease_reports_reaches_the_next_dhcp_client_and_says_so(tmp_path: Path) -> None:
    with pxe_lab(tmp_path) as lab:
        async with running_daemon(lab, tmp_path) as daemon:
            await daemon.until("a DHCP lease and its boot option", daemon.options)
            [first] = daemon.dhcp_pids()
            assert _environ(first)["BOOTD_EVENT_OUTPUT"] == "stdout"

            daemon.config.write_text(CONFIG + 'lease_reports = "dbus"\n')
            await daemon.reload()
            applied = await daemon.applied()
            assert "network.lease_reports = dbus applies to the DHCP clients started from now on" in applied
            assert daemon.dhcp_pids() == [first], "the running client is not restarted (no lease gap)"

            # the next client (eth0 to ignore and back by Settings1 writes) reports over D-Bus
            await daemon.client.update_settings({"network": IGNORE})
            await daemon.until("the client stopped", lambda: daemon.dhcp_clients() == 0)
            await daemon.client.update_settings({"network": DHCP})
            await daemon.until("a new client", lambda: daemon.dhcp_clients() == 1)
            [second] = daemon.dhcp_pids()
            assert _environ(second)["BOOTD_EVENT_OUTPUT"] == "dbus"

            # poll_interval is no setting: a file that names it is refused whole
            daemon.config.write_text(CONFIG + 'lease_reports = "dbus"\npoll_interval = 5\n')
            line = await daemon.reload()
            assert line.startswith("settings not reloaded: ") and "unknown key(s) poll_interval" in line, line


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


async def test_a_write_after_an_unread_hand_edit_is_refused_until_the_reload(tmp_path: Path) -> None:
    with pxe_lab(tmp_path) as lab:
        async with running_daemon(lab, tmp_path) as daemon:
            await daemon.until("a DHCP lease and its boot option", daemon.options)
            lease = daemon.addresses()
            edited = CONFIG + '[network.interface.eth0]  # by hand\nmethod = "static"\naddress = "10.77.0.220/24"\n'
            daemon.config.write_text(edited)

            with pytest.raises(BootdError, match="was edited since the daemon read it") as refused:
                await daemon.client.update_settings({"timeout": 3})
            assert "systemctl reload bootd" in str(refused.value)
            assert daemon.config.read_text() == edited, "the admin's lines are kept, nothing written"
            settings = await daemon.client.get_settings()
            assert settings.timeout != 3
            assert settings.network.interface("eth0") is None, "the settings in force are still those applied"
            assert daemon.addresses() == lease and await daemon.options() == {OPTION}

            await daemon.reload()
            await daemon.applied()
            assert daemon.addresses() == ["10.77.0.220/24"]
            await daemon.client.update_settings({"timeout": 3})
            settings = await daemon.client.get_settings()
            assert settings.timeout == 3
            assert settings.network.interface("eth0") == InterfaceConfig("eth0", "static", "10.77.0.220/24")
            assert "# by hand" in daemon.config.read_text()
