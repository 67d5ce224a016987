"""The D-Bus form of the model (layer L1): what the service exports and what
the client turns back into :mod:`bootd.model` objects.

A resource is an ``a{ss}`` with one of the forms of :class:`~bootd.model.Resource`:
``{"path": P}`` (the option's own device), ``{"device": ID, "path": P}``,
``{"selector": "uuid=…", "path": P}`` (not resolved yet) or ``{"url": U}``;
a file inside an ISO9660 image adds ``"inside": P`` to the image's form;
no resource is the empty dict.  Values read from the bus may arrive wrapped in
``Variant``; every ``*_from_*`` function accepts both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any

from dbus_fast import Variant

from bootd.dbus.names import device_path
from bootd.errors import InvalidArgument
from bootd.model import (
    BootOption,
    BootOverrides,
    BootRecord,
    Console,
    ConsoleKind,
    Device,
    DeviceType,
    Resource,
    Source,
    Transfer,
    Trust,
)

_SCALARS = (str, int, float, bytes)
"""What D-Bus values are when not a Variant, dict or list (bool is an int)."""

MAX_TEXT = 4096
"""Longest string accepted from a caller (names, paths, arguments)."""


def unwrap(value: Any) -> Any:
    """The plain value of a Variant (recursively for containers)."""
    if isinstance(value, _SCALARS):  # most values: one check, not three
        return value
    if isinstance(value, Variant):
        return unwrap(value.value)
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


# -- resources ---------------------------------------------------------------
def resource_to_dbus(res: Resource | None) -> dict[str, str]:
    if res is None:
        return {}
    out: dict[str, str] = {}
    if res.url is not None:
        out["url"] = res.url
    if res.path is not None:
        out["path"] = str(res.path)
    if res.device is not None:
        out["device"] = res.device
    if res.selector is not None:
        out["selector"] = res.selector
    if res.section is not None:
        out["section"] = res.section
    if res.inside is not None:
        out["inside"] = str(res.inside)
    return out


def resource_from_dbus(data: Mapping[str, Any]) -> Resource | None:
    d = {str(k): str(unwrap(v)) for k, v in data.items()}
    if not d:
        return None
    if "url" in d:
        return Resource(url=d["url"])
    if "path" not in d:
        raise InvalidArgument(f"a resource needs a path or a url, got keys {sorted(d)}")
    inside = PurePosixPath(d["inside"]) if "inside" in d else None
    return Resource(
        path=PurePosixPath(d["path"]),
        device=d.get("device"),
        selector=d.get("selector"),
        section=d.get("section"),
        inside=inside,
    )


# -- boot options ------------------------------------------------------------
def option_props(opt: BootOption) -> dict[str, Any]:
    """Property name -> plain value, as ``org.bootd.BootOption1`` exports them."""
    return {
        "Id": opt.id,
        "Device": device_path(opt.device),
        "DeviceId": opt.device,
        "Name": opt.name,
        "Kernel": resource_to_dbus(opt.kernel),
        "Initrds": [resource_to_dbus(r) for r in opt.initrds],
        "Dtb": resource_to_dbus(opt.dtb),
        "Args": opt.args,
        "Default": opt.default,
        "Source": str(opt.source),
        "Order": opt.order,
        "Hidden": opt.hidden,
        "Group": opt.group or "",
        "EntryId": opt.entry_id or "",
        "Kind": opt.kind,
        "Trust": str(opt.trust),
        "TrustReason": opt.trust_reason,
    }


OPTION_SIGNATURES: dict[str, str] = {
    "Id": "s",
    "Device": "o",
    "DeviceId": "s",
    "Name": "s",
    "Kernel": "a{ss}",
    "Initrds": "aa{ss}",
    "Dtb": "a{ss}",
    "Args": "s",
    "Default": "b",
    "Source": "s",
    "Order": "i",
    "Hidden": "b",
    "Group": "s",
    "EntryId": "s",
    "Kind": "s",
    "Trust": "s",
    "TrustReason": "s",
}


def option_from_props(props: Mapping[str, Any]) -> BootOption:
    p = {k: unwrap(v) for k, v in props.items()}
    try:
        source = _SOURCES.get(p.get("Source", "user"), Source.USER)
    except TypeError:  # not a string at all
        source = Source.USER
    return BootOption(
        id=str(p["Id"]),
        device=str(p.get("DeviceId", "")),
        name=str(p.get("Name", "")),
        kernel=resource_from_dbus(p.get("Kernel") or {}),
        initrds=tuple(r for r in (resource_from_dbus(x) for x in p.get("Initrds") or []) if r is not None),
        dtb=resource_from_dbus(p.get("Dtb") or {}),
        args=str(p.get("Args", "")),
        default=bool(p.get("Default", False)),
        source=source,
        order=int(p.get("Order", 0)),
        hidden=bool(p.get("Hidden", False)),
        group=str(p["Group"]) if p.get("Group") else None,
        entry_id=str(p["EntryId"]) if p.get("EntryId") else None,
        kind=str(p.get("Kind", "linux")),
        trust=_trust(p.get("Trust")),
        trust_reason=str(p.get("TrustReason", "")),
    )


def _trust(value: Any) -> Trust:
    """A trust state read from the bus; one this client does not know is unchecked."""
    return _TRUSTS.get(str(value), Trust.UNCHECKED)


_SOURCES = {s.value: s for s in Source}
_TRUSTS = {t.value: t for t in Trust}
"""Members by value: a dict look-up, not the enum's call (a thousand options
are decoded before the menu's first paint)."""


