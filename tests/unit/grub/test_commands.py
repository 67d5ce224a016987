"""GRUB commands: test, regexp, load_env/save_env, source, configfile, blscfg."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bootd.parsers.grub import grubenv
from bootd.parsers.view import DirectoryView
from tests.unit.grub.conftest import Run

TEST_CASES = [
    ("-n abc", True),
    ("-n ''", False),
    ("-z ''", True),
    ("-z x", False),
    ("abc", True),
    ("''", False),
    ("a = a", True),
    ("a == b", False),
    ("a != b", True),
    ("abc '<' abd", True),
    ("b '>' a", True),
    ("10 -eq 10", True),
    ("10 -ne 10", False),
    ("2 -lt 10", True),
    ("10 -le 9", False),
    ("10 -gt 9", True),
    ("9 -ge 10", False),
    ("vmlinuz-5.10 -pgt vmlinuz-5.9", True),
    ("vmlinuz-5.10 -plt vmlinuz-5.9", False),
    ("! a = b", True),
    ("a = a -a b = b", True),
    ("a = a -a b = c", False),
    ("a = b -o b = b", True),
    ("a = b -o b = c", False),
    ("'(' a = b -o a = a ')' -a x", True),
    ("! '(' a = a ')'", False),
    ("-f /boot/file", True),
    ("-f /boot", False),
    ("-d /boot", True),
    ("-e /boot", True),
    ("-e /nothing", False),
    ("-s /boot/file", True),
    ("-s /boot/empty", False),
    ("-f (hd0,gpt2)/boot/file", True),
    ("-f ($root)/boot/file", True),
    ("-f $prefix/grub.cfg", True),
    # No arguments at all is true in GRUB (real GRUB's answer, see tests/integration/grub_oracle).
    ("", True),
    ("$unset_variable", True),
    ('"$unset_variable"', False),
]


@pytest.mark.parametrize(("expr", "expected"), TEST_CASES)
def test_test_command(run: Run, expr: str, expected: bool) -> None:
    files = {"/boot/file": "data", "/boot/empty": ""}
    out = run(
        f"if [ {expr} ]; then echo yes; else echo no; fi\nif test {expr}; then echo yes; else echo no; fi", files=files
    )
    want = ["yes"] if expected else ["no"]
    assert out.echoes == [want, want]


def test_bracket_needs_closing(run: Run) -> None:
    assert run("[ a = a\necho $?").echoes == [["1"]]


def test_regexp(run: Run) -> None:
    script = r"""
regexp --set=ver 'vmlinuz-(.*)' /boot/vmlinuz-6.1.0-9-amd64
echo $ver
regexp -s 2:minor -s 1:major '([0-9]+)\.([0-9]+)' 6.1
echo $major $minor
regexp -s 0:all '[[:digit:]]+' abc123def
echo $all
regexp 'x' abc
echo $?
regexp '(a*)*b' aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac
echo $?
regexp '(' x
echo $?
"""
    out = run(script)
    assert out.echoes == [["6.1.0-9-amd64"], ["6", "1"], ["123"], ["1"], ["1"], ["1"]]
    assert any("nested repetition" in d.message for d in out.diagnostics)


def test_load_env_and_save_env_stay_in_memory(run: Run, tmp_path: Path) -> None:
    env = grubenv.render({"saved_entry": "gnulinux-x", "kernelopts": "root=/dev/sda1 ro", "other": "o"})
    script = """
