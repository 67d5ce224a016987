"""The kexec mode chosen first, then the command lines it carries."""

from __future__ import annotations

from pathlib import Path

import pytest

from bootd.errors import KexecError
from bootd.loader import kexec
from bootd.model import ChosenConsole, Console, ConsoleKind

KERNEL = Path("/boot/vmlinuz")
INITRD = Path("/tmp/initrd")
DTB = Path("/tmp/boot.dtb")
CONSOLES = (Console("ttyAMA0", ConsoleKind.SERIAL, "/pl011@9000000"), Console("tty0", ConsoleKind.VGA))
LOAD = kexec.choose_mode(lockdown="none", has_tree=True, tree_change=True)


def plan(mode: kexec.Mode, args: str, console: str | None, **kw: object) -> kexec.KexecPlan:
    chosen = ChosenConsole.parse(console, CONSOLES) if console is not None else None
    cmdline, notes = kexec.command_line(mode, args, chosen)
    out = kexec.command(mode, kernel=KERNEL, cmdline=cmdline, **kw)  # type: ignore[arg-type]
    return kexec.KexecPlan(out.load_argv, out.exec_argv, out.cmdline, (*out.notes, *notes))


def test_dtb_uses_kexec_load_with_dtb() -> None:
    p = plan(LOAD, "root=/dev/vda", "ttyAMA0", initrd=INITRD, dtb=DTB)
    assert p.load_argv == (
        "kexec",
        "-l",
        "/boot/vmlinuz",
        "--dtb=/tmp/boot.dtb",
        "--initrd=/tmp/initrd",
        "--append=root=/dev/vda",
    )
    assert p.exec_argv == ("kexec", "-e")
    # the console travels in the tree (stdout-path), never also on the command line
    assert p.cmdline == "root=/dev/vda" and p.notes == ()


def test_no_tree_uses_kexec_load_with_console_on_cmdline() -> None:
    # kexec_load, not kexec_file_load: Debian 12's arm64 and ppc64el kernels have no kexec_file_load
    # (an autoboot with no console chosen failed there with "syscall kexec_file_load not available")
    mode = kexec.choose_mode(lockdown="none", has_tree=False, tree_change=True)
    p = plan(mode, "quiet", "ttyS0:115200n8", initrd=None, dtb=None)
    assert p.load_argv == ("kexec", "-l", "/boot/vmlinuz", "--append=quiet console=ttyS0,115200n8")
    assert any("no device tree" in n for n in p.notes)
    assert any("console=ttyS0,115200n8" in n for n in p.notes)


def test_kernel_style_console_options_are_read_once() -> None:
    chosen = ChosenConsole.parse("ttyS0,115200n8")
    assert (chosen.device, chosen.node, chosen.options, chosen.screen) == ("ttyS0", None, "115200n8", False)
    assert chosen.kernel_arg == "console=ttyS0,115200n8"
    by_path = ChosenConsole.parse("/pl011@9000000:115200", CONSOLES)
    assert (by_path.device, by_path.node, by_path.stdout_path) == ("ttyAMA0", "/pl011@9000000", "/pl011@9000000:115200")
    screen = ChosenConsole.parse("tty0", CONSOLES)
    assert screen.screen and screen.node is None


def test_lockdown_forces_kexec_file_load_and_says_why() -> None:
    mode = kexec.choose_mode(lockdown="integrity", has_tree=True, tree_change=True)
    p = plan(mode, "ro", "/pl011@9000000:115200", initrd=INITRD, dtb=None)
    assert p.load_argv == ("kexec", "-s", "/boot/vmlinuz", "--initrd=/tmp/initrd", "--append=ro console=ttyAMA0,115200")
    assert "locked down (integrity)" in p.notes[0]


def test_nothing_to_change_in_the_tree_hands_on_the_running_one() -> None:
    mode = kexec.choose_mode(lockdown="none", has_tree=True, tree_change=False)
    assert mode.syscall is kexec.Syscall.LOAD and not mode.carries_dtb and mode.notes == ()


def test_systemd_executes_with_systemctl() -> None:
    p = plan(LOAD, "", None, initrd=None, dtb=DTB, systemd=True)
    assert p.exec_argv == ("systemctl", "kexec")
    assert p.load_argv == ("kexec", "-l", "/boot/vmlinuz", "--dtb=/tmp/boot.dtb", "--append=")


def test_ppc64_blob_carries_the_command_line_and_initrd() -> None:
    mode = kexec.choose_mode(lockdown="none", has_tree=True, tree_change=True, blob_carries_all=True)
    p = plan(mode, "quiet", "hvc0", initrd=None, dtb=DTB)
    assert p.load_argv == ("kexec", "-l", "/boot/vmlinuz", "--dtb=/tmp/boot.dtb")


def test_kexec_load_without_a_tree_is_refused() -> None:
    with pytest.raises(KexecError, match="none was made"):
        kexec.command(LOAD, kernel=KERNEL, initrd=None, dtb=None, cmdline="")


def test_console_already_on_cmdline_is_not_repeated() -> None:
    mode = kexec.choose_mode(lockdown="none", has_tree=False, tree_change=True)
    assert plan(mode, "console=hvc0 ro", "hvc0", initrd=None, dtb=None).cmdline == "console=hvc0 ro"


def test_dt_path_console_without_kernel_name_is_explained() -> None:
    mode = kexec.choose_mode(lockdown="none", has_tree=False, tree_change=True)
    p = plan(mode, "ro", "/soc/serial@1000", initrd=None, dtb=None)
    assert p.cmdline == "ro"
    assert any("has no kernel name" in n for n in p.notes)
