"""The lease reaches the daemon over D-Bus, and a boot downloads over TFTP.

dnsmasq serves DHCP and TFTP in the lab's server namespace.  In the client
namespace, busybox udhcpc runs with bootd's lease script in D-Bus mode: the
script configures eth0 and runs ``bootd event --udhcpc bound``, which calls
``Manager1.Event`` on a private bus.  The daemon (``bootd serve`` on a sandbox
machine, also in the client namespace, so kexec is recorded) fetches the PXE
config, lists its options, and booting one downloads kernel and initrd from
the TFTP server with BootProgress signals."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bootd.errors import ResourceError
from bootd.platform.linux_net import PXE_OPTIONS, LinuxNet
from bootd.platform.run import RealRunner
from tests.integration.daemon.helpers import PrivateBus, make_machine
from tests.integration.network.lab import CLIENT_MAC, HTTP_PORT, ROOT, SERVER_IP, Lab, available
from tests.integration.network.netns_daemon import served

REASON = available() or (None if shutil.which("dbus-daemon") and shutil.which("busctl") else "needs dbus-daemon")
pytestmark = [pytest.mark.root, pytest.mark.skipif(REASON is not None, reason=str(REASON))]

KERNEL = b"MZ" + b"\0" * 62 + bytes(range(256)) * 4000
INITRD = b"070701" + b"\0" * 300_000


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    with Lab(tmp_path / "lab") as lab:
        (lab.tftp / "pxelinux.cfg").mkdir()
        (lab.tftp / "Image").write_bytes(KERNEL)
        (lab.tftp / "initrd.img").write_bytes(INITRD)
        (lab.tftp / "pxelinux.cfg" / "default").write_text(
            "DEFAULT net\nLABEL net\n  MENU LABEL Network install\n  KERNEL Image\n  INITRD initrd.img\n"
            "  APPEND console=ttyAMA0 inst.repo=http://10.77.0.1/\n"
        )
        (lab.www / "huge.cfg").write_text(f"LABEL huge\n  KERNEL /huge/{2 * 1024**3}\n")
        lab.start_dnsmasq(["--dhcp-option=66,10.77.0.1", "--dhcp-option=67,pxelinux.0"])
        lab.start_http()
        yield lab


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[PrivateBus]:
    bus = PrivateBus.start(tmp_path / "bus", system_like=True)
    try:
        yield bus
    finally:
        bus.stop()


async def test_lease_over_dbus_then_boot_downloads_with_progress(lab: Lab, bus: PrivateBus, tmp_path: Path) -> None:
    machine = make_machine(tmp_path / "machine", []).root
    with open(machine / "machine.toml", "a") as f:
        f.write(f'\n[[interface]]\nname = "eth0"\nmac = "{CLIENT_MAC}"\n')
        f.write('\n[[interface]]\nname = "eth1"\nmac = "52:54:00:77:00:99"\n')
    config_root = tmp_path / "root"
    (config_root / "etc/bootd").mkdir(parents=True)
    (config_root / "etc/bootd/bootd.toml").write_text(
        'autoboot = false\n[network.interface.eth1]\nmethod = "static"\naddress = "10.99.0.5/24"\n'
    )
    state = tmp_path / "state"
    args = ["serve", "--sandbox", str(machine), "--state-dir", str(state), "--config-root", str(config_root)]
    async with served(lab, bus, "bootd", args, tmp_path / "serve.log") as s:
        client = s.client
        progress: list[tuple[str, float]] = []
        client.on_progress(lambda stage, fraction: progress.append((stage, fraction)))

        # the real DHCP client with bootd's lease script, reporting over D-Bus
        script = LinuxNet(RealRunner(), state_dir=tmp_path / "net").lease_script()
        lab.client(["ip", "link", "set", "eth0", "up"])
        argv = ["busybox", "udhcpc", "-f", "-q", "-i", "eth0", "-s", str(script), "-t", "5", "-T", "1"]
        for name in PXE_OPTIONS:
            argv += ["-O", name]
        env = {"BOOTD_EVENT_OUTPUT": "dbus", "BOOTD_BUS": bus.address, "BOOTD_MAC": CLIENT_MAC,
               "PYTHONPATH": str(ROOT), "PATH": os.environ["PATH"]}  # fmt: skip
        dhcp_output = await asyncio.to_thread(lab.client, argv, timeout=60, env=env, stderr=True)
        assert "10.77.0." in lab.client(["ip", "-4", "addr", "show", "dev", "eth0"]), "the script set the address"

        deadline = time.monotonic() + 20
        while not any(o.id == "eth0/pxe/net" for o in await client.list_options()):
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text() + dhcp_output
            await asyncio.sleep(0.1)
        [opt] = [o for o in await client.list_options() if o.device == "eth0"]
        assert opt.name == "Network install" and opt.default
        assert opt.kernel is not None and opt.kernel.url == "tftp://10.77.0.1/Image"
        devices = {d.id: d for d in await client.list_devices()}
        assert devices["eth1"].prop("ip") == "10.99.0.5", "the [network] settings reached the daemon"
        assert "unknown setting" not in (tmp_path / "serve.log").read_text()
        assert devices["eth0"].uuid == CLIENT_MAC and (devices["eth0"].prop("ip") or "").startswith("10.77.0.")

        # AddUrl over D-Bus; booting its 2 GiB kernel fails cleanly and the menu stays usable
        [huge] = await client.add_url(f"http://{SERVER_IP}:{HTTP_PORT}/huge.cfg")
        with pytest.raises(ResourceError, match="too large"):
            await client.boot(huge, console="ttyAMA0")
        assert (await client.get_state()).state == "idle"
        assert {"eth0/pxe/net", huge} <= {o.id for o in await client.list_options()}

        await client.boot("eth0/pxe/net", console="ttyAMA0")
        st = await client.get_state()
        assert st.state == "booted", (tmp_path / "serve.log").read_text()
        load = " ".join(st.last_boot.kexec_load)
        assert "console=ttyAMA0" in st.last_boot.args and "kexec" in load
        assert progress, "BootProgress signals were sent"
        stages: dict[str, list[float]] = {}
        for stage, fraction in progress:
            stages.setdefault(stage, []).append(fraction)
        for what, url in (("kernel", "tftp://10.77.0.1/Image"), ("initrd", "tftp://10.77.0.1/initrd.img")):
            steps = stages[f"Loading {what} {url}"]
            assert len(steps) >= 2 and steps[-1] > steps[0], f"the {what} download reports its progress: {stages}"
        fractions = [f for _, f in progress]
        assert fractions == sorted(fractions), progress
        staged = [p for p in (state / "work").rglob("*") if p.is_file() and p.read_bytes() == KERNEL]
        assert staged, "the kernel was downloaded from the TFTP server"
        assert "sent" in lab.log() and "/Image to 10.77.0." in lab.log()
