"""The loader's proof on ppc64el (qemu ``pseries``, SLOF, TCG): an entry with
an initrd *and* a patched device tree, booted with kexec-tools' ``--dtb``.

kexec-tools on ppc64 ignores ``--append`` and refuses ``--initrd`` next to a
DTB; bootd writes the command line into ``/chosen/bootargs`` and carries the
initrd as an extra kernel segment (``bootd.loader.ppc64``).  Stage 2 running
its ``/init`` at all proves the entry's initrd arrived.

A third case has a screen (``guest.PSERIES_SCREEN``): stage 1's fb0 is offb on
the display node SLOF set up, bootd finds it with the ``FBIOGET_*`` ioctls and
hands it on with the console, and stage 2 comes up on the same framebuffer.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e import qemu
from tests.e2e.conftest import SECOND_VTY, TIMEOUT, Booted, second_vty_log
from tests.e2e.guest import ENTRY_ARGS, Guest

pytestmark = [pytest.mark.slow, pytest.mark.root]


def booted(b: Booted) -> qemu.Run:
    run = b.run
    assert not run.timed_out, f"the guest did not finish within {TIMEOUT}s; {b.context()}"
    assert not any("Kernel panic" in line for line in run.lines), b.context()
    assert run.first("STAGE1-UP") is not None, f"stage 1 did not start; {b.context()}"
    assert run.first("STAGE1-BOOT-RETURNED") is None, f"bootd returned instead of kexec'ing; {b.context()}"
    return run


def kexec_load(run: qemu.Run) -> str:
    loads = [line.strip() for line in run.starting("STAGE1-BOOTD kexec load:")]
    assert len(loads) == 1, run.tail()
    return loads[0]


def test_hvc0_initrd_and_patched_dtb_reach_the_second_kernel(
    ppc64el_guest: Guest, ppc64el_runs: dict[str, Booted]
) -> None:
    run = booted(ppc64el_runs["hvc0"])
    argv = kexec_load(run)
    # the real loader's kexec_load command: the staged kernel (with the initrd segment) and the blob, nothing else
    assert argv.startswith("kexec -l ") and "--dtb=" in argv
    assert "--initrd" not in argv and "--append" not in argv and " -s" not in argv and " -i" not in argv
    assert run.first("PROOF-DONE") is not None, run.tail()
    assert run.first("PROOF-CMDLINE ") == ENTRY_ARGS
    assert run.first("PROOF-DT chosen/bootargs=") == ENTRY_ARGS
    assert run.first("PROOF-DT chosen/stdout-path=") == "/vdevice/vty@71000000"
    assert run.first("PROOF-DT chosen/linux,stdout-path=") == "/vdevice/vty@71000000"
    assert run.first("PROOF-CONSOLE ") == "hvc0"
    # the initrd range bootd wrote is the entry's initrd, where bootd placed it, and the kernel found it there
    start_hex = run.first("PROOF-DT chosen/linux,initrd-start=")
    end_hex = run.first("PROOF-DT chosen/linux,initrd-end=")
    assert start_hex is not None and end_hex is not None, run.tail()
    start, end = int(start_hex, 16), int(end_hex, 16)
    notes = " ".join(run.starting("STAGE1-BOOTD note:"))
    assert f"the initrd is an extra kernel segment at 0x{start:x}" in notes
    assert end - start == ppc64el_guest.stage2.stat().st_size
    assert any(f"Found initrd at 0xc{start:015x}:0xc{end:015x}" in line for line in run.lines), run.tail()


def test_second_vty_becomes_the_console_of_the_second_kernel(
    ppc64el_guest: Guest, ppc64el_runs: dict[str, Booted]
) -> None:
    """bootd --console hvc1: the next kernel's console is the other vty, so stage 2 speaks only there."""
    run = booted(ppc64el_runs["hvc1"])
    assert run.returncode == 0, ppc64el_runs["hvc1"].context()
    assert f"hvc1 -> /vdevice/vty@{SECOND_VTY:x}" in " ".join(run.starting("STAGE1-BOOTD console:"))
    assert run.first("PROOF-") is None, "stage 2 still wrote to the first vty"
    second = second_vty_log(ppc64el_guest)
    lines = tuple(line.replace("\r", "") for line in second.read_text(errors="replace").splitlines())
    other = qemu.Run(run.argv, lines, run.returncode, False, run.seconds)
    assert other.first("PROOF-DONE") is not None, f"stage 2 said nothing on the second vty:\n{other.tail()}"
    assert other.first("PROOF-DT chosen/stdout-path=") == f"/vdevice/vty@{SECOND_VTY:x}"
    assert other.first("PROOF-DT chosen/linux,stdout-path=") == f"/vdevice/vty@{SECOND_VTY:x}"
    assert other.first("PROOF-CMDLINE ") == ENTRY_ARGS
    assert other.first("PROOF-STAGE2") is not None
    # hvc_vio numbers the firmware's stdout vty hvc0: the kernel's console is now the second vty
    assert other.first("PROOF-CONSOLE ") == "hvc0"


