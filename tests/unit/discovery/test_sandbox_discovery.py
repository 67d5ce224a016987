"""Discovery on a sandbox machine: present devices, hotplug through
plug_after/unplug_after, status for a device that cannot be read, rescan,
UUID resolution across devices, and ``bootd watch --sandbox``."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

from bootd.discovery.manager import Discovery
from bootd.inventory import EventKind, Inventory, InventoryEvent
from bootd.model import BootOption, DeviceType, Severity
from bootd.platform import Platform
from bootd.platform.machine import load_machine
from bootd.platform.run import RecordingRunner
from bootd.platform.sandbox_block import SandboxBlock

ROOT = Path(__file__).resolve().parents[3]

MACHINE = """
[machine]
arch = "aarch64"
firmware = "efi"

[[device]]
id = "disk1"
type = "disk"
uuid = "1111"
fstype = "ext4"

[[device]]
id = "stick"
type = "usb"
label = "STICK"
fstype = "vfat"
plug_after = 0.2
unplug_after = 0.6

[[device]]
id = "cd"
type = "optical"
fstype = "iso9660"

[[device]]
id = "vault"
type = "disk"
uuid = "6a2c3e10"
fstype = "crypto_LUKS"

[[device]]
id = "pv"
type = "disk"
fstype = "LVM2_member"

