"""The pure autoboot decision."""

from __future__ import annotations

from bootd.model import BootOption, Device, DeviceType, Resource
from bootd.policy import choose


def opt(oid: str, device: str, *, default: bool = True, hidden: bool = False, kind: str = "linux") -> BootOption:
    return BootOption(
        id=oid, device=device, name=oid, kernel=Resource.local("/k"), default=default, hidden=hidden, kind=kind
    )


DEVICES = {
    "sda1": Device("sda1", DeviceType.DISK, uuid="AAAA-1111"),
    "sdb1": Device("sdb1", DeviceType.USB, uuid="bbbb-2222"),
    "sr0": Device("sr0", DeviceType.OPTICAL),
    "eth0": Device("eth0", DeviceType.NETWORK, properties=(("mac", "52:54:00:12:34:56"),)),
}
ALL = [opt("sda1/a", "sda1"), opt("sdb1/b", "sdb1"), opt("sr0/c", "sr0"), opt("eth0/d", "eth0")]


def chosen(order: list[str], options: list[BootOption] = ALL, next_boot: str | None = None) -> str | None:
    c = choose(options, DEVICES, order, next_boot=next_boot)
    return c.option.id if c else None


def test_first_selector_that_matches_wins() -> None:
    assert chosen(["network", "usb", "disk"]) == "eth0/d"
    assert chosen(["optical", "disk"]) == "sr0/c"
    assert chosen(["usb", "any"]) == "sdb1/b"


def test_any_takes_menu_order() -> None:
    assert chosen(["any"]) == "sda1/a"


def test_uuid_and_mac_selectors() -> None:
    assert chosen(["uuid:aaaa-1111"]) == "sda1/a", "uuids compare case-insensitively"
    assert chosen(["mac:52:54:00:12:34:56", "disk"]) == "eth0/d"
    assert chosen(["uuid:nope", "mac:00:00:00:00:00:00"]) is None


def test_unmatched_defaults_are_not_candidates() -> None:
    assert chosen(["usb"], [opt("sda1/a", "sda1")]) is None
    assert chosen([], ALL) is None


def test_only_bootable_defaults() -> None:
    options = [
        opt("sda1/x", "sda1", default=False),
        opt("sda1/h", "sda1", hidden=True),
        opt("sda1/m", "sda1", kind="multiboot"),
    ]
    assert chosen(["any"], options) is None
    assert chosen(["any"], [*options, opt("sda1/ok", "sda1")]) == "sda1/ok"


def test_next_boot_wins_when_present_and_not_otherwise() -> None:
    options = [*ALL, opt("sda1/z", "sda1", default=False)]
    assert chosen(["usb"], options, next_boot="sda1/z") == "sda1/z"
    assert chosen(["usb"], options, next_boot="gone/option") == "sdb1/b"
    c = choose(options, DEVICES, ["usb"], next_boot="sda1/z")
    assert c is not None and c.rank == -1


def test_equal_rank_does_not_displace_the_incumbent() -> None:
    c = choose(ALL, DEVICES, ["any"], incumbent="eth0/d")
    assert c is not None and c.option.id == "eth0/d", "first found keeps the countdown"
    c = choose(ALL, DEVICES, ["disk", "network"], incumbent="eth0/d")
    assert c is not None and c.option.id == "sda1/a", "an earlier selector still wins"
    c = choose(ALL, DEVICES, ["any"], incumbent="gone/x")
    assert c is not None and c.option.id == "sda1/a", "a vanished incumbent gives way"
