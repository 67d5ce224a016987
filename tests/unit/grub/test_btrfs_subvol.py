"""SUSE's ``btrfs_subvol``: snapshot entries load the kernel from inside the
snapshot subvolume, not from the current root."""

from __future__ import annotations

from pathlib import PurePosixPath

import pytest

from bootd.model import Resource
from tests.unit.grub.conftest import Run

UUID = "8c3f6b4e-3f2a-4d7c-9a51-0b2d6f1e7a90"

# The running system's grub.cfg (the device is seen from ``@``, where /boot is),
# as grub2-mkconfig writes it with snapshot booting enabled.
GRUB_CFG = f"""\
set btrfs_relative_path="y"
export btrfs_relative_path
search --no-floppy --fs-uuid --set=root {UUID}
menuentry 'openSUSE Tumbleweed' --class opensuse {{
    set gfxpayload=keep
    echo 'Loading Linux 6.10.2-1-default ...'
    linux /boot/vmlinuz-6.10.2-1-default root=UUID={UUID} ${{extra_cmdline}} splash=silent quiet
    echo 'Loading initial ramdisk ...'
    initrd /boot/initrd-6.10.2-1-default
}}
if [ -f "/.snapshots/grub-snapshot.cfg" ]; then
  if [ -z "$extra_cmdline" ]; then
    submenu "Start bootloader from a read-only snapshot" {{
      source "/.snapshots/grub-snapshot.cfg"
    }}
  fi
fi
menuentry 'openSUSE Tumbleweed (recovery)' {{
    linux /boot/vmlinuz-6.10.2-1-default root=UUID={UUID} single
}}
"""

# What snapper's GRUB plugin writes: one entry per bootable snapshot, with the
# snapshot's path and subvolume as $2 and $3.
SNAPSHOT_CFG = """\
snapshot_found=false
if [ -f "/.snapshots/{n}/snapshot/boot/grub2/grub.cfg" ]; then
  snapshot_found=true
  saved_subvol=$btrfs_subvol
  menuentry "openSUSE Tumbleweed (6.9.1-1-default,2024-05-01T10:00,post,zypp(zypper))" \
"/.snapshots/{n}/snapshot" "{subvol}" {{
    btrfs_subvol="$3"
    extra_cmdline="rootflags=subvol=$3"
    export extra_cmdline
    snapshot_num={n}
    export snapshot_num
    configfile "$2/boot/grub2/grub.cfg"
    btrfs_subvol=$saved_subvol
  }}
fi
"""

# The snapshot's own grub.cfg names its kernel at /boot, as it did when current.
SNAP_GRUB_CFG = f"""\
menuentry 'openSUSE Tumbleweed' {{
    linux /boot/vmlinuz-6.9.1-1-default root=UUID={UUID} ${{extra_cmdline}}
    initrd /boot/initrd-6.9.1-1-default
}}
"""


def _files(n: int, subvol: str) -> dict[str, str | bytes]:
    snap = f"/.snapshots/{n}/snapshot"
    return {
        "/boot/vmlinuz-6.10.2-1-default": b"current kernel",
        "/boot/initrd-6.10.2-1-default": b"current initrd",
        "/.snapshots/grub-snapshot.cfg": SNAPSHOT_CFG.format(n=n, subvol=subvol),
        f"{snap}/boot/grub2/grub.cfg": SNAP_GRUB_CFG,
        f"{snap}/boot/vmlinuz-6.9.1-1-default": b"snapshot kernel",
        f"{snap}/boot/initrd-6.9.1-1-default": b"snapshot initrd",
    }


