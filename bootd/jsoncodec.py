"""The one JSON form of the model (``bootd scan --json``, ``bootd list --json``,
``bootd watch --json``).

A resource is ``{"device": ID, "path": P}``, ``{"url": U}`` or
``{"unresolved": "uuid=…", "path": P}``; a part of a Unified Kernel Image
adds ``"section": ".linux"`` (see :class:`~bootd.model.Resource`).
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from bootd.model import BootOption, Device, DeviceType, Diagnostic, Resource, Source

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
    return out


def resource_from_json(data: JSON | None) -> Resource | None:
    if data is None:
        return None
    if "url" in data:
        return Resource(url=str(data["url"]))
    path = PurePosixPath(str(data["path"])) if data.get("path") is not None else None
    section = str(data["section"]) if data.get("section") is not None else None
    if "unresolved" in data:
        return Resource(path=path, selector=str(data["unresolved"]), section=section)
    return Resource(path=path, device=data.get("device"), section=section)


def option_to_json(opt: BootOption) -> JSON:
    return {
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
    )


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
    return {"severity": str(diag.severity), "message": diag.message, "file": diag.file, "line": diag.line}
