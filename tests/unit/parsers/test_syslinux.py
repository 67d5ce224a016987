"""SYSLINUX family: every directive the parser understands, on small configs."""

from __future__ import annotations

from pathlib import Path

from bootd.model import BootOption, Resource, Severity, Source
from bootd.parsers import ParseContext, parse_device
from bootd.parsers import syslinux as sl
from tests.unit.parsers.helpers import make_view

KERNELS = {"/boot/vmlinuz": "k", "/boot/initrd.img": "i"}


def parse(tmp: Path, cfg: str, path: str = "/syslinux/syslinux.cfg", **files: str) -> list[BootOption]:
    view = make_view(tmp, {path: cfg, **files})
    return list(sl.parse(view, ParseContext()).options)


def names(opts: list[BootOption]) -> list[str]:
    return [o.name for o in opts]


def default_of(opts: list[BootOption]) -> str:
    chosen = [o.name for o in opts if o.default]
    assert len(chosen) == 1
    return chosen[0]


def no_default(opts: list[BootOption]) -> bool:
    return not any(o.default for o in opts)


def test_labels_in_file_order_with_default_marked(tmp_path: Path) -> None:
    cfg = "DEFAULT two\nLABEL one\n KERNEL /a\nLABEL two\n KERNEL /b\nLABEL three\n KERNEL /c\n"
    opts = parse(tmp_path, cfg)
    assert names(opts) == ["one", "two", "three"]
    assert default_of(opts) == "two"
    assert all(o.source == Source.SYSLINUX for o in opts)
    assert [o.entry_id for o in opts] == ["one", "two", "three"]


def test_keywords_are_case_insensitive(tmp_path: Path) -> None:
    cfg = "default B\nLaBeL a\n kErNeL /a\n aPpEnD x=1\nlabel B\n Linux /b\n"
    opts = parse(tmp_path, cfg)
    assert names(opts) == ["a", "B"]
    assert opts[0].args == "x=1"
    assert default_of(opts) == "B"


def test_menu_label_default_hide_and_hotkeys(tmp_path: Path) -> None:
    cfg = (
        "UI menu.c32\n"
        "LABEL one\n MENU LABEL ^First entry\n KERNEL /a\n"
        "LABEL two\n MENU LABEL Se^cond\n MENU DEFAULT\n KERNEL /b\n"
        "LABEL three\n MENU HIDE\n KERNEL /c\n"
    )
    opts = parse(tmp_path, cfg)
    assert names(opts) == ["First entry", "Second", "three"]
    assert default_of(opts) == "Second"
    assert [o.hidden for o in opts] == [False, False, True]
    # With a UI line the menu applies DEFAULT last: it overrides MENU DEFAULT.
    assert default_of(parse(tmp_path, "DEFAULT one\n" + cfg)) == "First entry"


def test_ontimeout_is_what_boots_unattended(tmp_path: Path) -> None:
    labels = "LABEL one\n MENU DEFAULT\n KERNEL /a\nLABEL two\n KERNEL /b\n"
    assert default_of(parse(tmp_path, "UI menu.c32\nTIMEOUT 50\nDEFAULT one\nONTIMEOUT two\n" + labels)) == "two"
    assert default_of(parse(tmp_path, "PROMPT 1\nTIMEOUT 50\nDEFAULT one\nONTIMEOUT two\n" + labels)) == "two"
    # No prompt and no menu: ldlinux boots DEFAULT at once, ONTIMEOUT never runs.
    assert default_of(parse(tmp_path, "TIMEOUT 50\nDEFAULT one\nONTIMEOUT two\n" + labels)) == "one"
    # No timeout: the menu waits, ONTIMEOUT is not what boots.
    assert default_of(parse(tmp_path, "UI menu.c32\nDEFAULT one\nONTIMEOUT two\n" + labels)) == "one"


def test_no_default_means_first_entry(tmp_path: Path) -> None:
    cfg = "UI menu.c32\nDEFAULT vesamenu.c32\nLABEL one\n KERNEL /a\nLABEL two\n KERNEL /b\n"
    assert default_of(parse(tmp_path, cfg)) == "one"


