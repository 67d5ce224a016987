"""bootd.model: resources, device matching and titles, option properties."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from pathlib import PurePosixPath

import pytest

from bootd.model import BootOption, Device, DeviceType, Diagnostic, Resource, Severity


def test_resource_forms() -> None:
    local = Resource.local("/boot/vmlinuz")
    assert local.path == PurePosixPath("/boot/vmlinuz") and not local.is_url and not local.is_unresolved
    assert local.describe() == "/boot/vmlinuz"
    assert Resource.local("/v", device="sda1").describe() == "(sda1)/v"
    by_uuid = Resource.by_uuid("ABCD", "/v")
    assert by_uuid.is_unresolved and by_uuid.describe() == "(uuid=ABCD)/v"
    assert Resource.by_label("root", "/v").selector == "label=root"
    url = Resource.remote("http://h/k")
    assert url.is_url and url.describe() == "http://h/k"


def test_device_matches() -> None:
    dev = Device(id="sda2", uuid="AbCd-1234", label="Boot", node="/dev/sda2")
    assert dev.matches("uuid=abcd-1234") and dev.matches("UUID=ABCD-1234")
    assert dev.matches("label=Boot") and not dev.matches("label=boot")
    assert dev.matches("id=sda2") and not dev.matches("id=sda")
    assert dev.matches("node=/dev/sda2") and dev.matches("node=sda2") and not dev.matches("node=/dev/sda3")
    assert not dev.matches("partuuid=x") and not dev.matches("garbage")
    assert not Device(id="x").matches("uuid=") and not Device(id="x").matches("node=/dev/sda2")


def test_device_title() -> None:
    assert Device(id="sdc1", type=DeviceType.USB, label="STICK", node="/dev/sdc1").title == "USB: STICK (sdc1)"
    assert Device(id="sda2", node="/dev/sda2").title == "Disk: sda2"
    assert Device(id="dir").title == "Disk: dir"
    assert Device(id="sr0", type=DeviceType.OPTICAL).title == "CD/DVD: sr0"
    assert DeviceType.USB.is_removable() and not DeviceType.DISK.is_removable()


def test_properties_and_frozen() -> None:
    opt = BootOption(id="i", device="d", name="n", kernel=None, properties=(("sysappend", "3"),))
    assert opt.prop("sysappend") == "3" and opt.prop("x") is None and opt.prop("x", "d") == "d"
    assert Device(id="d", properties=(("ID_BUS", "usb"),)).prop("ID_BUS") == "usb"
    with pytest.raises(FrozenInstanceError):
        opt.name = "other"  # type: ignore[misc]


def test_diagnostic_text() -> None:
    assert str(Diagnostic(Severity.WARNING, "bad", "/a.cfg", 3)) == "warning: /a.cfg:3: bad"
    assert str(Diagnostic(Severity.INFO, "note", "/a.cfg")) == "info: /a.cfg: note"
    assert str(Diagnostic(Severity.ERROR, "plain")) == "error: plain"


def test_records_behave_as_frozen_dataclasses() -> None:
    """The records' shared methods give what ``dataclass(frozen=True)`` gave:
    fields, replace, asdict, match, equality and hash by value, repr, copies."""
    import copy
    import pickle
    from dataclasses import asdict, fields, is_dataclass, replace

    from bootd.model import BootOverrides

    kernel = Resource.local("/vmlinuz", device="sda1")
    opt = BootOption("sda1/bls/a", "sda1", "A", kernel, initrds=(kernel,), order=2)
    assert is_dataclass(opt) and [f.name for f in fields(opt)][:4] == ["id", "device", "name", "kernel"]
    moved = replace(opt, default=True)
    assert moved.default and not opt.default and moved != opt and replace(moved, default=False) == opt
    assert hash(
        BootOption("sda1/bls/a", "sda1", "A", Resource.local("/vmlinuz", device="sda1"), (kernel,), order=2)
    ) == hash(opt)
    assert opt != (opt.id, opt.device) and opt.__eq__(object()) is NotImplemented
    assert len({opt, replace(opt), moved}) == 2
    assert asdict(BootOverrides("quiet")) == {"args": "quiet"}
    assert (
        repr(kernel)
        == "Resource(path=PurePosixPath('/vmlinuz'), device='sda1', selector=None, url=None, section=None, inside=None)"
    )
    assert repr(BootOverrides()) == "BootOverrides(args=None)"
    match opt:
        case BootOption(oid, dev, name):
            assert (oid, dev, name) == ("sda1/bls/a", "sda1", "A")
    for same in (pickle.loads(pickle.dumps(opt)), copy.copy(opt), copy.deepcopy(opt)):
        assert same == opt and same is not opt
    with pytest.raises(FrozenInstanceError):
        del kernel.path
    with pytest.raises(AttributeError):
        kernel.extra = 1


def test_a_record_whose_init_misses_a_field_is_refused() -> None:
    from bootd.model import Record, record

    with pytest.raises(TypeError, match="not its fields in order"):

        @record
        class Half(Record):
            a: int
            b: int = 0

            def __init__(self, a: int) -> None:
                object.__setattr__(self, "a", a)
