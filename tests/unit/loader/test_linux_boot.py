"""The real machine's boot facts, read from a sysfs/procfs tree laid out like Linux's."""

from __future__ import annotations

import os
from pathlib import Path

from bootd.model import ConsoleKind
from bootd.platform.linux_boot import LinuxBoot, _fb_format, tree_to_blob
from bootd.platform.run import RealRunner
from tests.unit.loader.helpers import expand, model_of


def machine(root: Path, blob: bytes, *, with_fdt: bool = True) -> LinuxBoot:
    base = root / "sys/firmware/devicetree/base"
    expand(blob, base)
    (root / "proc").mkdir(parents=True, exist_ok=True)
    os.symlink("../sys/firmware/devicetree/base", root / "proc/device-tree")
    if with_fdt:
        (root / "sys/firmware/fdt").write_bytes(blob)
    return LinuxBoot(RealRunner(), root=root)


def test_live_tree_from_proc_device_tree_equals_the_firmware_tree(tmp_path: Path, opal_dtb: bytes) -> None:
    boot = machine(tmp_path, opal_dtb)
    blob = boot.live_dtb()
    assert blob is not None
    assert model_of(blob) == model_of(opal_dtb)  # every node, property and /memreserve/


def test_live_tree_without_firmware_blob_has_no_reserve_map(tmp_path: Path, arm64_dtb: bytes) -> None:
    blob = machine(tmp_path, arm64_dtb, with_fdt=False).live_dtb()
    assert blob is not None
    rsv, nodes = model_of(blob)
    assert rsv == [] and nodes == model_of(arm64_dtb)[1]


def test_firmware_blob_is_the_fallback(tmp_path: Path, arm64_dtb: bytes) -> None:
    (tmp_path / "sys/firmware").mkdir(parents=True)
    (tmp_path / "sys/firmware/fdt").write_bytes(arm64_dtb)
    assert LinuxBoot(RealRunner(), root=tmp_path).live_dtb() == arm64_dtb
    assert LinuxBoot(RealRunner(), root=tmp_path / "x86").live_dtb() is None


def test_tree_to_blob_on_a_directory(tmp_path: Path, arm64_dtb: bytes) -> None:
    expand(arm64_dtb, tmp_path / "dt")
    assert model_of(tree_to_blob(tmp_path / "dt"))[1] == model_of(arm64_dtb)[1]


def test_consoles_from_sysfs(tmp_path: Path, opal_dtb: bytes) -> None:
    boot = machine(tmp_path, opal_dtb)
    tty = tmp_path / "sys/class/tty"
    base = tmp_path / "sys/firmware/devicetree/base"
    # a serial port the kernel bound to a DT node
    (tty / "ttyS0/device").mkdir(parents=True)
    (tty / "ttyS0/type").write_text("4\n")
    os.symlink(base / "ibm,opal/consoles/serial@1", tty / "ttyS0/device/of_node")
    # an empty 8250 slot
    (tty / "ttyS1/device").mkdir(parents=True)
    (tty / "ttyS1/type").write_text("0\n")
    # OPAL hvc without of_node, and a pty-like tty without a device
    (tty / "hvc0").mkdir()
    (tty / "hvc0/dev").write_text("229:0\n")
    (tty / "ptmx").mkdir()
    # the screen: fb0 on the VGA node
    (tty / "tty1").mkdir()
    fb = tmp_path / "sys/class/graphics/fb0/device"
    fb.mkdir(parents=True)
    os.symlink(base / "pciex@600c3c0000000/pci@0/vga@0", fb / "of_node")
    (tmp_path / "proc/consoles").write_text("hvc0                 -W- (EC p  )    229:0\n")
    got = {c.name: c for c in boot.consoles()}
    assert set(got) == {"ttyS0", "hvc0", "tty1"}
    assert got["ttyS0"].kind is ConsoleKind.SERIAL and got["ttyS0"].dt_path == "/ibm,opal/consoles/serial@1"
    assert got["hvc0"].kind is ConsoleKind.HVC and got["hvc0"].dt_path == "/ibm,opal/consoles/serial@0"
    assert got["hvc0"].description == "active console"
    assert got["tty1"].kind is ConsoleKind.VGA and got["tty1"].dt_path == "/pciex@600c3c0000000/pci@0/vga@0"
    assert boot.display_node("fb0") == "/pciex@600c3c0000000/pci@0/vga@0"
    assert boot.display_node("fb1") is None


def test_lockdown_and_systemd(tmp_path: Path) -> None:
    boot = LinuxBoot(RealRunner(), root=tmp_path)
    assert boot.lockdown() == "none" and not boot.under_systemd()
    (tmp_path / "sys/kernel/security").mkdir(parents=True)
    (tmp_path / "sys/kernel/security/lockdown").write_text("none [integrity] confidentiality\n")
    (tmp_path / "run/systemd/system").mkdir(parents=True)
    assert boot.lockdown() == "integrity" and boot.under_systemd()


def test_lockdown_without_securityfs_is_read_from_the_command_line(tmp_path: Path) -> None:
    boot = LinuxBoot(RealRunner(), root=tmp_path)
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc/cmdline").write_text("console=ttyS0 lockdown=integrity quiet\n")
    assert boot.lockdown() == "integrity"
    (tmp_path / "proc/cmdline").write_text("console=ttyS0 nolockdown=confidentiality\n")
    assert boot.lockdown() == "none"
    (tmp_path / "sys/kernel/security").mkdir(parents=True)  # securityfs mounted: it is the authority
    (tmp_path / "sys/kernel/security/lockdown").write_text("[none] integrity confidentiality\n")
    (tmp_path / "proc/cmdline").write_text("lockdown=integrity\n")
    assert boot.lockdown() == "none"


def test_framebuffer_without_device_node_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "sys/class/graphics/fb0").mkdir(parents=True)
    assert LinuxBoot(RealRunner(), root=tmp_path).framebuffers() == []


def test_pixel_formats_from_bitfields() -> None:
    # (offset, length, msb_right) for red, green, blue, transp
    assert _fb_format(32, [16, 8, 0, 8, 8, 0, 0, 8, 0, 24, 8, 0]) == "a8r8g8b8"
    assert _fb_format(32, [16, 8, 0, 8, 8, 0, 0, 8, 0, 0, 0, 0]) == "x8r8g8b8"
    assert _fb_format(16, [11, 5, 0, 5, 6, 0, 0, 5, 0, 0, 0, 0]) == "r5g6b5"
    assert _fb_format(32, [0, 8, 0, 8, 8, 0, 16, 8, 0, 0, 0, 0]) == "x8b8g8r8"
    assert _fb_format(24, [16, 8, 0, 8, 8, 0, 0, 8, 0, 0, 0, 0]) == "r8g8b8"
