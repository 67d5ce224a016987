"""Object paths from ids, and the D-Bus form of the model."""

from __future__ import annotations

from pathlib import PurePosixPath

import pytest
from dbus_fast import Variant
from dbus_fast.validators import is_object_path_valid
from hypothesis import given
from hypothesis import strategies as st

from bootd.dbus import codec, names
from bootd.errors import InvalidArgument
from bootd.model import BootOption, BootRecord, Console, ConsoleKind, Device, DeviceType, Resource, Source


@given(st.text(max_size=80))
def test_option_paths_are_valid_and_reversible(oid: str) -> None:
    path = names.option_path(oid)
    assert is_object_path_valid(path)
    assert names.option_id_from_path(path) == oid
    assert names.device_id_from_path(names.device_path(oid)) == oid


def test_typical_ids_escape_readably() -> None:
    """Each / of an id is a path separator, so the device and the loader read as words."""
    assert names.option_path("sdd2/yaboot/Linux") == "/org/bootd/options/sdd2/yaboot/Linux"
    assert names.option_path("sda1/grub2/gnulinux-6.1-advanced#1") == (
        "/org/bootd/options/sda1/grub2/gnulinux_2d6_2e1_2dadvanced_231"
    )
    assert names.option_path("custom/1") == "/org/bootd/options/custom/1"
    assert names.option_id_from_path("/org/bootd/options/a/b") == "a/b"
    assert names.option_path("/a//b/") == "/org/bootd/options/_/a/_/b/_"


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/org/bootd",
        "/org/bootd/options",
        "/org/bootd/devices/x",
        "/org/bootd/options/_zz",
        "/org/bootd/options/a//b",
        "/org/bootd/options/a/_2F",
        "/org/bootd/options/a_",
    ],
)
def test_wrong_paths_are_refused(path: str) -> None:
    with pytest.raises(ValueError):
        names.option_id_from_path(path)


resources = st.one_of(
    st.none(),
    st.builds(Resource.local, st.from_regex(r"/[a-z0-9/._-]{0,30}", fullmatch=True)),
    st.builds(Resource.remote, st.from_regex(r"(http|tftp)://[a-z.]{1,20}/[a-z0-9/]{0,20}", fullmatch=True)),
    st.builds(lambda u, p: Resource.by_uuid(u, p), st.from_regex(r"[0-9a-f-]{4,12}", fullmatch=True), st.just("/k")),
    st.builds(lambda d, p: Resource.local(p, device=d), st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True), st.just("/k")),
    st.builds(
        lambda p: Resource(path=PurePosixPath("/isos/u.iso"), inside=PurePosixPath(p)),
        st.from_regex(r"/[a-z0-9/._-]{0,30}", fullmatch=True),
    ),
)
text = st.text(max_size=40)


@given(
    oid=st.text(min_size=1, max_size=40),
    device=text,
    name=text,
    kernel=resources,
    initrds=st.lists(resources.filter(lambda r: r is not None), max_size=3),
    dtb=resources,
    args=text,
    default=st.booleans(),
    source=st.sampled_from(list(Source)),
    order=st.integers(-1000, 1000),
    hidden=st.booleans(),
    group=st.one_of(st.none(), st.text(min_size=1, max_size=20)),
    entry_id=st.one_of(st.none(), st.text(min_size=1, max_size=20)),
)
def test_options_round_trip(
    oid: str,
    device: str,
    name: str,
    kernel: Resource | None,
    initrds: list[Resource],
    dtb: Resource | None,
    args: str,
    default: bool,
    source: Source,
    order: int,
    hidden: bool,
    group: str | None,
    entry_id: str | None,
) -> None:
    opt = BootOption(
        id=oid,
        device=device,
        name=name,
        kernel=kernel,
        initrds=tuple(initrds),
        dtb=dtb,
        args=args,
        default=default,
        source=source,
        order=order,
        hidden=hidden,
        group=group,
        entry_id=entry_id,
    )
    props = codec.option_props(opt)
    assert set(props) == set(codec.OPTION_SIGNATURES)
    wrapped = {k: Variant(codec.OPTION_SIGNATURES[k], v) for k, v in props.items()}
    assert codec.option_from_props(wrapped) == opt


def test_devices_round_trip() -> None:
    dev = Device(
        "sdb1",
        DeviceType.USB,
        node="/dev/sdb1",
        uuid="AB-CD",
        label="STICK",
        mountpoint=PurePosixPath("/run/bootd/mnt/sdb1"),
        fstype="vfat",
        properties=(("ID_BUS", "usb"),),
    )
    props = codec.device_props(dev)
    assert props["Title"] == "USB: STICK (sdb1)"
    assert codec.device_from_props({k: Variant(codec.DEVICE_SIGNATURES[k], v) for k, v in props.items()}) == dev