def test_default_naming_nothing_boots_nothing(tmp_path: Path) -> None:
    view = make_view(tmp_path, {"/extlinux.conf": "DEFAULT missing\nLABEL one\n KERNEL /a\n"})
    result = sl.parse(view, ParseContext())
    assert names(list(result.options)) == ["one"] and no_default(list(result.options))
    assert any("'missing' names no label and no kernel file" in d.message for d in result.diagnostics)


def test_default_command_line_without_labels(tmp_path: Path) -> None:
    opts = parse(tmp_path, "APPEND quiet\nDEFAULT /boot/vmlinuz root=/dev/sda1\n", **KERNELS)
    assert len(opts) == 1 and opts[0].default
    assert opts[0].kernel == Resource.local("/boot/vmlinuz")
    assert opts[0].args == "root=/dev/sda1"
    # ldlinux hands an implicit kernel exactly the words given, no global APPEND.
    opts = parse(tmp_path, "APPEND quiet\nDEFAULT /boot/vmlinuz\n", **KERNELS)
    assert opts[0].args == ""


def test_global_append_label_append_and_clear(tmp_path: Path) -> None:
    cfg = (
        "APPEND global=1\n"
        "LABEL inherit\n KERNEL /a\n"
        "LABEL own\n KERNEL /b\n APPEND own=1\n"
        "LABEL cleared\n KERNEL /c\n APPEND -\n"
    )
    assert [o.args for o in parse(tmp_path, cfg)] == ["global=1", "own=1", ""]


def test_initrd_directive_and_initrd_in_append(tmp_path: Path) -> None:
    cfg = (
        "LABEL directive\n KERNEL /a\n INITRD /i1,/i2\n APPEND initrd=/ignored x\n"
        "LABEL inline\n KERNEL /a\n APPEND initrd=/j1,/j2 quiet\n"
        "LABEL last\n KERNEL /a\n APPEND initrd=/first initrd=/second\n"
    )
    opts = parse(tmp_path, cfg)
    # SYSLINUX 6 builds "APPEND... initrd=INITRD" and loads the first initrd= list in it.
    assert [[str(r.path) for r in o.initrds] for o in opts] == [["/ignored"], ["/j1", "/j2"], ["/first"]]
    assert opts[1].args == "initrd=/j1,/j2 quiet"  # kept on the command line, as SYSLINUX does
    opts = parse(tmp_path / "c32", "LABEL a\n KERNEL linux.c32\n APPEND /a initrd=/x initrd=/y\n INITRD /z\n")
    assert [str(r.path) for r in opts[0].initrds] == ["/z"], "linux.c32 takes the last initrd= argument"
    opts = parse(tmp_path / "d", "LABEL a\n KERNEL /a\n INITRD /i1,/i2\n APPEND quiet\n")
    assert [str(r.path) for r in opts[0].initrds] == ["/i1", "/i2"] and opts[0].args == "quiet"


def test_relative_paths_are_relative_to_the_config_directory(tmp_path: Path) -> None:
    cfg = "LABEL l\n KERNEL vmlinuz\n INITRD ../initrd.img\n FDT dtbs/board.dtb\n"
    opts = parse(tmp_path, cfg, path="/boot/extlinux/extlinux.conf")
    assert opts[0].kernel == Resource.local("/boot/extlinux/vmlinuz")
    assert opts[0].initrds == (Resource.local("/boot/initrd.img"),)
    assert opts[0].dtb == Resource.local("/boot/extlinux/dtbs/board.dtb")


