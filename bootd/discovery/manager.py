"""Discovery: block devices as they come and go, mounted read-only, parsed
into the inventory.

:class:`Discovery` enumerates the devices present at start, then follows the
platform's add/change/remove events.  Each device gets one task at a time: a
newer event for the same device cancels the older task first, so a device
pulled while it is being scanned is unmounted and forgotten, never half-added.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from pathlib import Path, PurePosixPath

from bootd.discovery.medium import RECHECK_DELAYS, MediumRecheck
from bootd.discovery.mounts import DEFAULT_MOUNT_ROOT, Mounter
from bootd.discovery.scanner import PARSE_TIMEOUT, parse_view
from bootd.discovery.udev import Action, Decision, Step, UuidTracker, backing_devices, interpret, to_device
from bootd.errors import BootdError
from bootd.inventory import Inventory
from bootd.model import N_, Device, Severity, Text
from bootd.parsers import ParseContext
from bootd.parsers.view import DirectoryView
from bootd.platform import Platform
from bootd.platform.block import BlockAction, BlockDevice, BlockEvent

log = logging.getLogger(__name__)

StatusCallback = Callable[[Severity, "str | Text"], None]


class Discovery:
    """Keeps the inventory in step with the machine's block devices."""

    def __init__(
        self,
        platform: Platform,
        inventory: Inventory,
        *,
        scan_loop_devices: bool = False,
        status: StatusCallback | None = None,
        mount_root: Path = DEFAULT_MOUNT_ROOT,
        parse_timeout: float = PARSE_TIMEOUT,
        device_filter: Callable[[BlockDevice], bool] | None = None,
        medium_recheck: Sequence[float] = RECHECK_DELAYS,
    ) -> None:
        """``medium_recheck``: the pauses before each new look at an optical
        drive that seemed empty right after a media change (see :mod:`bootd.discovery.medium`)."""
        self.platform = platform
        self.inventory = inventory
        self.scan_loop_devices = scan_loop_devices
        self.parse_timeout = parse_timeout
        self.device_filter = device_filter
        """When set, only devices it accepts are considered at all."""
        self.mounter = Mounter(platform.block, mount_root)
        self._recheck = MediumRecheck(platform.block, medium_recheck)
        self._status = status
        self._uuids = UuidTracker()
        self._known: dict[str, BlockDevice] = {}
        self._duplicates: dict[str, tuple[BlockDevice, Decision]] = {}
        """Devices skipped because another owns their filesystem UUID, with their classification."""
        """Devices skipped because another device carries the same filesystem."""
        self._views: dict[str, DirectoryView] = {}
        self._awaits: dict[str, tuple[str, ...]] = {}
        """Per device, the devices its configs searched for and did not find."""
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._lvm_task: asyncio.Task[None] | None = None
        self._lvm_again = False
        """A physical volume appeared while ``vgchange`` ran: it may not have seen it, so run it once more."""
        self._stop_monitor: Callable[[], None] | None = None
        self._started = False
        self._idle = asyncio.Event()
        self._idle.set()

    # -- status ----------------------------------------------------------
    def status(self, severity: Severity, message: str | Text) -> None:
        level = {Severity.INFO: logging.INFO, Severity.WARNING: logging.WARNING}.get(severity, logging.ERROR)
        log.log(level, "%s", message)
        if self._status is not None:
            try:
                self._status(severity, message)
            except Exception:
                log.exception("status callback failed")

    # -- life cycle --------------------------------------------------------
    async def start(self) -> None:
        """Clean up stale mounts, follow hotplug, then scan the devices present now."""
        if self._started:
            return
        self._started = True
        self.platform.parsers.warm()  # a parse worker starts while devices are mounted
        await self.mounter.cleanup_stale()
        loop = asyncio.get_running_loop()
        self._stop_monitor = self.platform.block.monitor(loop, self._on_event)
        for dev in self.platform.block.enumerate():
            self._on_event(BlockEvent(BlockAction.ADD, dev))

    async def rescan(self) -> None:
        """Scan every device again (and pick up any whose events were missed)."""
        present = {d.name: d for d in self.platform.block.enumerate()}
        for name in list(self._known):
            if name not in present:
                self._on_event(BlockEvent(BlockAction.REMOVE, self._known[name]))
        for dev in present.values():
            self._on_event(BlockEvent(BlockAction.ADD, dev))

    async def settled(self, timeout: float | None = None) -> None:
        """Wait until no device task is running (for tests, benchmarks and ``watch``)."""
        await asyncio.wait_for(self._wait_idle(), timeout)

    async def _wait_idle(self) -> None:
        while True:
            await self._idle.wait()
            if self._lvm_task is not None and not self._lvm_task.done():
                await asyncio.gather(self._lvm_task, return_exceptions=True)
            await asyncio.sleep(0)
            if not self._tasks:
                return

    async def stop(self) -> None:
        """Stop following events, cancel scans and unmount everything mounted."""
        self._started = False
        if self._stop_monitor is not None:
            stop = self._stop_monitor
            self._stop_monitor = None
            await asyncio.to_thread(stop)
        await self._recheck.stop()
        tasks = list(self._tasks.values())
        if self._lvm_task is not None:
            tasks.append(self._lvm_task)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.platform.parsers.close()
        self._tasks.clear()
        for name in list(self._known):
            self._forget_device(name)
            self.inventory.remove_device(name)
        await self.mounter.unmount_all()
        self._views.clear()
        self._duplicates.clear()

    # -- events ------------------------------------------------------------
    def _on_event(self, event: BlockEvent) -> None:
        if not self._started:
            return  # an event that was already on its way when discovery stopped
        dev = event.device
        name = dev.name
        if self.device_filter is not None and not self.device_filter(dev):
            return
        meaning = interpret(
            event,
            self._known.get(name),
            scan_loop_devices=self.scan_loop_devices,
            mounted_seq=self.mounter.diskseq(name),
        )
        step, decision = meaning.step, meaning.decision
        if meaning.recheck:
            self._recheck.start(dev)
        elif step is not Step.SKIP:
            self._recheck.cancel(name)  # the medium was found, ejected or the drive went
        if step is Step.REMOVE:
            self._duplicates.pop(name, None)
            if name in self._known or name in self._tasks or name in self.mounter.mounted():
                self._submit(name, functools.partial(self._remove, name))
            # a logical volume whose disk was pulled stays in the kernel, unreadable: let go of it too
            for other, built in list(self._known.items()):
                if name in backing_devices(built):
                    self._submit(other, functools.partial(self._remove, other))
        elif step is Step.EJECT:
            # let go of what this process mounted from the medium, partitions included
            mounted = self.mounter.mounted()
            for n, d in list(self._known.items()):
                if (n == name or d.parent == name) and (n not in mounted or mounted[n].owned):
                    self._submit(n, functools.partial(self._remove, n))
        elif step is Step.SKIP:
            if name in self._known or name in self._tasks:
                self._submit(name, lambda: self._remove(name))
            else:
                log.debug("%s: skipped: %s", name, decision.reason)
        elif step is Step.LVM:
            self._activate_lvm()
        elif step is Step.READD:
            self._submit(name, lambda: self._remove_then_add(dev, decision))
        elif step is Step.ADD:
            self._submit(name, lambda: self._add(dev, decision))

    def _submit(self, name: str, work: Callable[[], Awaitable[None]]) -> None:
        """Run ``work`` as the one task of device ``name``, after cancelling the previous one."""
        previous = self._tasks.get(name)
        self._idle.clear()
        task = asyncio.create_task(self._chain(previous, work), name=f"discovery:{name}")
        self._tasks[name] = task
        task.add_done_callback(lambda t: self._done(name, t))

    @staticmethod
    async def _chain(previous: asyncio.Task[None] | None, work: Callable[[], Awaitable[None]]) -> None:
        if previous is not None and not previous.done():
            previous.cancel()
            await asyncio.gather(previous, return_exceptions=True)
        await work()

    def _done(self, name: str, task: asyncio.Task[None]) -> None:
        if self._tasks.get(name) is task:
            del self._tasks[name]
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            log.error("%s: discovery failed", name, exc_info=exc)
            self.status(Severity.ERROR, Text.of(N_("{device}: discovery failed: {error}"), device=name, error=exc))
        if not self._tasks:
            self._idle.set()

    # -- work ----------------------------------------------------------------
    async def _remove_then_add(self, dev: BlockDevice, decision: Decision) -> None:
        await self._remove(dev.name)
        await self._add(dev, decision)

    async def _add(self, dev: BlockDevice, decision: Decision) -> None:
        duplicate = self._uuids.claim(dev)
        if duplicate is not None:
            log.info("%s: same filesystem (UUID %s) as %s; skipped", dev.name, dev.uuid, duplicate)
            self._duplicates[dev.name] = (dev, decision)
            return
        self._duplicates.pop(dev.name, None)
        self._known[dev.name] = dev
        if decision.action is Action.LOCKED:
            self.inventory.add_device(to_device(dev, locked=True))
            self.status(Severity.INFO, Text.of(N_("{device}: encrypted device found (locked)"), device=dev.name))
            return
        try:
            mounted = await self.mounter.mount(dev)
        except BootdError as e:
            self.status(Severity.WARNING, f"{dev.name}: {e}")
            return
        except BaseException:
            await self.mounter.unmount(dev.name)
            raise
        try:
            device = replace(to_device(dev), mountpoint=PurePosixPath(mounted.root))
            view = DirectoryView(mounted.root, device)
            ctx = ParseContext(others=dict(self._views), arch=self.platform.arch, firmware=self.platform.firmware)
            result = await parse_view(view, ctx, pool=self.platform.parsers, timeout=self.parse_timeout)
        except BaseException:
            await self.mounter.unmount(dev.name)
            raise
        self._views[dev.name] = view
        self._awaits[dev.name] = result.awaits
        self.inventory.add_device(device)
        self.inventory.set_options(device.id, result.options)
        for diag in result.diagnostics:
            if diag.severity is not Severity.INFO:
                self.status(diag.severity, f"{dev.name}: {diag}")
        log.info("%s: %d boot option(s)", dev.name, len(result.options))
        for other, wanted in list(self._awaits.items()):
            if other != dev.name and any(_is(device, w) for w in wanted):
                self._submit(other, functools.partial(self._reparse, other, dev.name))
        # what it waits for may have come while it was read (its parse saw only the devices known before)
        came = [
            n for n, v in self._views.items() if n not in ctx.others and any(_is(v.device, w) for w in result.awaits)
        ]
        if came:
            self._submit(dev.name, functools.partial(self._reparse, dev.name, came[0]))

    async def _reparse(self, name: str, arrived: str) -> None:
        """Read ``name`` again: a device its configs searched for (``arrived``)
        is here now, and GRUB run now would find it."""
        view = self._views.get(name)
        if view is None:  # removed meanwhile
            return
        others = {k: v for k, v in self._views.items() if k != name}
        ctx = ParseContext(others=others, arch=self.platform.arch, firmware=self.platform.firmware)
        result = await parse_view(view, ctx, pool=self.platform.parsers, timeout=self.parse_timeout)
        if self._views.get(name) is not view:
            return
        self._awaits[name] = result.awaits
        self.inventory.set_options(view.device.id, result.options)
        log.info("%s: read again now that %s is here: %d boot option(s)", name, arrived, len(result.options))

    async def _remove(self, name: str) -> None:
        gone = self._known.get(name)
        self._forget_device(name)
        self.inventory.remove_device(name)
        try:
            await self.mounter.unmount(name)
        finally:
            # Even when a newer event for this device cancels the unmount
            # (another removal chained after it), another path to the same
            # filesystem takes over (multipath, a second copy): the newer
            # task no longer knows the device, so only this one can hand over.
            if gone is not None and gone.uuid:
                self._promote_duplicate(gone)

    def _promote_duplicate(self, gone: BlockDevice) -> None:
        for other, (dev, decision) in list(self._duplicates.items()):
            if dev.uuid == gone.uuid and dev.fstype == gone.fstype:
                del self._duplicates[other]
                self._submit(other, functools.partial(self._add, dev, decision))
                break

    def _forget_device(self, name: str) -> None:
        self._known.pop(name, None)
        self._views.pop(name, None)
        self._awaits.pop(name, None)
        self._uuids.release(name)

    def _activate_lvm(self) -> None:
        if self._lvm_task is not None and not self._lvm_task.done():
            self._lvm_again = True
            return

        async def activate() -> None:
            while True:
                self._lvm_again = False
                await self.platform.block.activate_volume_groups()
                if not self._lvm_again:
                    return

        self._lvm_task = asyncio.create_task(activate(), name="discovery:lvm")


def _is(device: Device, selector: str) -> bool:
    """Whether ``device`` is the one a ``search`` for ``selector`` wanted
    (``uuid=U``: case does not matter, as GRUB compares; ``label=L``: exact)."""
    kind, _, value = selector.partition("=")
    if kind == "uuid":
        return device.uuid is not None and device.uuid.lower() == value.lower()
    if kind == "label":
        return device.label == value
    return False
