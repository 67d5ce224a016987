"""Each option's trust state, as signed boot would judge it, ahead of any boot.

Under ``signed_boot = warn`` or ``enforce`` the menu and D-Bus show, for every
option, whether its files and command line verify (``BootOption.trust`` and
``trust_reason``, :class:`~bootd.model.Trust`).  :class:`TrustChecker` checks
an option when it is discovered or changed, and every option again when the
policy (mode or keyring) changes; an option a rescan brings back unchanged
keeps its state (the inventory carries it over).

The checks are :func:`bootd.loader.verify.check`'s, on the files in place on
their read-only mounts (nothing is copied): gpgv reads and hashes them in its
own process, one option at a time, each file within the loader's size caps and
gpgv's time limit, so a large or hostile file delays only its own verdict,
never discovery or autoboot.  A file several options share (the entries of
one GRUB menu) is verified once while it is unchanged.  Files behind a URL are checked when they boot
(fetching them here would download every network option).  The verdict is
advisory: a boot checks everything again, and under enforce refuses what fails.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from bootd.errors import BootdError
from bootd.inventory import EventKind, Inventory, InventoryEvent
from bootd.model import BootOption, BootRequest, Device, Resource, Trust
from bootd.platform import Platform

if TYPE_CHECKING:  # the checks (and the parsers they read images with) load at the first option checked
    from bootd.loader import verify

log = logging.getLogger(__name__)

AT_BOOT = "its files are on the network: they are checked when it boots"


def _read_capped(path: Path, limit: int) -> bytes:
    with path.open("rb") as f:
        return f.read(limit + 1)[:limit]


async def assess(
    platform: Platform,
    policy: verify.Policy,
    option: BootOption,
    devices: Mapping[str, Device],
    work_dir: Path,
    memo: verify.Memo | None = None,
) -> tuple[Trust, str]:
    """``option``'s trust state under ``policy`` and why (nothing raised)."""
    if policy.mode == "off":
        return Trust.UNCHECKED, ""
    if option.kind != "linux" or option.kernel is None:
        return Trust.UNCHECKED, f"a {option.kind} entry is not booted by kexec"
    files = [r for r in (option.kernel, option.dtb, *option.initrds) if r is not None]
    if any(r.url is not None for r in files):
        return Trust.UNCHECKED, AT_BOOT
    from bootd.loader import resources, verify

    def local(res: Resource) -> Path:
        whole = replace(res, section=None)  # a UKI's section: the image it is in
        return resources.local_path(whole, option.device, devices, max_bytes=resources.MAX_IMAGE_BYTES)

    try:
        kernel = local(option.kernel)
        initrd = local(option.initrds[0]) if len(option.initrds) == 1 else None
        dtb = None
        if option.dtb is not None and option.dtb.section is None:
            dtb = await asyncio.to_thread(_read_capped, local(option.dtb), resources.MAX_DTB_BYTES)
    except BootdError as e:
        return Trust.ERROR, str(e)
    except OSError as e:
        return Trust.ERROR, f"{e.filename}: {e.strerror}"
    work_dir.mkdir(parents=True, exist_ok=True)
    staged = resources.Staged(kernel, initrd, dtb)
    checks = await verify.check(platform, policy, BootRequest(option), staged, devices, work_dir, memo)
    return verify.verdict(checks)


class TrustChecker:
    """Keeps every option's trust state current (see the module docstring)."""

    def __init__(
        self,
        platform: Platform,
        inventory: Inventory,
        policy: Callable[[], verify.Policy],
        *,
        work_dir: Path,
    ) -> None:
        self.platform = platform
        self.inventory = inventory
        self._policy = policy
        self._work_dir = work_dir
        self._pending: dict[str, None] = {}
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self._checked_policy: verify.Policy | None = None
        self._memo: verify.Memo = {}
        inventory.subscribe(self._on_event)

    def _on_event(self, event: InventoryEvent) -> None:
        opt = event.option
        if opt is None or event.kind not in (EventKind.OPTION_ADDED, EventKind.OPTION_CHANGED):
            return
        if opt.trust is Trust.UNCHECKED and not opt.trust_reason and self._policy().mode != "off":
            self._queue([opt.id])  # a new or changed definition; a verdict's own event is not

    def policy_changed(self) -> None:
        """Check every option again when the mode or the keyring changed."""
        policy = self._policy()
        if policy == self._checked_policy:
            return
        self._checked_policy = policy
        self._queue([o.id for o in self.inventory.options()])

    def recheck(self, option_id: str) -> None:
        """Check one option again (a boot of it was refused: its files may have changed)."""
        if self._policy().mode != "off":
            self._queue([option_id])

    def _queue(self, ids: list[str]) -> None:
        if not ids:
            return
        for oid in ids:
            self._pending[oid] = None
        self._idle.clear()
        self._wake.set()
        if self._task is None:
            try:
                self._task = asyncio.get_running_loop().create_task(self._run(), name="trust")
            except RuntimeError:
                pass  # no loop yet: the first event inside one starts it

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                oid = next(iter(self._pending))
                del self._pending[oid]
                opt = self.inventory.option(oid)
                if opt is None:
                    continue
                policy = self._policy()
                self._checked_policy = policy
                devices = {d.id: d for d in self.inventory.devices()}
                try:
                    trust, reason = await assess(self.platform, policy, opt, devices, self._work_dir, self._memo)
                except Exception:  # a verdict is advisory: never let one option stop the others
                    log.exception("checking the signatures of %s failed", opt.name)
                    trust, reason = Trust.ERROR, "the check failed unexpectedly (see the log)"
                if self.inventory.option(oid) == opt:  # not changed or removed meanwhile
                    self.inventory.set_trust(oid, trust, reason)
            self._idle.set()

    async def settled(self, timeout: float) -> None:
        """Wait until every queued option has its verdict (for tests and tools)."""
        await asyncio.wait_for(self._idle.wait(), timeout)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