def test_fdt_devicetree_fdtdir_and_sysappend(tmp_path: Path) -> None:
    cfg = (
        "IPAPPEND 2\n"
        "LABEL a\n LINUX /a\n FDT /a.dtb\n"
        "LABEL b\n LINUX /b\n DEVICETREE /b.dtb\n SYSAPPEND 3\n"
        "LABEL c\n LINUX /c\n FDTDIR /dtbs/\n"
    )
    a, b, c = parse(tmp_path, cfg)
    assert a.dtb == Resource.local("/a.dtb") and b.dtb == Resource.local("/b.dtb") and c.dtb is None
    assert [o.prop("sysappend") for o in (a, b, c)] == ["2", "3", "2"]
    assert c.prop("fdtdir") == "/dtbs/"


def test_nested_menus_flatten_and_keep_group(tmp_path: Path) -> None:
    cfg = (
        "LABEL top\n KERNEL /a\n"
        "MENU BEGIN adv\n MENU TITLE ^Advanced\n"
        "  LABEL a1\n  KERNEL /a\n"
        "  MENU BEGIN deeper\n  MENU LABEL Deeper ^options\n"
        "   LABEL d1\n   KERNEL /a\n"
        "  MENU END\n"
        "  LABEL a2\n  KERNEL /a\n"
        "MENU END\n"
        "LABEL bottom\n KERNEL /a\n"
    )
    opts = parse(tmp_path, cfg)
    assert [(o.name, o.group) for o in opts] == [
        ("top", None),
        ("a1", "Advanced"),
        ("d1", "Advanced > Deeper options"),
        ("a2", "Advanced"),
        ("bottom", None),
    ]


def test_com32_and_other_images_skipped_with_reason(tmp_path: Path) -> None:
    cfg = (
        "LABEL hdt\n COM32 hdt.c32\n"
        "LABEL menu\n KERNEL menu.c32\n"
        "LABEL chain\n KERNEL chain.c32\n APPEND hd0 1\n"
        "LABEL local\n LOCALBOOT 0\n"
        "LABEL bs\n KERNEL /boot.bss\n"
        "LABEL pxe\n KERNEL pxelinux.0\n"
        "LABEL md\n KERNEL memdisk\n"
        "LABEL ok\n KERNEL /vmlinuz\n"
    )
    view = make_view(tmp_path, {"/syslinux.cfg": cfg})
    result = sl.parse(view, ParseContext())
    assert names(list(result.options)) == ["ok"]
    messages = " ".join(d.message for d in result.diagnostics)
    for label in ("hdt", "menu", "chain", "local", "bs", "pxe", "md"):
        assert f"label {label!r} skipped" in messages
    assert "COM32 module" in messages and "boot sector" in messages


def test_linux_c32_and_mboot(tmp_path: Path) -> None:
    cfg = (
        "LABEL viac32\n KERNEL linux.c32\n APPEND /vmlinuz root=/dev/sda1\n"
        "LABEL xen\n KERNEL mboot.c32\n APPEND /xen.gz dom0_mem=1G --- /vmlinuz console=hvc0 --- /initrd.img\n"
    )
    lin, xen = parse(tmp_path, cfg, path="/syslinux.cfg")
    assert lin.kind == "linux" and lin.kernel == Resource.local("/vmlinuz") and lin.args == "root=/dev/sda1"
    assert xen.kind == "multiboot" and xen.kernel == Resource.local("/xen.gz")
    assert xen.initrds == (Resource.local("/vmlinuz"), Resource.local("/initrd.img"))
    assert xen.args.startswith("dom0_mem=1G ---")


def test_timeout_in_tenths(tmp_path: Path) -> None:
    view = make_view(tmp_path, {"/isolinux/isolinux.cfg": "TIMEOUT 50\nLABEL a\n KERNEL /a\n"})
    assert sl.parse(view, ParseContext()).timeout == 5.0
    view = make_view(tmp_path, {"/isolinux/isolinux.cfg": "TIMEOUT 0\nLABEL a\n KERNEL /a\n"})
    assert sl.parse(view, ParseContext()).timeout is None


def test_text_help_block_is_not_parsed(tmp_path: Path) -> None:
    cfg = "LABEL a\n KERNEL /a\n TEXT HELP\n  kernel /evil\n  label fake\n ENDTEXT\n APPEND ok\n"
    opts = parse(tmp_path, cfg)
    assert names(opts) == ["a"] and opts[0].kernel == Resource.local("/a") and opts[0].args == "ok"


