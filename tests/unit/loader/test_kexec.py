"""kexec-tools command lines for each case."""

from __future__ import annotations

from pathlib import Path

from bootd.loader import kexec
from bootd.model import Console, ConsoleKind

KERNEL = Path("/boot/vmlinuz")
INITRD = Path("/tmp/initrd")
DTB = Path("/tmp/boot.dtb")
CONSOLES = (Console("ttyAMA0", ConsoleKind.SERIAL, "/pl011@9000000"),)


def test_dtb_uses_kexec_load_with_dtb() -> None:
    plan = kexec.build(kernel=KERNEL, initrd=INITRD, dtb=DTB, args="root=/dev/vda", console="ttyAMA0")
    assert plan.load_argv == (
        "kexec",
        "-l",
        "/boot/vmlinuz",
        "--dtb=/tmp/boot.dtb",
        "--initrd=/tmp/initrd",
        "--append=root=/dev/vda",
    )
    assert plan.exec_argv == ("kexec", "-e")
    assert plan.cmdline == "root=/dev/vda" and plan.notes == ()


def test_no_dtb_uses_kexec_load_with_console_on_cmdline() -> None:
    # kexec_load, not kexec_file_load: Debian 12's arm64 and ppc64el kernels have no kexec_file_load
    # (an autoboot with no console chosen failed there with "syscall kexec_file_load not available")
    plan = kexec.build(kernel=KERNEL, initrd=None, dtb=None, args="quiet", console="ttyS0:115200n8")
    assert plan.load_argv == ("kexec", "-l", "/boot/vmlinuz", "--append=quiet console=ttyS0,115200n8")
    assert any("no device tree" in n for n in plan.notes)
    assert any("console=ttyS0,115200n8" in n for n in plan.notes)


def test_lockdown_forces_kexec_file_load_and_says_why() -> None:
    plan = kexec.build(
        kernel=KERNEL,
        initrd=INITRD,
        dtb=DTB,
        args="ro",
        console="/pl011@9000000:115200",
        consoles=CONSOLES,
        lockdown="integrity",
    )
    assert plan.load_argv == (
        "kexec",
        "-s",
        "/boot/vmlinuz",
        "--initrd=/tmp/initrd",
        "--append=ro console=ttyAMA0,115200",
    )
    assert "--dtb" not in " ".join(plan.load_argv)
    assert "locked down (integrity)" in plan.notes[0]


def test_systemd_executes_with_systemctl() -> None:
    plan = kexec.build(kernel=KERNEL, initrd=None, dtb=DTB, args="", console=None, systemd=True)
    assert plan.exec_argv == ("systemctl", "kexec")
    assert plan.load_argv == ("kexec", "-l", "/boot/vmlinuz", "--dtb=/tmp/boot.dtb", "--append=")


def test_console_already_on_cmdline_is_not_repeated() -> None:
    plan = kexec.build(kernel=KERNEL, initrd=None, dtb=None, args="console=hvc0 ro", console="hvc0")
    assert plan.cmdline == "console=hvc0 ro"


def test_dt_path_console_without_kernel_name_is_explained() -> None:
    plan = kexec.build(kernel=KERNEL, initrd=None, dtb=None, args="ro", console="/soc/serial@1000")
    assert plan.cmdline == "ro"
    assert any("has no kernel name" in n for n in plan.notes)