load_env
echo $saved_entry "$kernelopts" $other
set saved_entry=changed
save_env saved_entry
set saved_entry=
load_env saved_entry
echo $saved_entry
load_env -f ($root)/boot/alt.env only
echo $only $ignored
load_env -f /boot/missing
echo $?
load_env -f /boot/grub/grub.cfg
echo $?
"""
    files = {"/boot/grub/grubenv": env, "/boot/alt.env": grubenv.render({"only": "1", "ignored": "2"})}
    out = run(script, files=files)
    assert out.echoes == [["gnulinux-x", "root=/dev/sda1 ro", "o"], ["changed"], ["1"], ["1"], ["1"]]
    written = [p for p in tmp_path.rglob("grubenv")]
    assert all(p.read_text() == env for p in written)


def test_grubenv_format() -> None:
    text = grubenv.render({"a": "1", "b": "x=y", "c": "back\\slash"})
    assert len(text.encode()) == 1024
    assert grubenv.parse(text) == {"a": "1", "b": "x=y", "c": "back\\slash"}
    with pytest.raises(grubenv.EnvBlockError):
        grubenv.parse("a=1\n")


def test_source_runs_in_the_same_context(run: Run) -> None:
    files = {"/boot/grub/custom.cfg": "set from_custom=yes\nmenuentry Custom { linux /custom }\n"}
    out = run("source $prefix/custom.cfg\necho $from_custom\nsource /nothing\necho $?", files=files)
    assert out.echoes == [["yes"], ["1"]]
    assert [o.name for o in out.options] == ["Custom"]


def test_configfile_replaces_the_menu(run: Run) -> None:
    files = {"/boot/grub/real.cfg": "set default=1\nmenuentry R1 { linux /r1 }\nmenuentry R2 { linux /r2 }\n"}
    out = run(
        "menuentry Before { linux /b }\nconfigfile /boot/grub/real.cfg\nmenuentry After { linux /a }", files=files
    )
    assert [(o.name, o.default) for o in out.options] == [("R1", False), ("R2", True)]


def test_configfile_of_an_empty_menu_returns(run: Run) -> None:
    files = {"/boot/grub/vars.cfg": "set x=1\n"}
    out = run("configfile /boot/grub/vars.cfg\nmenuentry After { linux /a }", files=files)
    assert [o.name for o in out.options] == ["After"]


def test_entry_that_opens_a_menu_becomes_a_group(run: Run) -> None:
    # SUSE's snapshot entries: each runs configfile on the snapshot's grub.cfg.
    snap = "menuentry 'openSUSE (snapshot)' { linux /boot/vmlinuz root=/dev/sda2 ${extra_cmdline} }\n"
    files = {
        "/.snapshots/5/snapshot/boot/grub2/grub.cfg": snap,
        "/.snapshots/grub-snapshot.cfg": (
            "submenu 'Start bootloader from a read-only snapshot' {\n"
            "  menuentry 'openSUSE Tumbleweed (snapshot 5)' {\n"
            "    btrfs-mount-subvol ($root) / /.snapshots/5/snapshot\n"
            '    extra_cmdline="rootflags=subvol=@/.snapshots/5/snapshot"\n'
            "    export extra_cmdline\n"
            '    configfile "/.snapshots/5/snapshot/boot/grub2/grub.cfg"\n'
            "  }\n}\n"
        ),
    }
    cfg = (
        "menuentry 'openSUSE Tumbleweed' { linux /boot/vmlinuz root=/dev/sda2 }\n"
        'if [ -f "/.snapshots/grub-snapshot.cfg" ]; then source "/.snapshots/grub-snapshot.cfg"; fi\n'
    )
    out = run(cfg, files=files, config="/boot/grub2/grub.cfg")
    assert [(o.name, o.group, o.args) for o in out.options] == [
        ("openSUSE Tumbleweed", None, "root=/dev/sda2"),
        (
            "openSUSE (snapshot)",
            "Start bootloader from a read-only snapshot > openSUSE Tumbleweed (snapshot 5)",
            "root=/dev/sda2 rootflags=subvol=@/.snapshots/5/snapshot",
        ),
    ]


def test_snapper_snapshot_entries_pass_their_paths_as_arguments(run: Run) -> None:
    # The form snapper's GRUB plugin writes: the snapshot's path and subvolume are
    # the entry's extra arguments, which GRUB passes as $2 and $3 ($1 is the title).
    snap = "menuentry 'openSUSE Tumbleweed' { linux /boot/vmlinuz-6.9 root=/dev/sda2 ${extra_cmdline} }\n"
    files = {
        "/.snapshots/7/snapshot/boot/grub2/grub.cfg": snap,
        "/.snapshots/grub-snapshot.cfg": (
            "snapshot_found=false\n"
            'if [ -f "/.snapshots/7/snapshot/boot/grub2/grub.cfg" ]; then\n'
            "  snapshot_found=true\n"
            "  saved_subvol=$btrfs_subvol\n"
            '  menuentry "openSUSE Tumbleweed (6.9,2024-05-01T10:00,post,zypp(zypper))"'
            ' "/.snapshots/7/snapshot" "/@/.snapshots/7/snapshot" {\n'
            '    btrfs_subvol="$3"\n'
            '    extra_cmdline="rootflags=subvol=$3"\n'
            "    export extra_cmdline\n"
            "    snapshot_num=7\n"
            "    export snapshot_num\n"
            '    configfile "$2/boot/grub2/grub.cfg"\n'
            "    btrfs_subvol=$saved_subvol\n"
            "  }\n"
            "fi\n"
            "if [ x$snapshot_found != xtrue ]; then\n"
            "  submenu 'Bootable snapshot #7' { menuentry 'x' { echo gone; } }\n"
            "fi\n"
        ),
    }
    cfg = (
        "menuentry 'openSUSE Tumbleweed' { linux /boot/vmlinuz-6.10 root=/dev/sda2 }\n"
        "submenu 'Start bootloader from a read-only snapshot' {\n"
        '  if [ -f "/.snapshots/grub-snapshot.cfg" ]; then source "/.snapshots/grub-snapshot.cfg"; fi\n'
        "}\n"
    )
    out = run(cfg, files=files, config="/boot/grub2/grub.cfg")
    assert [(o.name, o.group, o.args) for o in out.options] == [
        ("openSUSE Tumbleweed", None, "root=/dev/sda2"),
        (
            "openSUSE Tumbleweed",
            "Start bootloader from a read-only snapshot > openSUSE Tumbleweed (6.9,2024-05-01T10:00,post,zypp(zypper))",
            "root=/dev/sda2 rootflags=subvol=/@/.snapshots/7/snapshot",
        ),
    ]


FEDORA_CFG = """
set pager=1
if [ -f ${config_directory}/grubenv ]; then
  load_env -f ${config_directory}/grubenv
