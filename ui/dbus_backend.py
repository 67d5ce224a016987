"""The menu's :class:`~ui.backend.MenuBackend` over the daemon's D-Bus API
(:class:`bootd.dbus.client.BootdClient`): calls pass through, signals become
menu events, a lost bus is reconnected in the background."""

from __future__ import annotations

import asyncio
import logging
import shlex
import time
from collections.abc import Mapping
from typing import Any

from bootd import errors
from bootd.dbus.client import TABLE, BootdClient, DaemonState, Table
from bootd.model import BootOption, BootRecord, Console, Device, DeviceType, Resource, Severity, StatusMessage, Text

from . import backend as be
from .i18n import N_, _
from .views.common import columns

log = logging.getLogger(__name__)

RETRY_SECONDS = 0.5
FAILURE_GRACE = 0.3
CANCELLED_STATUS = "Boot cancelled"
"""How the daemon's Status message about a cancelled boot begins."""
"""Seconds to wait for the reason of a failed boot after the state says so."""
NOT_COMPLETED = N_("the boot did not complete")
"""A failed boot's reason when the daemon said none."""


def _label(label: str, value: str) -> str:
    """``label`` padded to 14 columns (or one space past a longer translation), then ``value``."""
    return f"{label}{' ' * max(1, 15 - columns(label))}{value}"


def boot_summary(rec: BootRecord) -> tuple[str, ...]:
    """What a boot did, for people: kexec command line, console, tree diff."""
    lines = [_label(_("Booted:"), rec.name or rec.option)]
    if rec.console:
        lines.append(_label(_("Console:"), rec.console))
    # stdout-path and kexec are the names of the device tree property and the command
    lines.append(_label("stdout-path:", rec.dt_console_path or _("(not changed: no console was chosen)")))
    lines.append(_label(_("Arguments:"), rec.args))
    if rec.kexec_load:
        lines.append(_label("kexec load:", shlex.join(rec.kexec_load)))
    if rec.kexec_exec:
        lines.append(_label("kexec execute:", shlex.join(rec.kexec_exec)))
    if rec.dtb_changes:
        lines.append(_("Device tree changes:"))
        lines += [f"  {line}" for line in rec.dtb_changes]
    lines += [_("Note: {note}").format(note=note) for note in rec.notes]
    return tuple(lines)


def _spec_path(res: Resource, default_device: str) -> tuple[str, str | None]:
    """(path or URL, device it is on) of one resource of an edited entry."""
    if res.url is not None:
        return res.url, None
    if res.is_unresolved:
        raise errors.InvalidArgument.of(N_("{path}: that device is not present"), path=res.describe())
    return str(res.path), res.device or default_device


