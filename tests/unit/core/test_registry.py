"""parse_device: every parser on every device, ids and order, supersedes."""

from __future__ import annotations

from pathlib import Path

from bootd.model import Source
from bootd.parsers import REGISTRY, ParseContext, option_id, parse_device
from tests.unit.parsers.helpers import make_view


def test_every_parser_runs_and_options_are_numbered(tmp_path: Path) -> None:
    view = make_view(
        tmp_path,
        {
            "/loader/entries/e.conf": "title BLS\nlinux /v\n",
            "/syslinux.cfg": "DEFAULT sys\nLABEL sys\n KERNEL /v\n",
            "/etc/yaboot.conf": "image=/v\n label=yab\n",
            "/etc/kboot.conf": "kb=/v\n",
        },
    )
    result = parse_device(view, ParseContext(), only=(Source.BLS, Source.SYSLINUX, Source.YABOOT, Source.KBOOT))
    assert [(o.source, o.name) for o in result.options] == [
        (Source.BLS, "BLS"),
        (Source.SYSLINUX, "sys"),
        (Source.YABOOT, "yab"),
        (Source.KBOOT, "kb"),
    ]
    assert [o.order for o in result.options] == [0, 1, 2, 3]
    assert [o.id for o in result.options] == ["dev/bls/e", "dev/syslinux/sys", "dev/yaboot/yab", "dev/kboot/kb"]
    assert all(o.device == "dev" for o in result.options)
    assert sum(o.default for o in result.options) == 4  # each config names its own default


def test_ids_are_stable_across_scans(tmp_path: Path) -> None:
    view = make_view(tmp_path, {"/syslinux.cfg": "LABEL a\n KERNEL /a\nLABEL b\n KERNEL /b\n"})
    first = [o.id for o in parse_device(view, ParseContext()).options]
    assert first == [o.id for o in parse_device(view, ParseContext()).options]
    assert option_id("dev", Source.SYSLINUX, "a") == first[0]


def test_registry_lists_every_format_once() -> None:
    sources = [e.source for e in REGISTRY]
    assert len(sources) == len(set(sources))
    assert {Source.GRUB2, Source.BLS, Source.SYSLINUX, Source.YABOOT, Source.KBOOT} <= set(sources)


def test_empty_device(tmp_path: Path) -> None:
    result = parse_device(make_view(tmp_path, {"/README": "nothing to boot"}), ParseContext())
    assert result.options == () and result.timeout is None


def test_blscfg_supersedes_the_bls_parser_on_the_demo_fedora_disk() -> None:
    from bootd.model import Device
    from bootd.parsers import bls
    from bootd.parsers.view import DirectoryView
    from tests.unit.parsers.helpers import ROOT

    view = DirectoryView(
        ROOT / "config/demo/devices/sdb2", Device(id="sdb2", uuid="7c1d9a0e-2b4f-4e86-a3c5-91d0f6e8b2a4")
    )
    result = parse_device(view, ParseContext(arch="ppc64le", firmware="ieee1275"))
    assert {o.source for o in result.options} == {Source.GRUB2}
    standalone = bls.parse(view, ParseContext())
    assert [o.name for o in result.options] == [o.name for o in standalone.options]
