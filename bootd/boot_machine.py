"""The daemon's boot state machine: idle → (countdown) → booting → booted, or
back to idle when a boot fails or is cancelled.  One boot at a time; it can be
cancelled until the new kernel is being started.  Part of
:class:`bootd.daemon.Daemon`; speaks the model and reports through the
daemon's :class:`~bootd.api.EventHub`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from bootd.api import DaemonChanged, DownloadEvent, EventHub, Fact, ProgressEvent
from bootd.autoboot import Countdown
from bootd.errors import BootdError, Busy, Cancelled, Unsupported
from bootd.model import N_, BootRecord, BootRequest, Device, Severity, State, Text
from bootd.platform import Platform

log = logging.getLogger(__name__)

FAILED = N_("Boot of {name} failed: {error}")
"""The status of a failed boot (its error stays in the words of the part that failed)."""


class BootMachine:
    def __init__(
        self,
        platform: Platform,
        events: EventHub,
        *,
        work_dir: Path,
        hooks_dir: Path | None,
        devices: Callable[[], Mapping[str, Device]],
        on_start: Callable[[], None],
        add_seeds: Callable[[], bool] = lambda: True,
        signed_boot: Callable[[], tuple[str, str]] = lambda: ("off", ""),
        measured_boot: Callable[[], bool] = lambda: False,
    ) -> None:
        self.platform = platform
        self._add_seeds = add_seeds
        self._signed_boot = signed_boot
        self._measured_boot = measured_boot
        self.events = events
        self.work_dir = work_dir
        self.hooks_dir = hooks_dir
        self._devices = devices
        self._on_start = on_start
        self._state = State.IDLE
        self._task: asyncio.Task[Any] | None = None
        self._booting = False
        self._executing = False
        self._cancel_requested = False
        self._last = BootRecord()

    @property
    def state(self) -> State:
        return self._state

    @property
    def last_boot(self) -> BootRecord:
        return self._last

    @property
    def booting(self) -> bool:
        return self._booting

    def countdown_changed(self, cd: Countdown) -> None:
        """The autoboot countdown moved: idle and countdown follow it (not while booting or booted)."""
        if not self._booting and self._state != State.BOOTED:
            self._state = State.COUNTDOWN if cd.remaining is not None and cd.remaining > 0 else State.IDLE
        self.events.emit(DaemonChanged((Fact.COUNTDOWN,)))

    async def run(self, request: BootRequest) -> None:
        """Load and execute ``request``; BootdError (Cancelled included) when it does not boot."""
        if self._booting:
            raise Busy.of(N_("another boot is in progress"))
        try:
            from bootd.loader import measure, verify
            from bootd.loader.boot import boot as load_and_boot
        except ModuleNotFoundError as e:
            if e.name not in ("bootd.loader.boot", "bootd.loader.verify", "bootd.loader.measure"):
                raise
            raise Unsupported.of(N_("this build has no loader (bootd.loader.boot is missing)")) from None
        opt = request.option
        self._booting = True
        self._executing = False
        self._cancel_requested = False
        self._set_state(State.BOOTING)
        self._on_start()
        self.events.status(Severity.INFO, Text.of(N_("Booting {name}"), name=opt.name))
        before: set[str] = set()
        try:
            self.work_dir.mkdir(parents=True, exist_ok=True)
            before = set(os.listdir(self.work_dir))
            hooks = self.hooks_dir if self.hooks_dir is not None and self.hooks_dir.is_dir() else None
            self._task = asyncio.create_task(
                load_and_boot(
                    self.platform,
                    request,
                    dict(self._devices()),
                    work_dir=self.work_dir,
                    hooks_dir=hooks,
                    progress=lambda stage, fraction: self.events.emit(
                        ProgressEvent(stage.text, float(fraction), stage)
                    ),
                    starting=self._starting,
                    add_seeds=self._add_seeds(),
                    signed_boot=verify.Policy(*self._signed_boot()),
                    warn=lambda message: self.events.status(Severity.WARNING, message),
                    measured_boot=measure.Tpm() if self._measured_boot() else None,
                    downloading=lambda stage, fraction, t: self.events.emit(
                        DownloadEvent(stage.text, fraction, t, stage)
                    ),
                ),
                name="boot",
            )
            try:
                plan = await self._task
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if not self._cancel_requested or (current is not None and current.cancelling()):
                    raise
                raise Cancelled.of(N_("the boot of {name} was cancelled"), name=opt.name) from None
        except Cancelled:
            await asyncio.to_thread(self._remove_new_files, before)
            self._reset()
            self.events.status(Severity.INFO, Text.of(N_("Boot cancelled: {name}"), name=opt.name))
            raise
        except asyncio.CancelledError:
            self._reset()
            raise
        except BootdError as e:
            self._reset()
            self.events.status(Severity.ERROR, Text.of(FAILED, name=opt.name, error=e))
            raise
        except OSError as e:  # a file or program of this machine failed: say which and why
            self._reset()
            log.warning("boot of %s failed", opt.id, exc_info=True)
            err = BootdError(f"{e.filename}: {e.strerror}" if e.filename else e.strerror or str(e))
            self.events.status(Severity.ERROR, Text.of(FAILED, name=opt.name, error=err))
            raise err from None
        except Exception as e:
            self._reset()
            log.exception("boot of %s failed", opt.id)
            self.events.status(
                Severity.ERROR,
                Text.of(N_("Boot of {name} failed: internal error {error}"), name=opt.name, error=type(e).__name__),
            )
            raise
        self._task = None
        self._booting = False
        self._last = BootRecord(
            option=opt.id,
            name=opt.name,
            console=plan.console.text if plan.console is not None else "",
            dt_console_path=plan.dt_console_path if plan.dt_console_path is not None else "",
            args=plan.args,
            kexec_load=tuple(plan.kexec_load_argv),
            kexec_exec=tuple(plan.kexec_exec_argv),
            dtb_changes=tuple(plan.dtb_changes),
            notes=tuple(plan.notes),
        )
        self._state = State.BOOTED
        self.events.emit(DaemonChanged((Fact.STATE, Fact.LAST_BOOT)))
        self.events.status(
            Severity.INFO,
            Text.of(N_("Booted {name}: {command}"), name=opt.name, command=" ".join(plan.kexec_exec_argv)),
        )

    def cancel(self) -> bool:
        """Cancel the boot in progress; False when there is none.  Busy once
        the new kernel is being executed."""
        task = self._task
        if task is None or task.done():
            return False
        if self._executing:
            raise Busy.of(N_("the new kernel is already being started; the boot cannot be cancelled any more"))
        self._cancel_requested = True
        task.cancel()
        return True

    def _reset(self) -> None:
        """The one place a boot that did not happen ends: no task, idle again."""
        self._task = None
        self._booting = False
        self._set_state(State.IDLE)

    def _set_state(self, state: State) -> None:
        if state != self._state:
            self._state = state
            self.events.emit(DaemonChanged((Fact.STATE,)))

    def _starting(self) -> None:
        self._executing = True

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
