"""Petitboot's native configuration (petitboot.conf): the statements, its
grammar's stopping points, device paths, and the golden corpus cases."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from bootd.model import BootOption, Device, Resource, Severity, Source
from bootd.parsers import ParseContext, parse_device, petitboot
from tests.unit.parsers.helpers import CORPUS, as_corpus, case_view, load_case, make_view

CASES = sorted((CORPUS / "petitboot").glob("*.json"))


def parse(tmp: Path, conf: str, path: str = "/boot/petitboot.conf", **files: str) -> list[BootOption]:
    view = make_view(tmp, {path: conf, **files})
    return list(petitboot.parse(view, ParseContext()).options)


def test_one_option_with_every_statement(tmp_path: Path) -> None:
    conf = (
        "name A longer name\n\n"
        "image /some/kernel\ninitrd /some/other/initrd\n"
        "args console=tty0 console=hvc0 debug \n"
        "dtb /a/dtb\ndescription Contains a number of words\n"
    )
    (opt,) = parse(tmp_path, conf)
    assert opt.source == Source.PETITBOOT and opt.name == "A longer name" and not opt.default
    assert opt.kernel == Resource.local("/some/kernel")
    assert opt.initrds == (Resource.local("/some/other/initrd"),)
    assert opt.dtb == Resource.local("/a/dtb")
    assert opt.args == "console=tty0 console=hvc0 debug ", "the value is kept as written"
    assert opt.prop("description") == "Contains a number of words"


def test_default_names_an_option_exactly(tmp_path: Path) -> None:
    conf = (
        "default second\n\n"
        "name first\nimage /vmlinuz\nargs console=hvc0\ninitrd /initrd\n\n"
        "name second\nimage /boot/vmlinuz\nargs console=tty0\ninitrd /boot/initrd\n"
    )
    first, second = parse(tmp_path, conf)
    assert (first.name, first.default, second.name, second.default) == ("first", False, "second", True)
    assert [o.entry_id for o in (first, second)] == ["first", "second"]
    opts = parse(tmp_path / "b", "default Second\nname second\nimage /k\n")
    assert not opts[0].default, "names compare exactly"


def test_args_lines_join_and_a_second_image_is_ignored(tmp_path: Path) -> None:
    (opt,) = parse(tmp_path, "name x\nimage /a\nargs root=/dev/sda2 \nargs quiet\nimage /b\n")
    assert opt.args == "root=/dev/sda2 quiet" and opt.kernel == Resource.local("/a")


def test_grammar_errors_stop_the_reading_as_petitboot_does(tmp_path: Path) -> None:
    view = make_view(
        tmp_path, {"/boot/petitboot.conf": "name a\nimage /a\nname b\nimage /b\ndefault a\nname c\nimage /c\n"}
    )
    result = petitboot.parse(view, ParseContext())
    assert [o.name for o in result.options] == ["a"], "b was being read when the misplaced default came"
    (err,) = [d for d in result.diagnostics if d.severity == Severity.WARNING]
    assert err.line == 5 and "syntax error at default" in err.message and "'b' is dropped" in err.message
    # a name needs a statement after it
    assert [o.name for o in parse(tmp_path / "n", "name a\nimage /a\nname lonely\nname c\nimage /c\n")] == ["a"]
    # a keyword with nothing after it at the end
    assert parse(tmp_path / "e", "name a\nimage /a\nargs") == []


def test_the_lexer_finds_keywords_where_petitboot_does(tmp_path: Path) -> None:
    # A keyword at the end of a line takes the value on the next one; a keyword
    # inside another word still counts; other text outside values is passed over.
    (opt,) = parse(tmp_path, "  # name commented\n   image\n\t/vmlinux\nsome junk args ro\n")
    assert opt.name == "commented" and opt.kernel == Resource.local("/vmlinux") and opt.args == "ro"


def test_an_option_without_image_is_skipped(tmp_path: Path) -> None:
    view = make_view(tmp_path, {"/petitboot.conf": "default x\nname x\nargs quiet\nname y\nimage /y\n"})
    result = petitboot.parse(view, ParseContext())
    assert [(o.name, o.default) for o in result.options] == [("y", False)]
    messages = [d.message for d in result.diagnostics]
    assert "option 'x' skipped: it has no image" in messages
    assert "default 'x' names no bootable option" in messages


def test_device_paths() -> None:
    dev = Device("sda2", node="/dev/sda2")
    assert petitboot.resource("/boot/vmlinux", dev) == Resource.local("/boot/vmlinux")
    assert petitboot.resource("vmlinux", dev) == Resource.local("/vmlinux"), "from the device's root"
    assert petitboot.resource("uuid=1234-abcd:/vmlinux", dev) == Resource.by_uuid("1234-abcd", "/vmlinux")
    assert petitboot.resource("label=boot:/vmlinux", dev) == Resource.by_label("boot", "/vmlinux")
    assert petitboot.resource("sda3:/vmlinux", dev) == Resource(
        path=PurePosixPath("/vmlinux"), selector="node=/dev/sda3"
    )
    assert petitboot.resource("/dev/sda2:/vmlinux", dev) == Resource.local("/vmlinux"), "its own device"
    assert petitboot.resource("http://srv/k", dev) == Resource.remote("http://srv/k")
    assert petitboot.resource("file:///boot/k", dev) == Resource.local("/boot/k")


def test_boot_conf_comes_before_root_conf_and_is_registered(tmp_path: Path) -> None:
    view = make_view(
        tmp_path,
        {"/boot/petitboot.conf": "name boot\nimage /a\n", "/petitboot.conf": "name root\nimage /b\n"},
    )
    result = parse_device(view, ParseContext(), only=(Source.PETITBOOT,))
    assert [o.id for o in result.options] == ["dev/petitboot/boot"]


def test_exact_paths_only(tmp_path: Path) -> None:
    assert parse(tmp_path, "name a\nimage /a\n", path="/BOOT/PETITBOOT.CONF") == []


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_petitboot_case(path: Path, tmp_path: Path) -> None:
    case: dict[str, Any] = load_case(path)
    result = petitboot.parse(case_view(case, tmp_path), ParseContext())
    assert [as_corpus(o) for o in result.options] == case["bootd_expect"]
    assert [str(d) for d in result.diagnostics] == case.get("bootd_diagnostics", [])
