"""Device names, search, and resources on other devices."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePosixPath

from bootd.model import Resource
from bootd.parsers.view import DirectoryView
from tests.unit.grub.conftest import Run

Other = Callable[..., DirectoryView]


def test_grub_disk_names_mean_the_scanned_device(run: Run) -> None:
    out = run(
        "set root='hd0,gpt2'\nmenuentry A { linux (hd0,gpt2)/vmlinuz\n initrd ($root)/initrd /initrd2 }\n"
        "menuentry B { set root=(hd1,msdos1); linux /boot/../vmlinuz }"
    )
    a, b = out.options
    assert a.kernel == Resource.local("/vmlinuz")
    assert a.initrds == (Resource.local("/initrd"), Resource.local("/initrd2"))
    assert b.kernel == Resource.local("/vmlinuz")


def test_search_fs_uuid_finds_another_known_device(run: Run, other: Other) -> None:
    boot = other("sda2", {"/vmlinuz-6.1": ""}, uuid="AAAA-BBBB", label="boot")
    out = run(
        "search --no-floppy --fs-uuid --set=root --hint-efi=hd0,gpt2 aaaa-bbbb\n"
        "menuentry A { linux /vmlinuz-6.1 root=x\n initrd /initrd }",
        others={"sda2": boot},
    )
    opt = out.options[0]
    assert opt.kernel == Resource(path=PurePosixPath("/vmlinuz-6.1"), device="sda2")
    assert opt.initrds == (Resource(path=PurePosixPath("/initrd"), device="sda2"),)


def test_search_that_finds_nothing_leaves_the_variable_as_it_was(run: Run) -> None:
    # GRUB's search sets its variable only when it finds a device: $root stays
    # the device the config is on, and another variable keeps its value.
    out = run(
        "search --fs-uuid --set=root 1234-5678\necho $? $root\nmenuentry A { linux /vmlinuz }\n"
        "set lab=keep\nsearch -l BOOTLABEL -s lab\necho $lab\nsearch -u 9999 --set=unset\necho x${unset}x"
    )
    assert out.echoes == [["1", "hd0,gpt1"], ["keep"], ["xx"]]
    assert out.options[0].kernel == Resource.local("/vmlinuz")


def test_search_label_on_scanned_device(run: Run) -> None:
    out = run(
        "search --no-floppy --set=root -l 'Fedora-WS-Live-27-1-6'\nmenuentry A { linux /images/pxeboot/vmlinuz }",
        device={"id": "dvd", "label": "Fedora-WS-Live-27-1-6"},
    )
    assert out.options[0].kernel == Resource.local("/images/pxeboot/vmlinuz")


def test_search_file_prefers_scanned_device_then_others(run: Run, other: Other) -> None:
    stick = other("sdb1", {"/.disk/marker": "", "/k": ""}, uuid="5555")
    out = run(
        "search --file --set=found /.disk/marker\necho $found\nsearch --set --file /boot/grub/grub.cfg\necho $root\n"
        "search -f /none -s x\necho $? $x\nsearch.file /.disk/marker legacy\necho $legacy\n"
        "export found\nmenuentry A { linux ($found)/k }",
        others={"sdb1": stick},
    )
    assert out.echoes == [["5555"], ["hd0,gpt1"], ["1"], ["5555"]]
    assert out.options[0].kernel == Resource(path=PurePosixPath("/k"), device="sdb1")


def test_efi_stub_that_redirects_is_followed(run: Run, other: Other) -> None:
    real = (
        "set default=1\nmenuentry 'CentOS 7' { linux /vmlinuz-3.10 root=/dev/sda3\n initrd /initramfs-3.10.img }\n"
        "menuentry 'CentOS rescue' { linux /vmlinuz-rescue }\n"
    )
    boot = other("sda2", {"/grub2/grub.cfg": real, "/vmlinuz-3.10": ""}, uuid="2159a160")
    stub = "search.fs_uuid 2159a160 root\nset prefix=($root)/grub2\nconfigfile $prefix/grub.cfg\n"
    out = run(stub, others={"sda2": boot}, config="/EFI/centos/grub.cfg", device={"id": "esp", "uuid": "F2A2"})
    assert [(o.name, o.default) for o in out.options] == [("CentOS 7", False), ("CentOS rescue", True)]
    assert out.options[0].kernel == Resource(path=PurePosixPath("/vmlinuz-3.10"), device="sda2")


def test_network_device_names_become_urls(run: Run) -> None:
    out = run("menuentry N { linux (http,boot.example)/k/vmlinuz\n initrd (tftp,10.0.0.1)/initrd }")
    assert out.options[0].kernel == Resource.remote("http://boot.example/k/vmlinuz")
    assert out.options[0].initrds == (Resource.remote("tftp://10.0.0.1/initrd"),)


def test_paths_cannot_leave_the_device(run: Run) -> None:
    out = run("menuentry A { linux /../../etc/../vmlinuz }")
    assert out.options[0].kernel == Resource.local("/vmlinuz")


def test_efi_stub_whose_target_is_not_known_says_so(run: Run) -> None:
    stub = "search.fs_uuid 2159a160 root\nset prefix=($root)/grub2\nconfigfile $prefix/grub.cfg\n"
    out = run(stub, config="/EFI/centos/grub.cfg", device={"id": "esp", "uuid": "F2A2"})
    assert out.options == []
    assert [d.message for d in out.diagnostics] == [
        "configfile /grub2/grub.cfg: not on this device, and no known device has uuid=2159a160; its menu is not shown"
    ]


def test_fat_labels_are_matched_exactly_and_iso_dates_as_uuids(run: Run, other: Other) -> None:
    # As GRUB does (the oracle's stubs/fat-label-other-case and stubs/iso-uuid-forms).
    fat = other("sdb1", {"/vmlinuz-fat": ""}, uuid="4A3B-1C2D", label="BOOTFAT", fstype="vfat")
    iso = other("sr0", {"/vmlinuz-iso": ""}, uuid="2023-10-05-12-00-00-00", label="Fedora-WS-Live-39", fstype="iso9660")
    cfg = (
        "search --label --set=a bootfat\nsearch --label --set=b BOOTFAT\n"
        "search --fs-uuid --set=c 2023-10-05-12-00-00-00\nsearch --fs-uuid --set=d 2023-10-05-12-00-00\n"
        "search --label --set=e FEDORA-WS-LIVE-39\n"
        'menuentry "a=$a b=$b c=$c d=$d e=$e" { linux ($b)/vmlinuz-fat }\nmenuentry I { linux ($c)/vmlinuz-iso }'
    )
    out = run(cfg, others={"sdb1": fat, "sr0": iso})
    first, second = out.options
    assert first.name == "a= b=4A3B-1C2D c=2023-10-05-12-00-00-00 d= e="
    assert first.kernel == Resource(path=PurePosixPath("/vmlinuz-fat"), device="sdb1")
    assert second.kernel == Resource(path=PurePosixPath("/vmlinuz-iso"), device="sr0")