elif [ -s $prefix/grubenv ]; then
  load_env
fi
if [ "${next_entry}" ] ; then
   set default="${next_entry}"
   set next_entry=
   save_env next_entry
   set boot_once=true
else
   set default="${saved_entry}"
fi
search --no-floppy --fs-uuid --set=root 1111-2222
search --no-floppy --fs-uuid --set=boot 1111-2222
set tuned_params=""
set tuned_initrd=""
insmod blscfg
blscfg
menuentry 'UEFI Firmware Settings' $menuentry_id_option 'uefi-firmware' { fwsetup }
"""


def _bls_entry(version: str, extra: str = "") -> str:
    return (
        f"title Fedora Linux ({version}) 39\nversion {version}\nlinux /vmlinuz-{version}\n"
        f"initrd /initramfs-{version}.img $tuned_initrd\noptions $kernelopts $tuned_params{extra}\n"
        "grub_users $grub_users\ngrub_arg --unrestricted\ngrub_class fedora\n"
    )


def test_blscfg_expands_kernelopts_and_picks_saved_entry(run: Run) -> None:
    mid = "0123456789abcdef0123456789abcdef"
    files = {
        "/grub2/grubenv": grubenv.render({"saved_entry": f"{mid}-6.5.6", "kernelopts": "root=UUID=abc ro rhgb quiet"}),
        f"/loader/entries/{mid}-6.5.6.conf": _bls_entry("6.5.6"),
        f"/loader/entries/{mid}-6.7.1.conf": _bls_entry("6.7.1", " console=ttyS0"),
        f"/loader/entries/{mid}-0-rescue.conf": _bls_entry("0-rescue-" + mid),
    }
    out = run(FEDORA_CFG, files=files, config="/grub2/grub.cfg", device={"id": "boot", "uuid": "1111-2222"})
    assert out.used_blscfg
    opts = out.options
    assert [o.entry_id for o in opts] == [f"{mid}-6.7.1", f"{mid}-6.5.6", f"{mid}-0-rescue"]
    assert [o.default for o in opts] == [False, True, False]
    assert opts[0].args == "root=UUID=abc ro rhgb quiet console=ttyS0"
    assert opts[0].name == "Fedora Linux (6.7.1) 39"
    assert str(opts[0].kernel and opts[0].kernel.path) == "/vmlinuz-6.7.1"
    assert [str(r.path) for r in opts[0].initrds] == ["/initramfs-6.7.1.img"]


def test_blscfg_next_entry_wins_and_supersedes_bls(run: Run, tmp_path: Path) -> None:
    from bootd.model import Source
    from bootd.parsers import ParseContext, parse_device
    from tests.unit.grub.helpers import make_view

    mid = "m"
    files = {
        "/grub2/grub.cfg": FEDORA_CFG,
        "/grub2/grubenv": grubenv.render({"saved_entry": "m-6.5.6", "next_entry": "m-6.7.1", "kernelopts": "ro"}),
        "/loader/entries/m-6.5.6.conf": _bls_entry("6.5.6"),
        "/loader/entries/m-6.7.1.conf": _bls_entry("6.7.1"),
    }
    view = make_view(tmp_path / "fedora", files, id="fedora", uuid="1111-2222")
    result = parse_device(view, ParseContext())
    assert {o.source for o in result.options} == {Source.GRUB2}
    assert [(o.entry_id, o.default) for o in result.options] == [("m-6.7.1", True), ("m-6.5.6", False)]
    assert result.options[0].id == "fedora/grub2/m-6.7.1"
    del mid


def test_echo_and_noops(run: Run) -> None:
    out = run(
        "insmod gzio\nloadfont unicode\nterminal_output gfxterm\nset gfxmode=auto\nbackground_image /x.png\n"
        "play 480 440 1\necho $?\necho -n -e 'a\\nb'"
    )
    assert out.echoes == [["0"], ["-n", "-e", "a\\nb"]]


def test_sandbox_touches_no_host_file(run: Run) -> None:
    out = run("source /etc/passwd\necho $?\nif [ -f /etc/hostname ]; then echo host; fi\nconfigfile /proc/self/environ")
    assert out.echoes == [["1"]]


OtherFactory = Callable[..., DirectoryView]


def test_blscfg_reads_the_scanned_device_when_root_names_an_unknown_uuid(run: Run) -> None:
    # Scanned without its UUID (a plain directory): the search finds nothing,
    # yet GRUB on that machine reads the entries beside its config.
    files = {
        "/grub2/grubenv": grubenv.render({"saved_entry": "m-6.5.6", "kernelopts": "root=/dev/sda3 ro"}),
        "/loader/entries/m-6.5.6.conf": _bls_entry("6.5.6"),
        "/loader/entries/m-6.7.1.conf": _bls_entry("6.7.1"),
    }
    out = run(FEDORA_CFG, files=files, config="/grub2/grub.cfg", device={"id": "boot"})
    assert out.used_blscfg
    assert [o.entry_id for o in out.options] == ["m-6.7.1", "m-6.5.6"]
    assert [o.default for o in out.options] == [False, True]
    assert out.options[1].args == "root=/dev/sda3 ro"
    assert out.options[1].kernel is not None and out.options[1].kernel.device is None
    assert str(out.options[1].kernel.path) == "/vmlinuz-6.5.6"
