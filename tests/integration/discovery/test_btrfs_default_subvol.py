"""A SUSE-style btrfs on a real image: the system runs from the snapshot that
``btrfs subvolume set-default`` names (``@/.snapshots/1/snapshot``), and its
/boot is there, not in ``@`` (which holds only the ``@/boot/grub2/<platform>``
subvolumes).  SUSE's GRUB, with ``btrfs_relative_path=y``, reads its config
and kernels from that default subvolume; so does bootd."""

from __future__ import annotations

from pathlib import Path

import pytest

from bootd.discovery.scanner import mounted_sources, parse_view
from bootd.model import Resource
from bootd.parsers import ParseContext
from bootd.platform import Platform
from bootd.platform.linux_block import parse_get_default
from tests.integration.discovery import helpers as h

UUID = "6d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"
KERNEL = "6.10.2-1-default"

# In the form openSUSE's grub2-mkconfig writes it with SUSE_BTRFS_SNAPSHOT_BOOTING="true".
GRUB_CFG = f"""\
set btrfs_relative_path="y"
export btrfs_relative_path
search --no-floppy --fs-uuid --set=root {UUID}
menuentry 'openSUSE Tumbleweed' --class opensuse --class gnu-linux --class gnu --class os {{
\tset gfxpayload=keep
\tinsmod btrfs
\techo 'Loading Linux {KERNEL} ...'
\tlinux /boot/vmlinuz-{KERNEL} root=UUID={UUID} ${{extra_cmdline}} splash=silent quiet
\techo 'Loading initial ramdisk ...'
\tinitrd /boot/initrd-{KERNEL}
}}
btrfs-mount-subvol ($root) /boot/grub2/x86_64-efi @/boot/grub2/x86_64-efi
if [ -f "/.snapshots/grub-snapshot.cfg" ]; then
  source "/.snapshots/grub-snapshot.cfg"
fi
"""


OLD = "6.9.1-1-default"

# /.snapshots/grub-snapshot.cfg and /.snapshots/2/grub-snapshot.cfg, in the form
# grub2-snapper-plugin.sh (openSUSE's grub2 package) writes them.
SNAPSHOTS_CFG = """\
if [ -z "$extra_cmdline" ]; then
  submenu "Start bootloader from a read-only snapshot" {
    if [ -f "/.snapshots/2/grub-snapshot.cfg" ]; then
      source "/.snapshots/2/grub-snapshot.cfg"
    fi
    if [ x$snapshot_found != xtrue ]; then
      submenu "Not Found" { true; }
    fi
  }
fi
"""
SNAPSHOT_2_CFG = """\

  if [ -f "/.snapshots/2/snapshot/boot/grub2/grub.cfg" ]; then
    snapshot_found=true
    saved_subvol=$btrfs_subvol
    menuentry  " openSUSE Tumbleweed 20240501 (6.9.1-1,2024-05-01T10:00,pre,zypp(zypper))" \
"/.snapshots/2/snapshot" "/@/.snapshots/2/snapshot" {
        btrfs_subvol="$3"
        extra_cmdline="rootflags=subvol=$3"
        export extra_cmdline
        snapshot_num=2
        export snapshot_num
        configfile "$2/boot/grub2/grub.cfg"
        btrfs_subvol=$saved_subvol
      }
  fi

"""