def test_include_relative_to_config_directory(tmp_path: Path) -> None:
    files = {
        "/isolinux/isolinux.cfg": "DEFAULT b\nINCLUDE menu.cfg\nMENU INCLUDE sub/more.cfg\nLABEL c\n KERNEL /c\n",
        "/isolinux/menu.cfg": "LABEL a\n KERNEL vmlinuz\n",
        "/isolinux/sub/more.cfg": "LABEL b\n KERNEL /b\n INCLUDE missing.cfg\n",
    }
    view = make_view(tmp_path, files)
    result = sl.parse(view, ParseContext())
    assert names(list(result.options)) == ["a", "b", "c"]
    assert result.options[0].kernel == Resource.local("/isolinux/vmlinuz")
    assert default_of(list(result.options)) == "b"
    assert any("missing.cfg: not found" in d.message for d in result.diagnostics)


def test_config_locations_and_fat_case(tmp_path: Path) -> None:
    view = make_view(
        tmp_path,
        {"/EXTLINUX/EXTLINUX.CONF": "LABEL a\n KERNEL /boot/vmlinuz\n", "/BOOT/VMLINUZ": "k"},
    )
    assert sl.find_config(view) is not None
    (opt,) = sl.parse(view, ParseContext()).options
    assert opt.kernel == Resource.local("/BOOT/VMLINUZ")  # the real spelling on the FAT stick


def test_first_config_found_wins(tmp_path: Path) -> None:
    view = make_view(
        tmp_path,
        {
            "/isolinux/isolinux.cfg": "LABEL iso\n KERNEL /a\n",
            "/syslinux.cfg": "LABEL root\n KERNEL /a\n",
        },
    )
    assert names(list(sl.parse(view, ParseContext()).options)) == ["iso"]


def test_no_config_no_options(tmp_path: Path) -> None:
    view = make_view(tmp_path, {"/etc/fstab": "x"})
    assert sl.parse(view, ParseContext()).options == ()


def test_parse_text_uses_read_and_resolve() -> None:
    files = {"inc.cfg": "LABEL b\n KERNEL kb\n"}
    calls: list[str] = []

    def resolve(p: str) -> Resource:
        calls.append(p)
        return Resource.remote("http://srv/base/" + p)

    result = sl.parse_text(
        "DEFAULT b\nINCLUDE inc.cfg\nLABEL a\n KERNEL ka\n INITRD ia\n",
        config_path="pxelinux.cfg/default",
        read=files.get,
        resolve=resolve,
    )
    assert names(list(result.options)) == ["b", "a"]
    assert result.options[1].initrds == (Resource.remote("http://srv/base/ia"),)
    assert calls == ["kb", "ka", "ia"]
    assert default_of(list(result.options)) == "b"


def test_unknown_lines_reported_once(tmp_path: Path) -> None:
    view = make_view(tmp_path, {"/syslinux.cfg": "FOO 1\nBAR 2\nLABEL a\n KERNEL /a\n"})
    result = sl.parse(view, ParseContext())
    unknown = [d for d in result.diagnostics if "not understood" in d.message]
    assert len(unknown) == 1 and unknown[0].line == 1 and "2 line(s)" in unknown[0].message
    assert unknown[0].severity == Severity.INFO


def test_registry_assigns_ids_and_order(tmp_path: Path) -> None:
    view = make_view(tmp_path, {"/syslinux.cfg": "LABEL a\n KERNEL /a\nLABEL a\n KERNEL /b\n"})
    result = parse_device(view, ParseContext(), only=(Source.SYSLINUX,))
    assert [o.id for o in result.options] == ["dev/syslinux/a", "dev/syslinux/a#2"]
    assert [o.order for o in result.options] == [0, 1]
    assert all(o.device == "dev" for o in result.options)


