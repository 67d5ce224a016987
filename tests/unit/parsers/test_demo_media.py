"""Golden test: the demo machine's media, through the SYSLINUX, BLS, yaboot and
kboot parsers (tests/data/parsers/demo_media.json).  Regenerate with
``python -m tests.unit.parsers.test_demo_media`` after checking the change."""

from __future__ import annotations

import json
import sys
from typing import Any

from bootd.inventory import resolve_option
from bootd.model import Device, Source
from bootd.parsers import ParseContext, parse_device
from bootd.parsers.view import DirectoryView
from bootd.platform.machine import load_machine
from tests.unit.parsers.helpers import DATA, ROOT, as_corpus

GOLDEN = DATA / "demo_media.json"
MINE = (Source.BLS, Source.SYSLINUX, Source.YABOOT, Source.KBOOT)


def scan_demo() -> dict[str, Any]:
    spec = load_machine(ROOT / "config" / "demo")
    views = [
        DirectoryView(d.dir, Device(id=d.id, type=d.type, node=d.node, uuid=d.uuid, label=d.label, fstype=d.fstype))
        for d in spec.devices
    ]
    devices = [v.device for v in views]
    out: dict[str, Any] = {}
    for view in views:
        ctx = ParseContext(others={v.device.id: v for v in views if v is not view}, arch=spec.arch)
        result = parse_device(view, ctx, only=MINE)
        out[view.device.id] = {
            "options": [
                {"id": o.id, "source": str(o.source), **as_corpus(resolve_option(o, devices))} for o in result.options
            ],
            "diagnostics": [str(d) for d in result.diagnostics],
            "timeout": result.timeout,
        }
    return out


def test_demo_media_golden() -> None:
    assert scan_demo() == json.loads(GOLDEN.read_text(encoding="utf-8"))


if __name__ == "__main__":
    GOLDEN.write_text(json.dumps(scan_demo(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    sys.stdout.write(f"wrote {GOLDEN}\n")