def make_suse_btrfs(path: Path, loops: h.LoopFactory) -> Path:
    with path.open("wb") as f:
        f.truncate(160 * h.MiB)
    h.sh("mkfs.btrfs", "-q", "-f", "-L", "ROOT", "-U", UUID, path)

    def fill(mnt: Path) -> None:
        for sub in ("@", "@/.snapshots", "@/.snapshots/1/snapshot"):
            (mnt / sub).parent.mkdir(parents=True, exist_ok=True)
            h.sh("btrfs", "subvolume", "create", mnt / sub)
        (mnt / "@/boot/grub2").mkdir(parents=True)
        h.sh("btrfs", "subvolume", "create", mnt / "@/boot/grub2/x86_64-efi")
        h.write_tree(
            mnt / "@/.snapshots/1/snapshot",
            {
                "boot/grub2/grub.cfg": GRUB_CFG,
                f"boot/vmlinuz-{KERNEL}": b"snapshot 1 kernel",
                f"boot/initrd-{KERNEL}": b"snapshot 1 initrd",
                "etc/os-release": 'NAME="openSUSE Tumbleweed"\n',
            },
        )
        (mnt / "@/.snapshots/1/snapshot/.snapshots").mkdir()
        # Snapshot 2: the system as it was with the older kernel, read-only.
        old_tree = mnt / "@/.snapshots/1/snapshot/boot"
        (old_tree / f"vmlinuz-{OLD}").write_bytes(b"snapshot 2 kernel")
        (old_tree / f"initrd-{OLD}").write_bytes(b"snapshot 2 initrd")
        saved = (old_tree / "grub2/grub.cfg").read_text()
        (old_tree / "grub2/grub.cfg").write_text(saved.replace(KERNEL, OLD))
        (mnt / "@/.snapshots/2").mkdir()
        h.sh("btrfs", "subvolume", "snapshot", "-r", mnt / "@/.snapshots/1/snapshot", mnt / "@/.snapshots/2/snapshot")
        (old_tree / "grub2/grub.cfg").write_text(saved)
        (old_tree / f"vmlinuz-{OLD}").unlink()
        (old_tree / f"initrd-{OLD}").unlink()
        (mnt / "@/.snapshots/grub-snapshot.cfg").write_text(SNAPSHOTS_CFG)
        (mnt / "@/.snapshots/2/grub-snapshot.cfg").write_text(SNAPSHOT_2_CFG)
        h.sh("btrfs", "subvolume", "set-default", mnt / "@/.snapshots/1/snapshot")

    h._populate_rw(path, loops, fill, "btrfs")
    return path


def test_get_default_answer() -> None:
    assert parse_get_default("ID 5 (FS_TREE)\n") is None
    assert parse_get_default("ID 258 gen 9 top level 257 path @/.snapshots/1/snapshot\n") == "@/.snapshots/1/snapshot"
    assert parse_get_default("") is None


@pytest.mark.root
async def test_default_subvolume_is_the_view_root(tmp_path: Path, loops: h.LoopFactory, platform: Platform) -> None:
    image = make_suse_btrfs(tmp_path / "suse.img", loops)
    before = h.sha256(image)
    async with mounted_sources(platform, [image]) as views:
        (view,) = views
        assert view.root.parts[-4:] == ("@", ".snapshots", "1", "snapshot")
        result = await parse_view(view, ParseContext(), pool=platform.parsers)
        current = (Resource.local(f"/boot/vmlinuz-{KERNEL}"), (Resource.local(f"/boot/initrd-{KERNEL}"),))
        got = [(o.name, o.kernel, o.initrds) for o in result.options]
        snap = "/.snapshots/2/snapshot/boot"
        older = (Resource.local(f"{snap}/vmlinuz-{OLD}"), (Resource.local(f"{snap}/initrd-{OLD}"),))
        assert got == [("openSUSE Tumbleweed", *current), ("openSUSE Tumbleweed", *older)], result.diagnostics
        assert (result.options[1].group or "").startswith("Start bootloader from a read-only snapshot > ")
        assert result.options[1].args.endswith("rootflags=subvol=/@/.snapshots/2/snapshot splash=silent quiet")
        assert view.read_bytes(f"{snap}/vmlinuz-{OLD}") == b"snapshot 2 kernel"
        assert view.read_bytes(f"/boot/vmlinuz-{KERNEL}") == b"snapshot 1 kernel"
        nested = view.root / ".snapshots"
    await platform.parsers.close()
    assert not [e for e in platform.block.mounts() if e.target == nested], "the snapshots' mount was left behind"
    assert not nested.exists()
    assert h.sha256(image) == before, "the image was written to"