def _iomem_start(lines: list[str]) -> int | None:
    """Where offb's region starts, from ``/proc/iomem`` lines (``200080000000-2000801d4fff : offb``)."""
    found = [line.split("-")[0] for line in lines if line.endswith(": offb")]
    return int(found[0], 16) if found else None


def test_screen_console_and_the_firmware_framebuffer_reach_the_second_kernel(ppc64el_runs: dict[str, Booted]) -> None:
    """A pseries guest with a VGA that SLOF set up (``-vga std``, SLOF's console the screen):
    stage 1's fb0 is offb on the display node; bootd finds it by FBIOGET_*, points the console
    at the node, and the second kernel comes up on that same framebuffer, its console the screen."""
    case = ppc64el_runs["tty0-fb"]
    run = booted(case)
    argv = kexec_load(run)
    assert argv.startswith("kexec -l ") and "--dtb=" in argv and "--initrd" not in argv
    assert run.first("PROOF-DONE") is not None, case.context()

    # stage 1: the kernel's own account of fb0, from sysfs and /proc/iomem
    m = re.fullmatch(r"name=(.+) size=(\d+),(\d+) stride=(\d+) bpp=(\d+)", run.first("STAGE1-FB0 ") or "")
    assert m is not None and m.group(1) == "OFfb vga", f"stage 1 has no offb fb0; {case.context()}"
    width, height, stride, bpp = (int(g) for g in m.groups()[1:])
    node = run.first("STAGE1-FB0-NODE ")
    assert node is not None and node.startswith("/pci@") and node.endswith("/vga@0"), run.tail()
    address = _iomem_start(run.starting("STAGE1-IOMEM "))
    assert address is not None, run.starting("STAGE1-IOMEM ")
    # bootd's discovery (FBIOGET_VSCREENINFO / FBIOGET_FSCREENINFO on /dev/fb0, of_node from sysfs)
    # found that framebuffer: geometry, line length, address and display node all agree
    found = (
        f"fb0 {width}x{height}, {bpp} bpp a8r8g8b8, stride {stride}, {stride * height} bytes at 0x{address:x} -> {node}"
    )
    assert run.first("STAGE1-BOOTD framebuffer: ") == found, run.starting("STAGE1-BOOTD ")
    assert f"tty0 -> {node}" in " ".join(run.starting("STAGE1-BOOTD console:"))
    # firmware's tree already names the node offb's boot display; bootd adds the pixels' byte order
    changes = [line.strip() for line in run.starting("STAGE1-BOOTD   ")]
    assert f"+ {node}/little-endian" in changes, changes
    assert f'~ /chosen/stdout-path: "/vdevice/vty@71000000" -> "{node}"' in changes, changes

    # stage 2: the command line is the entry's alone; the device tree names the screen
    assert run.first("PROOF-CMDLINE ") == ENTRY_ARGS
    assert run.first("PROOF-DT chosen/stdout-path=") == node
    assert run.first("PROOF-DT chosen/linux,stdout-path=") == node
    assert run.first("PROOF-CONSOLE ") == "tty0"
    assert any(line.startswith("tty0 ") and "(E" in line for line in run.starting("PROOF-PROC-CONSOLE "))
    # its fb0 is offb on the same node, in the mode and at the address firmware set for stage 1:
    # nothing set a mode in between (no prom_init runs after kexec: the flags came in the tree bootd handed on)
    assert (run.first("PROOF-FB0 ") or "").startswith(f"name=OFfb vga size={width},{height} mode=U:{width}x{height}p")
    assert run.first("PROOF-FB0-GEOMETRY ") == f"stride={stride} bpp={bpp}"
    assert run.first("PROOF-FB0-NODE ") == node
    assert run.starting("PROOF-PROC-FB ") == ["0 OFfb vga"]
    assert _iomem_start(run.starting("PROOF-IOMEM ")) == address
    klog = run.starting("PROOF-KLOG ")
    assert any(f"fb0: Open Firmware frame buffer device on {node}" in line for line in klog), klog
    assert run.first("PROOF-DISPLAY-DT ") == (
        f"width=0x{width:08x} height=0x{height:08x} depth=0x{bpp:08x} linebytes=0x{stride:08x} "
        "flags=linux,opened linux,boot-display little-endian"
    )
