"""Boot Loader Specification: keys, ordering, boot counting, loader.conf."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bootd.model import Resource, Source
from bootd.parsers import ParseContext, bls
from bootd.parsers._bls_entry import BlsEntry, sort_entries
from bootd.parsers._text import version_compare
from tests.unit.parsers.helpers import make_view


def entry(title: str, *, version: str | None = None, sort_key: str | None = None, mid: str | None = None) -> str:
    lines = [f"title {title}", f"linux /vmlinuz-{title}"]
    if version:
        lines.append(f"version {version}")
    if sort_key:
        lines.append(f"sort-key {sort_key}")
    if mid:
        lines.append(f"machine-id {mid}")
    return "\n".join(lines) + "\n"


def titles(tmp: Path, files: dict[str, str]) -> list[str]:
    view = make_view(tmp, files)
    return [o.name.split()[0] for o in bls.parse(view, ParseContext()).options]


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("1", "2"),
        ("9", "10"),
        ("1.0", "1.0.1"),
        ("1.0~rc1", "1.0"),
        ("1.0", "1.0^post1"),
        ("1.0-1", "1.0.1"),
        ("5.6.6-300.fc32", "5.8.15-201.fc32"),
        ("a", "b"),
        ("abc", "abcd"),
        ("1.a", "1.1"),
        ("6.8.0-41-generic", "6.8.0-45-generic"),
    ],
)
def test_version_compare(older: str, newer: str) -> None:
    assert version_compare(older, newer) < 0
    assert version_compare(newer, older) > 0
    assert version_compare(older, older) == 0


def test_leading_zeros_and_ignored_characters() -> None:
    assert version_compare("00123", "123") == 0
    assert version_compare("1_2", "12") < 0  # "_" only separates: 1, 2 against 12
    assert version_compare("1+2", "1+2") == 0


def test_sort_key_then_machine_id_then_version_newest_first(tmp_path: Path) -> None:
    files = {
        "/loader/entries/a.conf": entry("A10", version="10", sort_key="fedora", mid="bbb"),
        "/loader/entries/b.conf": entry("A5", version="5", sort_key="fedora", mid="bbb"),
        "/loader/entries/c.conf": entry("AAA", version="1", sort_key="fedora", mid="aaa"),
        "/loader/entries/d.conf": entry("Arch", version="100", sort_key="arch"),
        "/loader/entries/zz-2.conf": entry("Nokey2"),
        "/loader/entries/zz-10.conf": entry("Nokey10"),
    }
    assert titles(tmp_path, files) == ["Arch", "AAA", "A10", "A5", "Nokey10", "Nokey2"]


def test_no_sort_key_orders_by_file_name_newest_first(tmp_path: Path) -> None:
    files = {f"/loader/entries/mid-{v}.conf": entry(f"v{v}") for v in ("5.6.6", "5.10.1", "5.8.15")}
    assert titles(tmp_path, files) == ["v5.10.1", "v5.8.15", "v5.6.6"]


def test_boot_counting(tmp_path: Path) -> None:
    files = {
        "/loader/entries/os-3+0-3.conf": entry("Bad", version="3"),  # no tries left: last
        "/loader/entries/os-2+1-2.conf": entry("Trying", version="2"),
        "/loader/entries/os-1.conf": entry("Good", version="1"),
    }
    view = make_view(tmp_path, files)
    entries, _ = bls.load_entries(view)
    assert [e.title for e in entries] == ["Trying", "Good", "Bad"]
    assert [(e.file_stem, e.tries_left, e.tries_done) for e in entries] == [
        ("os-2", 1, 2),
        ("os-1", None, None),
        ("os-3", 0, 3),
    ]
    opts = bls.parse(view, ParseContext()).options
    assert opts[0].default and opts[0].entry_id == "os-2"


def test_more_tries_left_first_for_the_same_name(tmp_path: Path) -> None:
    files = {
        "/loader/entries/os+1.conf": entry("One"),
        "/loader/entries/dir/ignored": "x",
        "/boot/loader/entries/os+3.conf": entry("Three"),
    }
    entries, _ = bls.load_entries(make_view(tmp_path, files))
    assert [e.title for e in entries] == ["Three", "One"]


def test_keys_repeatable_and_joined(tmp_path: Path) -> None:
    cfg = (
        "# comment\n"
        "title  Fedora Linux\n"
        "version 6.11.4\n"
        "linux /vmlinuz\n"
        "initrd /microcode.img\n"
        "initrd /initramfs.img\n"
        "options root=/dev/sda1 ro\n"
        "options   quiet\n"
        "devicetree /dtbs/board.dtb\n"
        "devicetree-overlay /o1.dtbo /o2.dtbo\n"
        "architecture aa64\n"
        "unknown-key value\n"
    )
    view = make_view(tmp_path, {"/loader/entries/f.conf": cfg})
    (e,), _ = bls.load_entries(view)
    assert e.initrds == ("/microcode.img", "/initramfs.img")
    assert e.options == "root=/dev/sda1 ro quiet"
    assert e.devicetree_overlays == ("/o1.dtbo", "/o2.dtbo") and e.architecture == "aa64"
    assert e.get("unknown-key") == "value"
    (opt,) = bls.parse(view, ParseContext(arch="aarch64")).options
    assert opt.name == "Fedora Linux" and opt.source == Source.BLS and opt.entry_id == "f"
    assert opt.initrds == (Resource.local("/microcode.img"), Resource.local("/initramfs.img"))
    assert opt.dtb == Resource.local("/dtbs/board.dtb")
    assert opt.args == "root=/dev/sda1 ro quiet"


def test_loader_conf_default_glob_and_timeout(tmp_path: Path) -> None:
    files = {
        "/loader/loader.conf": "timeout 7\ndefault fedora-5.6*\n",
        "/loader/entries/fedora-5.8.0.conf": entry("New"),
        "/loader/entries/fedora-5.6.0.conf": entry("Old"),
    }
    result = bls.parse(make_view(tmp_path, files), ParseContext())
    assert [(o.name, o.default) for o in result.options] == [("New", False), ("Old", True)]
    assert result.timeout == 7.0


def test_loader_conf_default_with_conf_suffix_and_no_match(tmp_path: Path) -> None:
    files = {
        "/loader/loader.conf": "default B.CONF\n",
        "/loader/entries/a.conf": entry("A"),
        "/loader/entries/b.conf": entry("B"),
    }
    opts = bls.parse(make_view(tmp_path, files), ParseContext()).options
    assert [o.name for o in opts if o.default] == ["B"]
    files["/loader/loader.conf"] = "default nothing-*\n"
    result = bls.parse(make_view(tmp_path, files), ParseContext())
    assert result.options[0].default and any("matches no entry" in d.message for d in result.diagnostics)


def test_kernelopts_from_grubenv(tmp_path: Path) -> None:
    files = {
        "/loader/entries/f.conf": "title F\nlinux /vmlinuz\noptions $kernelopts ${extra} $missing\n",
        "/grub2/grubenv": "# GRUB Environment Block\nkernelopts=root=/dev/vda2 ro\nextra=quiet\n####",
    }
    (opt,) = bls.parse(make_view(tmp_path, files), ParseContext()).options
    assert opt.args == "root=/dev/vda2 ro quiet"


def test_entries_on_a_root_filesystem_name_files_under_boot(tmp_path: Path) -> None:
    files = {
        "/boot/loader/entries/f.conf": "title F\nlinux /vmlinuz-6\ninitrd /initramfs-6.img\n",
        "/boot/vmlinuz-6": "k",
        "/boot/initramfs-6.img": "i",
    }
    (opt,) = bls.parse(make_view(tmp_path, files), ParseContext()).options
    assert opt.kernel == Resource.local("/boot/vmlinuz-6")
    assert opt.initrds == (Resource.local("/boot/initramfs-6.img"),)


def test_entries_without_linux_are_skipped(tmp_path: Path) -> None:
    files = {
        "/loader/entries/efi.conf": "title Windows\nefi /EFI/Microsoft/Boot/bootmgfw.efi\n",
        "/loader/entries/none.conf": "title Nothing\n",
        "/loader/entries/ok.conf": entry("Ok"),
        "/loader/entries/readme.txt": "not an entry",
    }
    result = bls.parse(make_view(tmp_path, files), ParseContext())
    assert [o.name for o in result.options] == ["Ok"]
    messages = [d.message for d in result.diagnostics]
    assert any("EFI program" in m for m in messages) and any("no 'linux' line" in m for m in messages)


def test_name_falls_back_to_version_then_file(tmp_path: Path) -> None:
    files = {
        "/loader/entries/x-1.conf": "version 1.2\nlinux /a\n",
        "/loader/entries/x-0.conf": "linux /a\n",
    }
    assert [o.name for o in bls.parse(make_view(tmp_path, files), ParseContext()).options] == ["1.2", "x-0"]


def test_load_entries_custom_directories_and_first_wins(tmp_path: Path) -> None:
    files = {
        "/a/x.conf": entry("FromA"),
        "/b/x.conf": entry("FromB"),
        "/b/y.conf": entry("OnlyB"),
    }
    entries, _ = bls.load_entries(make_view(tmp_path, files), ("/a", "/b"))
    assert sorted(e.title or "" for e in entries) == ["FromA", "OnlyB"]
    assert {e.directory for e in entries} == {"/a", "/b"}


def test_repeated_titles_get_the_version_then_machine_id_then_file_name(tmp_path: Path) -> None:
    files = {
        "/loader/entries/a-2.conf": "title Linux\nversion 2\nlinux /v\n",
        "/loader/entries/a-1.conf": "title Linux\nversion 1\nlinux /v\n",
        "/loader/entries/m1.conf": "title Same\nversion 9\nmachine-id 11111111aaaa\nlinux /v\n",
        "/loader/entries/m2.conf": "title Same\nversion 9\nmachine-id 22222222bbbb\nlinux /v\n",
        "/loader/entries/x1.conf": "title Twin\nlinux /v\n",
        "/loader/entries/x2.conf": "title Twin\nlinux /v\n",
        "/loader/entries/u.conf": "title Unique\nversion 3\nlinux /v\n",
    }
    names = sorted(o.name for o in bls.parse(make_view(tmp_path, files), ParseContext()).options)
    assert names == [
        "Linux (1)",
        "Linux (2)",
        "Same (9) (11111111)",
        "Same (9) (22222222)",
        "Twin (x1)",
        "Twin (x2)",
        "Unique",
    ]


def test_entries_for_other_architectures_are_hidden(tmp_path: Path) -> None:
    files = {
        "/loader/entries/x.conf": "title X\nlinux /x\narchitecture x64\n",
        "/loader/entries/a.conf": "title A\nlinux /a\narchitecture AA64\n",
        "/loader/entries/p.conf": "title Any\nlinux /p\n",
        "/loader/entries/q.conf": "title Odd\nlinux /q\narchitecture ppc64le\n",
    }
    view = make_view(tmp_path, files)
    on_arm = bls.parse(view, ParseContext(arch="aarch64"))
    assert sorted(o.name for o in on_arm.options) == ["A", "Any", "Odd"]
    assert any("architecture x64 hidden on this aarch64 machine" in d.message for d in on_arm.diagnostics)
    assert sorted(o.name for o in bls.parse(view, ParseContext(arch="x86_64")).options) == ["Any", "Odd", "X"]


def reference_order(a: BlsEntry, b: BlsEntry) -> int:
    """The specification's rules, pairwise: negative when ``a`` is listed first."""
    r = (a.tries_left == 0) - (b.tries_left == 0)
    if r:
        return r
    r = (a.sort_key is None) - (b.sort_key is None)
    if r:
        return r
    if a.sort_key is not None and b.sort_key is not None:
        for x, y in ((a.sort_key, b.sort_key), (a.machine_id or "", b.machine_id or "")):
            if x != y:
                return -1 if x < y else 1
        r = -version_compare(a.version or "", b.version or "")
        if r:
            return r
    r = -version_compare(a.file_stem, b.file_stem)
    if r or a.tries_left is None or b.tries_left is None:
        return r
    if a.tries_left != b.tries_left:
        return -1 if a.tries_left > b.tries_left else 1
    return (a.tries_done or 0) - (b.tries_done or 0)


ENTRIES = st.builds(
    BlsEntry,
    file_stem=st.sampled_from(["fedora-6.1", "fedora-6.10", "fedora-6.2", "arch", "x", "x~rc1"]),
    sort_key=st.sampled_from([None, "fedora", "arch"]),
    machine_id=st.sampled_from([None, "aaa", "bbb"]),
    version=st.sampled_from([None, "1", "1.0", "1.0~rc1", "2", "10", "1.0^p1"]),
    tries_left=st.sampled_from([None, 0, 1, 3]),
    tries_done=st.sampled_from([None, 0, 2]),
)


@settings(max_examples=300, deadline=None)
@given(entries=st.lists(ENTRIES, max_size=8))
def test_sort_entries_follows_the_rules(entries: list[BlsEntry]) -> None:
    ordered = sort_entries(entries)
    assert sorted(map(id, ordered)) == sorted(map(id, entries))
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            assert reference_order(a, b) <= 0, (a, b)
