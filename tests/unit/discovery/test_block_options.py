"""The block platform's read-only guarantee, mount options, mountinfo parsing."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bootd.discovery.mounts import btrfs_view_root, mount_options, mountpoint_name
from bootd.errors import InvalidArgument
from bootd.platform.block import FORBIDDEN_MOUNT_OPTIONS, checked_mount_options
from bootd.platform.linux_block import parse_export, parse_mountinfo

WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz=_0123456789", min_size=1, max_size=12)


@given(st.lists(WORDS, max_size=6))
def test_mount_options_are_read_only_or_refused(options: list[str]) -> None:
    try:
        out = checked_mount_options(options)
    except InvalidArgument as e:
        assert "read-only" in str(e)
        assert any(o.split("=", 1)[0] in FORBIDDEN_MOUNT_OPTIONS for o in options)
        return
    assert out[0] == "ro"
    assert not any(o.split("=", 1)[0] in FORBIDDEN_MOUNT_OPTIONS for o in out)


@pytest.mark.parametrize("bad", ["rw", "RW", "noload,rw", "remount", "bind", "suid", "dev", "exec"])
def test_writable_options_are_refused(bad: str) -> None:
    with pytest.raises(InvalidArgument):
        checked_mount_options([bad])


def test_no_journal_replay_options() -> None:
    assert "noload" in mount_options("ext4") and "noload" in mount_options("ext3")
    assert "norecovery" in mount_options("xfs")
    assert "rescue=nologreplay" in mount_options("btrfs") and "subvolid=5" in mount_options("btrfs")
    assert checked_mount_options(mount_options("ext4")) == ("ro", "nodev", "nosuid", "noexec", "noload")


@pytest.mark.parametrize(
    ("name", "expected"), [("sda1", "sda1"), ("../../etc", "_.._etc"), ("a/b", "a_b"), ("", "device"), (".", "device")]
)
def test_mountpoint_name_cannot_climb(name: str, expected: str) -> None:
    assert mountpoint_name(name) == expected
    assert "/" not in mountpoint_name(name)


def test_mountinfo() -> None:
    text = (
        "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
        "90 22 7:64 / /run/bootd/mnt/my\\040disk ro,nosuid,nodev - ext4 /dev/loop64 ro,noload\n"
        "garbage line\n"
    )
    entries = parse_mountinfo(text)
    assert [e.target for e in entries] == [Path("/"), Path("/run/bootd/mnt/my disk")]
    assert entries[1].source == "/dev/loop64" and entries[1].devno == "7:64" and entries[1].read_only
    assert not entries[0].read_only


def test_blkid_export() -> None:
    assert parse_export("TYPE=ext4\nUUID=abc\nLABEL=a=b\n\n") == {"TYPE": "ext4", "UUID": "abc", "LABEL": "a=b"}


def test_btrfs_view_root(tmp_path: Path) -> None:
    (tmp_path / "@" / "boot").mkdir(parents=True)
    assert btrfs_view_root(tmp_path) == tmp_path / "@"
    (tmp_path / "boot").mkdir()
    assert btrfs_view_root(tmp_path) == tmp_path
    other = tmp_path / "other"
    other.mkdir()
    assert btrfs_view_root(other) == other
