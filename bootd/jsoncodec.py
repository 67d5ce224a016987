"""The one JSON form of the model (``bootd scan --json``, ``bootd list --json``,
``bootd watch --json``).

A resource is ``{"device": ID, "path": P}``, ``{"url": U}`` or
``{"unresolved": "uuid=…", "path": P}``; a part of a Unified Kernel Image
adds ``"section": ".linux"``, a file inside an ISO9660 image (GRUB's
``loopback``) adds ``"inside": "/casper/vmlinuz"`` to the image's own
``device``/``path`` (see :class:`~bootd.model.Resource`).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import PurePosixPath
from typing import Any

from bootd.model import (
    MAX_AWAITS,
    BootOption,
    Device,
    DeviceType,
    Diagnostic,
    ParseResult,
    Resource,
    Severity,
    Source,
    Trust,
)

JSON = dict[str, Any]


def resource_to_json(res: Resource | None, device: str) -> JSON | None:
    if res is None:
        return None
    if res.url is not None:
        return {"url": res.url}
    path = str(res.path) if res.path is not None else None
    out: JSON
    if res.device is None and res.selector is not None:
        out = {"unresolved": res.selector, "path": path}
    else:
        out = {"device": res.device or device, "path": path}
    if res.section is not None:
        out["section"] = res.section
    if res.inside is not None:
        out["inside"] = str(res.inside)
    return out


def resource_from_json(data: JSON | None) -> Resource | None:
    if data is None:
        return None
    if "url" in data:
        return Resource(url=str(data["url"]))
    path = PurePosixPath(str(data["path"])) if data.get("path") is not None else None
    section = str(data["section"]) if data.get("section") is not None else None
    inside = PurePosixPath(str(data["inside"])) if data.get("inside") is not None else None
    if "unresolved" in data:
        return Resource(path=path, selector=str(data["unresolved"]), section=section, inside=inside)
    return Resource(path=path, device=data.get("device"), section=section, inside=inside)


def option_to_json(opt: BootOption) -> JSON:
    out: JSON = {
        "id": opt.id,
        "device": opt.device,
        "name": opt.name,
        "kernel": resource_to_json(opt.kernel, opt.device),
        "initrds": [resource_to_json(r, opt.device) for r in opt.initrds],
        "dtb": resource_to_json(opt.dtb, opt.device),
        "args": opt.args,
        "default": opt.default,
        "source": str(opt.source),
        "order": opt.order,
        "group": opt.group,
        "hidden": opt.hidden,
        "kind": opt.kind,
    }
    if opt.trust is not Trust.UNCHECKED or opt.trust_reason:  # only the daemon checks signatures
        out["trust"] = str(opt.trust)
        out["trust_reason"] = opt.trust_reason
    return out


def option_from_json(data: JSON) -> BootOption:
    return BootOption(
        id=str(data["id"]),
        device=str(data["device"]),
        name=str(data["name"]),
        kernel=resource_from_json(data.get("kernel")),
        initrds=tuple(r for r in (resource_from_json(x) for x in data.get("initrds", [])) if r is not None),
        dtb=resource_from_json(data.get("dtb")),
        args=str(data.get("args", "")),
        default=bool(data.get("default", False)),
        source=Source(data.get("source", "user")),
        order=int(data.get("order", 0)),
        hidden=bool(data.get("hidden", False)),
        group=data.get("group"),
        kind=str(data.get("kind", "linux")),
        trust=_trust(data.get("trust")),
        trust_reason=str(data.get("trust_reason", "")),
    )


def _trust(value: Any) -> Trust:
    try:
        return Trust(value)
    except ValueError:
        return Trust.UNCHECKED


def device_to_json(dev: Device) -> JSON:
    return {
        "id": dev.id,
        "type": str(dev.type),
        "node": dev.node,
        "uuid": dev.uuid,
        "label": dev.label,
        "mountpoint": str(dev.mountpoint) if dev.mountpoint is not None else None,
        "fstype": dev.fstype,
        "properties": dict(dev.properties),
    }


def device_from_json(data: JSON) -> Device:
    mp = data.get("mountpoint")
    return Device(
        id=str(data["id"]),
        type=DeviceType(data.get("type", "disk")),
        node=data.get("node"),
        uuid=data.get("uuid"),
        label=data.get("label"),
        mountpoint=PurePosixPath(mp) if mp else None,
        fstype=data.get("fstype"),
        properties=tuple(sorted((str(k), str(v)) for k, v in (data.get("properties") or {}).items())),
    )


def diagnostic_to_json(diag: Diagnostic) -> JSON:
    out: JSON = {"severity": str(diag.severity), "message": diag.message, "file": diag.file, "line": diag.line}
    if diag.template:  # for a client to translate (bootd.model.Text)
        out["template"] = diag.template
        out["args"] = [list(pair) for pair in diag.args]
    return out


def diagnostic_from_json(data: JSON) -> Diagnostic:
    line = data.get("line")
    args = data.get("args") or []
    return Diagnostic(
        Severity(data.get("severity", "error")),
        str(data.get("message", "")),
        str(data["file"]) if data.get("file") is not None else None,
        int(line) if line is not None else None,
        str(data.get("template") or ""),
        tuple((str(k), str(v)) for k, v in args),
    )


def _resource_full(res: Resource | None) -> JSON | None:
    if res is None:
        return None
    path = str(res.path) if res.path is not None else None
    inside = str(res.inside) if res.inside is not None else None
    return {"path": path, "device": res.device, "selector": res.selector, "url": res.url, "section": res.section,
            "inside": inside}  # fmt: skip


def _resource_from_full(data: JSON | None) -> Resource | None:
    if data is None:
        return None
    path = PurePosixPath(str(data["path"])) if data.get("path") is not None else None
    inside = PurePosixPath(str(data["inside"])) if data.get("inside") is not None else None
    return Resource(path=path, device=data.get("device"), selector=data.get("selector"), url=data.get("url"),
                    section=data.get("section"), inside=inside)  # fmt: skip


def _option_full(opt: BootOption) -> JSON:
    """An option with everything the model holds (the parse worker's answer):
    resources keep every field as it is (``device`` None: the option's own)."""
    data = option_to_json(opt)
    data["kernel"] = _resource_full(opt.kernel)
    data["initrds"] = [_resource_full(r) for r in opt.initrds]
    data["dtb"] = _resource_full(opt.dtb)
    data["entry_id"] = opt.entry_id
    data["properties"] = [list(p) for p in opt.properties]
    return data


def result_to_json(result: ParseResult, *, max_bytes: int | None = None) -> JSON:
    """A parse result as JSON; with ``max_bytes``, options that would make the
    encoded answer larger are left out and a diagnostic says so."""
    options: list[JSON] = []
    size = 0
    dropped = 0
    for opt in result.options:
        data = _option_full(opt)
        if max_bytes is not None:
            size += len(json.dumps(data))
            if size > max_bytes:
                dropped = len(result.options) - len(options)
                break
        options.append(data)
    diagnostics = [diagnostic_to_json(d) for d in result.diagnostics]
    if dropped:
        message = f"options larger than {max_bytes} bytes together; the last {dropped} are left out"
        diagnostics.append(diagnostic_to_json(Diagnostic(Severity.WARNING, message)))
    return {
        "options": options,
        "diagnostics": diagnostics,
        "timeout": result.timeout,
        "supersedes": [str(s) for s in result.supersedes],
        "awaits": list(result.awaits),
    }


def result_from_json(data: JSON) -> ParseResult:
    options = []
    for raw in data.get("options", []):
        opt = option_from_json({**raw, "kernel": None, "initrds": [], "dtb": None})
        props = tuple((str(k), str(v)) for k, v in raw.get("properties") or ())
        entry_id = raw.get("entry_id")
        opt = replace(
            opt,
            kernel=_resource_from_full(raw.get("kernel")),
            initrds=tuple(r for r in (_resource_from_full(x) for x in raw.get("initrds", [])) if r is not None),
            dtb=_resource_from_full(raw.get("dtb")),
            entry_id=str(entry_id) if entry_id is not None else None,
            properties=props,
        )
        options.append(opt)
    timeout = data.get("timeout")
    return ParseResult(
        options=tuple(options),
        diagnostics=tuple(diagnostic_from_json(d) for d in data.get("diagnostics", [])),
        timeout=float(timeout) if timeout is not None else None,
        supersedes=tuple(Source(s) for s in data.get("supersedes", [])),
        awaits=tuple(str(a) for a in data.get("awaits", []))[:MAX_AWAITS],
    )
