"""What the client commands print: ``bootd list`` within the terminal's width,
``bootd status --follow``/``bootd boot`` progress as a few lines."""

from __future__ import annotations

from bootd.cli.client import ProgressLines, describe_transfer, list_lines
from bootd.model import BootOption, Resource, Source, Transfer

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


def follow_download(lines: ProgressLines, now: list[float], size: int, seconds: float, reports: int) -> None:
    """A download of ``size`` bytes over ``seconds`` reported ``reports`` times, then its last report."""
    stage = "Loading kernel tftp://10.0.0.1/vmlinuz"
    lines(stage, 0.0)
    rate = size / seconds
    for i in range(1, reports + 1):
        now[0] = seconds * i / reports
        done = size * i // reports
        lines.download(stage, 0.4 * done / size, Transfer(done, size, rate, (size - done) / rate))
        lines(stage, 0.4 * done / size)
    lines.download(stage, 0.4, Transfer(size, size, rate, 0.0))
    lines("Preparing the device tree", 0.4)


def test_a_300_mb_download_prints_bytes_rate_and_time_left_at_most_once_a_second_and_per_5_percent() -> None:
    out: list[str] = []
    now = [0.0]
    lines = ProgressLines(out.append, clock=lambda: now[0])
    follow_download(lines, now, 300 * 1024 * 1024, 60.0, 1200)  # 256 KiB reports, 5 MiB/s
    download = [line for line in out if line.startswith("[") and " of " in line]
    assert len(download) <= 20 and len(out) <= 24, out
    assert out[0] == "[  0%] Loading kernel tftp://10.0.0.1/vmlinuz"
    assert download[0] == "[  2%]   15.0 MiB of 300.0 MiB, 5.0 MiB/s, 0:57 left", download
    assert out[-2] == "[ 40%]   300.0 MiB in 1:00, 5.0 MiB/s", "the last report is always shown"
    assert out[-1] == "[ 40%] Preparing the device tree"


def test_a_fast_download_prints_at_most_one_line_a_second() -> None:
    out: list[str] = []
    now = [0.0]
    lines = ProgressLines(out.append, clock=lambda: now[0])
    follow_download(lines, now, 300 * 1024 * 1024, 2.5, 1200)  # 120 MiB/s
    assert len([line for line in out if " of " in line]) == 2, out
    assert out[-2] == "[ 40%]   300.0 MiB in 0:02, 120.0 MiB/s"


def test_a_download_of_unknown_size_prints_a_line_every_5_seconds() -> None:
    out: list[str] = []
    now = [0.0]
    lines = ProgressLines(out.append, clock=lambda: now[0])
    stage = "Loading initrd http://10.0.0.1/initrd"
    lines(stage, 0.1)
    for i in range(1, 301):
        now[0] = i / 10  # 30 s, 1 MiB a tenth of a second
        lines.download(stage, 0.1, Transfer(i * 1024 * 1024, None, 10 * 1024 * 1024))
    lines.download(stage, 0.2, Transfer(300 * 1024 * 1024, 300 * 1024 * 1024, 10 * 1024 * 1024, 0.0))
    assert len(out) == 1 + 6 + 1, out
    assert out[1] == "[ 10%]   50.0 MiB so far, 10.0 MiB/s"
    assert out[-1] == "[ 20%]   300.0 MiB in 0:30, 10.0 MiB/s"


def test_transfer_wording() -> None:
    size = Transfer.size_text
    assert [size(0), size(1023), size(1536), size(36 * 2**20), size(3 * 2**30)] == [
        "0 B",
        "1023 B",
        "1.5 KiB",
        "36.0 MiB",
        "3.00 GiB",
    ]
    assert [Transfer.eta_text(s) for s in (0, 7.4, 65, 3723)] == ["0:00", "0:07", "1:05", "1:02:03"]
    assert describe_transfer(Transfer(2048, 4096)) == "2.0 KiB of 4.0 KiB"
    assert describe_transfer(Transfer(4096, 4096)) == "4.0 KiB, complete"
    assert Transfer(1, None).fraction is None and Transfer(5, 10).fraction == 0.5 and not Transfer(5, None).complete