def test_consoles_and_records() -> None:
    cons = [Console("hvc0", ConsoleKind.HVC, "/ibm,opal/consoles/serial@0"), Console("tty1", ConsoleKind.VGA)]
    back = codec.consoles_from_dbus(codec.consoles_to_dbus(cons))
    assert [(c.name, c.kind, c.dt_path) for c in back] == [(c.name, c.kind, c.dt_path) for c in cons]
    rec = BootRecord(option="a", name="A", kexec_load=("kexec", "-l"), dtb_changes=("+ x",))
    assert codec.boot_record_from_dbus(codec.boot_record_to_dbus(rec)) == rec
    assert codec.boot_record_to_dbus(BootRecord()) == {}


def test_custom_spec() -> None:
    spec = codec.custom_to_dbus(kernel="/vmlinuz", initrds=["/initrd"], args="quiet", device="sda1", name="Mine")
    opt = codec.custom_from_dbus(spec, "custom/1")
    assert opt.kernel == Resource.local("/vmlinuz", device="sda1")
    assert opt.initrds == (Resource.local("/initrd", device="sda1"),)
    assert opt.name == "Mine" and opt.args == "quiet" and opt.source == Source.USER
    url = codec.custom_from_dbus(codec.custom_to_dbus(kernel="http://h/k"), "custom/2")
    assert url.kernel == Resource.remote("http://h/k")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({}, "needs a kernel"),
        ({"kernel": Variant("s", "/k")}, "must name its device"),
        ({"kernel": Variant("s", "k"), "device": Variant("s", "sda1")}, "absolute path"),
        ({"kernel": Variant("s", "http://x/k"), "colour": Variant("s", "red")}, "unknown key"),
        ({"kernel": Variant("u", 5)}, "must be a string"),
        ({"kernel": Variant("s", "http://x/k"), "args": Variant("s", "a\0b")}, "NUL"),
        ({"kernel": Variant("s", "http://x/k"), "initrds": Variant("s", "x")}, "list of strings"),
    ],
)
def test_bad_custom_specs_say_what_is_wrong(spec: dict[str, Variant], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        codec.custom_from_dbus(spec, "custom/1")


def test_overrides() -> None:
    assert codec.overrides_from_dbus(codec.overrides_to_dbus(args="quiet")).args == "quiet"
    assert codec.overrides_from_dbus({}).args is None
    with pytest.raises(InvalidArgument, match="unknown boot override"):
        codec.overrides_from_dbus({"initrd": Variant("s", "x")})


@given(
    st.dictionaries(
        st.text(max_size=10),
        st.one_of(st.text(max_size=10), st.integers(-(2**63), 2**63 - 1), st.booleans()),
        max_size=5,
    )
)
def test_fuzzed_specs_never_crash(data: dict[str, object]) -> None:
    spec = {
        k: Variant("s", v) if isinstance(v, str) else Variant("b", v) if isinstance(v, bool) else Variant("x", v)
        for k, v in data.items()
    }
    try:
        codec.custom_from_dbus(spec, "custom/1")
        codec.overrides_from_dbus(spec)
    except InvalidArgument:
        pass


def test_client_maps_errors_back() -> None:
    from bootd import errors
    from bootd.dbus.reply_errors import error_from_reply

    e = error_from_reply("org.bootd.Error.AuthenticationRequired", "authenticate first")
    assert type(e) is errors.AuthenticationRequired and str(e) == "authenticate first"
    assert type(error_from_reply("org.bootd.Error.NotFound", "x")) is errors.NotFound
    assert type(error_from_reply("org.freedesktop.DBus.Error.AccessDenied", "no")) is errors.PermissionDenied
    assert "not running" in str(error_from_reply("org.freedesktop.DBus.Error.ServiceUnknown", "x"))
    assert "internal error" in str(error_from_reply("org.bootd.Error.Internal", "boom"))
    assert type(error_from_reply("com.example.Weird", "w")) is errors.BootdError


def test_download_progress_round_trips_and_unknown_values_stay_unknown() -> None:
    from bootd.model import Transfer

    for t in (Transfer(5, 10, 2.5, 2.0), Transfer(0), Transfer(7, None, 1.0, None)):
        assert codec.transfer_from_dbus(*codec.transfer_to_dbus(t)) == t
    assert codec.transfer_to_dbus(Transfer(3)) == (3, -1, -1.0, -1.0)
    assert codec.transfer_from_dbus(1, 2, float("nan"), float("inf")) == Transfer(1, 2, None, None)
