"""NetworkDiscovery on a sandbox machine: interfaces, leases, URL configs.

The sandbox platform stands in for the network (its interfaces come from
machine.toml and its "DHCP client" reports the lease written there); configs
are real files fetched through file:// URLs."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bootd.discovery.network import (
    InterfaceSettings,
    Method,
    NetworkDiscovery,
    NetworkSettings,
    interface_device,
)
from bootd.errors import InvalidArgument, ResourceError
from bootd.inventory import EventKind, Inventory, InventoryEvent
from bootd.model import DeviceType, Resource, Severity
from bootd.platform import Platform
from bootd.platform.net import Interface, StaticAddress
from bootd.platform.run import RecordingRunner
from bootd.platform.sandbox import sandbox_platform
from tests.unit.network.machines import machine_text, make_machine

MACHINE = machine_text(
    0.05,
    {"ip": "192.168.0.10", "siaddr": "192.168.0.1", "pxepathprefix": "file://{machine}/tftp/", "reboottime": "1"},
    [("eth1", "52:54:00:00:00:01"), ("tun0", "52:54:00:00:00:09"), ("eth2", "52:54:00:00:00:02"),
     ("eth3", "52:54:00:00:00:03")],
)  # fmt: skip


@pytest.fixture
def machine(tmp_path: Path) -> Path:
    return make_machine(tmp_path / "machine", MACHINE)


async def wait_for(pred: object, timeout: float = 5.0) -> None:
    assert callable(pred)
    deadline = asyncio.get_running_loop().time() + timeout
    while not pred():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def make(machine: Path, tmp_path: Path, settings: NetworkSettings) -> tuple[NetworkDiscovery, Inventory, Platform]:
    platform = sandbox_platform(machine, tmp_path / "state")
    inv = Inventory()
    messages: list[tuple[Severity, str]] = []
    disc = NetworkDiscovery(
        platform, inv, settings, status=lambda s, m: messages.append((s, str(m))), work_dir=tmp_path
    )
    disc.messages = messages  # type: ignore[attr-defined]
    return disc, inv, platform


SETTINGS = NetworkSettings(
    interfaces={
        "eth2": InterfaceSettings(Method.IGNORE),
        "52:54:00:00:00:03": InterfaceSettings(
            Method.STATIC, StaticAddress("10.9.0.2", 16, "10.9.0.1", ("10.9.0.53",))
        ),
    },
    poll_interval=0.05,
)


async def test_interfaces_lease_options_and_release(machine: Path, tmp_path: Path) -> None:
    (machine / "tftp" / "pxelinux.cfg" / "C0A8000A").write_text("DEFAULT a\nLABEL a\n  KERNEL vmlinuz\n")
    disc, inv, platform = make(machine, tmp_path, SETTINGS)
    events: list[InventoryEvent] = []
    inv.subscribe(events.append)
    await disc.start()
    try:
        # eth1 repeats eth0's MAC, tun0 is a tunnel, eth2 is ignored by the settings
        assert sorted(d.id for d in inv.devices()) == ["eth0", "eth3"]
        eth0 = inv.device("eth0")
        assert eth0 is not None and eth0.type is DeviceType.NETWORK and eth0.uuid == "52:54:00:00:00:01"
        await wait_for(lambda: inv.options_of("eth0"))
        await disc.wait_idle()
        [opt] = inv.options_of("eth0")
        assert opt.id == "eth0/pxe/a" and opt.default
        assert opt.kernel == Resource.remote(f"file://{machine}/tftp/vmlinuz")
        eth0 = inv.device("eth0")
        assert eth0 is not None and eth0.prop("ip") == "192.168.0.10"
        runner = platform.runner
        assert isinstance(runner, RecordingRunner)
        assert ("ip", "link", "set", "dev", "eth0", "up") in runner.calls
        assert ("udhcpc", "-i", "eth0") in runner.calls
        # static: address and route, no DHCP client
        assert ("ip", "addr", "add", "10.9.0.2/16", "dev", "eth3") in runner.calls
        assert ("ip", "route", "replace", "default", "via", "10.9.0.1", "dev", "eth3") in runner.calls
        assert ("udhcpc", "-i", "eth3") not in runner.calls
        await disc.sync()  # eth3 is up now: it is not configured again
        assert runner.calls.count(("ip", "addr", "add", "10.9.0.2/16", "dev", "eth3")) == 1
        eth3 = inv.device("eth3")
        assert eth3 is not None and eth3.prop("ip") == "10.9.0.2" and eth3.prop("router") == "10.9.0.1"
        assert (tmp_path / "state" / "resolv.conf").read_text() == "nameserver 10.9.0.53\n"
        # the lease ends: its options go
        await disc.release("eth0")
        assert inv.options_of("eth0") == []
        assert [e.kind for e in events if e.option is not None] == [EventKind.OPTION_ADDED, EventKind.OPTION_REMOVED]
        with pytest.raises(InvalidArgument):
            await disc.release("eth3")
    finally:
        await disc.stop()
    assert inv.devices() == []


async def test_missing_config_tries_next_candidates_and_requeries_after_reboottime(
    machine: Path, tmp_path: Path
) -> None:
    disc, inv, _ = make(machine, tmp_path, SETTINGS)
    await disc.start()
    try:
        await wait_for(lambda: any("no PXE configuration found" in m for _, m in disc.messages))  # type: ignore[attr-defined]
        assert inv.options_of("eth0") == []
        # the config appears on the server; reboottime (1 s) later it is found
        (machine / "tftp" / "pxelinux.cfg" / "default").write_text("LABEL later\n  KERNEL k\n")
        await wait_for(lambda: inv.options_of("eth0"), timeout=5)
        assert [o.id for o in inv.options_of("eth0")] == ["eth0/pxe/later"]
    finally:
        await disc.stop()


async def test_handle_event_and_renew_replace_options(machine: Path, tmp_path: Path) -> None:
    disc, inv, _ = make(machine, tmp_path, NetworkSettings(enabled=False))
    await disc.start()  # disabled: no interfaces, events still work
    assert inv.devices() == []
    cfg = machine / "one.cfg"
    cfg.write_text("LABEL one\n  KERNEL k1\nLABEL two\n  KERNEL k2\n")
    await disc.handle_event("bound", {"interface": "eth7", "mac": "AA:00:00:00:00:07", "pxeconffile": cfg.as_uri()})
    await disc.wait_idle()
    assert [o.id for o in inv.options_of("eth7")] == ["eth7/pxe/one", "eth7/pxe/two"]
    dev = inv.device("eth7")
    assert dev is not None and dev.uuid == "aa:00:00:00:00:07"
    cfg.write_text("LABEL two\n  KERNEL k2\n")
    await disc.handle_event("renew", {"interface": "eth7", "pxeconffile": cfg.as_uri()})
    await disc.wait_idle()
    assert [o.id for o in inv.options_of("eth7")] == ["eth7/pxe/two"]
    await disc.handle_event("leasefail", {"interface": "eth7"})
    assert inv.options_of("eth7") == []
    await disc.handle_event("something-else", {"interface": "eth7"})
    ignoring = NetworkDiscovery(
        disc.platform, inv, NetworkSettings(enabled=False, interfaces={"eth8": InterfaceSettings(Method.IGNORE)})
    )
    await ignoring.handle_event("bound", {"interface": "eth8", "pxeconffile": cfg.as_uri()})
    await ignoring.wait_idle()
    assert inv.device("eth8") is None and inv.options_of("eth8") == []
    with pytest.raises(InvalidArgument):
        await disc.handle_event("bound", {"interface": "../x"})
    await disc.stop()


async def test_add_url(machine: Path, tmp_path: Path) -> None:
    disc, inv, _ = make(machine, tmp_path, NetworkSettings(enabled=False))
    (machine / "tftp" / "pxelinux.cfg" / "default").write_text("LABEL p\n  KERNEL k\n")
    (machine / "menu.cfg").write_text("LABEL m\n  KERNEL vmlinuz\n")
    menu = await disc.add_url((machine / "menu.cfg").as_uri())
    assert [o.name for o in menu] == ["m"] and menu[0].kernel == Resource.remote(f"file://{machine}/vmlinuz")
    prefix = await disc.add_url(f"file://{machine}/tftp/")
    assert [o.name for o in prefix] == ["p"]
    assert {o.id for o in inv.options()} == {o.id for o in menu + prefix}
    assert [o.order for o in inv.options_of("url")] == [0, 1]
    url_dev = inv.device("url")
    assert url_dev is not None and url_dev.type is DeviceType.NETWORK
    # the same URL again replaces, not duplicates
    again = await disc.add_url((machine / "menu.cfg").as_uri())
    assert [o.id for o in again] == [menu[0].id] and len(inv.options()) == 2
    with pytest.raises(ResourceError, match="no boot configuration"):
        await disc.add_url((machine / "nothing.cfg").as_uri())
    with pytest.raises(InvalidArgument):
        await disc.add_url("not a url")


def test_interface_filter() -> None:
    assert not Interface("lo", "00:00:00:00:00:00", hw_type=772).usable()
    assert not Interface("tun0", "aa:bb:cc:dd:ee:ff").usable()
    assert not Interface("eth0", "").usable()
    assert not Interface("wg0", "aa:bb:cc:dd:ee:ff", hw_type=65534).usable()
    assert Interface("enp1s0", "aa:bb:cc:dd:ee:ff").usable()
    dev = interface_device(Interface("eth0", "aa:bb:cc:dd:ee:ff", carrier=True), {"ip": "1.2.3.4"})
    assert dev.prop("link") == "up" and dev.prop("ip") == "1.2.3.4" and dev.title == "Network: eth0"


async def test_bring_up_false_waits_for_the_interface_to_be_up(machine: Path, tmp_path: Path) -> None:
    (machine / "tftp" / "pxelinux.cfg" / "default").write_text("LABEL a\n  KERNEL k\n")
    disc, inv, platform = make(machine, tmp_path, NetworkSettings(bring_up=False, poll_interval=0.05))
    runner = platform.runner
    assert isinstance(runner, RecordingRunner)
    await disc.start()
    try:
        assert sorted(d.id for d in inv.devices()) == ["eth0", "eth2", "eth3"]
        assert runner.calls == [], "nothing is brought up or configured"
        await platform.net.link_up("eth0")  # someone else brings eth0 up
        await wait_for(lambda: ("udhcpc", "-i", "eth0") in runner.calls)
        await wait_for(lambda: inv.options_of("eth0"))
        assert ("udhcpc", "-i", "eth2") not in runner.calls
    finally:
        await disc.stop()


async def test_temporary_directories_are_removed_on_stop(
    machine: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a work directory given, the one made for configs goes with
    ``stop``; so does the lease-script directory of the Linux platform."""
    import tempfile

    from bootd.platform.linux_net import LinuxNet

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    (machine / "menu.cfg").write_text("LABEL m\n  KERNEL vmlinuz\n")
    disc = NetworkDiscovery(sandbox_platform(machine, tmp_path / "state"), Inventory(), NetworkSettings(enabled=False))
    assert [o.name for o in await disc.add_url((machine / "menu.cfg").as_uri())] == ["m"]
    assert [p.name[:10] for p in scratch.iterdir()] == ["bootd-pxe-"]
    await disc.stop()
    assert list(scratch.iterdir()) == []

    net = LinuxNet(RecordingRunner())
    script = net.lease_script()
    assert script.is_file() and script.parent.parent == scratch
    net.close()
    assert list(scratch.iterdir()) == []
    given = tmp_path / "given"
    kept = LinuxNet(RecordingRunner(), state_dir=given)
    kept.lease_script()
    kept.close()
    assert (given / "udhcpc-script").is_file()


