"""A new boolean setting is one row of the settings table: declared through
the table's own extension point (``Table.extend``), and nothing else, it is
read from TOML and NVRAM, written by the format-preserving writer, carried
by ``org.bootd.Settings1`` (property, introspection, PropertiesChanged),
seen by the client, edited on the menu's settings form and shown and set by
``bootd settings``.  The daemon, the service, the client, the menu's backend
and the CLI run for real on a private bus, each handed the extended table."""

from __future__ import annotations

import argparse
import asyncio
import subprocess
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

from bootd import settings, settings_write
from bootd.cli.client import configure_settings, run_settings
from bootd.daemon import Daemon
from bootd.dbus import schema
from bootd.dbus.client import BootdClient, SettingsView
from bootd.dbus.service import Service
from bootd.errors import ConfigError, InvalidArgument
from bootd.inventory import Inventory
from bootd.platform.sandbox import sandbox_platform
from bootd.settings_table import TABLE, Setting, Widget, check_bool
from tests.integration.daemon.conftest import STANDARD, set_config
from tests.integration.daemon.helpers import PrivateBus, make_machine
from tests.unit.daemon.helpers import ManualClock
from tests.unit.ui import helpers as h
from ui.dbus_backend import DBusBackend
from ui.views.settings import CheckInput
from ui.views.settings import SettingsView as SettingsScreen

BEEP = Setting(
    check_bool,
    "Beep on the console when the countdown starts.",
    name="beep",
    type=bool,
    default=False,
    nvram="petitboot,beep",
    dbus="Beep",
    widget=Widget.CHECK,
    label="Beep",
    form_help="beep when the countdown starts",
)
EXTENDED = TABLE.extend(BEEP)


def beep_of(s: settings.Settings) -> object:
    """The extension's value (the built-in Settings type does not name it)."""
    return asdict(s)["beep"]


def write_main(root: Path, text: str) -> None:
    (root / "etc/bootd").mkdir(parents=True, exist_ok=True)
    set_config(root, text)


def test_the_new_setting_is_read_from_toml_and_nvram_and_validated(tmp_path: Path) -> None:
    paths = settings.Paths(tmp_path)
    write_main(tmp_path, "# the admin's comment\nbeep = true\n")
    assert beep_of(settings.load(paths, table=EXTENDED)) is True
    assert settings.load(paths) == settings.DEFAULTS, "the built-in table does not know it"
    assert settings.parse_nvram("petitboot,beep=yes\n", EXTENDED) == {"beep": "yes"}
    nvram = settings.parse_nvram("petitboot,beep=yes\n", EXTENDED)
    assert beep_of(settings.load(settings.Paths(tmp_path / "empty"), nvram=nvram, table=EXTENDED)) is True
    write_main(tmp_path, "beep = 'maybe'\n")
    warnings: list[str] = []
    assert beep_of(settings.load(paths, warn=lambda t: warnings.append(t.text), table=EXTENDED)) is False
    assert any("beep must be true or false, not 'maybe'" in w for w in warnings)


def test_the_writer_writes_it_and_keeps_the_file(tmp_path: Path) -> None:
    paths = settings.Paths(tmp_path)
    write_main(tmp_path, "# the admin's comment\ntimeout = 3\n")
    settings_write.write_setting(paths, "beep", "on", EXTENDED)
    assert paths.main.read_text() == "# the admin's comment\ntimeout = 3\nbeep = true\n"
    with pytest.raises(ConfigError, match="unknown setting 'beep'"):
        settings_write.write_setting(paths, "beep", True)


def test_the_settings1_declaration_has_its_property() -> None:
    xml = schema.introspection(schema.settings_interface(EXTENDED))
    assert '<property name="Beep" type="b" access="readwrite" />' in xml
    assert xml.replace('    <property name="Beep" type="b" access="readwrite" />\n', "") == schema.introspection(
        schema.SETTINGS
    ), "nothing else changes"


@dataclass
class Running:
    daemon: Daemon
    client: BootdClient
    bus: PrivateBus
    paths: settings.Paths


