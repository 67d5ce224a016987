"""Helpers for parser tests: corpus cases as directories, options in the
corpus' comparison form."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from bootd.model import BootOption, Device, Resource
from bootd.parsers.view import DirectoryView

ROOT = Path(__file__).resolve().parents[3]
CORPUS = ROOT / "tests" / "data" / "corpus"
DATA = ROOT / "tests" / "data" / "parsers"


def load_case(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def write_files(root: Path, files: Mapping[str, str]) -> None:
    """Materialise a case's ``files`` (``base64:`` keys are binary)."""
    for key, text in files.items():
        if key.startswith("base64:"):
            target = root / key[len("base64:") :]
            content = base64.b64decode(text)
        else:
            target = root / key
            content = text.encode("utf-8")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


def case_view(case: Mapping[str, Any], tmp: Path) -> DirectoryView:
    dev = case.get("device") or {}
    root = tmp / str(dev.get("id") or "dev")
    root.mkdir(parents=True, exist_ok=True)
    write_files(root, case.get("files", {}))
    return DirectoryView(root, Device(id=str(dev.get("id") or "dev"), uuid=dev.get("fs_uuid")))


def res_str(res: Resource | None) -> str | None:
    if res is None:
        return None
    if res.url is not None:
        return res.url
    if res.device is not None:
        return f"({res.device}){res.path}"
    if res.selector is not None:
        return f"({res.selector}){res.path}"
    return str(res.path)


def as_corpus(opt: BootOption) -> dict[str, Any]:
    """An option in the corpus' ``expect`` form, plus ``default``/``group``/``hidden``."""
    out: dict[str, Any] = {"type": opt.kind, "name": opt.name, "kernel": res_str(opt.kernel)}
    if opt.kind == "multiboot":
        out["modules"] = [res_str(r) for r in opt.initrds]
    else:
        initrds = [res_str(r) for r in opt.initrds]
        out["initrd"] = None if not initrds else initrds[0] if len(initrds) == 1 else initrds
        out["dtb"] = res_str(opt.dtb)
    out["cmdline"] = opt.args
    out["default"] = opt.default
    if opt.group is not None:
        out["group"] = opt.group
    if opt.hidden:
        out["hidden"] = True
    return out


def pxe_functions(case: Mapping[str, Any]) -> tuple[Callable[[str], str | None], Callable[[str], Resource]]:
    """``read``/``resolve`` for a pxe-config case: URLs against rootdir + working directory."""
    from bootd.parsers.syslinux import join_url

    ep = case["entry_point"]
    base = join_url(str(ep["rootdir"]), str(ep.get("working_directory") or "")) + "/"
    files: Mapping[str, str] = case.get("files", {})

    def read(path: str) -> str | None:
        return files.get(join_url(base, path))

    def resolve(path: str) -> Resource:
        if path.startswith("/"):
            return Resource.remote(join_url(str(ep["rootdir"]), path))
        return Resource.remote(join_url(base, path))

    return read, resolve


def make_view(tmp: Path, files: Mapping[str, str | bytes], *, device: Device | None = None) -> DirectoryView:
    """A device directory holding ``files`` (path → text or bytes)."""
    root = tmp / "dev"
    root.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        target = root / name.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    return DirectoryView(root, device or Device(id="dev", node="/dev/sda2"))
