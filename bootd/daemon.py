"""The daemon behind the D-Bus service: the inventory, autoboot and three
parts along the daemon's seams, implementing the :class:`bootd.api.DaemonApi`
protocol.

* :class:`~bootd.boot_machine.BootMachine` -- the boot state machine (``boots``);
* :class:`~bootd.option_store.OptionStore` -- next boot and consoles (``options``);
* :class:`~bootd.settings_service.SettingsService` -- the settings in force (``config``).

Everything here speaks the model; :mod:`bootd.dbus` adapts it to the bus.
Built and wired by :mod:`bootd.app`, which also owns its tasks and shuts it down.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from bootd import __version__, settings
from bootd.api import DaemonEvent, EventHub
from bootd.autoboot import Autoboot, BootOutcome, Clock, Countdown
from bootd.bmc_override import BmcOverride
from bootd.boot_machine import BootMachine
from bootd.errors import BootdError, Cancelled, ConfigError, NotFound, SignatureRefused, Unsupported
from bootd.inventory import Inventory
from bootd.loader.trust import TrustChecker
from bootd.model import N_, BootOption, BootOverrides, BootRequest, DaemonInfo, Severity, Text
from bootd.option_store import OptionStore
from bootd.platform import Platform
from bootd.policy import Choice, choose
from bootd.settings_service import SettingsService
from bootd.settings_table import Table

if TYPE_CHECKING:  # the signature checks load with the first option checked or booted, after the bus name
    from bootd.loader import verify

log = logging.getLogger(__name__)


class DiscoveryLike(Protocol):
    async def start(self) -> None: ...
    async def rescan(self) -> None: ...
    async def stop(self) -> None: ...


class NetworkLike(DiscoveryLike, Protocol):
    async def handle_event(self, event: str, params: Mapping[str, str]) -> None: ...
    async def add_url(self, url: str) -> list[BootOption]: ...
    def check_settings(self, main: Mapping[str, Any]) -> object:
        """ConfigError unless the main file's values ``main`` give valid network settings."""
        ...

    async def apply_settings(self) -> list[str]:
        """Put the network settings of the files in force at once; what was done."""
        ...

    def check_files(self) -> object:
        """ConfigError unless the files as they are give valid network settings."""
        ...