async def test_add_url_failure_says_why_and_leaves_no_empty_device(machine: Path, tmp_path: Path) -> None:
    disc, inv, _ = make(machine, tmp_path, NetworkSettings(enabled=False))
    with pytest.raises(ResourceError, match=r"retrieved from ftp://x/y: unsupported URL scheme 'ftp'$"):
        await disc.add_url("ftp://x/y")
    with pytest.raises(ResourceError, match=r"retrieved from file://\S+/nothing\.cfg: not found$"):
        await disc.add_url((machine / "nothing.cfg").as_uri())
    with pytest.raises(
        ResourceError, match=r"from file://\S+/empty/: file://\S+/empty/pxelinux\.cfg/default not found$"
    ):
        await disc.add_url(f"file://{machine}/empty/")
    assert inv.device("url") is None and inv.options() == []
    # a failure after a success keeps the device and the options already retrieved
    (machine / "menu.cfg").write_text("LABEL m\n  KERNEL vmlinuz\n")
    await disc.add_url((machine / "menu.cfg").as_uri())
    with pytest.raises(ResourceError):
        await disc.add_url((machine / "nothing.cfg").as_uri())
    assert inv.device("url") is not None and [o.name for o in inv.options()] == ["m"]


async def test_machine_given_by_a_relative_path_still_leads_to_its_files(
    machine: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``bootd serve --sandbox config/demo``: the lease's file://{machine}/ URLs are absolute."""
    (machine / "tftp" / "pxelinux.cfg" / "C0A8000A").write_text("DEFAULT a\nLABEL a\n  KERNEL vmlinuz\n")
    monkeypatch.chdir(machine.parent)
    disc, inv, _ = make(Path(machine.name), tmp_path, SETTINGS)
    await disc.start()
    try:
        await wait_for(lambda: inv.options_of("eth0"))
        [opt] = inv.options_of("eth0")
        assert opt.kernel == Resource.remote(f"file://{machine}/tftp/vmlinuz")
    finally:
        await disc.stop()