# -- devices -----------------------------------------------------------------
def device_props(dev: Device) -> dict[str, Any]:
    return {
        "Id": dev.id,
        "Type": str(dev.type),
        "Node": dev.node or "",
        "Uuid": dev.uuid or "",
        "Label": dev.label or "",
        "Mountpoint": str(dev.mountpoint) if dev.mountpoint is not None else "",
        "Fstype": dev.fstype or "",
        "Title": dev.title,
        "Properties": dict(dev.properties),
    }


DEVICE_SIGNATURES: dict[str, str] = {
    "Id": "s",
    "Type": "s",
    "Node": "s",
    "Uuid": "s",
    "Label": "s",
    "Mountpoint": "s",
    "Fstype": "s",
    "Title": "s",
    "Properties": "a{ss}",
}


def device_from_props(props: Mapping[str, Any]) -> Device:
    p = {k: unwrap(v) for k, v in props.items()}
    try:
        dtype = DeviceType(p.get("Type", "disk"))
    except ValueError:
        dtype = DeviceType.ANY
    return Device(
        id=str(p["Id"]),
        type=dtype,
        node=p.get("Node") or None,
        uuid=p.get("Uuid") or None,
        label=p.get("Label") or None,
        mountpoint=PurePosixPath(p["Mountpoint"]) if p.get("Mountpoint") else None,
        fstype=p.get("Fstype") or None,
        properties=tuple(sorted((str(k), str(v)) for k, v in (p.get("Properties") or {}).items())),
    )


# -- consoles ----------------------------------------------------------------
def consoles_to_dbus(consoles: Sequence[Console]) -> list[list[str]]:
    """``a(sss)``: name, kind, device-tree path ('' when unknown)."""
    return [[c.name, str(c.kind), c.dt_path or ""] for c in consoles]


def consoles_from_dbus(data: Sequence[Sequence[Any]]) -> list[Console]:
    out = []
    for name, kind, dt_path in (unwrap(x) for x in data):
        try:
            ck = ConsoleKind(kind)
        except ValueError:
            ck = ConsoleKind.OTHER
        out.append(Console(name=str(name), kind=ck, dt_path=str(dt_path) or None))
    return out