class Daemon:
    """The daemon's state and what it offers the edges (:class:`bootd.api.DaemonApi`)."""

    def __init__(
        self,
        platform: Platform,
        inventory: Inventory,
        paths: settings.Paths,
        *,
        state_dir: Path,
        work_dir: Path,
        hooks_dir: Path | None,
        clock: Clock,
        nvram: Mapping[str, object] | None = None,
        table: settings.Table = settings.TABLE,
    ) -> None:
        self.platform = platform
        self.inventory = inventory
        self.paths = paths
        self.clock = clock
        self.discovery: DiscoveryLike | None = None
        self.network: NetworkLike | None = None
        self.events = EventHub()
        self.config = SettingsService(paths, self.events, nvram=nvram, reloaded=self._settings_reloaded, table=table)
        self.options = OptionStore(
            platform, inventory, self.events, state_dir=state_dir, changed=lambda: self.autoboot.poke()
        )
        self.boots = BootMachine(
            platform,
            self.events,
            work_dir=work_dir,
            hooks_dir=hooks_dir,
            devices=lambda: {d.id: d for d in inventory.devices()},
            on_start=self.options.consumed,
            add_seeds=lambda: self.settings.add_boot_seeds,
            signed_boot=lambda: (self.settings.signed_boot, self.settings.signed_boot_keyring),
            measured_boot=lambda: self.settings.measured_boot,
        )
        self._custom = itertools.count(1)
        self.bmc = BmcOverride(
            platform.bmc, self.events, changed=lambda: self.autoboot.poke(), enabled=lambda: self.settings.ipmi != "off"
        )
        self.autoboot = Autoboot(
            clock=clock,
            choose=self.choose,
            timeout=lambda: float(self.settings.timeout),
            enabled=lambda: self.settings.autoboot and not self.bmc.stops_autoboot(),
            boot=self.autoboot_boot,
            on_change=self.boots.countdown_changed,
            status=lambda message: self.events.status(Severity.INFO, message),
        )
        inventory.subscribe(lambda _event: self.autoboot.poke())
        self.trust = TrustChecker(platform, inventory, self.signed_boot_policy, work_dir=state_dir / "trust")

    def signed_boot_policy(self) -> verify.Policy:
        from bootd.loader import verify

        return verify.Policy(self.settings.signed_boot, self.settings.signed_boot_keyring)

    def _settings_reloaded(self) -> None:
        self.autoboot.poke()
        self.trust.policy_changed()

    @property
    def settings(self) -> settings.Settings:
        return self.config.current

    @property
    def settings_table(self) -> Table:
        return self.config.table

    @property
    def settings_problems(self) -> tuple[str, ...]:
        return self.config.problems

    @property
    def settings_origins(self) -> Mapping[str, str]:
        return self.config.origins

    @property
    def countdown(self) -> Countdown:
        return self.autoboot.state

    def info(self) -> DaemonInfo:
        try:
            lockdown = self.platform.boot.lockdown()
        except (OSError, BootdError):
            lockdown = "unknown"
        return DaemonInfo(
            version=__version__,
            platform=self.platform.name,
            arch=self.platform.arch,
            firmware=self.platform.firmware,
            lockdown=lockdown,
        )

    def subscribe(self, listener: Callable[[DaemonEvent], None]) -> None:
        self.events.subscribe(listener)

    # -- autoboot --------------------------------------------------------------------
    def choose(self, incumbent: str | None = None) -> Choice | None:
        devices = {d.id: d for d in self.inventory.devices()}
        return choose(
            self.inventory.options(),
            devices,
            self.bmc.boot_order(self.settings.boot_order),
            next_boot=self.options.next_boot,
            incumbent=incumbent,
        )

    async def autoboot_boot(self, option: BootOption) -> BootOutcome:
        self.events.status(Severity.INFO, Text.of(N_("Autoboot: booting {name}"), name=option.name))
        await self.bmc.used()
        try:
            await self.boots.run(BootRequest(option, console=self.settings.console or None))
        except Cancelled:
            return BootOutcome.CANCELLED
        except SignatureRefused:
            self.trust.recheck(option.id)  # the files may have changed since their verdict
            return BootOutcome.FAILED
        except BootdError:
            return BootOutcome.FAILED
        return BootOutcome.BOOTED

    def cancel_autoboot(self) -> None:
        if self.autoboot.cancel("cancelled by a user"):
            self.events.status(Severity.INFO, Text.of(N_("Autoboot cancelled")))

    # -- booting -----------------------------------------------------------------------
    async def boot(self, option_id: str, console: str, overrides: BootOverrides) -> None:
        opt = self.inventory.option(option_id)
        if opt is None:
            raise NotFound(f"no boot option {option_id!r} (it may have been removed)")
        if overrides.args is not None and overrides.args != opt.args and self.settings.signed_boot == "enforce":
            text = Text.of(
                N_("signed_boot = enforce: the command line of {name} cannot be edited (it is signed)"), name=opt.name
            )
            self.events.status(Severity.ERROR, text)
            raise SignatureRefused(text.text)
        self.cancel_autoboot()
        try:
            await self.boots.run(
                BootRequest(opt, console=console or self.settings.console or None, args=overrides.args)
            )
        except SignatureRefused:
            self.trust.recheck(opt.id)  # the files may have changed since their verdict
            raise

    async def boot_custom(self, option: BootOption, console: str) -> None:
        opt = replace(option, id=f"custom/{next(self._custom)}")
        if opt.device and self.inventory.device(opt.device) is None:
            raise NotFound(f"no device {opt.device!r}")
        self.cancel_autoboot()
        await self.boots.run(BootRequest(opt, console=console or self.settings.console or None))

    # -- discovery, network, settings ------------------------------------------------------
    async def rescan(self) -> None:
        self.options.read_consoles()
        if self.discovery is not None:
            await self.discovery.rescan()
        self.events.status(Severity.INFO, Text.of(N_("Rescanning devices")))

    async def add_url(self, url: str) -> list[BootOption]:
        if self.network is None:
            raise Unsupported("this build has no network discovery")
        return await self.network.add_url(url)

    async def handle_event(self, event: str, params: Mapping[str, str]) -> None:
        if self.network is None:
            raise Unsupported("this build has no network discovery")
        await self.network.handle_event(event, params)

    async def set_setting(self, key: str, value: object) -> None:
        await self.set_settings({key: value})

    async def set_settings(self, changes: Mapping[str, object]) -> None:
        # network discovery refuses what it could not apply before anything is written, and applies the rest at once
        network = self.network if "network" in changes else None
        written = await self.config.write_many(changes, check=network.check_settings if network else None)
        discovery = self.discovery
        if "scan_loop_devices" in written and discovery is not None and hasattr(discovery, "scan_loop_devices"):
            discovery.scan_loop_devices = self.settings.scan_loop_devices
            await discovery.rescan()
        if network is not None:
            await network.apply_settings()  # says what it applied in the status line
        elif "network" in changes:
            self.events.status(Severity.INFO, "Network settings saved (this build has no network discovery)")
        for key, value in written.items():
            self.config.require_in_force(key, value)

    async def reload_settings(self) -> bool:
        """Read the settings files again (SIGHUP: the admin edited them) and put
        them in force, network settings included; or, when any file is invalid,
        keep the settings in force and say why (never fail open).  Whether they were reloaded."""
        network = self.network
        try:
            await asyncio.to_thread(self.config.check_files)
            if network is not None:
                await asyncio.to_thread(network.check_files)
        except ConfigError as e:
            self.events.status(
                Severity.WARNING,
                Text.of(N_("settings not reloaded: {error}; the settings in force are kept"), error=Text.of_error(e)),
            )
            return False
        old = self.settings
        self.config.reload()
        changed = [key for key in self.settings_table.keys if getattr(old, key) != getattr(self.settings, key)]
        discovery = self.discovery
        if "scan_loop_devices" in changed and discovery is not None and hasattr(discovery, "scan_loop_devices"):
            discovery.scan_loop_devices = self.settings.scan_loop_devices
            await discovery.rescan()
        self.events.status(
            Severity.INFO,
            Text.of(
                N_("Settings reloaded from {path}: {changed}"),
                path=self.paths.main,
                changed=", ".join(changed) or "no change",
            ),  # fmt: skip
        )
        if network is not None:
            await network.apply_settings()  # the [network] table's own keys may have changed too
        return True

    async def shutdown(self) -> None:
        self.autoboot.cancel("shutting down")
        await self.trust.stop()
        for part in (self.network, self.discovery):
            if part is not None:
                try:
                    await part.stop()
                except Exception:
                    log.exception("stopping %s failed", type(part).__name__)
