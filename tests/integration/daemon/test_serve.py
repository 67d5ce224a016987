"""``bootd serve --sandbox`` on a private system-like bus, driven by clients
nobody here wrote (busctl, gdbus), by the ``bootd`` CLI and by the typed client."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from bootd.dbus.client import BootdClient
from bootd.errors import InvalidArgument, NotFound, ResourceError
from tests.integration.daemon.conftest import set_config
from tests.integration.daemon.helpers import ROOT, DaemonProcess, Entry, MachineDevice, PrivateBus, busctl, make_machine
from tests.unit.core.test_argparse_languages import env_for, locale_dir  # noqa: F401  # a fixture

OPT = "/org/bootd/options/sdb1/bls/rescue"
MGR = ("org.bootd", "/org/bootd", "org.bootd.Manager1")


def prop(bus: PrivateBus, name: str, iface: str = "org.bootd.Manager1") -> object:
    out = busctl(bus, "get-property", "--json=short", "org.bootd", "/org/bootd", iface, name).stdout
    return json.loads(out)["data"]


def wait_for(pred: object, timeout: float = 15.0) -> None:
    assert callable(pred)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def kexec_log(d: DaemonProcess, state: Path) -> list[list[str]]:
    log = state / "kexec.log"
    return [json.loads(line)["argv"] for line in log.read_text().splitlines()] if log.exists() else []


def test_busctl_and_gdbus_see_everything(serve: DaemonProcess, system_bus: PrivateBus) -> None:
    wait_for(lambda: OPT in busctl(system_bus, "tree", "--list", "org.bootd").stdout)
    tree = busctl(system_bus, "tree", "--list", "org.bootd").stdout.split()
    assert {"/org/bootd/devices/sda1", "/org/bootd/devices/sdb1", OPT} <= set(tree)
    assert "/org/bootd/options/sda1/bls/6_2e1" in tree
    if shutil.which("gdbus"):
        r = subprocess.run(
            ["gdbus", "call", "--address", system_bus.address, "--dest", "org.bootd", "--object-path", "/org/bootd",
             "--method", "org.freedesktop.DBus.ObjectManager.GetManagedObjects"],
            capture_output=True, text=True, check=True, timeout=30,
        )  # fmt: skip
        assert "'Rescue stick" in r.stdout
        assert "'org.bootd.Device1'" in r.stdout and "'USB: STICK (sdb1)'" in r.stdout
    assert prop(system_bus, "State") == "idle"
    assert prop(system_bus, "Consoles") == [["ttyAMA0", "serial", "/pl011@9000000"], ["tty1", "vga", ""]]
    assert prop(system_bus, "Platform") == "sandbox" and prop(system_bus, "Architecture") == "aarch64"
    assert prop(system_bus, "Timeout", "org.bootd.Settings1") == 10
    assert prop(system_bus, "Autoboot", "org.bootd.Settings1") is False
    name = busctl(system_bus, "get-property", "org.bootd", OPT, "org.bootd.BootOption1", "Name").stdout
    assert name.strip().startswith('s "Rescue stick'), name


def test_busctl_boot_records_kexec_and_publishes_the_plan(
    serve: DaemonProcess, system_bus: PrivateBus, tmp_path: Path
) -> None:
    wait_for(lambda: OPT in busctl(system_bus, "tree", "--list", "org.bootd").stdout)
    busctl(system_bus, "call", *MGR, "Boot", "osa{sv}", OPT, "ttyAMA0", "0")
    assert prop(system_bus, "State") == "booted"
    calls = kexec_log(serve, tmp_path / "state")
    assert calls[0][:2] == ["kexec", "-l"] and calls[0][2].endswith("devices/sdb1/vmlinuz-rescue")
    assert "--append=rescue" in calls[0]
    assert calls[-1] == ["kexec", "-e"]
    last = prop(system_bus, "LastBoot")
    assert isinstance(last, dict)
    assert last["option"]["data"] == "sdb1/bls/rescue"
    assert last["dt_console_path"]["data"] == "/pl011@9000000"
    assert any("stdout-path" in line for line in last["dtb_changes"]["data"])


def test_introspection_matches_the_shipped_xml(serve: DaemonProcess, system_bus: PrivateBus) -> None:
    wait_for(lambda: OPT in busctl(system_bus, "tree", "--list", "org.bootd").stdout)

    def interfaces(xml: str) -> dict[str, list[tuple[str, ...]]]:
        out = {}
        for iface in ET.fromstring(xml).findall("interface"):
            name = iface.get("name", "")
            if name.startswith("org.bootd."):
                members = []
                for m in iface:
                    args = tuple(
                        f"{a.get('name', '')}:{a.get('direction', '')}:{a.get('type')}" for a in m.findall("arg")
                    )
                    members.append((m.tag, m.get("name", ""), m.get("type", ""), m.get("access", ""), *args))
                out[name] = sorted(members)
        return out

    exported: dict[str, list[tuple[str, ...]]] = {}
    for path in ("/org/bootd", "/org/bootd/devices/sdb1", OPT):
        r = busctl(
            system_bus, "call", "--json=short", "org.bootd", path, "org.freedesktop.DBus.Introspectable", "Introspect"
        )
        exported.update(interfaces(json.loads(r.stdout)["data"][0]))
    shipped = interfaces((ROOT / "bootd/dbus/org.bootd.xml").read_text())
    assert set(shipped) == {"org.bootd.Manager1", "org.bootd.Settings1", "org.bootd.Device1", "org.bootd.BootOption1"}
    for name in shipped:
        assert exported[name] == shipped[name], name


def test_errors_name_what_went_wrong(serve: DaemonProcess, system_bus: PrivateBus) -> None:
    r = busctl(system_bus, "call", *MGR, "Boot", "osa{sv}", "/org/bootd/options/nope", "", "0", check=False)
    assert r.returncode != 0 and "no boot option 'nope'" in r.stderr
    r = busctl(system_bus, "call", *MGR, "Boot", "osa{sv}", "/org/bootd/x", "", "0", check=False)
    assert "not a boot option object path" in r.stderr
    r = busctl(system_bus, "call", *MGR, "BootCustom", "a{sv}s", "1", "kernel", "s", "vmlinuz", "", check=False)
    assert "must name its device" in r.stderr
    r = busctl(system_bus, "call", *MGR, "SetNextBoot", "o", "/org/bootd/options/nope", check=False)
    assert r.returncode != 0 and "no boot option 'nope'" in r.stderr, "a typo is not remembered for the next boot"
    assert prop(system_bus, "NextBoot") == "/"
    r = busctl(
        system_bus, "set-property", "org.bootd", "/org/bootd", "org.bootd.Settings1", "Restrict", "s", "x", check=False
    )
    assert "restrict must be one of changes, all" in r.stderr
    r = busctl(
        system_bus, "call", "--json=short", "org.bootd", "/org/bootd", "org.freedesktop.DBus.Properties", "Get",
        "ss", "org.bootd.Manager1", "State",
    )  # fmt: skip
    assert json.loads(r.stdout)["data"][0]["data"] == "idle", "the daemon is still fine"


async def test_typed_client_and_a_failed_boot(system_bus: PrivateBus, tmp_path: Path, config_root: Path) -> None:
    machine = make_machine(
        tmp_path / "m",
        [MachineDevice("sda1", entries=[Entry("good", "Good"), Entry("broken", "Broken")], default="broken")],
    ).root
    (machine / "devices/sda1/vmlinuz-broken").unlink()
    set_config(config_root, "timeout = 0\n")
    d = DaemonProcess(system_bus, machine, tmp_path / "state", config_root=config_root)
    try:
        d.wait_ready()
        client = await BootdClient.connect(system_bus.address)
        try:
            wait_for(lambda: "Boot of Broken" in d.output())
            state = await client.get_state()
            assert state.state == "idle", "a failed autoboot returns to the menu"
            assert state.autoboot_option is None
            time.sleep(0.3)
            assert d.output().count("Boot of Broken") == 1, "and is not retried"
            assert "failed" in d.output()
            options = {o.id: o for o in await client.list_options()}
            assert set(options) == {"sda1/bls/good", "sda1/bls/broken"}
            assert options["sda1/bls/broken"].default
            with pytest.raises(ResourceError):
                await client.boot("sda1/bls/broken")
            with pytest.raises(NotFound):
                await client.boot("sda1/bls/none")
            with pytest.raises(InvalidArgument):
                await client.boot_custom(kernel="relative", device="sda1")
            await client.boot_custom(kernel="/vmlinuz-good", device="sda1", args="init=/bin/sh", console="ttyAMA0")
            state = await client.get_state()
            assert state.state == "booted"
            assert state.last_boot.name == "Custom boot" and state.last_boot.args == "init=/bin/sh"
            assert [c.name for c in await client.consoles()] == ["ttyAMA0", "tty1"]
        finally:
            client.close()
    finally:
        assert d.stop() == 0


def test_cli_client(serve: DaemonProcess, system_bus: PrivateBus) -> None:
    env = dict(os.environ, BOOTD_BUS=system_bus.address)

    def bootd(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        r = subprocess.run([sys.executable, "-m", "bootd", *args], capture_output=True, text=True, env=env, cwd=ROOT)
        if check:
            assert r.returncode == 0, r.stderr
        return r

    wait_for(lambda: "sdb1/bls/rescue" in bootd("list").stdout)
    listing = bootd("list").stdout
    assert "USB: STICK (sdb1)" in listing and "* sda1/bls/6.1" in listing
    doc = json.loads(bootd("list", "--json").stdout)
    assert {o["id"] for o in doc["options"]} == {"sda1/bls/6.1", "sda1/bls/5.10", "sdb1/bls/rescue"}
    assert doc["state"] == "idle"
    assert bootd("settings", "set", "boot_order", "usb,disk").returncode == 0
    assert bootd("settings", "get", "boot_order").stdout.strip() == "usb disk"
    r = bootd("settings", "set", "timeout", "soon", check=False)
    assert r.returncode == 1 and "timeout must be a whole number" in r.stderr and "Traceback" not in r.stderr
    assert "timeout = 10" in bootd("settings").stdout
    assert bootd("cancel").stdout.strip() == "autoboot cancelled"
    r = bootd("boot", "Nothing", check=False)
    assert r.returncode == 1 and "no boot option is called 'Nothing'" in r.stderr
    assert "will boot next time" in bootd("boot", "rescue", "--next").stdout, "an entry id names an option too"
    assert "next boot: sdb1/bls/rescue" in bootd("status").stdout
    title = next(o["name"] for o in doc["options"] if o["id"] == "sdb1/bls/rescue")
    out = bootd("boot", title, "--console", "ttyAMA0", "--args", "single").stdout
    assert "kexec -l" in out and "--append=single" in out and "console ttyAMA0: /pl011@9000000" in out
    assert "state: booted" in bootd("status").stdout


def test_status_follow_prints_as_it_happens(serve: DaemonProcess, system_bus: PrivateBus) -> None:
    env = dict(os.environ, BOOTD_BUS=system_bus.address)
    follow = subprocess.Popen(
        [sys.executable, "-m", "bootd", "status", "--follow"], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )
    try:
        assert follow.stdout is not None
        assert follow.stdout.readline().startswith("state: idle")
        wait_for(lambda: OPT in busctl(system_bus, "tree", "--list", "org.bootd").stdout)
        busctl(system_bus, "call", *MGR, "Boot", "osa{sv}", OPT, "", "0")
        seen: list[str] = []
        while not any(line.startswith("state: booted") for line in seen):
            seen.append(follow.stdout.readline().strip())
        assert any(line.startswith("info: Booting Rescue stick") for line in seen), seen
        assert any(line.startswith("[100%]") for line in seen)
    finally:
        follow.kill()
        follow.wait()
        if follow.stdout is not None:
            follow.stdout.close()


async def test_sigterm_releases_devices_and_the_name(serve: DaemonProcess, system_bus: PrivateBus) -> None:
    client = await BootdClient.connect(system_bus.address)
    gone: list[str] = []
    lost: list[bool] = []
    client.on_device_removed(gone.append)
    client.on_daemon_lost(lambda: lost.append(True))
    try:
        for _ in range(200):
            if len(await client.list_devices()) == 2:
                break
            await asyncio.sleep(0.05)
        assert {d.id for d in await client.list_devices()} == {"sda1", "sdb1"}
        assert busctl(system_bus, "status", "org.bootd", check=False).returncode == 0
        assert serve.stop() == 0
        for _ in range(100):
            if lost:
                break
            await asyncio.sleep(0.05)
        assert sorted(gone) == ["sda1", "sdb1"], "discovery stopped (devices released) before the name went"
        assert lost == [True]
        assert busctl(system_bus, "status", "org.bootd", check=False).returncode != 0
        assert "shutting down" in serve.output() and "Traceback" not in serve.output()
    finally:
        client.close()


def test_headless_autoboot_and_next_boot(
    system_bus: PrivateBus, machine: Path, tmp_path: Path, config_root: Path
) -> None:
    # Both devices are scanned well within the 2 s countdown; the better (USB) candidate wins.
    set_config(config_root, 'timeout = 2\nboot_order = ["usb", "disk"]\n')
    state = tmp_path / "state"
    d = DaemonProcess(system_bus, machine, state, config_root=config_root)
    try:
        d.wait_ready()
        wait_for(lambda: kexec_log(d, state) != [])
        assert "devices/sdb1/vmlinuz-rescue" in kexec_log(d, state)[0][2], "USB comes first in boot_order"
        wait_for(lambda: prop(system_bus, "State") == "booted")
    finally:
        assert d.stop() == 0
    # Choose the next boot on a daemon that does not autoboot; the choice survives a restart.
    set_config(config_root, "autoboot = false\n")
    d = DaemonProcess(system_bus, machine, state, config_root=config_root)
    try:
        d.wait_ready()
        wait_for(
            lambda: "/org/bootd/options/sda1/bls/5_2e10" in busctl(system_bus, "tree", "--list", "org.bootd").stdout
        )
        busctl(system_bus, "call", *MGR, "SetNextBoot", "o", "/org/bootd/options/sda1/bls/5_2e10")
        assert prop(system_bus, "NextBoot") == "/org/bootd/options/sda1/bls/5_2e10"
    finally:
        assert d.stop() == 0
    (state / "kexec.log").unlink()
    set_config(config_root, 'timeout = 2\nboot_order = ["usb"]\n')
    d = DaemonProcess(system_bus, machine, state, config_root=config_root)
    try:
        d.wait_ready()
        wait_for(lambda: kexec_log(d, state) != [])
        assert "devices/sda1/vmlinuz-5.10" in kexec_log(d, state)[0][2], "the next-boot choice wins once"
        wait_for(lambda: prop(system_bus, "NextBoot") == "/")
        assert not (state / "next-boot").exists()
    finally:
        assert d.stop() == 0


async def test_a_relative_sandbox_path_is_published_absolute(
    system_bus: PrivateBus, machine: Path, tmp_path: Path, config_root: Path
) -> None:
    # The daemon runs in ROOT; clients (and file:// URLs of the machine's network) must not depend on that.
    set_config(config_root, "autoboot = false\n")
    relative = Path(os.path.relpath(machine, ROOT))
    d = DaemonProcess(system_bus, relative, Path(os.path.relpath(tmp_path / "state", ROOT)), config_root=config_root)
    try:
        d.wait_ready()
        client = await BootdClient.connect(system_bus.address)
        try:
            for _ in range(200):
                if len(await client.list_devices()) == 2:
                    break
                await asyncio.sleep(0.05)
            mounts = {dev.id: dev.mountpoint for dev in await client.list_devices()}
            assert set(mounts) == {"sda1", "sdb1"}
            for mountpoint in mounts.values():
                assert mountpoint is not None and mountpoint.is_absolute(), mounts
                assert mountpoint.is_relative_to(machine), mounts
        finally:
            client.close()
    finally:
        assert d.stop() == 0
    assert (tmp_path / "state").is_dir()


def test_cli_settings_with_a_password(serve: DaemonProcess, system_bus: PrivateBus) -> None:
    env = dict(os.environ, BOOTD_BUS=system_bus.address)
    env.pop("BOOTD_PASSWORD", None)

    def bootd(*args: str, password: str | None = None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        e = env if password is None else dict(env, BOOTD_PASSWORD=password)
        return subprocess.run(
            [sys.executable, "-m", "bootd", *args], capture_output=True, text=True, env=e, cwd=ROOT, input=stdin
        )

    # every setting the daemon accepts can be read and is echoed when set
    assert bootd("settings", "get", "allow_shell").stdout.strip() == "true"
    r = bootd("settings", "set", "allow_shell", "false")
    assert r.returncode == 0 and r.stdout.strip() == "allow_shell = false", r.stderr
    assert "allow_shell = false" in bootd("settings").stdout.splitlines()
    assert bootd("settings", "set", "password", "-", stdin="hunter2\n").stdout.strip() == "password = (set)"
    r = bootd("settings", "set", "timeout", "4")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "authenticate first to change settings" in r.stderr and "$BOOTD_PASSWORD" in r.stderr, r.stderr
    r = bootd("settings", "set", "timeout", "4", password="wrong")
    assert r.returncode == 1 and "wrong password" in r.stderr and "$BOOTD_PASSWORD" not in r.stderr, r.stderr
    r = bootd("settings", "set", "timeout", "4", password="hunter2")
    assert r.returncode == 0 and r.stdout.strip() == "timeout = 4", r.stderr
    assert bootd("settings", "get", "timeout").stdout.strip() == "4"


@pytest.mark.parametrize(
    ("lang", "said"),
    [("de_DE.UTF-8", "ein anderer Daemon besitzt bereits org.bootd"), ("zh_CN.UTF-8", "另一个守护进程已在")],
)
def test_a_second_daemon_says_the_name_is_taken_in_its_language(
    serve: DaemonProcess,
    system_bus: PrivateBus,
    machine: Path,
    tmp_path: Path,
    locale_dir: Path,  # noqa: F811
    lang: str,
    said: str,
) -> None:
    argv = ["serve", "--bus", system_bus.address, "--sandbox", str(machine), "--state-dir", str(tmp_path / "second")]
    r = subprocess.run(
        [sys.executable, "-m", "bootd", *argv],
        capture_output=True,
        text=True,
        env=env_for(lang, locale_dir),
        cwd=ROOT,
        timeout=60,
    )
    assert r.returncode != 0
    assert said in r.stderr and "already owns" not in r.stderr, r.stderr
