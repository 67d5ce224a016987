"""What the client commands print: ``bootd list`` within the terminal's width,
``bootd status --follow``/``bootd boot`` progress as a few lines."""

from __future__ import annotations

from bootd.cli.client import ProgressLines, list_lines
from bootd.model import BootOption, Resource, Source

GRUB_ID = "sda2/grub2/gnulinux-6.8.0-45-generic-recovery-3f2b8c1e-6d4a-4e7b-9a51-0c8d2e7f4b19"  # 82 characters


def opt(oid: str, name: str, *, default: bool = False) -> BootOption:
    return BootOption(
        id=oid,
        device=oid.split("/")[0],
        name=name,
        kernel=Resource.local("/vmlinuz"),
        default=default,
        source=Source.GRUB2,
    )


def test_list_rows_fit_80_columns_and_keep_whole_ids() -> None:
    options = [
        opt("sda2/grub2/gnulinux-simple", "Ubuntu", default=True),
        opt(GRUB_ID, "Ubuntu, with Linux 6.8.0-45-generic (recovery mode) on a very long title indeed"),
    ]
    lines = list_lines(options, {"sda2": "Disk: sda2"}, "sda2/grub2/gnulinux-simple", 80)
    assert all(len(line) <= 80 or line.strip() == GRUB_ID for line in lines), lines
    assert lines[:3] == ["Disk: sda2", "  > Ubuntu", "      sda2/grub2/gnulinux-simple"]
    assert f"  {GRUB_ID}" in lines, "a long id moves left rather than being cut"
    assert lines[3].endswith("...") and len(lines[3]) == 80


def test_short_rows_stay_one_line_each() -> None:
    lines = list_lines([opt("sda1/bls/6.1", "Debian", default=True)], {"sda1": "Disk: sda1"}, None, 80)
    assert lines == ["Disk: sda1", "  * sda1/bls/6.1  Debian"]


def test_a_long_download_prints_a_few_lines_with_the_time_left() -> None:
    out: list[str] = []
    now = [0.0]
    lines = ProgressLines(out.append, clock=lambda: now[0])
    lines("Loading kernel http://10.0.0.1/vmlinuz", 0.0)
    for i in range(1, 1157):  # a 300 MB kernel in 256 KiB reports, one per 0.01 s
        now[0] = i * 0.01
        lines("Loading kernel http://10.0.0.1/vmlinuz", 0.4 * i / 1156)
    lines("Preparing the device tree", 0.4)
    lines("Loading the kernel with kexec", 0.9)
    lines("Loading the kernel with kexec", 1.0)
    lines("Loading the kernel with kexec", 1.0)
    assert 5 <= len(out) <= 10, out
    assert out[0] == "[  0%] Loading kernel http://10.0.0.1/vmlinuz"
    assert "s left" in out[1] and out[1].startswith("[ 10%] Loading kernel")
    assert out[-1] == "[100%] Loading the kernel with kexec"


def test_signed_boot_marks_each_option_and_explains_a_failure() -> None:
    from dataclasses import replace

    from bootd.model import Trust

    good = replace(opt("sda1/bls/6.1", "Debian"), trust=Trust.VERIFIED, trust_reason="signed by ABCD (owner)")
    bad = replace(opt("sda1/bls/5.10", "Old"), trust=Trust.TAMPERED, trust_reason="kernel /vmlinuz: BAD signature")
    lines = list_lines([good, bad], {"sda1": "Disk: sda1"}, None, 80)
    assert lines == [
        "Disk: sda1",
        "    sda1/bls/6.1   Debian [verified]",
        "    sda1/bls/5.10  Old [TAMPERED]",
        "      kernel /vmlinuz: BAD signature",
    ]
