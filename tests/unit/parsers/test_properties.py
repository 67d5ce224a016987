"""Property tests: no input makes a parser raise."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bootd.model import Device, ParseResult, Resource
from bootd.parsers import ParseContext, bls, kboot, petitboot, syslinux, yaboot
from bootd.parsers._text import version_compare
from bootd.parsers.view import DeviceView, DirectoryView

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

WORDS = st.sampled_from(
    ["", "/", "..", "../..", "/boot/vmlinuz", "a.cfg", "b.cfg", "x.c32", "mboot.c32", "linux.c32", "---",
     "initrd=", "initrd=/i,/j", "-", ",", "^", "hd:3,/v", "/dev/sda3:/v", "$kernelopts", "${x}", "=", "'", '"']
)  # fmt: skip
ARG = st.one_of(WORDS, st.text(max_size=20))
ARGS = st.lists(ARG, max_size=4).map(" ".join)


def lines(keywords: list[str]) -> st.SearchStrategy[str]:
    line = st.tuples(st.sampled_from(keywords), ARGS).map(lambda t: f"{t[0]} {t[1]}")
    return st.lists(st.one_of(line, st.text(max_size=30)), max_size=25).map("\n".join)


SYSLINUX_KW = [
    "LABEL", "KERNEL", "LINUX", "APPEND", "INITRD", "FDT", "DEVICETREE", "FDTDIR", "DEFAULT", "ONTIMEOUT",
    "MENU LABEL", "MENU BEGIN", "MENU END", "MENU DEFAULT", "MENU HIDE", "MENU TITLE", "INCLUDE",
    "MENU INCLUDE", "TIMEOUT", "IPAPPEND", "SYSAPPEND", "COM32", "TEXT HELP", "ENDTEXT", "LOCALBOOT", "UI",
    "CONFIG", "label", "kernel",
]  # fmt: skip
BLS_KW = [
    "title", "version", "machine-id", "sort-key", "linux", "initrd", "options", "devicetree",
    "devicetree-overlay", "architecture", "efi", "default", "timeout",
]  # fmt: skip
YABOOT_KW = [
    "image=", "label=", "alias=", "initrd=", "append=", "root=", "device=", "partition=", "literal=",
    "default=", "timeout=", "read-only", "read-write", "image[64bit]=",
]  # fmt: skip
KBOOT_KW = ["default=", "timeout=", "message=", "linux=", "a=", "b='", 'c="']
PETITBOOT_KW = [
    "name",
    "image",
    "initrd",
    "args",
    "dtb",
    "description",
    "default",
    "dev_description",
    "xname",
    "image\n",
]


def run(
    parser: Callable[[DeviceView, ParseContext], ParseResult], files: dict[str, str | bytes], node: str = "/dev/sda2"
) -> ParseResult:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, content in files.items():
            target = root / name.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content)
        view = DirectoryView(root, Device(id="d", node=node or None))
        result = parser(view, ParseContext())
    assert isinstance(result, ParseResult)
    assert sum(1 for o in result.options if o.default) <= 1
    return result


@SETTINGS
@given(main=lines(SYSLINUX_KW), a=lines(SYSLINUX_KW), b=st.binary(max_size=200))
def test_syslinux_never_raises(main: str, a: str, b: bytes) -> None:
    run(syslinux.parse, {"/syslinux.cfg": main, "/a.cfg": a, "/b.cfg": b})


@SETTINGS
@given(text=lines(SYSLINUX_KW), included=st.dictionaries(WORDS, lines(SYSLINUX_KW), max_size=3))
def test_syslinux_parse_text_never_raises(text: str, included: dict[str, str]) -> None:
    def resolve(path: str) -> Resource:
        if "x" in path:
            raise ValueError("resolver refuses")
        return Resource.remote("tftp://h/" + path)

    result = syslinux.parse_text(text, config_path="pxelinux.cfg/default", read=included.get, resolve=resolve)
    assert sum(1 for o in result.options if o.default) <= 1


@SETTINGS
@given(
    entries=st.lists(lines(BLS_KW), max_size=4),
    names=st.lists(st.text(min_size=1, max_size=12).filter(lambda s: "/" not in s and "\0" not in s), max_size=4),
    conf=lines(BLS_KW),
    env=st.text(max_size=100),
)
def test_bls_never_raises(entries: list[str], names: list[str], conf: str, env: str) -> None:
    files: dict[str, str | bytes] = {"/loader/loader.conf": conf, "/grub2/grubenv": env}
    for i, (name, text) in enumerate(zip(names, entries, strict=False)):
        files[f"/loader/entries/{i}{name}.conf".replace("..", "__")] = text
    run(bls.parse, files)


@SETTINGS
@given(text=lines(YABOOT_KW), node=st.sampled_from(["/dev/sda2", "/dev/nvme0n1p3", "weird", ""]))
def test_yaboot_never_raises(text: str, node: str) -> None:
    run(yaboot.parse, {"/etc/yaboot.conf": text}, node)


@SETTINGS
@given(text=lines(KBOOT_KW), raw=st.binary(max_size=200))
def test_kboot_never_raises(text: str, raw: bytes) -> None:
    run(kboot.parse, {"/etc/kboot.conf": text, "/kboot.conf": raw})


@settings(max_examples=300, deadline=None)
@given(a=st.text(max_size=15), b=st.text(max_size=15), c=st.text(max_size=15))
def test_version_compare_is_an_order(a: str, b: str, c: str) -> None:
    ab, ba = version_compare(a, b), version_compare(b, a)
    assert (ab > 0) - (ab < 0) == -((ba > 0) - (ba < 0))
    assert version_compare(a, a) == 0
    if version_compare(a, b) <= 0 and version_compare(b, c) <= 0:
        assert version_compare(a, c) <= 0


@SETTINGS
@given(main=lines(PETITBOOT_KW), other=lines(PETITBOOT_KW), raw=st.binary(max_size=200))
def test_petitboot_never_raises(main: str, other: str, raw: bytes) -> None:
    result = run(petitboot.parse, {"/boot/petitboot.conf": main, "/petitboot.conf": other})
    assert all(o.kernel is not None for o in result.options)
    run(petitboot.parse, {"/petitboot.conf": raw})


@SETTINGS
@given(text=st.text(alphabet=st.sampled_from(list("namegidefultrsc_ \t\n:/=x")), max_size=300))
def test_petitboot_lexer_and_grammar_never_raise(text: str) -> None:
    petitboot.read(text, "/boot/petitboot.conf")
