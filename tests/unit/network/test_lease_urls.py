"""A DHCP lease may not point bootd at local files: on the real platform its
file:// URLs (pxeconffile, pxepathprefix, bootfile, and the files a config it
led to names) are refused with a clear status, http works as before; on a
sandbox machine file:// is allowed only below the machine's own directory;
AddUrl (an authorised person) may still use file://."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bootd.discovery.network import NetworkDiscovery, NetworkSettings
from bootd.inventory import Inventory
from bootd.model import Resource, Severity
from bootd.platform import Platform
from bootd.platform.linux import linux_platform
from bootd.platform.sandbox import sandbox_platform
from tests.unit.network.machines import HEAD

MACHINE = HEAD
REFUSED = "a lease may not point at this machine's files"


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An HTTP server on loopback over a fresh directory."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def make(platform: Platform, tmp_path: Path) -> tuple[NetworkDiscovery, Inventory, list[tuple[Severity, str]]]:
    inv = Inventory()
    messages: list[tuple[Severity, str]] = []
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    disc = NetworkDiscovery(
        platform, inv, NetworkSettings(enabled=False), status=lambda s, m: messages.append((s, str(m))), work_dir=work
    )
    return disc, inv, messages


async def lease(disc: NetworkDiscovery, **params: str) -> None:
    await disc.handle_event("bound", {"interface": "eth0", "mac": "52:54:00:00:00:01", "ip": "192.0.2.10", **params})
    await disc.wait_idle()


def refusals(messages: list[tuple[Severity, str]]) -> list[str]:
    return [m for s, m in messages if REFUSED in m and s is Severity.ERROR]


async def test_real_platform_refuses_file_urls_from_a_lease(tmp_path: Path, served: tuple[str, Path]) -> None:
    base, www = served
    local = tmp_path / "local.cfg"
    local.write_text("DEFAULT l\nLABEL l\n  KERNEL /vmlinuz\n")
    (tmp_path / "tftp" / "pxelinux.cfg").mkdir(parents=True)
    (tmp_path / "tftp" / "pxelinux.cfg" / "default").write_text("LABEL p\n  KERNEL vmlinuz\n")
    disc, inv, messages = make(linux_platform(), tmp_path)
    try:
        for key, value in (
            ("pxeconffile", local.as_uri()),
            ("pxepathprefix", (tmp_path / "tftp").as_uri() + "/"),
            ("bootfile", (tmp_path / "vmlinuz").as_uri()),
        ):
            messages.clear()
            await lease(disc, **{key: value})
            assert inv.options_of("eth0") == [], key
            found = refusals(messages)
            assert any(m.startswith(f"eth0: refused {value}") for m in found), key
            assert all("rogue DHCP server" in m for m in found)
        # http from a lease works as before; a file:// kernel in the config it names is refused
        (www / "boot.cfg").write_text(
            "DEFAULT net\nLABEL net\n  KERNEL vmlinuz\nLABEL sneaky\n  KERNEL file:///etc/hostname\n"
            f"MENU END\nINCLUDE {local.as_uri()}\n"
        )
        messages.clear()
        await lease(disc, pxeconffile=f"{base}/boot.cfg")
        opts = inv.options_of("eth0")
        assert [o.kernel for o in opts] == [Resource.remote(f"{base}/vmlinuz")]
        assert any("refused file:///etc/hostname" in m for m in refusals(messages))
        assert any(f"refused {local.as_uri()}" in m for m in refusals(messages)), "INCLUDE of a local file"
        # an authorised person may still retrieve a local config
        added = await disc.add_url(local.as_uri())
        assert [o.name for o in added] == ["l"] and added[0].kernel == Resource.remote("file:///vmlinuz")
    finally:
        await disc.stop()


async def test_sandbox_allows_file_urls_only_below_the_machine(tmp_path: Path) -> None:
    machine = tmp_path / "machine"
    (machine / "tftp").mkdir(parents=True)
    (machine / "machine.toml").write_text(MACHINE)
    inside = machine / "tftp" / "boot.cfg"
    inside.write_text("LABEL a\n  KERNEL vmlinuz\nLABEL b\n  KERNEL ../../outside/vmlinuz\n")
    outside = tmp_path / "outside" / "boot.cfg"
    outside.parent.mkdir()
    outside.write_text("LABEL o\n  KERNEL vmlinuz\n")
    disc, inv, messages = make(sandbox_platform(machine, tmp_path / "state"), tmp_path)
    try:
        await lease(disc, pxeconffile=inside.as_uri())
        assert [o.kernel for o in inv.options_of("eth0")] == [Resource.remote((machine / "tftp/vmlinuz").as_uri())]
        assert any("outside/vmlinuz from the DHCP lease" in m for m in refusals(messages)), "'..' leaves the machine"
        messages.clear()
        await lease(disc, pxeconffile=outside.as_uri())
        assert inv.options_of("eth0") == []
        assert refusals(messages) and outside.as_uri() in refusals(messages)[0]
        added = await disc.add_url(outside.as_uri())
        assert [o.name for o in added] == ["o"], "AddUrl may name any local file"
    finally:
        await disc.stop()
