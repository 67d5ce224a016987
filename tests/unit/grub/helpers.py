"""Helpers for GRUB tests: corpus cases as directories, scans as plain data."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from bootd.jsoncodec import resource_to_json
from bootd.model import Device, DeviceType, ParseResult
from bootd.parsers import ParseContext, parse_device
from bootd.parsers.view import DirectoryView
from tests.conftest import CORPUS, DATA

GRUB_CORPUS = CORPUS / "grub"
GOLDEN = DATA / "grub" / "golden"


def write_files(root: Path, files: Mapping[str, str]) -> None:
    """Create ``files`` (relative path → text; ``base64:`` keys hold binary) under root."""
    for key, text in files.items():
        if key.startswith("base64:"):
            target = root / key[len("base64:") :]
            data = base64.b64decode(text)
        else:
            target = root / key
            data = text.encode()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def device_of(meta: Mapping[str, Any], *, removable: bool = False) -> Device:
    return Device(
        id=str(meta["id"]),
        type=DeviceType.OPTICAL if removable else DeviceType.DISK,
        uuid=meta.get("fs_uuid"),
        label=meta.get("label"),
        fstype=meta.get("fstype"),
    )


def load_case(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((GRUB_CORPUS / f"{name}.json").read_text())
    return data


def corpus_views(case: Mapping[str, Any], tmp: Path) -> tuple[DirectoryView, ParseContext]:
    """The case's device and the other devices it references, as directories."""
    main_dir = tmp / "main"
    main_dir.mkdir()
    write_files(main_dir, case["files"])
    view = DirectoryView(main_dir, device_of(case["device"], removable=case["mode"] == "iso-loopback"))
    others: dict[str, DirectoryView] = {}
    for other in case.get("other_devices", []):
        d = tmp / f"other-{other['id']}"
        d.mkdir()
        write_files(d, other.get("files", {}))
        dev = device_of(other)
        others[dev.id] = DirectoryView(d, dev)
    return view, ParseContext(others=others)


def summarize(result: ParseResult) -> list[dict[str, Any]]:
    """Options as plain data (what golden files hold)."""
    out: list[dict[str, Any]] = []
    for opt in result.options:
        out.append(
            {
                "id": opt.id,
                "name": opt.name,
                "kind": opt.kind,
                "kernel": resource_to_json(opt.kernel, opt.device),
                "initrds": [resource_to_json(r, opt.device) for r in opt.initrds],
                "dtb": resource_to_json(opt.dtb, opt.device),
                "args": opt.args,
                "default": opt.default,
                "group": opt.group,
                "hidden": opt.hidden,
                "entry_id": opt.entry_id,
                "source": str(opt.source),
            }
        )
    return out


def scan(view: DirectoryView, ctx: ParseContext | None = None) -> ParseResult:
    return parse_device(view, ctx or ParseContext())


def _res_text(res: dict[str, Any] | None, own: str) -> str | None:
    if res is None:
        return None
    if "url" in res:
        return str(res["url"])
    if "unresolved" in res:
        return f"({res['unresolved']}){res['path']}"
    if res.get("device") and res["device"] != own:
        return f"({res['device']}){res['path']}"
    return str(res["path"])


def _match(exp: Mapping[str, Any], options: list[dict[str, Any]], remaining: list[int], own: str) -> int | None:
    """The bootd option that stands for one u-root entry: best evidence first."""
    kernel = exp.get("kernel")
    cmdline = exp.get("cmdline")
    name = str(exp["name"])

    def same_kernel(i: int) -> bool:
        return _res_text(options[i]["kernel"], own) == kernel

    def same_name(i: int) -> bool:
        return str(options[i]["name"]) == name

    def near_name(i: int) -> bool:
        mine = str(options[i]["name"])
        return name.startswith(mine) or name.endswith(mine)

    def same_args(i: int) -> bool:
        return str(options[i]["args"]) == cmdline

    tests: list[Callable[[int], bool]] = [
        lambda i: same_name(i) and same_kernel(i) and same_args(i),
        lambda i: same_name(i) and same_kernel(i),
        same_name,
        lambda i: same_kernel(i) and same_args(i),
        lambda i: near_name(i) and same_kernel(i),
        near_name,
    ]
    for test in tests:
        hit = next((i for i in remaining if test(i)), None)
        if hit is not None:
            return hit
    return None


def compare_with_uroot(case: Mapping[str, Any], options: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Where bootd's options differ from u-root's expectations, by kind of difference.

    Keys: ``missing`` (u-root lists it, bootd does not), ``extra`` (the
    reverse), ``name``, ``kernel``, ``initrd``, ``cmdline``, ``order``,
    ``default`` — each with a few human-readable examples.
    """
    own = str(case["device"]["id"])
    diffs: dict[str, list[str]] = {}

    def note(kind: str, text: str) -> None:
        diffs.setdefault(kind, []).append(text)

    remaining = list(range(len(options)))
    matched: list[int] = []
    first_match: int | None = None
    for n, exp in enumerate(case["expect"]):
        kernel = exp.get("kernel")
        initrd = exp.get("initrd")
        if isinstance(initrd, list):
            initrd = initrd[0] if initrd else None

        hit = _match(exp, options, remaining, own)
        if hit is None:
            note("missing", exp["name"])
            continue
        remaining.remove(hit)
        matched.append(hit)
        if n == 0:
            first_match = hit
        opt = options[hit]
        if opt["name"] != exp["name"]:
            note("name", f"{exp['name']!r} -> {opt['name']!r}")
        if _res_text(opt["kernel"], own) != kernel:
            note("kernel", f"{exp['name']}: {kernel!r} -> {_res_text(opt['kernel'], own)!r}")
        first = _res_text(opt["initrds"][0], own) if opt["initrds"] else None
        if exp.get("type") != "multiboot" and first != initrd:
            note("initrd", f"{exp['name']}: {initrd!r} -> {first!r}")
        if opt["args"] != exp.get("cmdline"):
            note("cmdline", f"{exp['name']}: {exp.get('cmdline')!r} -> {opt['args']!r}")
    for i in remaining:
        note("extra", options[i]["name"])
    if matched != sorted(matched):
        note("order", "menu order differs")
    if first_match is not None and not options[first_match]["default"]:
        default = next((o["name"] for o in options if o["default"]), None)
        note("default", f"u-root boots {case['expect'][0]['name']!r} first; bootd's default is {default!r}")
    elif first_match is None and case["expect"]:
        note("default", "u-root's first entry is not listed by bootd")
    return diffs


def make_view(root: Path, files: Mapping[str, str | bytes], **device: Any) -> DirectoryView:
    """A device directory holding ``files``; keyword arguments describe the Device."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        target = root / rel.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)
    device.setdefault("id", root.name)
    return DirectoryView(root, Device(**device))
