"""The menu's progress screen during a real download (80x24 in tmux, the
sandbox daemon fetching a 12 MiB initrd from a paced HTTP server on
loopback): a bar of characters across the screen, the bytes, rate and time
left under it, the long URL whole; in English, German and Chinese.  About 25 s."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from bootd.dbus.client import BootdClient
from tests.integration.daemon.test_download_progress import paced_http
from tests.integration.ui.conftest import Stack, needs_tools
from tests.integration.ui.tmux import Tmux, menu_argv

__all__ = ["paced_http"]
pytestmark = needs_tools

BYTES = {
    "C.UTF-8": re.compile(r"\d+\.\d MiB of 12\.0 MiB, \d+\.\d MiB/s, 0:0\d left"),
    "de_DE.UTF-8": re.compile(r"\d+\.\d MiB von 12\.0 MiB, \d+\.\d MiB/s, noch 0:0\d"),
    "zh_CN.UTF-8": re.compile(r"\d+\.\d MiB / 12\.0 MiB，\d+\.\d MiB/s，剩余 0:0\d"),
}


@pytest.mark.parametrize("lang", sorted(BYTES))
async def test_the_progress_screen_shows_a_download_whole_at_80_columns(
    stack: Stack, tmux: Tmux, locale_dir: Path, paced_http: str, lang: str
) -> None:
    env = {"LANG": lang, "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": "", "BOOTD_LOCALEDIR": str(locale_dir)}
    pane = tmux.start(menu_argv(stack.bus.address), env=env)
    await asyncio.to_thread(tmux.wait, pane, "Fedora Linux 40")
    url = f"{paced_http}/images/netboot/noble/main/installer-amd64/current/legacy-images/netboot/initrd.gz"
    client = await BootdClient.connect(stack.bus.address)
    try:
        boot = asyncio.create_task(client.boot_custom(kernel=url, name="Netboot"))
        text = await asyncio.to_thread(tmux.wait, pane, lambda t: BYTES[lang].search(t) is not None, 20)
        lines = text.splitlines()
        assert url in "".join(line.strip() for line in lines), f"the URL is whole, wrapped:\n{text}"
        [bar] = [line for line in lines if line.strip().startswith("[")]
        assert re.fullmatch(r" {4}\[#+-+\] \d+ %", bar), f"a bar across the screen:\n{text}"
        assert len(bar) == 80 - 4, f"the bar fills the screen but its margins:\n{text}"
        await asyncio.wait_for(boot, 30)
    finally:
        client.close()
