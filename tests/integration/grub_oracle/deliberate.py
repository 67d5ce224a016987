"""Where bootd deliberately does not do what Debian's GRUB does: the one list.

Each entry names the difference, why bootd keeps it, and how the oracle
accounts for it (``adjust`` rewrites GRUB's record into what bootd gives
for that reason, so every other field is still compared).  README's GRUB
section lists the same choices.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

Record = dict[str, Any]


@dataclass(frozen=True)
class Choice:
    name: str
    why: str
    applies: Callable[[str], bool]
    """Whether the choice can matter for a config text."""
    adjust: Callable[[Record, str, Sequence[str]], Record] = lambda record, _text, _devices: record
    """GRUB's record as bootd gives it under this choice (config text and device ids given)."""
    extra: Callable[[Record, Collection[str], str], bool] = lambda _record, _files, _config: False
    """Whether a bootd record exists only because of this choice (the case's file names and config given)."""


_UNQUOTED_HEX = re.compile(r"(?<![\\'\"])\\x[0-9A-Fa-f]{2}")


def _hex_words(config: str) -> dict[str, str]:
    """Unquoted words holding ``\\xHH``: upstream GRUB's form → as written."""
    out: dict[str, str] = {}
    for line in config.splitlines():
        for word in line.split():
            if _UNQUOTED_HEX.search(word) and "'" not in word and '"' not in word:
                out[re.sub(r"\\(x[0-9A-Fa-f]{2})", r"\1", word)] = word
    return out


def _keep_hex(record: Record, config: str, _devices: Sequence[str]) -> Record:
    words = _hex_words(config)
    args = " ".join(words.get(a, a) for a in record["args"].split(" "))
    return {**record, "args": args}


_OTHER_FIRMWARE_DISK = re.compile(r"\bhd[1-9][0-9]*\b")


def _on_scanned_disk(record: Record, _config: str, devices: Sequence[str]) -> Record:
    def here(loc: Any) -> Any:
        return [devices[0], loc[1]] if loc is not None and loc[0] in devices else loc

    return {
        **record,
        "kernel": here(record["kernel"]),
        "initrds": [here(i) for i in record["initrds"]],
        "dtb": here(record["dtb"]),
    }


def _submenus_with_hiddenentry(config: str) -> set[str]:
    """Titles of top-level submenus whose body uses ``hiddenentry``."""
    found: set[str] = set()
    depth = 0
    title: str | None = None
    body: list[str] = []
    for line in config.splitlines():
        if depth == 0:
            m = re.match(r"\s*submenu\s+(['\"])(.*?)\1", line)
            title, body = (m.group(2), []) if m else (None, [])
        if title is not None:
            body.append(line)
        depth += line.count("{") - line.count("}")
        if depth <= 0:
            depth = 0
            if title is not None and any(re.match(r"\s*hiddenentry\b", b) for b in body):
                found.add(title)
            title = None
    return found


def _inside_hiddenentry_submenu(record: Record, _files: Collection[str], config: str) -> bool:
    return len(record["titles"]) > 1 and record["titles"][0] in _submenus_with_hiddenentry(config)


def _no_default(record: Record, _config: str, _devices: Sequence[str]) -> Record:
    """Debian's GRUB picks its default among the entries it has; with the BLS
    entries present the default is another one, so it is not compared."""
    return {k: v for k, v in record.items() if k != "default"}


def _bls_entry(record: Record, files: Collection[str], _config: str) -> bool:
    return any(
        f.lstrip("/").startswith(("loader/entries/", "boot/loader/entries/")) and f.endswith(f"/{record['id']}.conf")
        for f in files
    )


