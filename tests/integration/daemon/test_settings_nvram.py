"""Every NVRAM key Petitboot defines is read (through the real ``nvram`` tool's
interface: a stand-in on PATH), documented, and shown with the layer it came
from by ``bootd settings show --origin`` against a real daemon on a private bus."""

from __future__ import annotations

import argparse
import asyncio
import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bootd import settings
from bootd.app import read_nvram
from bootd.cli.client import configure_settings, run_settings
from bootd.daemon import Daemon
from bootd.dbus.client import BootdClient
from bootd.dbus.service import Service
from bootd.discovery.network_settings import Method, load_network_settings
from bootd.inventory import Inventory
from bootd.platform.linux import linux_platform
from bootd.platform.sandbox import sandbox_platform
from bootd.settings_table import PETITBOOT_NVRAM, TABLE
from tests.integration.daemon.conftest import STANDARD, set_config
from tests.integration.daemon.helpers import PrivateBus, make_machine
from tests.unit.daemon.helpers import ManualClock

MAC = "52:54:00:12:34:56"
OTHER = "52:54:00:ab:cd:ef"
PRINT_CONFIG = f"""\
auto-boot?=false
petitboot,timeout=3
petitboot,bootdevs=network disk
petitboot,console=hvc0
petitboot,language=de_DE.utf8
petitboot,network={MAC},static,10.0.0.5/24,10.0.0.1 {OTHER},dhcp dns,10.0.0.53,10.0.0.54
petitboot,http_proxy=http://proxy.example:3128
petitboot,https_proxy=http://secure.example:3129
petitboot,debug?=true
petitboot,write?=true
petitboot,snapshots?=false
"""
"""What ``nvram --print-config`` prints on a Petitboot machine with every key set."""

PETITBOOT_KEYS = (
    "auto-boot?",
    "petitboot,network",
    "petitboot,timeout",
    "petitboot,bootdev",
    "petitboot,bootdevs",
    "petitboot,language",
    "petitboot,debug?",
    "petitboot,write?",
    "petitboot,snapshots?",
    "petitboot,console",
    "petitboot,tty",
    "petitboot,http_proxy",
    "petitboot,https_proxy",
)
"""Petitboot's NVRAM keys (its common list, plus the older bootdev and tty)."""


def nvram_tool(directory: Path, output: str, monkeypatch: pytest.MonkeyPatch) -> None:
    tool = directory / "nvram"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "print-config").write_text(output)
    tool.write_text(f'#!/bin/sh\n[ "$1" = "--print-config" ] || exit 2\ncat "{directory / "print-config"}"\n')
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{directory}{os.pathsep}{os.environ['PATH']}")


def test_every_petitboot_key_is_documented_with_what_bootd_reads_it_as() -> None:
    documented = {key: target for key, target, _note in PETITBOOT_NVRAM}
    assert set(documented) == set(PETITBOOT_KEYS)
    for row in TABLE:
        for key in (row.nvram, row.nvram_old):
            if key:
                assert documented[key] == row.name, key
    unused = [(key, note) for key, target, note in PETITBOOT_NVRAM if not target]
    assert [k for k, _ in unused] == ["petitboot,debug?", "petitboot,write?", "petitboot,snapshots?"]
    assert all(note.startswith("not used: ") for _, note in unused), "each says why"


async def test_every_key_is_read_through_the_tool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nvram_tool(tmp_path / "bin", PRINT_CONFIG, monkeypatch)
    values = await read_nvram(linux_platform())
    s = settings.load(settings.Paths(tmp_path / "root"), nvram=values)
    assert (s.autoboot, s.timeout, s.boot_order, s.console, s.language) == (
        False,
        3,
        ("network", "disk"),
        "hvc0",
        "de_DE",
    )
    net = load_network_settings(settings.Paths(tmp_path / "root"), nvram=values)
    assert net.proxy == "http://proxy.example:3128" and net.https_proxy == "http://secure.example:3129"
    static = net.interfaces[MAC]
    assert static.method is Method.STATIC and static.static is not None
    assert (static.static.address, static.static.prefix, static.static.gateway) == ("10.0.0.5", 24, "10.0.0.1")
    assert static.static.dns == ("10.0.0.53", "10.0.0.54"), "Petitboot's dns entry serves static interfaces"
    assert net.interfaces[OTHER].method is Method.DHCP


async def test_older_petitboot_keys_are_read_when_the_new_ones_are_absent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nvram_tool(tmp_path / "bin", "petitboot,bootdev=network\npetitboot,tty=ttyS1\n", monkeypatch)
    s = settings.load(settings.Paths(tmp_path / "root"), nvram=await read_nvram(linux_platform()))
    assert (s.boot_order, s.console) == (("network",), "ttyS1")


@pytest.fixture
async def daemon_with_nvram(
    system_bus: PrivateBus, tmp_path: Path, config_root: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[settings.Paths]:
    nvram_tool(tmp_path / "bin", PRINT_CONFIG, monkeypatch)
    nvram = await read_nvram(linux_platform())
    (config_root / "usr/lib/bootd").mkdir(parents=True)
    (config_root / "usr/lib/bootd/bootd.toml").write_text('timeout = 20\nconsole = "tty1"\nallow_shell = false\n')
    set_config(config_root, 'timeout = 7\n[network]\nproxy = "http://etc.example:8080"\n')
    machine = make_machine(tmp_path / "machine", STANDARD).root
    state_dir = tmp_path / "state"
    daemon = Daemon(
        sandbox_platform(machine, state_dir),
        Inventory(),
        settings.Paths(config_root),
        nvram=nvram,
        state_dir=state_dir,
        work_dir=state_dir / "work",
        hooks_dir=None,
        clock=ManualClock(),
    )
    service = await Service.connect(system_bus.address, daemon, now=daemon.clock.now)
    try:
        yield settings.Paths(config_root)
    finally:
        await daemon.shutdown()
        await service.close()


async def test_settings_show_origin_names_each_layer(
    daemon_with_nvram: settings.Paths, system_bus: PrivateBus, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser()
    configure_settings(parser)
    args = parser.parse_args(["--bus", system_bus.address, "show", "--origin"])
    assert await asyncio.to_thread(run_settings, args) == 0
    lines = capsys.readouterr().out.splitlines()
    main, vendor = str(daemon_with_nvram.main), str(daemon_with_nvram.vendor)
    assert f"timeout = 7  # {main}" in lines, "/etc beats NVRAM and the vendor's file"
    assert "console = hvc0  # NVRAM" in lines, "NVRAM beats the vendor's file"
    assert f"allow_shell = false  # {vendor}" in lines
    assert "autoboot = false  # NVRAM" in lines
    assert "boot_order = network disk  # NVRAM" in lines
    assert "language = de_DE  # NVRAM" in lines
    assert "restrict = changes  # default" in lines
    assert f"network.proxy  # {main}" in lines
    assert "network.https_proxy  # NVRAM" in lines
    assert f"network.interface.{MAC}  # NVRAM" in lines

    client = await BootdClient.connect(system_bus.address)
    try:
        view = await client.get_settings()
        assert view.origins["timeout"] == main and view.language == "de_DE"
    finally:
        client.close()
