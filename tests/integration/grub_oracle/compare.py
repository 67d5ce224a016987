"""bootd's answer and real GRUB's answer for one case, as comparable records.

A record is one bootable entry: its title path, the last part of its id path,
what it loads (kernel, initrds, device tree, each as device id + path) and
the command line the kernel receives.  A file inside an ISO9660 image (GRUB's
``loopback`` device; bootd's resource with ``inside``) is
``["(image)", path inside, "sha256:…"]``: GRUB's device name says nothing of
the image, so the harness has GRUB hash what it would load (``sha256sum``)
and bootd's side is hashed from its image by xorriso, a reader of its own.  bootd's side is what ``bootd scan
--json`` prints (the same code path: :func:`bootd.cli.scan.scan_views`);
GRUB's side is :mod:`tests.integration.grub_oracle.grub_emu`.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bootd.cli.scan import scan_views
from bootd.jsoncodec import option_to_json
from bootd.model import Device, DeviceType, Source
from bootd.parsers.view import DirectoryView
from tests.integration.grub_oracle.grub_emu import DeviceSpec, Loaded, OracleResult

Record = dict[str, Any]


def grub_cmdline(args: Sequence[str]) -> str:
    """The command line GRUB's Linux loader builds from its arguments: an
    argument with a space is put in double quotes, and a backslash or quote in
    it is escaped with a backslash, except a ``\\xHH`` escape, kept as is."""
    parts = []
    for arg in args:
        text = re.sub(
            r"\\x[0-9a-fA-F]{2}|[\\'\"]", lambda m: m.group(0) if len(m.group(0)) == 4 else "\\" + m.group(0), arg
        )
        parts.append(f'"{text}"' if " " in arg else text)
    return " ".join(parts)


def _path(p: str) -> str:
    p = posixpath.normpath("/" + p.lstrip("/"))
    return "/" + p.lstrip("/")


def oracle_records(result: OracleResult, devices: Sequence[DeviceSpec]) -> list[Record]:
    out: list[Record] = []
    for e in result.entries:
        if e.kind not in ("linux", "multiboot") or e.kernel is None:
            continue
        hashes = dict(e.hashes)

        def where(loc: tuple[int | str, str] | None, hashes: Mapping[tuple[int | str, str], str] = hashes) -> Any:
            if loc is None:
                return None
            dev, path = loc
            if isinstance(dev, str) and loc in hashes:  # a loopback device
                return ["(image)", _path(path), f"sha256:{hashes[loc]}"]
            name = devices[dev].id if isinstance(dev, int) and dev < len(devices) else f"({dev})"
            return [name, _path(path)]

        out.append(
            {
                "titles": list(e.titles),
                "id": e.chosen,
                "kind": e.kind,
                "kernel": where(e.kernel),
                "initrds": [where(i) for i in e.initrds],
                "dtb": where(e.dtb),
                "args": grub_cmdline(e.args),
                "default": _is(e, result.default),
            }
        )
    return out


def _is(e: Loaded, default: Loaded | None) -> bool:
    return default is not None and e.same_entry(default)


def bootd_records(devices: Sequence[DeviceSpec], root: Path) -> tuple[list[Record], list[str]]:
    """What bootd scan offers for the first device (its GRUB options), and the diagnostics."""
    views = []
    roots: dict[str, Path] = {}
    for n, dev in enumerate(devices):
        d = root / f"dev{n}"
        roots[dev.id] = d
        d.mkdir()
        for rel, data in dev.files.items():
            target = d / rel.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        views.append(DirectoryView(d, Device(id=dev.id, type=DeviceType.DISK, uuid=dev.uuid, label=dev.label)))
    _, options, diags = scan_views(views, arch="x86_64", firmware="efi")
    out: list[Record] = []
    for opt in options:
        if opt.device != devices[0].id or opt.source is not Source.GRUB2:
            continue
        doc = option_to_json(opt)

        def where(res: Mapping[str, Any] | None) -> Any:
            if res is None:
                return None
            if "inside" in res:
                image = roots[res["device"]] / str(res["path"]).lstrip("/")
                return ["(image)", _path(str(res["inside"])), image_file_hash(image, str(res["inside"]))]
            if "device" in res:
                return [res["device"], _path(str(res["path"]))]
            return [f"({res.get('unresolved') or res.get('url')})", str(res.get("path"))]

        out.append(
            {
                "titles": [*(opt.group.split(" > ") if opt.group else []), opt.name],
                "id": opt.entry_id or opt.name,
                "kind": opt.kind,
                "kernel": where(doc.get("kernel")),
                "initrds": [where(r) for r in doc.get("initrds", [])],
                "dtb": where(doc.get("dtb")),
                "args": opt.args,
                "default": opt.default,
            }
        )
    return out, [f"{d}: {diag}" for d, diag in diags]


def image_file_hash(image: Path, inside: str) -> str:
    """``sha256:…`` of a file inside an ISO9660 image, as xorriso extracts it."""
    if not image.is_file():
        return "no image"
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "file"
        # xorriso shows plain ISO9660 names as they are stored (upper case)
        for name in (inside, inside.upper()):
            argv = ["xorriso", "-osirrox", "on", "-indev", str(image), "-extract", name, str(out)]
            subprocess.run(argv, capture_output=True, env={**os.environ, "LC_ALL": "C"})
            if out.is_file():
                break
        else:
            return f"xorriso cannot extract {inside}"
        return "sha256:" + hashlib.sha256(out.read_bytes()).hexdigest()


def differences(grub: Sequence[Record], bootd: Sequence[Record]) -> list[str]:
    """Every way the two lists differ, readable."""
    out: list[str] = []
    if len(grub) != len(bootd):
        out.append(
            f"GRUB has {len(grub)} bootable entries, bootd {len(bootd)}:\n  GRUB:  {[r['titles'] for r in grub]}"
            f"\n  bootd: {[r['titles'] for r in bootd]}"
        )
    for n, (g, b) in enumerate(zip(grub, bootd, strict=False)):
        for key in g:
            if key == "id":
                # GRUB's $chosen: the id path, ids joined by ">"; bootd keeps the entry's own id.
                if g["id"] != b["id"] and not (len(g["titles"]) > 1 and g["id"].endswith(">" + b["id"])):
                    out.append(f"entry {n} {g['titles']}: id: GRUB {g['id']!r}, bootd {b['id']!r}")
            elif g[key] != b.get(key):
                out.append(f"entry {n} {g['titles']}: {key}: GRUB {g[key]!r}, bootd {b.get(key)!r}")
    return out
