"""The loader's proof on ppc64el (qemu ``pseries``, SLOF, TCG): an entry with
an initrd *and* a patched device tree, booted with kexec-tools' ``--dtb``.

kexec-tools on ppc64 ignores ``--append`` and refuses ``--initrd`` next to a
DTB; bootd writes the command line into ``/chosen/bootargs`` and carries the
initrd as an extra kernel segment (``bootd.loader.ppc64``).  Stage 2 running
its ``/init`` at all proves the entry's initrd arrived.
"""

from __future__ import annotations

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
