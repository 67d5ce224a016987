"""GRUB's wildcard expansion of file names: each expectation is what Debian's
GRUB 2.06 (grub-emu) printed for the same script on an ext4 disk holding the
same files (see tests/data/grub-oracle/probes/wildcard-*.cfg for the ones the
oracle checks on every run)."""

from __future__ import annotations

from pathlib import PurePosixPath

import pytest

from bootd.model import Resource
from bootd.parsers.grub import wildcard
from bootd.parsers.grub.interpreter import Limits
from tests.isobuild import UBUNTU_FILES, build_iso
from tests.unit.grub.conftest import Run

FILES = {
    "/boot/vmlinuz-2": "k2",
    "/boot/vmlinuz-10": "k10",
    "/boot/vmlinuz-1": "k1",
    "/boot/vmlinuz-b": "kb",
    "/boot/vmlinuz-a": "ka",
    "/boot/.vmlinuz-h": "h",
    "/boot/x.y": "",
    "/boot/xzy": "",
    "/boot/q[a]": "",
    "/boot/qa": "",
    "/isos/z.iso": "",
    "/isos/a.iso": "",
    "/isos/m.ISO": "",
    "/isos/sub/c.iso": "",
    "/d1/grub.cfg": "",
    "/d2/grub.cfg": "",
    "/d3/other": "",
}
KERNELS = "/boot/vmlinuz-1 /boot/vmlinuz-10 /boot/vmlinuz-2 /boot/vmlinuz-a /boot/vmlinuz-b"


def echoed(run: Run, cfg: str) -> list[str]:
    out = run(cfg, files=FILES)
    return [" ".join(e) for e in out.echoes]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("echo /boot/vmlinuz-*", KERNELS),
        ("echo /boot/nomatch-*", "/boot/nomatch-*"),
        ('echo "/boot/vmlinuz-*"', "/boot/vmlinuz-*"),
        ("echo '/boot/vm*'", "/boot/vm*"),
        (r"echo /boot/vmlinuz-\*", "/boot/vmlinuz-*"),
        ("echo /boot/x.y /boot/x?y /boot/q[a] /boot/*[a]", "/boot/x.y /boot/x.y /boot/xzy /boot/q[a] /boot/q[a]"),
        ("echo /*/grub.cfg", "/d1/grub.cfg /d2/grub.cfg"),
        ("echo /isos/*.iso /isos/*.IsO", "/isos/a.iso /isos/z.iso /isos/*.IsO"),
        (
            "echo boot/vmlinuz-* (hd0,gpt1)/boot/vmlinuz-1*",
            "boot/vmlinuz-* (hd0,gpt1)/boot/vmlinuz-1 (hd0,gpt1)/boot/vmlinuz-10",
        ),
        ("echo /bo*/vmlinuz-1", "/boot/vmlinuz-1"),
        (
            "echo /boot/*",
            "/boot/.vmlinuz-h /boot/grub /boot/q[a] /boot/qa "
            + KERNELS.replace("/boot/vmlinuz-b", "/boot/vmlinuz-b /boot/x.y /boot/xzy"),
        ),
        ("echo /boot/*/", "/boot/grub/"),
        ("echo /*/", "/boot/ /d1/ /d2/ /d3/ /isos/"),
        (
            'set p=/boot/vmlinuz-?\necho $p "$p"',
            "/boot/vmlinuz-1 /boot/vmlinuz-2 /boot/vmlinuz-a /boot/vmlinuz-b /boot/vmlinuz-?",
        ),
        ("set v='a\\b'\necho $v \"$v\"", "a\\b a\\b"),
        ('echo /boot/"vm"linuz-1*', "/boot/vmlinuz-1 /boot/vmlinuz-10"),
        ('echo /boot/"*"', "/boot/*"),
    ],
)
def test_expansion_is_what_grub_prints(run: Run, line: str, expected: str) -> None:
    assert echoed(run, line) == [expected]


def test_root_device_prefix_is_kept(run: Run) -> None:
    assert echoed(run, "for f in ($root)/boot/vmlinuz-1*; do echo $f; done") == [
        "(hd0,gpt1)/boot/vmlinuz-1",
        "(hd0,gpt1)/boot/vmlinuz-10",
    ]


def test_a_loop_makes_one_entry_per_kernel(run: Run) -> None:
    cfg = 'for k in /boot/vmlinuz-*; do\n  menuentry "Linux $k" "$k" { linux $2 root=/dev/sda1 }\ndone\n'
    out = run(cfg, files=FILES)
    assert [o.name for o in out.options] == [f"Linux {k}" for k in KERNELS.split()]
    assert [o.kernel for o in out.options] == [Resource(path=PurePosixPath(k)) for k in KERNELS.split()]


