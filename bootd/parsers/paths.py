"""The paths each non-GRUB parser starts from, in one place: the parsers read
their configs from these, and the registry (:mod:`bootd.parsers`) matches a
device against them without importing the parser.  Standard library only."""

from __future__ import annotations

BLS_DIRECTORIES: tuple[str, ...] = ("/loader/entries", "/boot/loader/entries")
UKI_DIRECTORIES: tuple[str, ...] = ("/EFI/Linux", "/boot/EFI/Linux")
SYSLINUX_DIRS: tuple[str, ...] = (
    "/boot/isolinux",
    "/isolinux",
    "/boot/syslinux",
    "/boot/extlinux",
    "/extlinux",
    "/syslinux",
    "/",
    "/boot",
    "/EFI/BOOT",
)
SYSLINUX_NAMES: tuple[str, ...] = ("isolinux.cfg", "extlinux.conf", "syslinux.cfg")
YABOOT_PATHS: tuple[str, ...] = (
    "/yaboot.conf",
    "/yaboot.cnf",
    "/etc/yaboot.conf",
    "/etc/yaboot.cnf",
    "/suseboot/yaboot.cnf",
    "/boot/etc/yaboot.conf",
)
KBOOT_PATHS: tuple[str, ...] = ("/etc/kboot.conf", "/kboot.conf", "/boot/kboot.conf")
PETITBOOT_PATHS: tuple[str, ...] = ("/boot/petitboot.conf", "/petitboot.conf")
