"""The one JSON form of the model round-trips."""

from __future__ import annotations

import json
from pathlib import PurePosixPath

from hypothesis import given, settings
from hypothesis import strategies as st

from bootd.jsoncodec import (
    device_from_json,
    device_to_json,
    diagnostic_to_json,
    option_from_json,
    option_to_json,
    resource_to_json,
)
from bootd.model import BootOption, Device, DeviceType, Diagnostic, Resource, Severity, Source

TEXT = st.text(max_size=20)
PATHS = st.lists(st.text("abc-_.", min_size=1, max_size=5), max_size=3).map(lambda p: "/" + "/".join(p))
RESOURCES = st.one_of(
    PATHS.map(lambda p: Resource.local(p, device="dev")),
    st.tuples(TEXT, PATHS).map(lambda t: Resource.by_uuid(t[0], t[1])),
    TEXT.map(lambda u: Resource.remote("http://h/" + u)),
    st.tuples(PATHS, PATHS).map(lambda t: Resource(path=PurePosixPath(t[0]), device="dev", inside=PurePosixPath(t[1]))),
)


def test_resource_forms() -> None:
    assert resource_to_json(Resource.local("/v"), "own") == {"device": "own", "path": "/v"}
    assert resource_to_json(Resource.local("/v", device="x"), "own") == {"device": "x", "path": "/v"}
    assert resource_to_json(Resource.by_label("L", "/v"), "own") == {"unresolved": "label=L", "path": "/v"}
    assert resource_to_json(Resource.remote("tftp://h/k"), "own") == {"url": "tftp://h/k"}
    assert resource_to_json(None, "own") is None
    iso = Resource(path=PurePosixPath("/isos/u.iso"), inside=PurePosixPath("/casper/vmlinuz"))
    assert resource_to_json(iso, "own") == {"device": "own", "path": "/isos/u.iso", "inside": "/casper/vmlinuz"}
    assert iso.describe() == "/isos/u.iso[/casper/vmlinuz]"


@settings(max_examples=100, deadline=None)
@given(
    name=TEXT,
    kernel=st.one_of(st.none(), RESOURCES),
    initrds=st.lists(RESOURCES, max_size=3),
    dtb=st.one_of(st.none(), RESOURCES),
    args=TEXT,
    default=st.booleans(),
    source=st.sampled_from(list(Source)),
    order=st.integers(0, 1000),
    group=st.one_of(st.none(), TEXT),
)
def test_option_round_trip(
    name: str,
    kernel: Resource | None,
    initrds: list[Resource],
    dtb: Resource | None,
    args: str,
    default: bool,
    source: Source,
    order: int,
    group: str | None,
) -> None:
    opt = BootOption(
        id="dev/x",
        device="dev",
        name=name,
        kernel=kernel,
        initrds=tuple(initrds),
        dtb=dtb,
        args=args,
        default=default,
        source=source,
        order=order,
        group=group,
    )
    back = option_from_json(json.loads(json.dumps(option_to_json(opt))))
    assert back == opt


def test_device_round_trip() -> None:
    dev = Device(
        id="sdc1",
        type=DeviceType.USB,
        node="/dev/sdc1",
        uuid="U",
        label="L",
        mountpoint=PurePosixPath("/run/bootd/mnt/sdc1"),
        fstype="vfat",
        properties=(("ID_BUS", "usb"), ("ID_MODEL", "Stick")),
    )
    assert device_from_json(json.loads(json.dumps(device_to_json(dev)))) == dev


def test_diagnostic() -> None:
    d = Diagnostic(Severity.WARNING, "m", "/f", 2)
    assert diagnostic_to_json(d) == {"severity": "warning", "message": "m", "file": "/f", "line": 2}


def test_a_file_inside_an_image_survives_the_parse_workers_answer() -> None:
    from bootd.jsoncodec import result_from_json, result_to_json
    from bootd.model import ParseResult

    kernel = Resource(path=PurePosixPath("/isos/u.iso"), inside=PurePosixPath("/casper/vmlinuz"))
    result = ParseResult(options=(BootOption(id="usb/x", device="usb", name="x", kernel=kernel),))
    back = result_from_json(json.loads(json.dumps(result_to_json(result))))
    assert back.options[0].kernel == kernel