CHOICES: tuple[Choice, ...] = (
    Choice(
        name="unquoted \\xHH keeps its backslash",
        why=(
            "Upstream GRUB reads an unquoted backslash as escaping the next character, so "
            "LABEL=CentOS\\x207\\x20x86_64 reaches the kernel as LABEL=CentOSx207x20x86_64.  "
            "Fedora's and RHEL's install media write exactly that, unquoted, and boot with "
            "their own GRUB, which passes \\x20 through for the kernel and dracut to decode; "
            "bootd boots those media, so it keeps \\xHH as written."
        ),
        applies=lambda text: bool(_UNQUOTED_HEX.search(text)),
        adjust=_keep_hex,
    ),
    Choice(
        name="blscfg runs as Fedora's GRUB runs it",
        why=(
            "blscfg is a command of Fedora's and RHEL's GRUB (it turns /loader/entries/*.conf "
            "into menu entries); Debian's GRUB has no such command and shows none of them.  "
            "bootd reads those configs as their own GRUB does: the BLS entries are compared "
            "with the blscfg unit tests, the rest of the menu with Debian's GRUB."
        ),
        applies=lambda text: "blscfg" in text,
        adjust=_no_default,
        extra=_bls_entry,
    ),
    Choice(
        name="a firmware disk name means the disk being scanned",
        why=(
            "GRUB numbers disks (hd0, hd1,gpt2 ...) in the order the firmware lists them, "
            "which bootd cannot know, and a config written on one machine uses the names "
            "of that machine; bootd reads any such name as the disk the config is on, and "
            "finds other disks only by UUID, label or file (search).  A config naming hd1 "
            "directly gets that disk in GRUB here, the scanned disk in bootd."
        ),
        # Only where no search could have named the disk (a search's answer is
        # the real device in both).
        applies=lambda text: _OTHER_FIRMWARE_DISK.search(text) is not None and not re.search(r"\bsearch", text),
        adjust=_on_scanned_disk,
    ),
    Choice(
        name="hiddenentry (GRUB 2.12) is read",
        why=(
            "hiddenentry came with GRUB 2.12; Debian 12's GRUB 2.06 does not know the word, "
            "so the whole statement holding one (NixOS install media put them in a submenu) "
            "is a syntax error there and the submenu disappears.  The media boot with their "
            "own GRUB 2.12, so bootd reads hiddenentry (and leaves those entries out of the "
            "menu as 2.12 does); the entries of such submenus are not compared."
        ),
        applies=lambda text: re.search(r"^\s*hiddenentry\b", text, re.M) is not None,
        extra=_inside_hiddenentry_submenu,
    ),
)


CHOICES = (
    *CHOICES,
    Choice(
        name="entries that start another boot loader are not offered",
        why=(
            "os-prober's entries for Windows (chainloader of an EFI binary or a boot sector) and "
            "macOS (xnu_kernel) hand the machine to another boot loader; bootd boots Linux kernels "
            "with kexec and cannot start those.  They are not options: each chainloader entry is "
            "named in an info message instead.  GRUB's records of entries that load no Linux or "
            "multiboot kernel are left out of the comparison (compare.oracle_records)."
        ),
        applies=lambda text: re.search(r"^\s*(chainloader|xnu_kernel(64)?)\b", text, re.M) is not None,
    ),
)


_SNAPSHOT_ENTRY = re.compile(
    r"""menuentry\s+(?:--\S+\s+)*(["'])(.*?)\1\s+(["'])(.*?)\3\s+(["'])(.*?)\5\s*\{(.*?)\n\s*\}""", re.S
)


def _snapshot_subvolumes(config: str) -> dict[str, str]:
    """Titles of snapper's snapshot entries (``btrfs_subvol="$3"``) and their subvolume ($3)."""
    return {m.group(2): m.group(6) for m in _SNAPSHOT_ENTRY.finditer(config) if 'btrfs_subvol="$3"' in m.group(7)}


def _suse_relative(config: str) -> bool:
    return re.search(r"btrfs_relative_path=[\"']?[y1]", config) is not None and "btrfs_subvol=" in config


def _in_snapshot(record: Record, config: str, _devices: Sequence[str]) -> Record:
    subvol = _snapshot_subvolumes(config).get(record["titles"][-1])
    if not subvol:
        return record
    base = "/" + subvol.strip("/")
    base = base[2:] if base.startswith("/@/") else base

    def inside(loc: Any) -> Any:
        if loc is None or loc[1] == base or loc[1].startswith(base + "/"):
            return loc
        return [loc[0], base + loc[1]]

    return {
        **record,
        "kernel": inside(record["kernel"]),
        "initrds": [inside(i) for i in record["initrds"]],
        "dtb": inside(record["dtb"]),
    }


