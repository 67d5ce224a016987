"""Control flow, functions and menu definitions, as GRUB runs them."""

from __future__ import annotations

from bootd.model import Resource
from tests.unit.grub.conftest import Run


def test_if_elif_else(run: Run) -> None:
    script = """
for v in 1 2 3; do
  if [ $v = 1 ]; then echo one
  elif [ $v = 2 ]
  then
    echo two
  else echo other; fi
done
if false; then echo no; fi
echo status $?
"""
    assert run(script).echoes == [["one"], ["two"], ["other"], ["status", "0"]]


def test_while_until_break_continue(run: Run) -> None:
    script = """
i=0
while [ $i -lt 5 ]; do
  regexp --set=i '^(.*)$' "${i}x"
  if [ "$i" = "0xx" ]; then continue; fi
  echo $i
  if [ "$i" = "0xxxx" ]; then break; fi
done
n=a
until [ "$n" = aaa ]; do n="${n}a"; echo $n; done
for a in 1 2; do for b in x y; do if [ $b = y ]; then continue 2; fi; echo $a$b; done; done
for a in 1 2; do for b in x y; do echo $a$b; break 2; done; done
"""
    assert run(script).echoes == [
        ["0x"],
        ["0xxx"],
        ["0xxxx"],
        ["aa"],
        ["aaa"],
        ["1x"],
        ["2x"],
        ["1x"],
    ]


def test_functions_positional_parameters_and_return(run: Run) -> None:
    script = """
function show {
  echo $# "$1" $2 "$@" "$*"
  return 3
  echo never
}
show a "b c" d
echo $?
function outer { inner "$@" ; }
function inner { echo inner $1 ; }
outer z
shift_test() { echo no; }
"""
    out = run(script)
    assert out.echoes == [["3", "a", "b", "c", "a", "b c", "d", "a b c d"], ["3"], ["inner", "z"]]


def test_menuentry_options_ids_and_extra_arguments(run: Run) -> None:
    script = """
if [ x"${feature_menuentry_id}" = xy ]; then menuentry_id_option="--id"; else menuentry_id_option=""; fi
export menuentry_id_option
menuentry 'First' --class debian --class os --users alice --unrestricted --hotkey=f $menuentry_id_option 'first-id' {
  linux /vmlinuz root=/dev/sda1
}
menuentry "With args" /vmlinuz-2 "quiet splash" --id=args {
  linux $2 $3 "n=$#" "t=$1"
  initrd /initrd-a /initrd-b
}
hiddenentry 'Hidden' --hotkey h { linux /hidden }
"""
    out = run(script)
    opts = out.options
    assert [(o.name, o.entry_id, o.hidden) for o in opts] == [
        ("First", "first-id", False),
        ("With args", "args", False),
        ("Hidden", None, True),
    ]
    # as the GRUB manual says: the title is always $1, the extra arguments follow
    assert opts[1].args == 'quiet splash n=3 "t=With args"'
    assert str(opts[1].kernel and opts[1].kernel.path) == "/vmlinuz-2"
    assert [str(r.path) for r in opts[1].initrds] == ["/initrd-a", "/initrd-b"]
    assert out.menu[0].classes == ("debian", "os")


def test_plain_entries_see_every_variable_of_their_menu_level(run: Run) -> None:
    # grub_menu_execute_entry runs a plain entry in the current context: what the
    # whole script left there, exported or not.
    script = """
set shown=yes
export shown
set private=secret
menuentry A { linux /k a=$shown b=$private c=$root }
set shown=late
"""
    opts = run(script).options
    assert opts[0].args == "a=late b=secret c=hd0,gpt1"


def test_rhel8_style_kernelopts_from_load_env_reach_a_plain_entry(run: Run) -> None:
    script = """
set kernelopts="root=/dev/mapper/rhel-root ro crashkernel=auto rd.lvm.lv=rhel/root"
menuentry 'Red Hat Enterprise Linux 8' { linux /vmlinuz-4.18.0 $kernelopts; initrd /initramfs-4.18.0.img }
"""
    [opt] = run(script).options
    assert opt.args == "root=/dev/mapper/rhel-root ro crashkernel=auto rd.lvm.lv=rhel/root"


def test_submenu_entries_see_exported_variables_and_the_submenus_own(run: Run) -> None:
    # submenu opens a new context (grub_env_context_open) with the exported
    # variables only; its entries run there and see what its body set.
    script = """
set shown=yes
export shown
set private=secret
submenu More {
  set inner=from-submenu
  menuentry B { linux /k a=$shown b=$private c=$inner }
}
"""
    [opt] = run(script).options
    assert opt.args == "a=yes b= c=from-submenu"


