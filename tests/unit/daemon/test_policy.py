"""The pure autoboot decision."""

from __future__ import annotations

import itertools
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

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


def test_the_order_does_not_depend_on_which_device_was_found_first() -> None:
    # boot_order = ["any"]: local before network, then device ids in natural order.
    for options in itertools.permutations(ALL):
        assert chosen(["any"], list(options)) == "sda1/a"
    devices = {d: Device(d, DeviceType.DISK) for d in ("sda10", "sda2", "sdb1")}
    found = [opt(f"{d}/x", d) for d in ("sdb1", "sda10", "sda2")]
    for options in itertools.permutations(found):
        c = choose(list(options), devices, ["any"])
        assert c is not None and c.option.id == "sda2/x", "sda2 < sda10 < sdb1"


def test_on_one_device_its_configs_own_menu_order_decides() -> None:
    a = replace(opt("sda1/grub2/x", "sda1"), order=3)
    b = replace(opt("sda1/syslinux/y", "sda1"), order=1)
    for options in ([a, b], [b, a]):
        c = choose(options, DEVICES, ["any"])
        assert c is not None and c.option.id == "sda1/syslinux/y"


def test_a_higher_ranked_candidate_replaces_the_incumbent_and_says_why() -> None:
    c = choose(ALL, DEVICES, ["any"], incumbent="eth0/d")
    assert c is not None and c.option.id == "sda1/a" and c.replaced == "eth0/d"
    assert "replaces eth0/d (eth0/d): device sda1 comes before eth0" in c.reason.text
    c = choose(ALL, DEVICES, ["network", "disk"], incumbent="sda1/a")
    assert c is not None and c.option.id == "eth0/d" and c.replaced == "sda1/a"
    assert "boot order 'network' comes before 'disk'" in c.reason.text
    c = choose(ALL, DEVICES, ["any"], incumbent="sda1/a")
    assert c is not None and c.option.id == "sda1/a" and c.replaced is None, "the best keeps the countdown"
    c = choose(ALL, DEVICES, ["any"], incumbent="gone/x")
    assert c is not None and c.option.id == "sda1/a" and c.replaced is None, "a vanished incumbent is not replaced"


@settings(max_examples=200, deadline=None)
@given(st.permutations(range(6)), st.lists(st.sampled_from(["any", "disk", "usb", "network", "optical"]), max_size=3))
def test_every_arrival_order_gives_the_same_choice(perm: list[int], order: list[str]) -> None:
    devices = {
        "sda2": Device("sda2", DeviceType.DISK),
        "sda10": Device("sda10", DeviceType.DISK),
        "sdc1": Device("sdc1", DeviceType.USB),
        "sr0": Device("sr0", DeviceType.OPTICAL),
        "eth0": Device("eth0", DeviceType.NETWORK),
    }
    pool = [opt(f"{d}/o", d) for d in devices] + [replace(opt("sda2/p", "sda2"), order=1)]
    options = [pool[i] for i in perm]
    ref = choose(pool, devices, order)
    incumbent: str | None = None
    seen: list[str] = []
    for n in range(1, len(options) + 1):  # the options arrive one by one, in this order
        c = choose(options[:n], devices, order, incumbent=incumbent)
        if c is not None:
            if incumbent is not None and c.option.id != incumbent:
                assert c.replaced == incumbent
            incumbent = c.option.id
            seen.append(c.option.id)
    assert (ref.option.id if ref else None) == (seen[-1] if seen else None)