@pytest.mark.parametrize("subvol", ["/@/.snapshots/7/snapshot", "@/.snapshots/7/snapshot"])
def test_snapshot_entry_loads_the_kernel_inside_the_snapshot(run: Run, subvol: str) -> None:
    out = run(GRUB_CFG, files=_files(7, subvol), config="/boot/grub2/grub.cfg", device={"id": "sda2", "uuid": UUID})
    got = [(o.name, o.kernel, o.initrds) for o in out.options]
    current = (Resource.local("/boot/vmlinuz-6.10.2-1-default"), (Resource.local("/boot/initrd-6.10.2-1-default"),))
    snap = "/.snapshots/7/snapshot/boot"
    assert got == [
        ("openSUSE Tumbleweed", *current),
        (
            "openSUSE Tumbleweed",
            Resource.local(f"{snap}/vmlinuz-6.9.1-1-default"),
            (Resource.local(f"{snap}/initrd-6.9.1-1-default"),),
        ),
        # btrfs_subvol is restored after the snapshot entry
        ("openSUSE Tumbleweed (recovery)", Resource.local("/boot/vmlinuz-6.10.2-1-default"), ()),
    ]
    assert out.options[1].args.endswith(f"rootflags=subvol={subvol}")


def test_subvolume_seen_from_the_top_level(run: Run) -> None:
    # A device seen from the top-level subvolume: the snapshot is under /@.
    cfg = (
        "set btrfs_relative_path=y\n"
        'menuentry Snap { btrfs_subvol="/@/.snapshots/3/snapshot"; linux /boot/vmlinuz-6.8; initrd /boot/initrd-6.8 }\n'
        "menuentry Top { linux /boot/vmlinuz-6.8 }\n"
    )
    files: dict[str, str | bytes] = {
        "/@/.snapshots/3/snapshot/boot/vmlinuz-6.8": b"k",
        "/@/.snapshots/3/snapshot/x": b"",
    }
    out = run(cfg, files=files)
    assert [(o.name, o.kernel.path if o.kernel else None) for o in out.options] == [
        ("Snap", PurePosixPath("/@/.snapshots/3/snapshot/boot/vmlinuz-6.8")),
        ("Top", PurePosixPath("/boot/vmlinuz-6.8")),
    ]


def test_subvolume_paths_stay_on_the_device_and_other_filesystems_ignore_it(run: Run) -> None:
    cfg = 'set btrfs_relative_path=1\nmenuentry A { btrfs_subvol="/@/../../../etc"; linux /../boot/vmlinuz }\n'
    out = run(cfg)
    assert out.options[0].kernel == Resource.local("/etc/boot/vmlinuz")
    out = run(cfg, device={"id": "sda1", "fstype": "ext4"})
    assert out.options[0].kernel == Resource.local("/boot/vmlinuz")


@pytest.mark.parametrize("relative", [None, "n", "0", ""])
def test_subvolume_is_read_only_with_relative_paths(run: Run, relative: str | None) -> None:
    # SUSE's btrfs driver looks at btrfs_subvol only while btrfs_relative_path
    # starts with y or 1; otherwise paths are read from the top level, as upstream.
    head = "" if relative is None else f"set btrfs_relative_path={relative}\n"
    cfg = head + 'menuentry Snap { btrfs_subvol="/@/.snapshots/3/snapshot"; linux /boot/vmlinuz-6.8 }\n'
    files: dict[str, str | bytes] = {"/boot/vmlinuz-6.8": b"k", "/@/.snapshots/3/snapshot/boot/vmlinuz-6.8": b"s"}
    out = run(cfg, files=files)
    assert out.options[0].kernel == Resource.local("/boot/vmlinuz-6.8")


@pytest.mark.parametrize("relative", ["y", "yes", "1"])
def test_relative_path_values_that_select_the_subvolume(run: Run, relative: str) -> None:
    cfg = f"set btrfs_relative_path={relative}\n" + (
        'menuentry Snap { btrfs_subvol="/@/.snapshots/3/snapshot"; linux /boot/vmlinuz-6.8 }\n'
    )
    files: dict[str, str | bytes] = {"/boot/vmlinuz-6.8": b"k", "/@/.snapshots/3/snapshot/boot/vmlinuz-6.8": b"s"}
    out = run(cfg, files=files)
    assert out.options[0].kernel == Resource.local("/@/.snapshots/3/snapshot/boot/vmlinuz-6.8")