[[device]]
id = "gone"
type = "disk"
fstype = "ext4"
dir = "devices/does-not-exist"
"""


def entry(title: str, kernel: str = "/vmlinuz") -> str:
    return f"title {title}\nlinux {kernel}\noptions quiet\n"


def make_machine(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "machine.toml").write_text(MACHINE)
    for dev, title in (("disk1", "Disk Linux"), ("stick", "Stick Linux"), ("cd", "CD Linux")):
        entries = root / "devices" / dev / "loader" / "entries"
        entries.mkdir(parents=True)
        (entries / "a.conf").write_text(entry(title))
    return root


def sandbox_block_platform(machine: Path, state: Path) -> Platform:
    from typing import Any, cast

    spec = load_machine(machine)
    runner = RecordingRunner()
    return Platform(
        name="sandbox",
        arch=spec.arch,
        firmware=spec.firmware,
        runner=runner,
        block=SandboxBlock(spec, runner, state),
        boot=cast(Any, None),
        net=cast(Any, None),
    )


async def test_sandbox_hotplug_and_status(tmp_path: Path) -> None:
    machine = make_machine(tmp_path / "m")
    platform = sandbox_block_platform(machine, tmp_path / "state")
    inv = Inventory()
    events: list[InventoryEvent] = []
    inv.subscribe(events.append)
    status: list[tuple[Severity, str]] = []
    disc = Discovery(platform, inv, status=lambda s, m: status.append((s, str(m))), mount_root=tmp_path / "mnt")
    await platform.parsers.start()  # as the daemon does: the stick is only there from 0.2 s to 0.6 s
    await disc.start()
    await disc.settled(5)
    # the stick is plugged in later (0.2 s after start; sooner on a busy machine is fine too)
    assert {"CD Linux", "Disk Linux"} <= {o.name for o in inv.options()}
    assert {d.id: d.type for d in inv.devices() if d.id != "stick"} == {
        "disk1": DeviceType.DISK,
        "cd": DeviceType.OPTICAL,
        "vault": DeviceType.DISK,
    }
    vault = inv.device("vault")
    assert vault is not None and vault.prop("LOCKED") == "1" and vault.mountpoint is None
    assert inv.options_of("vault") == []
    # an LVM physical volume is not a device of its own: its volume groups are activated
    assert inv.device("pv") is None
    assert isinstance(platform.runner, RecordingRunner)
    assert ("vgchange", "-ay") in platform.runner.calls
    disk = inv.device("disk1")
    assert disk is not None and disk.mountpoint is not None
    assert Path(str(disk.mountpoint)) == machine / "devices" / "disk1"
    assert any("gone" in m and s is Severity.WARNING for s, m in status), status

    def ident(e: InventoryEvent) -> str:
        if e.device is not None:
            return e.device.id
        return e.option.id if e.option is not None else ""

    def removed(kind: EventKind, name: str) -> bool:
        return any(e.kind is kind and ident(e) == name for e in events)

    for _ in range(1000):
        if removed(EventKind.DEVICE_REMOVED, "stick"):
            break
        await asyncio.sleep(0.01)
    added = [e.device for e in events if e.kind is EventKind.DEVICE_ADDED and e.device and e.device.id == "stick"]
    assert len(added) == 1 and added[0].type is DeviceType.USB and added[0].label == "STICK"
    stick_options = [
        e.option.name for e in events if e.kind is EventKind.OPTION_ADDED and e.option and e.option.device == "stick"
    ]
    assert stick_options == ["Stick Linux"]
    assert removed(EventKind.OPTION_REMOVED, "stick/bls/a") and removed(EventKind.DEVICE_REMOVED, "stick")
    assert inv.device("stick") is None and inv.options_of("stick") == []

    events.clear()
    await disc.rescan()
    await disc.settled(5)
    assert sorted(o.name for o in inv.options()) == ["CD Linux", "Disk Linux"]
    assert [e for e in events if e.kind is not EventKind.OPTION_CHANGED] == [], "a rescan of unchanged devices is quiet"

    await disc.stop()
    assert inv.devices() == [] and inv.options() == []
    assert (machine / "devices" / "disk1" / "loader" / "entries" / "a.conf").exists(), "sandbox directories untouched"


async def test_uuid_resource_resolves_when_the_other_device_appears(tmp_path: Path) -> None:
    machine = tmp_path / "m"
    machine.mkdir()
    (machine / "machine.toml").write_text(
        '[[device]]\nid = "boot"\nfstype = "ext4"\n\n'
        '[[device]]\nid = "root"\nuuid = "abcd-1234"\nfstype = "ext4"\nplug_after = 0.2\n'
    )
    (machine / "devices" / "boot" / "boot" / "grub").mkdir(parents=True)
    (machine / "devices" / "root").mkdir(parents=True)
    from bootd.model import BootOption, Resource, Source

    platform = sandbox_block_platform(machine, tmp_path / "state")
    inv = Inventory()
    # an option another source made that names a device by UUID
    inv.put_option(
        BootOption(
            id="x", device="net0", name="X", kernel=Resource.by_uuid("abcd-1234", "/vmlinuz"), source=Source.USER
        )
    )
    opt = inv.option("x")
    assert opt is not None and opt.kernel is not None and opt.kernel.is_unresolved
    disc = Discovery(platform, inv, mount_root=tmp_path / "mnt")
    await disc.start()
    for _ in range(100):
        opt = inv.option("x")
        if opt is not None and opt.kernel is not None and opt.kernel.device == "root":
            break
        await asyncio.sleep(0.02)
    assert opt is not None and opt.kernel is not None and opt.kernel.device == "root"
    await disc.stop()
    opt = inv.option("x")
    assert opt is not None and opt.kernel is not None and opt.kernel.is_unresolved


async def test_a_device_is_read_again_when_the_one_its_search_wanted_appears(tmp_path: Path) -> None:
    """An EFI stub on the ESP (``search.fs_uuid U root; configfile ($root)/...``)
    whose root partition is discovered after it: GRUB run before the partition
    is there finds nothing; once it is, the ESP is read again and its entries
    come from the partition."""
    machine = tmp_path / "m"
    machine.mkdir()
    (machine / "machine.toml").write_text(
        '[[device]]\nid = "esp"\nfstype = "vfat"\n\n'
        '[[device]]\nid = "root"\nuuid = "ABCD-1234"\nfstype = "ext4"\nplug_after = 0.3\n'
    )
    stub = machine / "devices" / "esp" / "EFI" / "debian" / "grub.cfg"
    stub.parent.mkdir(parents=True)
    stub.write_text("search.fs_uuid abcd-1234 root\nset prefix=($root)/boot/grub\nconfigfile $prefix/grub.cfg\n")
    real = machine / "devices" / "root" / "boot" / "grub" / "grub.cfg"
    real.parent.mkdir(parents=True)
    real.write_text("menuentry 'Debian' { linux /boot/vmlinuz root=/dev/sda2; initrd /boot/initrd.img }\n")
    platform = sandbox_block_platform(machine, tmp_path / "state")
    inv = Inventory()
    disc = Discovery(platform, inv, mount_root=tmp_path / "mnt")
    await disc.start()
    try:
        esp_options: list[BootOption] = []
        deadline = asyncio.get_running_loop().time() + 20  # parse workers start slowly on a loaded machine
        while not esp_options and asyncio.get_running_loop().time() < deadline:
            esp_options = [o for o in inv.options() if o.device == "esp"]
            await asyncio.sleep(0.02)
        assert [o.name for o in esp_options] == ["Debian"], inv.options()
        kernel = esp_options[0].kernel
        assert kernel is not None and kernel.device == "root" and str(kernel.path) == "/boot/vmlinuz"
    finally:
        await disc.stop()


def test_watch_sandbox_json(tmp_path: Path) -> None:
    machine = make_machine(tmp_path / "m")
    events = []
    with subprocess.Popen(
        [sys.executable, "-m", "bootd", "watch", "--json", "--sandbox", str(machine)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                ev = json.loads(line)
                events.append(ev)
                if ev["event"] == "device-removed" and ev["device"]["id"] == "stick":
                    break
            proc.terminate()
            assert proc.wait(30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
    kinds = [e["event"] for e in events]
    assert "ready" in kinds
    names = [e["option"]["name"] for e in events if e["event"] == "option-added"]
    assert sorted(names) == ["CD Linux", "Disk Linux", "Stick Linux"]
    assert any(e["event"] == "status" and "gone" in e["message"] for e in events)


def test_watch_plain_text_on_the_demo_machine() -> None:
    demo = ROOT / "config" / "demo"
    lines = []
    with subprocess.Popen(
        [sys.executable, "-m", "bootd", "watch", "--sandbox", str(demo)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                lines.append(line.rstrip("\n"))
                if line.startswith("# watching"):
                    break
            proc.terminate()
            assert proc.wait(30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
    assert any(line.startswith("+ device ") and ": Disk: " in line for line in lines), lines
    assert any(line.startswith("+ option ") for line in lines), lines