def test_device_wildcards_stay_as_written(run: Run) -> None:
    # GRUB lists the firmware's disks here, which a scan does not know (deliberate)
    assert echoed(run, "echo (hd*)/boot/vmlinuz-1 *") == ["(hd*)/boot/vmlinuz-1 *"]


def test_isoscan_loop_over_real_images(run: Run, tmp_path_factory: pytest.TempPathFactory) -> None:
    image = build_iso(tmp_path_factory.mktemp("iso") / "u.iso", UBUNTU_FILES).read_bytes()
    cfg = """\
insmod regexp
for isofile in /isos/*.iso; do
  menuentry "Boot $isofile" "$isofile" {
    loopback loop "$2"
    linux (loop)/casper/vmlinuz iso-scan/filename="$2"
    initrd (loop)/casper/initrd
  }
done
"""
    out = run(cfg, files={"/isos/b.iso": image, "/isos/a.iso": image, "/isos/notes.txt": "x"})
    assert [o.name for o in out.options] == ["Boot /isos/a.iso", "Boot /isos/b.iso"]
    for opt, iso in zip(out.options, ("/isos/a.iso", "/isos/b.iso"), strict=True):
        assert opt.kernel == Resource(path=PurePosixPath(iso), inside=PurePosixPath("/casper/vmlinuz"))
        assert opt.args == f"iso-scan/filename={iso}"


def test_wildcards_inside_a_loopback_image(run: Run, tmp_path_factory: pytest.TempPathFactory) -> None:
    image = build_iso(tmp_path_factory.mktemp("iso") / "u.iso", UBUNTU_FILES).read_bytes()
    cfg = "loopback loop /u.iso\nfor f in (loop)/casper/vmlinu?; do echo $f; done\n"
    out = run(cfg, files={"/u.iso": image})
    assert [" ".join(e) for e in out.echoes] == ["(loop)/casper/vmlinuz"]


def test_many_matches_are_capped_with_a_message(run: Run) -> None:
    files = {f"/many/f{i:05}": "" for i in range(wildcard.MAX_MATCHES + 10)}
    out = run("for f in /many/*; do true; done\necho /many/*", files=files)
    [line] = out.echoes
    assert len(line) == wildcard.MAX_MATCHES
    assert any("MAX_MATCHES" in d.message for d in out.diagnostics)


def test_listing_many_directories_is_capped(run: Run) -> None:
    files = {f"/d{i:04}/x/k": "" for i in range(wildcard.MAX_LISTINGS + 5)}
    out = run("echo /*/*/k", files=files, limits=Limits())
    [line] = out.echoes
    assert 1 < len(line) <= wildcard.MAX_LISTINGS
    assert any("MAX_LISTINGS" in d.message for d in out.diagnostics)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("set v='/boot/vmlinuz-\\*'\necho $v", "/boot/vmlinuz-\\*"),
        ("set w='/boot/vmlinuz-\\1*'\necho $w", "/boot/vmlinuz-\\1*"),
        ('set a=A\nset b=B\nregexp --set=1:a --set=2:b \'(x)|(y)\' y\necho "[$a]" "[$b]"', "[] [y]"),
        ('echo /boot/vmlinuz-1* "x" /boot/vmlinuz-2*', "/boot/vmlinuz-1 /boot/vmlinuz-10 x /boot/vmlinuz-2"),
    ],
)
def test_backslashes_in_values_are_text(run: Run, line: str, expected: str) -> None:
    assert echoed(run, line) == [expected]


def test_regexp_picks_the_version_of_each_match(run: Run) -> None:
    cfg = "for f in /boot/vmlinuz-1*; do regexp --set=1:ver '^/boot/vmlinuz-(.*)$' \"$f\"; echo $ver; done"
    assert echoed(run, cfg) == ["1", "10"]


def test_an_endless_loop_over_a_big_directory_is_charged_by_its_names(run: Run) -> None:
    # each round matches 5,000 names (listed once: the directory is cached):
    # the budget ends the loop after a few dozen rounds, not millions
    files = {f"/many/f{i:05}": "" for i in range(5000)}
    out = run("while true; do echo /many/*x /many/?z; done\n", files=files)
    messages = " ".join(d.message for d in out.diagnostics)
    assert "steps" in messages or "cpu_seconds" in messages
    assert len(out.echoes) < 300


def test_one_command_of_much_file_work_stops_at_the_cpu_cap(run: Run) -> None:
    # one argument lists 256 directories and checks 1,024 paths: the CPU
    # cap is looked at inside the command, not only between commands
    files = {f"/d{i:02}/e{j:02}/k": "" for i in range(30) for j in range(30)}
    out = run("echo /*/*/k\n", files=files, limits=Limits(steps=10**9, cpu_seconds=0.001))
    assert any("cpu_seconds" in d.message for d in out.diagnostics)