# -- BootCustom spec and Boot overrides -----------------------------------------
def _text(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidArgument(f"{key} must be a string")
    if len(value) > MAX_TEXT or "\0" in value:
        raise InvalidArgument(f"{key} is too long or contains a NUL byte")
    return value


def overrides_to_dbus(*, args: str | None = None) -> dict[str, Variant]:
    return {} if args is None else {"args": Variant("s", args)}


def overrides_from_dbus(data: Mapping[str, Any]) -> BootOverrides:
    d = {k: unwrap(v) for k, v in data.items()}
    unknown = sorted(set(d) - {"args"})
    if unknown:
        raise InvalidArgument(f"unknown boot override(s): {', '.join(unknown)} (known: args)")
    return BootOverrides(args=_text("args", d["args"]) if "args" in d else None)


CUSTOM_KEYS = ("name", "device", "kernel", "initrds", "dtb", "args")


def custom_to_dbus(
    *,
    kernel: str,
    initrds: Sequence[str] = (),
    dtb: str | None = None,
    args: str = "",
    device: str = "",
    name: str = "",
) -> dict[str, Variant]:
    """``BootCustom``'s spec.  ``kernel``/``initrds``/``dtb`` are URLs or paths
    on ``device`` (a device id)."""
    spec = {
        "kernel": Variant("s", kernel),
        "initrds": Variant("as", list(initrds)),
        "args": Variant("s", args),
    }
    if dtb:
        spec["dtb"] = Variant("s", dtb)
    if device:
        spec["device"] = Variant("s", device)
    if name:
        spec["name"] = Variant("s", name)
    return spec


def _res(key: str, value: str, device: str) -> Resource:
    if "://" in value:
        return Resource.remote(value)
    if not device:
        raise InvalidArgument(f"{key} {value!r} is a path, so the spec must name its device (or give a URL)")
    if not value.startswith("/"):
        raise InvalidArgument(f"{key} {value!r} must be an absolute path on device {device}")
    return Resource.local(value, device=device)


def custom_from_dbus(data: Mapping[str, Any], option_id: str) -> BootOption:
    """A user option from a BootCustom spec; InvalidArgument names what is wrong."""
    d = {k: unwrap(v) for k, v in data.items()}
    unknown = sorted(set(d) - set(CUSTOM_KEYS))
    if unknown:
        raise InvalidArgument(f"unknown key(s) in boot spec: {', '.join(unknown)} (known: {', '.join(CUSTOM_KEYS)})")
    if not d.get("kernel"):
        raise InvalidArgument("a custom boot needs a kernel")
    device = _text("device", d.get("device", ""))
    initrds = d.get("initrds", [])
    if not isinstance(initrds, list):
        raise InvalidArgument("initrds must be a list of strings")
    return BootOption(
        id=option_id,
        device=device,
        name=_text("name", d.get("name", "")) or "Custom boot",
        kernel=_res("kernel", _text("kernel", d["kernel"]), device),
        initrds=tuple(_res("initrd", _text("initrd", i), device) for i in initrds),
        dtb=_res("dtb", _text("dtb", d["dtb"]), device) if d.get("dtb") else None,
        args=_text("args", d.get("args", "")),
        source=Source.USER,
    )


def boot_record_to_dbus(rec: BootRecord) -> dict[str, Variant]:
    if not rec.option:
        return {}
    return {
        "option": Variant("s", rec.option),
        "name": Variant("s", rec.name),
        "console": Variant("s", rec.console),
        "dt_console_path": Variant("s", rec.dt_console_path),
        "args": Variant("s", rec.args),
        "kexec_load": Variant("as", list(rec.kexec_load)),
        "kexec_exec": Variant("as", list(rec.kexec_exec)),
        "dtb_changes": Variant("as", list(rec.dtb_changes)),
        "notes": Variant("as", list(rec.notes)),
    }


def boot_record_from_dbus(data: Mapping[str, Any]) -> BootRecord:
    d = {k: unwrap(v) for k, v in data.items()}

    def strs(key: str) -> tuple[str, ...]:
        return tuple(str(x) for x in d.get(key) or [])

    return BootRecord(
        option=str(d.get("option", "")),
        name=str(d.get("name", "")),
        console=str(d.get("console", "")),
        dt_console_path=str(d.get("dt_console_path", "")),
        args=str(d.get("args", "")),
        kexec_load=strs("kexec_load"),
        kexec_exec=strs("kexec_exec"),
        dtb_changes=strs("dtb_changes"),
        notes=strs("notes"),
    )


def transfer_to_dbus(t: Transfer) -> tuple[int, int, float, float]:
    """(done, total, rate, eta) of ``DownloadProgress``; -1 where not known."""
    return (
        max(0, t.done),
        t.total if t.total is not None else -1,
        t.rate if t.rate is not None else -1.0,
        t.eta if t.eta is not None else -1.0,
    )


def transfer_from_dbus(done: Any, total: Any, rate: Any, eta: Any) -> Transfer:
    """The :class:`Transfer` of a ``DownloadProgress`` signal (a negative or
    non-finite value: not known)."""

    def known(x: float) -> float | None:
        return x if 0 <= x < float("inf") else None  # NaN compares false

    return Transfer(max(0, int(done)), int(total) if int(total) >= 0 else None, known(float(rate)), known(float(eta)))