def test_one_entrys_set_does_not_reach_another(run: Run) -> None:
    script = """
set x=base
menuentry A { set x=changed; linux /a $x }
menuentry B { linux /b $x }
"""
    assert [o.args for o in run(script).options] == ["changed", "base"]


def test_submenus_flatten_with_their_titles(run: Run) -> None:
    script = """
menuentry Top { linux /top }
submenu 'Advanced' --id adv {
  menuentry Inner1 --id in1 { linux /in1 }
  submenu Deeper { menuentry Deep { linux /deep } }
  menuentry Inner2 { linux /in2 }
}
menuentry Last { linux /last }
"""
    opts = run(script).options
    assert [(o.name, o.group) for o in opts] == [
        ("Top", None),
        ("Inner1", "Advanced"),
        ("Deep", "Advanced > Deeper"),
        ("Inner2", "Advanced"),
        ("Last", None),
    ]


def test_file_ending_in_brace_without_newline_and_blocks(run: Run) -> None:
    out = run("{ echo in block; }\nmenuentry 'A' {\n linux /a\n}")
    assert [o.name for o in out.options] == ["A"]
    assert out.echoes == [["in", "block"]]


def test_syntax_errors_lose_only_their_line(run: Run) -> None:
    script = """
menuentry Good1 { linux /g1 }
fi
then echo stray
}
menuentry Good2 { linux /g2 }
for in; do done
menuentry Good3 { linux /g3 }
"""
    out = run(script)
    assert [o.name for o in out.options] == ["Good1", "Good2", "Good3"]
    assert out.diagnostics


def test_unclosed_block_at_end_of_file_is_closed_there(run: Run) -> None:
    out = run("menuentry A { linux /a\nmenuentry B { linux /b")
    assert [o.name for o in out.options][:1] == ["A"]
    assert any("not closed" in d.message for d in out.diagnostics)


def test_unknown_command_sets_status_quietly(run: Run) -> None:
    out = run("frobnicate --now\necho $?\ninsmod part_gpt\necho $?")
    assert out.echoes == [["1"], ["0"]]
    assert not out.diagnostics


def test_assignment_without_set_and_unset_export(run: Run) -> None:
    out = run('a=1\nb="x y"\nunset a\necho "$a" "$b"\n"c=2"\necho $?')
    assert out.echoes == [["", "x y"], ["1"]]


def test_multiboot_entries_are_listed_as_multiboot(run: Run) -> None:
    out = run("menuentry Xen { multiboot2 /xen.gz dom0_mem=1G\n module2 /vmlinuz root=/dev/sda\n module2 /initrd }")
    opt = out.options[0]
    assert opt.kind == "multiboot"
    assert opt.args == "dom0_mem=1G"
    assert [str(r.path) for r in opt.initrds] == ["/vmlinuz", "/initrd"]


def test_entries_without_a_kernel_are_not_options(run: Run) -> None:
    out = run("menuentry Windows { chainloader +1 }\nmenuentry 'UEFI settings' { fwsetup }\nmenuentry L { linux /l }")
    assert [o.name for o in out.options] == ["L"]
    assert out.options[0].default


def test_devicetree_and_loader_variants(run: Run) -> None:
    out = run(
        "menuentry A { linuxefi /a x=1; initrdefi /ia; devicetree /dtbs/board.dtb }\n"
        "menuentry B { linux16 /b; initrd16 /ib }"
    )
    a, b = out.options
    assert str(a.dtb and a.dtb.path) == "/dtbs/board.dtb"
    assert a.args == "x=1"
    assert [str(r.path) for r in b.initrds] == ["/ib"]


def test_initial_environment(run: Run) -> None:
    out = run(
        "echo $root $prefix $cmdpath $grub_platform $grub_cpu $feature_menuentry_id $feature_timeout_style",
        arch="aarch64",
        firmware="efi",
    )
    assert out.echoes == [["hd0,gpt1", "(hd0,gpt1)/boot/grub", "(hd0,gpt1)/boot/grub", "efi", "arm64", "y", "y"]]
    out = run("set grub_platform=pc\necho $grub_platform $grub_cpu", arch="ppc64le", firmware="ieee1275")
    assert out.echoes == [["pc", "powerpc"]]


def test_timeout(run: Run) -> None:
    assert run("set timeout=7\nmenuentry A { linux /a }").timeout == 7.0
    assert run("set timeout=-1\nmenuentry A { linux /a }").timeout is None


