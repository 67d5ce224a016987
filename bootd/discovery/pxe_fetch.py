"""Fetching PXE configurations for network discovery.

:class:`PxeConfigLoader` fetches a configuration file (size-capped, through
:func:`bootd.loader.download.fetch`), tries candidate names in order, follows
``INCLUDE`` lines by fetching and parsing again, and refuses the URLs a DHCP
lease may not point at (``file://`` outside the platform's ``lease_files``).
:class:`~bootd.discovery.network.NetworkDiscovery` owns one and reports
through the status callback it is given.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
import urllib.parse
from collections.abc import Callable
from pathlib import Path

from bootd.discovery.network_settings import NetworkSettings
from bootd.errors import BootdError, ResourceNotFound
from bootd.loader.download import fetch, scheme_of
from bootd.model import N_, BootOption, Severity, Text
from bootd.parsers import pxe
from bootd.platform import Platform

log = logging.getLogger(__name__)

Status = Callable[[Severity, "str | Text"], None]

MAX_INCLUDE_ROUNDS = 8
URL_DEVICE = "url"


class PxeConfigLoader:
    """Loads PXE configurations into boot options for one network discovery."""

    def __init__(
        self, platform: Platform, settings: NetworkSettings, say: Status, work_dir: Callable[[], Path]
    ) -> None:
        self.platform = platform
        self.settings = settings
        self._say = say
        self._work_dir = work_dir

    def lease_may_use(self, url: str) -> bool:
        """Whether a URL that came from a DHCP lease may be used: http, https
        and tftp always; ``file://`` only below the platform's ``lease_files``
        directory (a sandbox machine's own files), never on a real machine."""
        if scheme_of(url) != "file":
            return True
        root = self.platform.net.lease_files
        if root is None:
            return False
        parts = urllib.parse.urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            return False
        path = Path(urllib.parse.unquote(parts.path))
        if not path.is_absolute():
            return False
        return path.resolve().is_relative_to(root.resolve())

    def refuse(self, device: str, url: str) -> None:
        template = N_(
            "{device}: refused {url} from the DHCP lease: a lease may not point at this machine's files"
            " (only http, https and tftp URLs are used; a rogue DHCP server?)"
        )
        self._say(Severity.ERROR, Text.of(template, device=device, url=url))

    def lease_options(self, device: str, options: list[BootOption]) -> list[BootOption]:
        """``options`` without those whose files a lease may not point at."""
        kept = []
        for opt in options:
            urls = [r.url for r in (opt.kernel, *opt.initrds, opt.dtb) if r is not None and r.url]
            bad = next((u for u in urls if not self.lease_may_use(u)), None)
            if bad is None:
                kept.append(opt)
            else:
                self.refuse(device, bad)
        return kept

    async def load_first(
        self,
        device: str,
        candidates: list[pxe.Candidate],
        *,
        lease: pxe.Lease | None,
        key_prefix: str,
        why: list[str] | None = None,
    ) -> list[BootOption] | None:
        """Options of the first candidate that exists; None if none could be
        loaded (then the reason is appended to ``why`` when given)."""
        for cand in candidates:
            try:
                text = await self.fetch_text(cand.url)
            except ResourceNotFound:
                log.info("%s: %s not found; trying the next candidate", device, cand.url)
                continue
            except BootdError as e:
                self._say(Severity.ERROR, f"{device}: {e}")
                if why is not None:
                    why.append(str(e))
                return None
            return await self._parse(device, cand, text, lease=lease, key_prefix=key_prefix)
        if candidates:
            self._say(
                Severity.INFO,
                Text.of(
                    N_("{device}: no PXE configuration found (tried {count} names)"),
                    device=device,
                    count=len(candidates),
                ),
            )
            if why is not None:
                why.append("not found" if len(candidates) == 1 else f"none of {len(candidates)} names was found")
        return None

    async def _parse(
        self, device: str, cand: pxe.Candidate, text: str, *, lease: pxe.Lease | None, key_prefix: str
    ) -> list[BootOption]:
        cache: dict[str, str | None] = {}
        missing: set[str] = set()

        def read(url: str) -> str | None:
            if url in cache:
                return cache[url]
            if device != URL_DEVICE and not self.lease_may_use(url):
                self.refuse(device, url)
                cache[url] = None
                return None
            missing.add(url)
            return None

        for _ in range(MAX_INCLUDE_ROUNDS):
            missing.clear()
            result = pxe.parse_config(text, cand, device=device, read=read, lease=lease, key_prefix=key_prefix)
            if not missing:
                break
            for url in sorted(missing):
                try:
                    cache[url] = await self.fetch_text(url)
                except BootdError as e:
                    log.info("%s: INCLUDE %s: %s", device, url, e)
                    cache[url] = None
        for d in result.diagnostics:
            if d.severity is not Severity.INFO:
                self._say(d.severity, f"{device}: {d}")
        text = N_("{device}: {count} boot option(s) from {url}")
        self._say(Severity.INFO, Text.of(text, device=device, count=len(result.options), url=cand.url))
        return list(result.options)

    async def fetch_text(self, url: str) -> str:
        """A configuration file's text (size-capped); raises like :func:`fetch`."""
        with tempfile.NamedTemporaryFile(dir=self._work_dir(), prefix="cfg-", delete=False) as f:
            dest = Path(f.name)
        try:
            await fetch(url, dest, max_bytes=self.settings.max_config_bytes, timeout=self.settings.timeout)
            data = await asyncio.to_thread(dest.read_bytes)
        finally:
            with contextlib.suppress(OSError):
                dest.unlink()
        return data.decode("utf-8", "replace")