class DBusBackend:
    def __init__(self, address: str, table: Table = TABLE) -> None:
        self.address = address
        self.table = table
        """The settings table the daemon serves."""
        self._client: BootdClient | None = None
        self._listeners: list[be.Listener] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._connecting: asyncio.Lock | None = None
        self._last_state: DaemonState | None = None
        self._last_error: Text | None = None
        self._cancelled = False
        self._closed = False

    # connection

    def subscribe(self, listener: be.Listener) -> None:
        self._listeners.append(listener)

    def _emit(self, ev: be.Event) -> None:
        for listener in list(self._listeners):
            try:
                listener(ev)
            except Exception:
                log.exception("a menu listener failed on %s", ev)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def client(self) -> BootdClient:
        if self._client is not None:
            return self._client
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self._client is None:
                try:
                    self._client = await BootdClient.connect(self.address, table=self.table)
                except errors.BootdError:
                    self._spawn(self._reconnect())
                    raise
                self._hook(self._client)
        return self._client

    def _hook(self, c: BootdClient) -> None:
        c.on_option_added(lambda o: self._emit(be.OptionAdded(o)))
        c.on_option_changed(lambda o: self._emit(be.OptionAdded(o)))
        c.on_option_removed(lambda oid: self._emit(be.OptionRemoved(oid)))
        c.on_device_added(lambda d: self._emit(be.DeviceAdded(d)))
        c.on_device_removed(lambda did: self._emit(be.DeviceRemoved(did)))
        c.on_device_changed(lambda d: self._emit(be.DeviceAdded(d)))
        c.on_status_text(self._on_status)
        c.on_progress_text(lambda stage, fraction: self._emit(be.BootProgress(stage.text, fraction, text=stage)))
        c.on_download_text(lambda stage, fraction, t: self._emit(be.BootProgress(stage.text, fraction, t, stage)))
        c.on_state(self._on_state)
        c.on_settings(lambda view: self._emit(be.SettingsChanged(view)))
        c.on_daemon_lost(lambda: self._emit(be.ConnectionLost()))
        c.on_daemon_appeared(lambda: self._emit(be.Reconnected()))
        self._spawn(self._watch(c))

    async def _watch(self, c: BootdClient) -> None:
        """Notice when the bus connection itself goes away."""
        await c.wait_disconnected()
        if self._closed or self._client is not c:
            return
        self._client = None
        self._emit(be.ConnectionLost())
        await self._reconnect()

    async def _reconnect(self) -> None:
        while not self._closed:
            await asyncio.sleep(RETRY_SECONDS)
            try:
                await self.client()
            except errors.BootdError:
                continue
            self._emit(be.Reconnected())
            return

    def _boot_failed(self) -> None:
        if self._cancelled:
            self._cancelled = False
            self._emit(be.BootCancelled())
            return
        error = self._last_error
        self._emit(be.BootFailed(error.text, error) if error is not None else be.BootFailed(NOT_COMPLETED))

    def _on_status(self, level: str, text: Text) -> None:
        message = text.text
        try:
            sev = Severity(level)
        except ValueError:
            sev = Severity.INFO
        if sev is Severity.ERROR:
            self._last_error = text
        elif message.startswith(CANCELLED_STATUS):
            self._cancelled = True
        self._emit(be.StatusEvent(StatusMessage(sev, message, time.time(), text)))

    def _on_state(self, ds: DaemonState) -> None:
        last = self._last_state
        self._last_state = ds
        if last is None or (last.autoboot_option, last.autoboot_remaining) != (
            ds.autoboot_option,
            ds.autoboot_remaining,
        ):
            self._emit(be.CountdownChanged(ds.autoboot_option, ds.autoboot_remaining))
        if last is not None and last.state == "booting" and ds.state not in ("booting", "booted"):
            # the daemon's Status signal with the reason may follow the state change
            asyncio.get_running_loop().call_later(FAILURE_GRACE, self._boot_failed)
        if ds.state == "booted" and (last is None or last.state != "booted" or last.last_boot != ds.last_boot):
            self._emit(be.BootFinished(boot_summary(ds.last_boot)))

    async def close(self) -> None:
        self._closed = True
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._client is not None:
            self._client.close()
            self._client = None

    # queries

    async def list_options(self) -> list[BootOption]:
        return await (await self.client()).list_options()

    async def list_devices(self) -> list[Device]:
        return await (await self.client()).list_devices()

    async def consoles(self) -> list[Console]:
        return await (await self.client()).consoles()

    async def get_state(self) -> be.DaemonState:
        ds = await (await self.client()).get_state()
        self._last_state = ds
        return be.DaemonState(
            state=ds.state,
            autoboot_option=ds.autoboot_option,
            countdown=ds.autoboot_remaining,
            auth_required=ds.auth_required,
        )

    async def system_info(self) -> be.SystemInfo:
        c = await self.client()
        ds = await c.get_state()
        nets = [d for d in await c.list_devices() if d.type is DeviceType.NETWORK]
        return be.SystemInfo(
            platform=ds.platform,
            arch=ds.arch,
            firmware=ds.firmware,
            lockdown=ds.lockdown,
            version=ds.version,
            interfaces=tuple((d.node or d.id, d.prop("mac") or d.prop("MAC") or "") for d in nets),
            extra=((N_("next boot"), ds.next_boot or "-"),),
        )

    async def get_settings(self) -> be.Settings:
        return await (await self.client()).get_settings()

    # actions

    async def boot(self, option_id: str, console: str | None, args: str | None = None) -> None:
        self._last_error = None
        self._cancelled = False
        await (await self.client()).boot(option_id, console or "", args)

    async def boot_custom(self, option: BootOption, console: str | None) -> None:
        self._last_error = None
        self._cancelled = False
        if option.kernel is None:
            raise errors.InvalidArgument.of(N_("an entry needs a kernel"))
        kernel, kdev = _spec_path(option.kernel, option.device)
        initrds = [_spec_path(r, option.device) for r in option.initrds]
        dtb = _spec_path(option.dtb, option.device) if option.dtb is not None else None
        devs = {d for _p, d in [(kernel, kdev), *initrds, *([dtb] if dtb else [])] if d is not None}
        if len(devs) > 1:
            raise errors.InvalidArgument.of(N_("an edited entry can use files of one device only (or URLs)"))
        await (await self.client()).boot_custom(
            kernel=kernel,
            initrds=[p for p, _d in initrds],
            dtb=dtb[0] if dtb else None,
            args=option.args,
            device=next(iter(devs), ""),
            name=option.name,
            console=console or "",
        )

    async def cancel_autoboot(self) -> None:
        await (await self.client()).cancel_autoboot()

    async def cancel_boot(self) -> bool:
        return await (await self.client()).cancel_boot()

    async def rescan(self) -> None:
        await (await self.client()).rescan()

    async def add_url(self, url: str) -> None:
        await (await self.client()).add_url(url)

    async def authenticate(self, password: str) -> None:
        await (await self.client()).authenticate(password)

    async def set_settings(self, changes: Mapping[str, object]) -> None:
        c = await self.client()
        # one write: every change of the form is saved, or none is
        await c.update_settings({key: (value or "") if key == "console" else value for key, value in changes.items()})