def test_statements_before_the_first_label_are_not_an_entry(tmp_path: Path) -> None:
    cfg = "TIMEOUT 10\nKERNEL /boot/vmlinuz\nINITRD /boot/initrd.img\nAPPEND root=/dev/sda1\nFDT /a.dtb\n"
    view = make_view(tmp_path, {"/extlinux.conf": cfg, **KERNELS})
    result = sl.parse(view, ParseContext())
    assert result.options == ()  # SYSLINUX ignores KERNEL/INITRD/FDT outside a LABEL
    messages = [d.message for d in result.diagnostics]
    assert any("KERNEL outside a LABEL ignored" in m for m in messages)
    assert any("INITRD outside a LABEL ignored" in m for m in messages)
    # ... but the APPEND there is the labels' default.
    opts = parse(tmp_path / "b", cfg + "DEFAULT l\nLABEL l\n KERNEL /boot/vmlinuz\n", path="/extlinux.conf")
    assert [(o.name, o.args, o.initrds, o.default) for o in opts] == [("l", "root=/dev/sda1", (), True)]
    cfg = "LABEL a\n KERNEL /a\nMENU END\nKERNEL /stray\n"
    view = make_view(tmp_path / "second", {"/syslinux.cfg": cfg})
    result = sl.parse(view, ParseContext())
    assert names(list(result.options)) == ["a"]
    assert any("KERNEL outside a LABEL ignored" in d.message for d in result.diagnostics)


def test_global_append_reaches_only_later_labels(tmp_path: Path) -> None:
    cfg = (
        "APPEND first\nIPAPPEND 1\nLABEL a\n KERNEL /a\n"
        "MENU BEGIN sub\n APPEND second\n SYSAPPEND 2\n LABEL b\n KERNEL /b\nMENU END\n"
        "LABEL c\n KERNEL /c\n"
    )
    a, b, c = parse(tmp_path, cfg)
    assert [a.args, b.args, c.args] == ["first", "second", "second"]
    assert [o.prop("sysappend") for o in (a, b, c)] == ["1", "2", "2"]


def test_label_without_kernel_boots_its_name(tmp_path: Path) -> None:
    (opt,) = parse(tmp_path, "DEFAULT vmlinuz\nLABEL vmlinuz\n APPEND quiet\n", path="/boot/syslinux/syslinux.cfg")
    assert opt.kernel == Resource.local("/boot/syslinux/vmlinuz") and opt.args == "quiet" and opt.default


def test_no_default_and_no_ui_boots_nothing(tmp_path: Path) -> None:
    view = make_view(
        tmp_path, {"/syslinux.cfg": "TIMEOUT 50\nLABEL a\n KERNEL /a\n MENU DEFAULT\nLABEL b\n KERNEL /b\n"}
    )
    result = sl.parse(view, ParseContext())
    assert names(list(result.options)) == ["a", "b"] and no_default(list(result.options))
    assert any("boot prompt" in d.message for d in result.diagnostics)
    # With a menu, its first entry is the default.
    assert default_of(parse(tmp_path / "m", "UI vesamenu.c32\nLABEL a\n KERNEL /a\nLABEL b\n KERNEL /b\n")) == "a"


def test_menu_default_inside_a_submenu_is_that_submenus(tmp_path: Path) -> None:
    cfg = "UI menu.c32\nLABEL top\n KERNEL /a\nMENU BEGIN\n LABEL inner\n  KERNEL /b\n  MENU DEFAULT\nMENU END\n"
    assert default_of(parse(tmp_path, cfg)) == "top"
    # MENU DEFAULT in a submenu's own body makes the submenu the default: nothing to boot.
    cfg = "UI menu.c32\nLABEL top\n KERNEL /a\nMENU BEGIN\n MENU DEFAULT\n LABEL inner\n  KERNEL /b\nMENU END\n"
    assert no_default(parse(tmp_path / "s", cfg))


