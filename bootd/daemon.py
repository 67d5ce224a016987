"""The daemon's state behind the D-Bus service (layer L5): the inventory, the
settings, autoboot and the boot in progress, implementing the
:class:`bootd.api.DaemonApi` protocol.  Built and wired by
:mod:`bootd.app`, which also owns its tasks and shuts it down.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from bootd import __version__, settings
from bootd.api import DaemonChanged, DaemonEvent, Fact, ProgressEvent, SettingsChanged, StatusEvent
from bootd.autoboot import Autoboot, BootOutcome, Clock, Countdown
from bootd.errors import BootdError, Busy, Cancelled, ConfigError, NotFound, Unsupported
from bootd.inventory import Inventory
from bootd.model import BootOption, BootOverrides, BootRecord, BootRequest, Console, DaemonInfo, Severity, State
from bootd.platform import Platform
from bootd.policy import Choice, choose

log = logging.getLogger(__name__)


class DiscoveryLike(Protocol):
    async def start(self) -> None: ...
    async def rescan(self) -> None: ...
    async def stop(self) -> None: ...


class NetworkLike(DiscoveryLike, Protocol):
    async def handle_event(self, event: str, params: Mapping[str, str]) -> None: ...
    async def add_url(self, url: str) -> list[BootOption]: ...


class Daemon:
    """The state the D-Bus service exposes (:class:`bootd.api.DaemonApi`)."""

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
        nvram: Mapping[str, Any] | None = None,
    ) -> None:
        self.platform = platform
        self.inventory = inventory
        self.paths = paths
        self.nvram = dict(nvram or {})
        self.state_dir = state_dir
        self.work_dir = work_dir
        self.hooks_dir = hooks_dir
        self.clock = clock
        self.discovery: DiscoveryLike | None = None
        self.network: NetworkLike | None = None
        self._listeners: list[Callable[[DaemonEvent], None]] = []
        self._settings = settings.load(paths, nvram=self.nvram, warn=self._warn)
        self._state = State.IDLE
        self._booting = False
        self._boot_task: asyncio.Task[Any] | None = None
        self._executing = False
        self._cancel_requested = False
        self._last = BootRecord()
        self._custom = itertools.count(1)
        self._consoles = self._read_consoles()
        self._next_file = state_dir / "next-boot"
        self._next = self._read_next()
        self.autoboot = Autoboot(
            clock=clock,
            choose=self.choose,
            timeout=lambda: float(self._settings.timeout),
            enabled=lambda: self._settings.autoboot,
            boot=self.autoboot_boot,
            on_change=self.on_countdown,
            status=lambda message: self.status(Severity.INFO, message),
        )
        inventory.subscribe(lambda _event: self.autoboot.poke())

    # -- facts ---------------------------------------------------------------------
    @property
    def settings(self) -> settings.Settings:
        return self._settings

    @property
    def state(self) -> State:
        return self._state

    @property
    def countdown(self) -> Countdown:
        return self.autoboot.state

    @property
    def next_boot(self) -> str | None:
        return self._next

    @property
    def last_boot(self) -> BootRecord:
        return self._last

    def consoles(self) -> list[Console]:
        return self._consoles

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

    def _read_consoles(self) -> list[Console]:
        try:
            return list(self.platform.boot.consoles())
        except (OSError, BootdError) as e:
            self._warn(f"cannot list consoles: {e}")
            return []

    def _read_next(self) -> str | None:
        try:
            return self._next_file.read_text(encoding="utf-8").strip() or None
        except OSError:
            return None

    # -- events ----------------------------------------------------------------------
    def subscribe(self, listener: Callable[[DaemonEvent], None]) -> None:
        self._listeners.append(listener)

    def _emit(self, event: DaemonEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("listener failed on %s", type(event).__name__)

    def status(self, severity: Severity, message: str, *, logged: bool = False) -> None:
        """Tell every UI (the Status signal) and the journal, unless ``logged``."""
        if not logged:
            level = {Severity.INFO: logging.INFO, Severity.WARNING: logging.WARNING}.get(severity, logging.ERROR)
            log.log(level, "%s", message)
        self._emit(StatusEvent(severity, message))

    def status_logged(self, severity: Severity, message: str) -> None:
        """For parts that log their own messages (discovery)."""
        self.status(severity, message, logged=True)

    def _warn(self, message: str) -> None:
        self.status(Severity.WARNING, message)

    def _set_state(self, state: State) -> None:
        if state != self._state:
            self._state = state
            self._emit(DaemonChanged((Fact.STATE,)))

    def on_countdown(self, cd: Countdown) -> None:
        if not self._booting and self._state != State.BOOTED:
            self._state = State.COUNTDOWN if cd.remaining is not None and cd.remaining > 0 else State.IDLE
        self._emit(DaemonChanged((Fact.COUNTDOWN,)))

    # -- autoboot --------------------------------------------------------------------
    def choose(self, incumbent: str | None = None) -> Choice | None:
        devices = {d.id: d for d in self.inventory.devices()}
        return choose(
            self.inventory.options(), devices, self._settings.boot_order, next_boot=self._next, incumbent=incumbent
        )

    async def autoboot_boot(self, option: BootOption) -> BootOutcome:
        self.status(Severity.INFO, f"Autoboot: booting {option.name}")
        try:
            await self._boot(BootRequest(option, console=self._settings.console or None))
        except Cancelled:
            return BootOutcome.CANCELLED
        except BootdError:
            return BootOutcome.FAILED
        return BootOutcome.BOOTED

    def cancel_autoboot(self) -> None:
        if self.autoboot.cancel("cancelled by a user"):
            self.status(Severity.INFO, "Autoboot cancelled")

    def set_next_boot(self, option_id: str | None) -> None:
        if option_id is not None and self.inventory.option(option_id) is None:
            raise NotFound(f"no boot option {option_id!r} (it may have been removed)")
        self._next = option_id
        if option_id is None:
            self._next_file.unlink(missing_ok=True)
        else:
            settings.atomic_write(self._next_file, option_id.encode() + b"\n")
        self._emit(DaemonChanged((Fact.NEXT_BOOT,)))
        self.autoboot.poke()

    # -- booting -----------------------------------------------------------------------
    async def boot(self, option_id: str, console: str, overrides: BootOverrides) -> None:
        opt = self.inventory.option(option_id)
        if opt is None:
            raise NotFound(f"no boot option {option_id!r} (it may have been removed)")
        self.cancel_autoboot()
        await self._boot(BootRequest(opt, console=console or self._settings.console or None, args=overrides.args))

    async def boot_custom(self, option: BootOption, console: str) -> None:
        opt = replace(option, id=f"custom/{next(self._custom)}")
        if opt.device and self.inventory.device(opt.device) is None:
            raise NotFound(f"no device {opt.device!r}")
        self.cancel_autoboot()
        await self._boot(BootRequest(opt, console=console or self._settings.console or None))

    async def _boot(self, request: BootRequest) -> None:
        if self._booting:
            raise Busy("another boot is in progress")
        try:
            from bootd.loader.boot import boot as load_and_boot
        except ModuleNotFoundError as e:
            if e.name != "bootd.loader.boot":
                raise
            raise Unsupported("this build has no loader (bootd.loader.boot is missing)") from None
        opt = request.option
        self._booting = True
        self._executing = False
        self._cancel_requested = False
        self._set_state(State.BOOTING)
        if self._next is not None:
            self.set_next_boot(None)
        self.status(Severity.INFO, f"Booting {opt.name}")
        devices = {d.id: d for d in self.inventory.devices()}
        before: set[str] = set()
        task: asyncio.Task[Any] | None = None
        try:
            self.work_dir.mkdir(parents=True, exist_ok=True)
            before = set(os.listdir(self.work_dir))
            hooks = self.hooks_dir if self.hooks_dir is not None and self.hooks_dir.is_dir() else None
            task = asyncio.create_task(
                load_and_boot(
                    self.platform,
                    request,
                    devices,
                    work_dir=self.work_dir,
                    hooks_dir=hooks,
                    progress=lambda stage, fraction: self._emit(ProgressEvent(stage, float(fraction))),
                    starting=self._starting,
                ),
                name="boot",
            )
            self._boot_task = task
            try:
                plan = await task
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if not self._cancel_requested or (current is not None and current.cancelling()):
                    raise
                raise Cancelled(f"the boot of {opt.name} was cancelled") from None
        except Cancelled:
            self._boot_task = None
            self._booting = False
            await asyncio.to_thread(self._remove_new_files, before)
            self._set_state(State.IDLE)
            self.status(Severity.INFO, f"Boot cancelled: {opt.name}")
            raise
        except asyncio.CancelledError:
            self._boot_task = None
            self._booting = False
            self._set_state(State.IDLE)
            raise
        except BootdError as e:
            self._boot_task = None
            self._booting = False
            self._set_state(State.IDLE)
            self.status(Severity.ERROR, f"Boot of {opt.name} failed: {e}")
            raise
        except Exception as e:
            self._boot_task = None
            self._booting = False
            self._set_state(State.IDLE)
            log.exception("boot of %s failed", opt.id)
            self.status(Severity.ERROR, f"Boot of {opt.name} failed: internal error {type(e).__name__}")
            raise
        self._boot_task = None
        self._booting = False
        self._last = BootRecord(
            option=opt.id,
            name=opt.name,
            console=plan.console or "",
            dt_console_path=plan.dt_console_path or "",
            args=plan.args,
            kexec_load=tuple(plan.kexec_load_argv),
            kexec_exec=tuple(plan.kexec_exec_argv),
            dtb_changes=tuple(plan.dtb_changes),
            notes=tuple(plan.notes),
        )
        self._state = State.BOOTED
        self._emit(DaemonChanged((Fact.STATE, Fact.LAST_BOOT)))
        self.status(Severity.INFO, f"Booted {opt.name}: {' '.join(plan.kexec_exec_argv)}")

    def _starting(self) -> None:
        self._executing = True

    def cancel_boot(self) -> bool:
        """Cancel the boot in progress; False when there is none.  Busy once
        the new kernel is being executed."""
        task = self._boot_task
        if task is None or task.done():
            return False
        if self._executing:
            raise Busy("the new kernel is already being started; the boot cannot be cancelled any more")
        self._cancel_requested = True
        task.cancel()
        return True

    def _remove_new_files(self, before: set[str]) -> None:
        """Remove what a cancelled boot left in the work directory."""
        try:
            names = set(os.listdir(self.work_dir)) - before
        except OSError:
            return
        for name in names:
            path = self.work_dir / name
            if path.is_file() or path.is_symlink():
                with contextlib.suppress(OSError):
                    path.unlink()

    # -- discovery, network, settings ------------------------------------------------------
    async def rescan(self) -> None:
        self._consoles = self._read_consoles()
        if self.discovery is not None:
            await self.discovery.rescan()
        self.status(Severity.INFO, "Rescanning devices")

    async def add_url(self, url: str) -> list[BootOption]:
        if self.network is None:
            raise Unsupported("this build has no network discovery")
        return await self.network.add_url(url)

    async def handle_event(self, event: str, params: Mapping[str, str]) -> None:
        if self.network is None:
            raise Unsupported("this build has no network discovery")
        await self.network.handle_event(event, params)

    async def set_setting(self, key: str, value: object) -> None:
        if key == "password":
            value = settings.hash_password(str(value)) if value else ""
        await asyncio.to_thread(settings.write_setting, self.paths, key, value)
        self.reload()
        if key == "scan_loop_devices" and self.discovery is not None and hasattr(self.discovery, "scan_loop_devices"):
            self.discovery.scan_loop_devices = self._settings.scan_loop_devices
            await self.discovery.rescan()
        if self._settings != replace(self._settings, **{key: settings.validate(key, value)}):
            raise ConfigError(f"{key} was written but another layer overrides it")

    def reload(self) -> None:
        old = self._settings
        self._settings = settings.load(self.paths, nvram=self.nvram, warn=self._warn)
        changed = tuple(k for k in settings.KEYS if getattr(old, k) != getattr(self._settings, k))
        if changed:
            self._emit(SettingsChanged(changed))
        if "password" in changed:
            self._emit(DaemonChanged((Fact.AUTH_REQUIRED,)))
        self.autoboot.poke()

    async def shutdown(self) -> None:
        self.autoboot.cancel("shutting down")
        for part in (self.network, self.discovery):
            if part is not None:
                try:
                    await part.stop()
                except Exception:
                    log.exception("stopping %s failed", type(part).__name__)