UBUNTU = """
function recordfail {
  set recordfail=1
  if [ -n "${have_grubenv}" ]; then if [ -z "${boot_once}" ]; then save_env recordfail; fi; fi
}
function gfxmode {
	set gfxpayload="${1}"
	if [ "${1}" = "keep" ]; then
		set vt_handoff=vt.handoff=7
	else
		set vt_handoff=
	fi
}
if [ "${recordfail}" != 1 ]; then
  if [ -e ${prefix}/gfxblacklist.txt ]; then
    if hwmatch ${prefix}/gfxblacklist.txt 3; then
      if [ ${match} = 0 ]; then set linux_gfx_mode=keep; else set linux_gfx_mode=text; fi
    else
      set linux_gfx_mode=text
    fi
  else
    set linux_gfx_mode=keep
  fi
else
  set linux_gfx_mode=text
fi
export linux_gfx_mode
menuentry 'Ubuntu' --class ubuntu $menuentry_id_option 'gnulinux-simple-abc' {
	recordfail
	load_video
	gfxmode $linux_gfx_mode
	insmod gzio
	linux	/boot/vmlinuz-6.8.0-31-generic root=UUID=abc ro  quiet splash $vt_handoff
	initrd	/boot/initrd.img-6.8.0-31-generic
}
hiddenentry 'Ubuntu (hidden, hotkey)' --hotkey=u {
	linux	/boot/vmlinuz-6.8.0-31-generic root=UUID=abc ro
}
"""


def test_ubuntu_vt_handoff_and_hiddenentry(run: Run) -> None:
    from bootd.parsers.grub import grubenv

    out = run(UBUNTU)
    normal, hidden = out.options
    assert normal.args == "root=UUID=abc ro quiet splash vt.handoff=7"
    assert normal.default and not normal.hidden
    assert hidden.hidden and not hidden.default
    # After a failed boot (recordfail=1 in grubenv) Ubuntu boots in text mode: no hand-off.
    env = {"/boot/grub/grubenv": grubenv.render({"recordfail": "1"})}
    out = run("if [ -s $prefix/grubenv ]; then set have_grubenv=true; load_env; fi\n" + UBUNTU, files=env)
    assert out.options[0].args == "root=UUID=abc ro quiet splash"


def test_devicetree_before_linux_still_counts(run: Run) -> None:
    out = run("menuentry A { devicetree /board.dtb\n linux /a\n initrd /i }")
    assert str(out.options[0].dtb and out.options[0].dtb.path) == "/board.dtb"


def test_file_tests_on_a_device_that_does_not_exist_are_false(run: Run) -> None:
    script = """
if [ -e (nosuchdisk)/boot/vmlinuz ]; then set a=yes; else set a=no; fi
if [ -f (lvm/vg-missing)/boot/vmlinuz ]; then set b=yes; else set b=no; fi
if [ -d (nosuchdisk)/boot ]; then set c=yes; else set c=no; fi
if [ -f (hd0,gpt1)/boot/vmlinuz ]; then set d=yes; else set d=no; fi
set saved=$root
set root=(nosuchdisk)
if [ -f /boot/vmlinuz ]; then set e=yes; else set e=no; fi
set root=$saved
menuentry T { linux /boot/vmlinuz $a $b $c $d $e }
"""
    [opt] = run(script, files={"boot/vmlinuz": "k"}).options
    assert opt.args == "no no no yes no"


def test_eval_runs_its_arguments_as_script_in_the_current_context(run: Run) -> None:
    script = """
kopts="quiet splash"
eval 'set k=vmlinuz-6.1; echo $k'
eval echo '$k' '$?'
eval false
echo $?
eval "menuentry 'Made by eval' --id made { linux /\\$k \\$kopts; }"
"""
    out = run(script)
    assert out.echoes == [["vmlinuz-6.1"], ["vmlinuz-6.1", "0"], ["1"]]
    assert [o.name for o in out.options] == ["Made by eval"]
    assert out.options[0].entry_id == "made"
    assert out.options[0].kernel == Resource.local("/vmlinuz-6.1")
    assert out.options[0].args == "quiet splash"


def test_eval_that_evals_itself_stops_with_a_diagnostic(run: Run) -> None:
    out = run("set a='eval $a'\neval $a\necho done")
    assert out.echoes == [["done"]]
    assert any("eval nested deeper" in d.message for d in out.diagnostics)


def test_chainloader_entries_are_named_in_a_note(run: Run) -> None:
    # os-prober's entries for Windows (EFI or BIOS) hand over to another boot loader.
    out = run(
        "menuentry 'Windows Boot Manager (on /dev/sdb1)' { chainloader /EFI/Microsoft/Boot/bootmgfw.efi }\n"
        "menuentry L { linux /l }"
    )
    assert [o.name for o in out.options] == ["L"]
    notes = [d for d in out.diagnostics if "chainloader" in d.message]
    assert len(notes) == 1 and "'Windows Boot Manager (on /dev/sdb1)'" in notes[0].message
    assert notes[0].severity == "info"
