"""Boot configurations retrieved from a URL (the menu's "retrieve config from
URL", ``Manager1.AddUrl``): their options go on one network device,
``URL_DEVICE``, in the order they were retrieved; retrieving a URL again
replaces its options."""

from __future__ import annotations

import logging
from dataclasses import replace

from bootd.discovery.pxe_fetch import URL_DEVICE, PxeConfigLoader
from bootd.errors import InvalidArgument, ResourceError
from bootd.inventory import Inventory
from bootd.model import N_, BootOption, Device, DeviceType
from bootd.parsers import pxe

log = logging.getLogger(__name__)


class UrlConfigs:
    def __init__(self, loader: PxeConfigLoader, inventory: Inventory) -> None:
        self._loader = loader
        self.inventory = inventory
        self._url_options: dict[str, list[str]] = {}

    async def add(self, url: str, lease: pxe.Lease | None) -> list[BootOption]:
        """Parse a remote config and add its options.

        A URL ending in ``/`` is a path prefix searched as pxelinux does (with
        the MAC and address of ``lease``, a current lease, when there is one)."""
        url = url.strip()
        if not pxe.is_url(url) or any(c.isspace() for c in url):
            raise InvalidArgument.of(N_("not a URL: {url}"), url=repr(url))
        candidates = pxe.url_candidates(url, lease)
        if self.inventory.device(URL_DEVICE) is None:
            self.inventory.add_device(Device(id=URL_DEVICE, type=DeviceType.NETWORK, label="Retrieved from URL"))
        why: list[str] = []
        options = await self._loader.load_first(
            URL_DEVICE, candidates, lease=lease, key_prefix=pxe.url_key(url), why=why
        )
        if options is None:
            if not self.inventory.options_of(URL_DEVICE):  # no empty "Retrieved from URL" device left behind
                self.inventory.remove_device(URL_DEVICE)
            reason = f": {why[0].removeprefix(f'cannot fetch {url}: ').removeprefix(f'{url}: ')}" if why else ""
            if why == ["not found"] and candidates[0].url != url:
                reason = f": {candidates[0].url} not found"
            raise ResourceError.of(
                N_("no boot configuration could be retrieved from {url}{reason}"), url=url, reason=reason
            )
        keep = {o.id for o in options}
        for old in self._url_options.get(url, []):
            if old not in keep:
                self.inventory.remove_option(old)
        base = max((o.order for o in self.inventory.options_of(URL_DEVICE) if o.id not in keep), default=-1) + 1
        placed = [replace(o, order=base + i) for i, o in enumerate(options)]
        for opt in placed:
            self.inventory.put_option(opt)
        self._url_options[url] = [o.id for o in placed]
        return placed