@pytest.fixture
async def running(system_bus: PrivateBus, tmp_path: Path, config_root: Path) -> AsyncIterator[Running]:
    set_config(config_root, "autoboot = false\n")
    machine = make_machine(tmp_path / "machine", STANDARD).root
    state_dir = tmp_path / "state"
    daemon = Daemon(
        sandbox_platform(machine, state_dir),
        Inventory(),
        settings.Paths(config_root),
        state_dir=state_dir,
        work_dir=state_dir / "work",
        hooks_dir=None,
        clock=ManualClock(),
        table=EXTENDED,
    )
    service = await Service.connect(system_bus.address, daemon, now=daemon.clock.now)
    client = await BootdClient.connect(system_bus.address, table=EXTENDED)
    try:
        yield Running(daemon, client, system_bus, settings.Paths(config_root))
    finally:
        client.close()
        await daemon.shutdown()
        await service.close()


async def until(pred: object, timeout: float = 10.0) -> None:
    assert callable(pred)
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not pred():
        if loop.time() > end:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.02)


async def test_the_daemon_serves_it_on_settings1_and_the_client_sets_it(running: Running) -> None:
    address = running.bus.address.split(",")[0]
    intro = await asyncio.to_thread(
        subprocess.run,
        ["busctl", "--address", address, "introspect", "org.bootd", "/org/bootd", "org.bootd.Settings1"],
        capture_output=True,
        text=True,
        check=True,
    )
    beep = [line.split() for line in intro.stdout.splitlines() if line.startswith(".Beep ")]
    assert beep == [[".Beep", "property", "b", "false", "emits-change", "writable"]]

    view = await running.client.get_settings()
    assert view.beep is False and view.timeout == 10
    seen: list[SettingsView] = []
    running.client.on_settings(seen.append)
    await running.client.set_setting("beep", True)
    assert beep_of(running.daemon.settings) is True
    assert "beep = true" in running.paths.main.read_text()
    await until(lambda: any(v.beep for v in seen))  # PropertiesChanged carried it
    assert (await running.client.get_settings()).beep is True


async def test_the_menu_form_edits_it_and_saves_it_through_the_daemon(running: Running) -> None:
    backend = DBusBackend(running.bus.address, table=EXTENDED)
    try:
        saved: list[dict[str, object]] = []
        screen = SettingsScreen(await backend.get_settings(), [], saved.append, lambda: None)
        assert "Beep" in h.screen(screen)
        assert "Beep           beep when the countdown starts" in screen.help
        screen.input("beep", CheckInput).box.set_state(True)
        screen.save()
        assert saved == [{"beep": True}]
        await backend.set_settings(saved[0])
        assert beep_of(running.daemon.settings) is True
        again = SettingsScreen(await backend.get_settings(), [], saved.append, lambda: None)
        assert again.input("beep", CheckInput).box.state is True
    finally:
        await backend.close()


async def test_bootd_settings_shows_and_sets_it(running: Running, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    configure_settings(parser, EXTENDED)
    assert "beep" in parser.format_help()

    def cli(*argv: str) -> str:
        assert run_settings(parser.parse_args(["--bus", running.bus.address, *argv]), EXTENDED) == 0
        return capsys.readouterr().out

    assert "beep = false" in (await asyncio.to_thread(cli)).splitlines()
    assert await asyncio.to_thread(cli, "set", "beep", "yes") == "beep = true\n"
    assert await asyncio.to_thread(cli, "get", "beep") == "true\n"
    assert "beep = true" in running.paths.main.read_text()


async def test_a_client_of_the_built_in_table_does_not_know_it(running: Running) -> None:
    plain = await BootdClient.connect(running.bus.address)
    try:
        with pytest.raises(InvalidArgument, match="unknown setting 'beep'"):
            await plain.set_setting("beep", True)
        with pytest.raises(AttributeError):
            _ = (await plain.get_settings()).beep
    finally:
        plain.close()
