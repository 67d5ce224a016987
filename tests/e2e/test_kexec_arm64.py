"""The loader's proof on arm64: bootd in a real initramfs kexecs a real Debian kernel.

Stage 1 (qemu ``virt``, TCG) runs ``python3 -m bootd boot --scan /stage2,…``
on a BLS entry; stage 2 reports on the serial line what it was handed.  The
firmware tree of stage 1 carries a simple-framebuffer, as U-Boot provides one.
"""

from __future__ import annotations

import pytest

from tests.e2e import qemu
from tests.e2e.conftest import TIMEOUT, Booted
from tests.e2e.guest import (
    ENTRY_ARGS,
    ENTRY_DTB,
    ENTRY_DTB_TITLE,
    FB_BASE,
    FB_NODE,
    UKI_ARGS,
    UKI_TITLE,
    Guest,
)

pytestmark = [pytest.mark.slow, pytest.mark.root]


def booted(b: Booted) -> qemu.Run:
    run = b.run
    assert not run.timed_out, f"no PROOF-DONE within {TIMEOUT}s; {b.context()}"
    # cortex-a57 has no CPU RNG: the second kernel's KASLR lives on the seed bootd handed it
    assert int(run.first("PROOF-DMESG-LINES ") or 0) > 10, f"stage 2 could not read its log; {b.context()}"
    klog = run.starting("PROOF-KLOG ")
    assert not any("KASLR disabled" in line for line in klog), f"the second kernel booted without KASLR: {klog}"
    assert not any("Kernel panic" in line for line in run.lines), b.context()
    assert run.first("STAGE1-UP") is not None, f"stage 1 did not start; {b.context()}"
    assert run.first("STAGE1-BOOT-RETURNED") is None, f"bootd returned instead of kexec'ing; {b.context()}"
    assert run.first("PROOF-DONE") is not None, b.context()
    return run


def kexec_load(run: qemu.Run) -> str:
    """The kexec command bootd ran, as it reported it."""
    loads = [line.strip() for line in run.starting("STAGE1-BOOTD kexec load:")]
    assert len(loads) == 1, run.tail()
    return loads[0]


def test_serial_console_reaches_the_second_kernel(arm64_runs: dict[str, Booted]) -> None:
    run = booted(arm64_runs["ttyAMA0"])
    argv = kexec_load(run)
    # the real loader's command: kexec_load with the patched DTB, the entry's initrd and args, no shortcuts
    assert argv.startswith("kexec -l /stage2/vmlinuz ")
    assert "--dtb=" in argv and "--initrd=/stage2/initrd.img" in argv and ENTRY_ARGS in argv
    assert " -i" not in argv and " -s" not in argv
    # the entry's own command line, with no console= added: the device tree alone picks the console
    assert run.first("PROOF-CMDLINE ") == ENTRY_ARGS
    stdout = run.first("PROOF-DT chosen/stdout-path=")
    assert stdout is not None and stdout.split(":")[0] == "/pl011@9000000", run.tail()
    assert run.first("PROOF-DT chosen/linux,stdout-path=") == stdout
    assert "ttyAMA0" in (run.first("PROOF-CONSOLE ") or "").split()
    assert any(line.startswith("ttyAMA0 ") and "E" in line for line in run.starting("PROOF-PROC-CONSOLE "))
    # the framebuffer is handed on too, though it is not the console here
    assert run.first("PROOF-FB0 ") == "name=simple size=1024,768 mode=U:1024x768p-0"


def test_screen_console_and_framebuffer_reach_the_second_kernel(arm64_runs: dict[str, Booted]) -> None:
    run = booted(arm64_runs["tty0"])
    assert kexec_load(run).startswith("kexec -l /stage2/vmlinuz ")
    # bootd found the screen's node from fb0 (its of_node), not from anything the test told it
    assert f"tty0 -> {FB_NODE}" in " ".join(run.starting("STAGE1-BOOTD console:"))
    # and fb0 itself by FBIOGET_*: what simplefb made of the firmware's node
    assert run.first("STAGE1-FB0 ") == "name=simple size=1024,768 stride=4096 bpp=32"
    found = f"fb0 1024x768, 32 bpp a8r8g8b8, stride 4096, 3145728 bytes at 0x{FB_BASE:x} -> {FB_NODE}"
    assert run.first("STAGE1-BOOTD framebuffer: ") == found
    assert run.first("PROOF-CMDLINE ") == ENTRY_ARGS
    # stdout-path names the simple-framebuffer node, so the kernel's console is the screen, not the UART
    assert run.first("PROOF-DT chosen/stdout-path=") == FB_NODE
    assert run.first("PROOF-DT chosen/linux,stdout-path=") == FB_NODE
    assert run.first("PROOF-CONSOLE ") == "tty0"
    assert run.first("PROOF-FB-DT ") == f"{FB_NODE.lstrip('/')} width=0x00000400 height=0x00000300 format=a8r8g8b8"
    assert run.first("PROOF-FB0 ") == "name=simple size=1024,768 mode=U:1024x768p-0"


def test_entry_tree_without_a_display_node_gains_a_simple_framebuffer(
    arm64_guest: Guest, arm64_runs: dict[str, Booted]
) -> None:
    # The entry brings its own tree (qemu's board as dumped: no framebuffer, no /reserved-memory);
    # bootd describes stage 1's fb0 in it as a simple-framebuffer under /chosen and points the console at it.
    board = (arm64_guest.stage1.parent / ENTRY_DTB).read_bytes()
    assert b"simple-framebuffer" not in board and b"reserved-memory" not in board
    run = booted(arm64_runs["tty0-entry-dtb"])
    assert any(ENTRY_DTB_TITLE in line for line in run.starting("STAGE1-BOOTD option:")), run.tail()
    assert kexec_load(run).startswith("kexec -l /stage2/vmlinuz ")
    changes = [line.strip() for line in run.lines if line.startswith("STAGE1-BOOTD   ")]
    for added in (f"+ {FB_NODE}/width = <0x400>", f"+ /reserved-memory/{FB_NODE.rsplit('/', 1)[1]}/no-map"):
        assert any(line.endswith(added) for line in changes), (added, changes)
    assert run.first("PROOF-CMDLINE ") == ENTRY_ARGS
    assert run.first("PROOF-DT chosen/stdout-path=") == FB_NODE
    assert run.first("PROOF-DT chosen/linux,stdout-path=") == FB_NODE
    assert run.first("PROOF-CONSOLE ") == "tty0"
    assert run.first("PROOF-FB-DT ") == f"{FB_NODE.lstrip('/')} width=0x00000400 height=0x00000300 format=a8r8g8b8"
    assert run.first("PROOF-FB0 ") == "name=simple size=1024,768 mode=U:1024x768p-0"


def test_a_unified_kernel_image_kexecs_with_its_embedded_command_line(arm64_runs: dict[str, Booted]) -> None:
    # bootd lists the image by its os-release name, copies .linux and .initrd out
    # of it and boots them with the embedded .cmdline (no console= added).
    run = booted(arm64_runs["ttyAMA0-uki"])
    assert any(UKI_TITLE in line for line in run.starting("STAGE1-BOOTD option:")), run.tail()
    argv = kexec_load(run)
    assert argv.startswith("kexec -l ") and "/stage2/EFI/Linux" not in argv.split()[2]  # the copied-out kernel
    assert "--initrd=" in argv and UKI_ARGS in argv
    assert run.first("PROOF-CMDLINE ") == UKI_ARGS
    assert "ttyAMA0" in (run.first("PROOF-CONSOLE ") or "").split()