CHOICES = (
    *CHOICES,
    Choice(
        name="SUSE's btrfs_relative_path and btrfs_subvol are read as SUSE's GRUB reads them",
        why=(
            "openSUSE's and SLES's GRUB patch the btrfs driver: while btrfs_relative_path starts with "
            "y or 1, paths are read from the subvolume btrfs_subvol names (else the default "
            "subvolume), so snapper's 'Start bootloader from a read-only snapshot' entries load "
            "the snapshot's own kernel.  Debian's GRUB has no such patches and reads /boot of the "
            "current root.  bootd boots SUSE's configs as their own GRUB does: GRUB's paths of a "
            "snapshot entry are moved into its subvolume ($3, seen from the view's root as bootd "
            "mounts it) and every other field is compared."
        ),
        applies=_suse_relative,
        adjust=_in_snapshot,
    ),
)


_UNQUOTED_WILDCARD = re.compile(r"""(?:^|[\s;=])(?:\([^)\s]*\))?/[^\s;'"]*(?<!\\)[*?]""", re.M)
"""An unquoted absolute path (or ``(dev)/…``) holding ``*`` or ``?``: a pattern
GRUB's wildcard expansion may match (bootd.parsers.grub.wildcard)."""


CHOICES = (
    *CHOICES,
    Choice(
        name="wildcard matches are in name order",
        why=(
            "GRUB lists the names a wildcard matches in the order its file system driver reads "
            "the directory: on ext4 the order the entries were written (lost+found first at the "
            "top), on ISO9660 the records' (sorted) order, on FAT the order of creation.  bootd's "
            "device views list a directory in name order, and a mounted ext4 returns hash order, "
            "so bootd cannot give GRUB's order for a directory written in another order; it "
            "gives name order, which a menu of kernels or ISO images reads best in.  The oracle's "
            "disks are written by mke2fs -d, which adds each directory's names in name order, so "
            "GRUB's order there is bootd's and nothing is adjusted: a case whose wildcard "
            "matched in another order would fail, not be hidden.  A wildcard in the device part "
            "((hd*), a bare *) is left as written: GRUB matches it against the firmware's disk "
            "names, which a scan does not know; no oracle case uses one."
        ),
        applies=lambda text: _UNQUOTED_WILDCARD.search(text) is not None,
    ),
)


BLS_CHOICES: tuple[Choice, ...] = (
    *(c for c in CHOICES if "blscfg" not in c.name),
    Choice(
        name="a saved_entry starting with digits names an entry, as Fedora's GRUB reads it",
        why=(
            "Upstream GRUB (2.06 and 2.14 alike) reads a default that starts with a number as "
            "that index and ignores the rest, so saved_entry=2f6c...-6.5.6-300.fc39.x86_64 "
            "(machine id, then kernel version: what grub2-set-default and grubby write on "
            "Fedora and RHEL) means entry 2, or the first entry when there is none.  Fedora's "
            "and RHEL's GRUB, which boot those configs, take such a value as an id or title "
            "unless it is a number through and through; bootd does the same, so the default "
            "of these cases is not compared (test_commands.py checks bootd's choice)."
        ),
        applies=lambda text: re.search(r"^saved_entry=[0-9]+[^0-9\n]", text, re.M) is not None,
        adjust=_no_default,
    ),
)
"""The choices that hold against GRUB 2.14 (test_grub_oracle_bls.py), which runs
blscfg itself; their texts are the case's grub.cfg followed by its grubenv."""


def adjusted(record: Record, config: str, devices: Sequence[str], choices: Sequence[Choice] = CHOICES) -> Record:
    for choice in choices:
        if choice.applies(config):
            record = choice.adjust(record, config, devices)
    return record


def bootd_side(
    records: Sequence[Record], config: str, files: Collection[str], choices: Sequence[Choice] = CHOICES
) -> list[Record]:
    """bootd's records without those only a deliberate choice makes."""
    active = [c for c in choices if c.applies(config)]
    return [r for r in records if not any(c.extra(r, files, config) for c in active)]
