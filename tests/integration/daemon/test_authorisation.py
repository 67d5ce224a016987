"""Who may do what: the bus policy, the service's own uid check, and the
password (per connection, for every client)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bootd.dbus.client import BootdClient
from bootd.errors import AuthenticationRequired, PermissionDenied
from tests.integration.daemon.conftest import set_config
from tests.integration.daemon.helpers import DaemonProcess, PrivateBus, busctl

OPT = "/org/bootd/options/sdb1/bls/rescue"
MGR = ("org.bootd", "/org/bootd", "org.bootd.Manager1")
SETTINGS = ("org.bootd", "/org/bootd", "org.bootd.Settings1")


def test_bus_policy_lets_others_read_but_not_act(serve: DaemonProcess, system_bus: PrivateBus, test_user: str) -> None:
    r = busctl(system_bus, "get-property", *MGR, "State", user=test_user)
    assert r.stdout.strip() == 's "idle"', "everyone may read"
    assert "org.bootd.Manager1" in busctl(system_bus, "introspect", "org.bootd", "/org/bootd", user=test_user).stdout
    r = busctl(system_bus, "call", *MGR, "Boot", "osa{sv}", OPT, "", "0", user=test_user, check=False)
    assert r.returncode != 0 and "denied" in r.stderr.lower()
    r = busctl(system_bus, "set-property", *SETTINGS, "Timeout", "u", "1", user=test_user, check=False)
    assert r.returncode != 0 and "denied" in r.stderr.lower()
    r = busctl(system_bus, "call", *MGR, "CancelAutoboot", user=test_user, check=False)
    assert r.returncode != 0
    assert busctl(system_bus, "get-property", *MGR, "State").stdout.strip() == 's "idle"'
    busctl(system_bus, "set-property", *SETTINGS, "Timeout", "u", "3")
    assert busctl(system_bus, "get-property", *SETTINGS, "Timeout").stdout.strip() == "u 3", "root may"


def test_anyone_finds_an_option_by_id_entry_id_or_title(
    serve: DaemonProcess, system_bus: PrivateBus, test_user: str
) -> None:
    """Paths read as the id; FindOption answers for anyone, with a clear error."""
    for name in ("sdb1/bls/rescue", "rescue", "RESCUE STICK"):
        r = busctl(system_bus, "call", *MGR, "FindOption", "s", name, user=test_user, check=False)
        assert r.returncode == 0, (name, r.stderr)
        assert r.stdout.split() == ["o", f'"{OPT}"']
    r = busctl(system_bus, "call", *MGR, "FindOption", "s", "nothing-here", user=test_user, check=False)
    assert r.returncode != 0 and "no boot option is called 'nothing-here'" in r.stderr


def test_the_service_checks_the_caller_too(
    open_bus: PrivateBus, machine: Path, tmp_path: Path, config_root: Path, test_user: str
) -> None:
    set_config(config_root, "autoboot = false\n")
    d = DaemonProcess(open_bus, machine, tmp_path / "state", config_root=config_root)
    try:
        d.wait_ready()
        r = busctl(open_bus, "call", *MGR, "Boot", "osa{sv}", OPT, "", "0", user=test_user, check=False)
        assert r.returncode != 0 and "only root may do this" in r.stderr
        r = busctl(open_bus, "set-property", *SETTINGS, "Timeout", "u", "1", user=test_user, check=False)
        assert r.returncode != 0 and "only root may do this" in r.stderr
        r = busctl(open_bus, "call", *MGR, "Authenticate", "s", "x", user=test_user, check=False)
        assert r.returncode != 0 and "only root may do this" in r.stderr
        assert busctl(open_bus, "get-property", *SETTINGS, "Timeout").stdout.strip() == "u 10"
        assert busctl(open_bus, "get-property", *MGR, "State").stdout.strip() == 's "idle"'
    finally:
        assert d.stop() == 0


async def test_password_gates_every_client_per_connection(serve: DaemonProcess, system_bus: PrivateBus) -> None:
    a = await BootdClient.connect(system_bus.address)
    b = await BootdClient.connect(system_bus.address)
    try:
        await a.set_setting("password", "hunter2")
        assert (await a.get_state()).auth_required
        assert (await b.get_settings()).password_set
        hashed = (serve.config_root_file()).read_text()
        assert "hunter2" not in hashed and "scrypt$" in hashed
        with pytest.raises(AuthenticationRequired, match="authenticate first to change settings"):
            await a.set_setting("timeout", 4)
        with pytest.raises(AuthenticationRequired):
            await b.boot("sdb1/bls/rescue", args="init=/bin/sh")
        with pytest.raises(AuthenticationRequired):
            await b.boot_custom(kernel="/vmlinuz-rescue", device="sdb1")
        with pytest.raises(AuthenticationRequired):
            await b.set_next_boot("sdb1/bls/rescue")
        with pytest.raises(PermissionDenied, match="wrong password"):
            await a.authenticate("hunter3")
        await a.authenticate("hunter2")
        seen: list[int] = []
        b.on_settings(lambda view: seen.append(view.timeout))
        await a.set_setting("timeout", 4)
        assert (await b.get_settings()).timeout == 4
        for _ in range(100):
            if seen:
                break
            await asyncio.sleep(0.02)
        assert seen == [4], "other clients hear of it (PropertiesChanged)"
        with pytest.raises(AuthenticationRequired):
            await b.set_setting("timeout", 5)
        await a.set_setting("password", "correct horse")
        with pytest.raises(AuthenticationRequired):
            await a.set_setting("timeout", 6)
        await a.authenticate("correct horse")
        await a.set_setting("restrict", "all")
        with pytest.raises(AuthenticationRequired, match="to boot"):
            await b.boot("sdb1/bls/rescue")
        await a.boot("sdb1/bls/rescue", args="init=/bin/sh")
        assert (await b.get_state()).last_boot.args == "init=/bin/sh"
        with pytest.raises(AuthenticationRequired):
            await a.set_setting("password", "")  # the boot that needed the password ended the authentication
        await a.authenticate("correct horse")
        await a.set_setting("password", "")
        await b.set_setting("timeout", 5)
    finally:
        a.close()
        b.close()


async def test_unchanged_boot_needs_no_password_by_default(serve: DaemonProcess, system_bus: PrivateBus) -> None:
    a = await BootdClient.connect(system_bus.address)
    b = await BootdClient.connect(system_bus.address)
    try:
        await a.set_setting("password", "pw")
        options = {o.id: o for o in await b.list_options()}
        await b.boot("sdb1/bls/rescue", args=options["sdb1/bls/rescue"].args)
        assert (await b.get_state()).state == "booted"
    finally:
        a.close()
        b.close()


async def test_allow_shell_is_a_setting_only_root_changes(
    serve: DaemonProcess, system_bus: PrivateBus, test_user: str
) -> None:
    assert busctl(system_bus, "get-property", *SETTINGS, "AllowShell").stdout.strip() == "b true"
    r = busctl(system_bus, "set-property", *SETTINGS, "AllowShell", "b", "false", user=test_user, check=False)
    assert r.returncode != 0 and "denied" in r.stderr.lower()
    client = await BootdClient.connect(system_bus.address)
    try:
        assert (await client.get_settings()).allow_shell
        await client.set_setting("allow_shell", False)
        assert not (await client.get_settings()).allow_shell
        assert "allow_shell = false" in serve.config_root_file().read_text()
        assert busctl(system_bus, "get-property", *SETTINGS, "AllowShell").stdout.strip() == "b false"
    finally:
        client.close()
