"""What the daemon keeps about boot options besides the inventory: the
one-shot next boot (persisted in the state directory, so it survives a daemon
restart) and the machine's consoles.  Part of :class:`bootd.daemon.Daemon`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from bootd import settings
from bootd.api import DaemonChanged, EventHub, Fact
from bootd.errors import BootdError, NotFound
from bootd.inventory import Inventory
from bootd.model import N_, Console, Severity, Text
from bootd.platform import Platform

log = logging.getLogger(__name__)


class OptionStore:
    def __init__(
        self,
        platform: Platform,
        inventory: Inventory,
        events: EventHub,
        *,
        state_dir: Path,
        changed: Callable[[], None],
    ) -> None:
        self.platform = platform
        self.inventory = inventory
        self.events = events
        self._changed = changed
        self._next_file = state_dir / "next-boot"
        self._next = self._read_next()
        self._consoles = self.read_consoles()

    @property
    def next_boot(self) -> str | None:
        return self._next

    def set_next_boot(self, option_id: str | None) -> None:
        """Boot ``option_id`` next time (once); None forgets it."""
        if option_id is not None and self.inventory.option(option_id) is None:
            raise NotFound.of(N_("no boot option {id} (it may have been removed)"), id=repr(option_id))
        self._next = option_id
        if option_id is None:
            self._next_file.unlink(missing_ok=True)
        else:
            settings.atomic_write(self._next_file, option_id.encode() + b"\n")
        self.events.emit(DaemonChanged((Fact.NEXT_BOOT,)))
        self._changed()

    def consumed(self) -> None:
        """A boot started: the one-shot choice is used up."""
        if self._next is not None:
            self.set_next_boot(None)

    def consoles(self) -> list[Console]:
        return self._consoles

    def read_consoles(self) -> list[Console]:
        """Ask the platform again (a rescan); warn and keep none when it cannot say."""
        try:
            self._consoles = list(self.platform.boot.consoles())
        except (OSError, BootdError) as e:
            self.events.status(Severity.WARNING, Text.of(N_("cannot list consoles: {error}"), error=e))
            self._consoles = []
        return self._consoles

    def _read_next(self) -> str | None:
        try:
            return self._next_file.read_text(encoding="utf-8").strip() or None
        except OSError:
            return None
