"""``bootd scan``: sources, cross-source references, human and JSON output."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bootd.__main__ import main
from bootd.cli.boot import pick
from bootd.cli.scan import format_menu, parse_source
from bootd.errors import InvalidArgument, NotFound
from bootd.model import BootOption, Device, DeviceType, Resource, Source
from tests.conftest import is_root
from tests.unit.parsers.helpers import CORPUS, ROOT, load_case, make_view, write_files

LOCAL_CASES = [p for p in sorted((CORPUS / "syslinux").glob("*.json")) if load_case(p)["mode"] == "local"] + sorted(
    (CORPUS / "bls").glob("*.json")
)


def scan_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any], str]:
    rc = main(["scan", "--json", *argv])
    out, err = capsys.readouterr()
    return rc, json.loads(out), err


def res_text(res: dict[str, Any] | None, own: str) -> str | None:
    if res is None:
        return None
    if "url" in res:
        return str(res["url"])
    if "unresolved" in res:
        return f"({res['unresolved']}){res['path']}"
    return str(res["path"]) if res["device"] == own else f"({res['device']}){res['path']}"


@pytest.mark.parametrize("path", LOCAL_CASES, ids=[p.stem for p in LOCAL_CASES])
def test_scan_json_on_corpus_cases(path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = load_case(path)
    root = tmp_path / "media"
    root.mkdir()
    write_files(root, case["files"])
    rc, doc, _ = scan_json(capsys, f"{root},uuid=0000-1111,label=CASE,id=case")
    assert rc == 0
    assert doc["devices"][0]["id"] == "case" and doc["devices"][0]["uuid"] == "0000-1111"
    assert doc["devices"][0]["label"] == "CASE" and doc["devices"][0]["mountpoint"] == str(root)
    got = [
        (o["name"], res_text(o["kernel"], "case"), o["args"], o["default"], o["order"], o["source"])
        for o in doc["options"]
    ]
    want = [
        (e["name"], e["kernel"], e["cmdline"], e["default"], i, case["parser"])
        for i, e in enumerate(case["bootd_expect"])
    ]
    assert got == want
    assert set(doc) == {"devices", "options"}
    for o in doc["options"]:
        assert {"id", "device", "name", "kernel", "initrds", "dtb", "args", "default", "source", "order"} <= set(o)


def test_references_to_other_sources_resolve(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = make_view(tmp_path / "a", {"/etc/kboot.conf": "x='/dev/sdb1:/vmlinux initrd=/initrd'\n"})
    b = make_view(tmp_path / "b", {"/vmlinux": "k"})
    rc, doc, _ = scan_json(capsys, f"{a.root},id=sda1,node=/dev/sda1", f"{b.root},id=other,node=/dev/sdb1")
    assert rc == 0
    (opt,) = doc["options"]
    assert opt["kernel"] == {"device": "other", "path": "/vmlinux"}
    assert opt["initrds"] == [{"device": "sda1", "path": "/initrd"}]
    # without the other source the reference stays unresolved
    rc, doc, _ = scan_json(capsys, f"{a.root},id=sda1,node=/dev/sda1")
    assert doc["options"][0]["kernel"] == {"unresolved": "node=/dev/sdb1", "path": "/vmlinux"}


def test_grub_search_by_uuid_resolves_to_the_other_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = "search --no-floppy --fs-uuid --set=root 1234-abcd\nmenuentry 'Other' {\n linux /vmlinuz quiet\n}\n"
    a = make_view(tmp_path / "a", {"/boot/grub/grub.cfg": cfg})
    b = make_view(tmp_path / "b", {"/vmlinuz": "k"})
    rc, doc, _ = scan_json(capsys, f"{a.root},id=esp", f"{b.root},uuid=1234-abcd,id=data")
    assert rc == 0
    (opt,) = [o for o in doc["options"] if o["name"] == "Other"]
    assert opt["kernel"] == {"device": "data", "path": "/vmlinuz"}


def test_human_menu(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = (
        "DEFAULT b\nLABEL a\n KERNEL /a\nMENU BEGIN\n MENU TITLE Tools\n LABEL b\n  KERNEL /b\n  APPEND x=1\n"
        "MENU END\nLABEL c\n MENU HIDE\n KERNEL /c\n"
    )
    media = make_view(tmp_path / "m", {"/syslinux.cfg": cfg})
    empty = tmp_path / "empty"
    empty.mkdir()
    rc = main(["scan", f"{media.root},label=STICK,type=usb,id=sdc1", str(empty)])
    out, _ = capsys.readouterr()
    assert rc == 0
    lines = out.splitlines()
    assert lines[0] == "USB: STICK (sdc1)"
    assert lines[1].startswith("    a  [syslinux]")
    assert "    Tools >" in lines
    assert any(line.startswith("  *   b  [syslinux]") for line in lines)
    assert any("args x=1" in line for line in lines)
    assert any(line.strip() == "c  [syslinux, hidden]" for line in lines)
    assert lines[-2:] == ["Disk: empty", "    (no boot options: no boot loader configuration with entries was found)"]


def test_a_device_with_a_garbage_config_says_why_it_offers_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    media = make_view(tmp_path / "m", {"/boot/grub/grub.cfg": "\x7fELF\x00\x01 }\n menuentry\n"})
    assert main(["scan", f"{media.root},id=sda1"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "Disk: sda1",
        "    (no boot options: /boot/grub/grub.cfg:1: unexpected '}'; ignored; 1 more problem listed on stderr)",
    ]
    assert "grub.cfg:2: menuentry: expected '{'" in err


def test_booting_from_sources_without_options_says_so_not_none() -> None:
    with pytest.raises(NotFound) as e:
        pick([], None)
    assert "None" not in str(e.value) and "no boot options" in str(e.value)
    with pytest.raises(NotFound, match="no boot options"):
        pick([], "x")


@pytest.mark.parametrize(
    ("command", "flag", "dest"), [("serve", "--machine", "sandbox"), ("demo", "--sandbox", "machine")]
)
def test_serve_and_demo_name_the_sandbox_machine_alike(command: str, flag: str, dest: str) -> None:
    from bootd.__main__ import build_parser

    args = build_parser().parse_args([command, flag, "m"])
    assert getattr(args, dest) == Path("m")


def test_format_menu_marks_unresolved_and_multiboot() -> None:
    dev = Device(id="sda1", type=DeviceType.DISK)
    opts = [
        BootOption(
            id="sda1/kboot/x", device="sda1", name="x", kernel=Resource.by_uuid("u-1", "/v"), source=Source.KBOOT
        ),
        BootOption(
            id="sda1/syslinux/m",
            device="sda1",
            name="xen",
            kernel=Resource.local("/xen"),
            kind="multiboot",
            source=Source.SYSLINUX,
        ),
        BootOption(id="other/bls/y", device="other", name="not mine", kernel=None),
    ]
    text = format_menu([dev], opts)
    assert "kernel (uuid=u-1)/v" in text
    assert "[syslinux, multiboot, not bootable by kexec]" in text
    assert "not mine" not in text


def test_source_syntax() -> None:
    spec = parse_source("/mnt/x,uuid=U,label=L,id=I,type=usb,node=/dev/sdb1")
    assert (spec.path, spec.uuid, spec.label, spec.id, spec.type, spec.node) == (
        Path("/mnt/x"),
        "U",
        "L",
        "I",
        DeviceType.USB,
        "/dev/sdb1",
    )
    for bad in (",uuid=U", "/x,colour=red", "/x,uuid", "/x,type=floppy", "/x,uuid="):
        with pytest.raises(InvalidArgument):
            parse_source(bad)


def test_exit_status_on_source_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = make_view(tmp_path, {"/syslinux.cfg": "LABEL a\n KERNEL /a\n"})
    assert main(["scan", str(good.root), str(tmp_path / "missing")]) == 1
    out, err = capsys.readouterr()
    assert "a  [syslinux]" in out and "missing: no such file or directory" in err
    assert main(["scan", f"{good.root},bogus=1"]) == 1
    assert "bogus=1" in capsys.readouterr().err
    assert main(["scan", str(good.root), str(good.root)]) == 0  # the same directory twice: two ids
    out, _ = capsys.readouterr()
    assert "Disk: dev" in out and "Disk: dev-2" in out


def test_scan_loads_no_daemon_libraries(tmp_path: Path) -> None:
    media = make_view(tmp_path, {"/syslinux.cfg": "LABEL a\n KERNEL /a\n"})
    code = (
        "import sys\n"
        "from bootd.__main__ import main\n"
        f"rc = main(['scan', '--json', {str(media.root)!r}])\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('dbus_fast', 'pyudev', 'urwid'))\n"
        "print('HEAVY', heavy, rc)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert proc.stdout.strip().splitlines()[-1] == "HEAVY [] 0"


@pytest.mark.root
@pytest.mark.skipif(not is_root() or shutil.which("mkfs.ext4") is None, reason="needs root and mkfs.ext4")
def test_scan_an_image_file_read_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree = tmp_path / "tree"
    write_files(tree, {"extlinux/extlinux.conf": "DEFAULT a\nLABEL a\n KERNEL /vmlinuz\n", "vmlinuz": "k"})
    image = tmp_path / "disk.img"
    with open(image, "wb") as f:
        f.truncate(16 * 1024 * 1024)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-L", "STICK", "-d", str(tree), str(image)], check=True)
    before = hashlib.sha256(image.read_bytes()).hexdigest()
    rc, doc, _ = scan_json(capsys, f"{image},id=stick,type=usb")
    assert rc == 0
    assert [(d["id"], d["type"], d["label"], d["fstype"]) for d in doc["devices"]] == [
        ("stick", "usb", "STICK", "ext4")
    ]
    (opt,) = doc["options"]
    assert opt["name"] == "a" and opt["default"] and opt["kernel"] == {"device": "stick", "path": "/vmlinuz"}
    assert hashlib.sha256(image.read_bytes()).hexdigest() == before  # nothing was written to the image
