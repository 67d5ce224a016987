"""Unified Kernel Images (BLS type #2): real images built with objcopy onto
systemd's stub, read through a directory view."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bootd.model import Device, Resource, Source
from bootd.parsers import ParseContext, _pe, bls, parse_device
from bootd.parsers.view import DirectoryView
from tests.ukibuild import OSREL, arm64_pe_kernel, build_uki

ARM = ParseContext(arch="aarch64")


def esp(tmp: Path) -> Path:
    root = tmp / "esp"
    (root / "EFI" / "Linux").mkdir(parents=True, exist_ok=True)
    return root


def view(root: Path) -> DirectoryView:
    return DirectoryView(root, Device(id="esp"))


def simple(root: Path, name: str = "debian.efi", *, osrel: str = OSREL, cmdline: str = "root=/dev/vda1 quiet") -> Path:
    return build_uki(
        root / "EFI" / "Linux" / name,
        [
            (".osrel", osrel.encode()),
            (".cmdline", cmdline.encode() + b"\n\0"),
            (".uname", b"6.1.0-28-arm64\n"),
            (".linux", arm64_pe_kernel()),
            (".initrd", b"070701" + b"0" * 100),
        ],
    )


def test_an_image_is_listed_with_its_os_name_and_embedded_parts(tmp_path: Path) -> None:
    root = esp(tmp_path)
    simple(root)
    result = bls.parse(view(root), ARM)
    [opt] = result.options
    path = PurePosixPath("/EFI/Linux/debian.efi")
    assert opt.name == "Debian GNU/Linux 12 (bookworm)"
    assert opt.source == Source.UKI
    assert opt.kernel == Resource(path=path, section=".linux")
    assert opt.initrds == (Resource(path=path, section=".initrd"),)
    assert opt.dtb is None
    assert opt.args == "root=/dev/vda1 quiet"
    assert opt.default  # no type #1 entries on this partition: the first image
    assert dict(opt.properties)["uki-cmdline"] == "embedded"
    assert dict(opt.properties)["uname"] == "6.1.0-28-arm64"


def test_the_loader_reads_back_exactly_the_section_bytes(tmp_path: Path) -> None:
    root = esp(tmp_path)
    image = simple(root)
    kernel = arm64_pe_kernel()
    v = view(root)
    size = v.size("/EFI/Linux/debian.efi")
    assert size is not None
    sections = _pe.section_table(v.read_range("/EFI/Linux/debian.efi", 0, _pe.HEADER_BYTES), size)
    linux = _pe.find_section(sections, ".linux")
    assert image.read_bytes()[linux.offset : linux.offset + linux.size] == kernel


def test_images_for_another_architecture_are_hidden(tmp_path: Path) -> None:
    root = esp(tmp_path)
    simple(root)
    result = bls.parse(view(root), ParseContext(arch="x86_64"))
    assert result.options == ()
    assert any("aarch64" in d.message for d in result.diagnostics)


def test_specification_order_and_boot_counting(tmp_path: Path) -> None:
    root = esp(tmp_path)
    for name, version in (("deb-6.1.efi", "6.1"), ("deb-6.10+0-3.efi", "6.10"), ("deb-6.5+2-1.efi", "6.5")):
        simple(root, name, osrel=OSREL.replace('VERSION="12 (bookworm)"', f"IMAGE_VERSION={version}"))
    opts = bls.parse(view(root), ARM).options
    # Same sort key (ID=debian): newest version first; no tries left sorts last.
    assert [o.entry_id for o in opts] == ["deb-6.5", "deb-6.1", "deb-6.10"]
    assert [o.default for o in opts] == [True, False, False]
    assert opts[0].name.endswith("(6.5)")  # equal titles are told apart by version


def test_multi_profile_images_give_one_entry_per_profile(tmp_path: Path) -> None:
    root = esp(tmp_path)
    build_uki(
        root / "EFI" / "Linux" / "multi.efi",
        [
            (".osrel", OSREL.encode()),
            (".linux", arm64_pe_kernel()),
            (".cmdline", b"quiet"),
            (".profile", b"ID=regular\nTITLE=Regular boot\n"),
            (".profile", b'ID=factory-reset\nTITLE="Factory reset"\n'),
            (".cmdline", b"quiet systemd.unit=factory-reset.target"),
        ],
    )
    opts = bls.parse(view(root), ARM).options
    assert [(o.name, o.args, o.entry_id, o.default) for o in opts] == [
        ("Debian GNU/Linux 12 (bookworm) (Regular boot)", "quiet", "multi@0", True),
        ("Debian GNU/Linux 12 (bookworm) (Factory reset)", "quiet systemd.unit=factory-reset.target", "multi@1", False),
    ]
    assert opts[1].kernel == Resource(path=PurePosixPath("/EFI/Linux/multi.efi"), section=".linux")
    v = view(root)
    size = v.size("/EFI/Linux/multi.efi")
    assert size is not None
    table = _pe.section_table(v.read_range("/EFI/Linux/multi.efi", 0, _pe.HEADER_BYTES), size)
    own = _pe.find_section(table, "@1:.cmdline")
    assert v.read_range("/EFI/Linux/multi.efi", own.offset, own.size) == b"quiet systemd.unit=factory-reset.target"


def test_loader_conf_default_names_an_image(tmp_path: Path) -> None:
    root = esp(tmp_path)
    simple(root, "a.efi")
    simple(root, "b.efi", osrel=OSREL.replace("ID=debian", "ID=alpha"))
    (root / "loader").mkdir()
    (root / "loader" / "loader.conf").write_text("default a.efi\n")
    opts = bls.parse(view(root), ARM).options
    assert [(o.entry_id, o.default) for o in opts] == [("b", False), ("a", True)]


def test_images_and_type1_entries_make_one_menu_in_the_specification_order(tmp_path: Path) -> None:
    root = esp(tmp_path)
    simple(root)
    (root / "loader" / "entries").mkdir(parents=True)
    (root / "loader" / "entries" / "fedora.conf").write_text("title Fedora\nlinux /vmlinuz\n")
    (root / "loader" / "entries" / "arch.conf").write_text("title Arch\nsort-key zzz\nlinux /vmlinuz\n")
    (root / "vmlinuz").write_bytes(b"k")
    result = parse_device(view(root), ARM)
    # Entries with a sort key first (the image's is its os-release ID), by key.
    assert [(o.name, o.source, o.default) for o in result.options] == [
        ("Debian GNU/Linux 12 (bookworm)", Source.UKI, True),
        ("Arch", Source.BLS, False),
        ("Fedora", Source.BLS, False),
    ]
    (root / "loader" / "loader.conf").write_text("default fedora\n")
    assert [o.default for o in parse_device(view(root), ARM).options] == [False, False, True]


def test_a_type1_entry_may_name_an_image(tmp_path: Path) -> None:
    root = esp(tmp_path)
    simple(root, cmdline="")
    build_uki(root / "EFI" / "Linux" / "nocmd.efi", [(".osrel", OSREL.encode()), (".linux", arm64_pe_kernel())])
    (root / "EFI" / "Linux" / "debian.efi").rename(root / "debian.img")
    (root / "loader" / "entries").mkdir(parents=True)
    (root / "loader" / "entries" / "u.conf").write_text("title Via entry\nuki /debian.img\noptions ignored\n")
    opts = {o.name: o for o in bls.parse(view(root), ARM).options}
    assert opts["Via entry"].kernel == Resource(path=PurePosixPath("/debian.img"), section=".linux")
    assert opts["Via entry"].args == ""  # the embedded (empty) command line, as under Secure Boot
    (root / "loader" / "entries" / "v.conf").write_text(
        "title Options\nuki /EFI/Linux/nocmd.efi\noptions root=LABEL=r\n"
    )
    assert {o.name: o.args for o in bls.parse(view(root), ARM).options}["Options"] == "root=LABEL=r"


def test_efi_programs_and_images_without_osrel_are_skipped_with_a_reason(tmp_path: Path) -> None:
    root = esp(tmp_path)
    build_uki(root / "EFI" / "Linux" / "stub.efi", [(".osrel", OSREL.encode())])
    build_uki(root / "EFI" / "Linux" / "noosrel.efi", [(".linux", arm64_pe_kernel())])
    (root / "EFI" / "Linux" / "junk.efi").write_bytes(b"MZ" + b"\xff" * 200)
    result = bls.parse(view(root), ARM)
    assert result.options == ()
    messages = {PurePosixPath(d.file or "").name: d.message for d in result.diagnostics}
    assert "no .osrel" in messages["noosrel.efi"]
    assert "no .linux" in messages["stub.efi"]
    assert "not a PE" in messages["junk.efi"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=4096), flips=st.lists(st.tuples(st.integers(0, 1023), st.integers(0, 255)), max_size=16))
def test_malformed_pe_files_give_a_reason_never_a_traceback(
    tmp_path: Path, data: bytes, flips: list[tuple[int, int]]
) -> None:
    root = tmp_path / "fuzz"
    (root / "EFI" / "Linux").mkdir(parents=True, exist_ok=True)
    template = _template(tmp_path)
    blob = bytearray(template[:1024] + data)
    for at, value in flips:
        blob[at] = value
    (root / "EFI" / "Linux" / "x.efi").write_bytes(bytes(blob))
    result = bls.parse(view(root), ARM)
    assert len(result.options) <= 1
    if not result.options:
        assert result.diagnostics


_TEMPLATE: dict[str, bytes] = {}


def _template(tmp: Path) -> bytes:
    if "t" not in _TEMPLATE:
        root = tmp / "template"
        (root / "EFI" / "Linux").mkdir(parents=True, exist_ok=True)
        _TEMPLATE["t"] = simple(root).read_bytes()
    return _TEMPLATE["t"]