def test_default_is_a_command_line(tmp_path: Path) -> None:
    labels = "LABEL linux\n KERNEL /boot/vmlinuz\n APPEND root=/dev/sda1\n"
    opts = parse(tmp_path, "DEFAULT linux single\n" + labels, **KERNELS)
    assert [(o.name, o.args, o.default) for o in opts] == [
        ("linux", "root=/dev/sda1", False),
        ("linux single", "root=/dev/sda1 single", True),
    ]
    # A first word naming no label is a kernel file, labels or not.
    opts = parse(tmp_path / "k", "DEFAULT /boot/vmlinuz ro\n" + labels, **KERNELS)
    assert [(o.name, o.args, o.default) for o in opts] == [
        ("linux", "root=/dev/sda1", False),
        ("/boot/vmlinuz ro", "ro", True),
    ]
    # ... unless IMPLICIT 0 forbids it.
    assert no_default(parse(tmp_path / "i", "IMPLICIT 0\nDEFAULT /boot/vmlinuz ro\n" + labels, **KERNELS))


def test_default_label_is_matched_exactly(tmp_path: Path) -> None:
    opts = parse(tmp_path, "DEFAULT Linux\nLABEL linux\n KERNEL /a\n")
    assert names(opts) == ["linux"] and no_default(opts)  # no file "Linux" either
    opts = parse(tmp_path / "b", "DEFAULT b\nLABEL a\n KERNEL /a\nLABEL b\n COM32 hdt.c32\nLABEL b\n KERNEL /b\n")
    assert names(opts) == ["a", "b"] and no_default(opts)  # the first 'b' is what SYSLINUX runs


def test_menu_include_with_a_title_is_a_submenu(tmp_path: Path) -> None:
    top = "UI menu.c32\nMENU INCLUDE more.cfg More ^options\nLABEL c\n KERNEL /c\n MENU DEFAULT\n"
    files = {"/isolinux/isolinux.cfg": top, "/isolinux/more.cfg": "LABEL a\n KERNEL /a\n"}
    view = make_view(tmp_path, files)
    opts = list(sl.parse(view, ParseContext()).options)
    assert [(o.name, o.group) for o in opts] == [("a", "More options"), ("c", None)]
    assert default_of(opts) == "c"


def test_menu_actions_are_not_entries(tmp_path: Path) -> None:
    cfg = "UI menu.c32\nMENU BEGIN\n LABEL back\n  MENU EXIT\n LABEL x\n  MENU DISABLE\n  KERNEL /x\nMENU END\n"
    view = make_view(tmp_path, {"/syslinux.cfg": cfg})
    result = sl.parse(view, ParseContext())
    assert result.options == ()
    assert any("'back' skipped: a menu action" in d.message for d in result.diagnostics)


def test_an_extlinux_conf_on_an_arm_board_is_u_boots(tmp_path: Path) -> None:
    labels = "LABEL one\n KERNEL /a\nLABEL two\n KERNEL /b\n"
    arm = ParseContext(arch="aarch64")
    runs = iter(range(100))

    def default(cfg: str, path: str = "/boot/extlinux/extlinux.conf", ctx: ParseContext = arm) -> list[bool]:
        view = make_view(tmp_path / str(next(runs)), {path: cfg})
        return [o.default for o in sl.parse(view, ctx).options]

    # U-Boot boots the labels in order when no default is named (pxe_utils.c) ...
    assert default(labels) == [True, False]
    assert default("DEFAULT missing\n" + labels) == [True, False]
    assert default("DEFAULT two\n" + labels) == [False, True]
    assert default("DEFAULT one\nONTIMEOUT two\n" + labels) == [False, True], "the last of DEFAULT/ONTIMEOUT"
    # ... SYSLINUX waits at its prompt: on x86, and for a syslinux.cfg anywhere.
    assert default(labels, ctx=ParseContext(arch="x86_64")) == [False, False]
    assert default(labels, path="/syslinux/syslinux.cfg") == [False, False]
    assert default(labels, ctx=ParseContext(arch="ppc64le")) == [False, False], "Petitboot reads it as SYSLINUX"
