"""``bootd scan SOURCE... [--json]``: what would bootd offer from these sources?

A SOURCE is a directory, an image file or a block device, optionally with
the identity a real filesystem has: ``PATH,uuid=U,label=L,id=I,type=T,node=N``
(so that a config on one source can name files on another by UUID or
label).  All sources are parsed together, so such references resolve.
Image files and block devices are mounted read-only for the scan and
unmounted afterwards.  Diagnostics go to stderr; the exit status is 0 when
the scan ran (with or without options) and 1 when a source could not be read.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from bootd.cli import N_
from bootd.cli.i18n import _, error_text
from bootd.errors import InvalidArgument
from bootd.model import BootOption, Device, DeviceType, Diagnostic, Record, Resource, Text, record

_set = object.__setattr__

if TYPE_CHECKING:
    from bootd.parsers.view import DeviceView, DirectoryView

_KEYS = ("uuid", "label", "id", "type", "node")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "sources",
        nargs="*",
        metavar="SOURCE",
        help=N_("a directory, image file or block device; PATH,uuid=U,label=L,id=I,type=T,node=N gives it an identity"),
    )
    parser.add_argument("--json", action="store_true", help=N_("print devices and options as JSON"))
    parser.add_argument("--url", action="append", default=[], help=URL_HELP)
    parser.add_argument("--arch", help=N_("machine architecture the configs are read for (default: this machine's)"))
    parser.add_argument(
        "--firmware", choices=("efi", "pc", "ieee1275"), help=N_("GRUB platform (default: this machine's)")
    )


@record
class SourceSpec(Record):
    path: Path
    uuid: str | None = None
    label: str | None = None
    id: str | None = None
    type: DeviceType = DeviceType.DISK
    node: str | None = None

    def __init__(
        self,
        path: Path,
        uuid: str | None = None,
        label: str | None = None,
        id: str | None = None,
        type: DeviceType = DeviceType.DISK,
        node: str | None = None,
    ) -> None:
        _set(self, "path", path)
        _set(self, "uuid", uuid)
        _set(self, "label", label)
        _set(self, "id", id)
        _set(self, "type", type)
        _set(self, "node", node)


def parse_source(text: str) -> SourceSpec:
    """``PATH[,uuid=U,label=L,id=I,type=T,node=N]``; InvalidArgument when malformed."""
    path, *fields = text.split(",")
    if not path:
        raise InvalidArgument(_("{source}: a source needs a path").format(source=repr(text)))
    values: dict[str, str] = {}
    for f in fields:
        key, sep, value = f.partition("=")
        if not sep or key not in _KEYS or not value:
            raise InvalidArgument(
                _("{source}: {field} is not one of uuid=…, label=…, id=…, type=…, node=…").format(
                    source=repr(text), field=repr(f)
                )
            )
        values[key] = value
    try:
        dtype = DeviceType(values.get("type", "disk"))
    except ValueError:
        kinds = ", ".join(t.value for t in DeviceType)
        raise InvalidArgument(
            _("{source}: type must be one of {kinds}").format(source=repr(text), kinds=kinds)
        ) from None
    return SourceSpec(Path(path), values.get("uuid"), values.get("label"), values.get("id"), dtype, values.get("node"))


def directory_view(spec: SourceSpec, taken: set[str]) -> DirectoryView:
    from bootd.parsers.view import DirectoryView

    root = spec.path.resolve()
    base = spec.id or root.name or "root"
    dev_id, n = base, 1
    while dev_id in taken:
        n += 1
        dev_id = f"{base}-{n}"
    taken.add(dev_id)
    device = Device(
        id=dev_id,
        type=spec.type,
        node=spec.node,
        uuid=spec.uuid,
        label=spec.label,
        mountpoint=PurePosixPath(str(root)),
    )
    return DirectoryView(root, device)


def scan_views(
    views: Sequence[DirectoryView], *, arch: str | None = None, firmware: str | None = None
) -> tuple[list[Device], list[BootOption], list[tuple[str, Diagnostic]]]:
    """Parse every view with the others in its context; resolve cross-device references."""
    from bootd.inventory import resolve_option
    from bootd.parsers import ParseContext, parse_device

    devices = [v.device for v in views]
    options: list[BootOption] = []
    diags: list[tuple[str, Diagnostic]] = []
    for view in views:
        others: dict[str, DeviceView] = {v.device.id: v for v in views if v is not view}
        ctx = ParseContext(others=others)
        if arch:
            ctx = replace(ctx, arch=arch)
        if firmware:
            ctx = replace(ctx, firmware=firmware)
        result = parse_device(view, ctx)
        options.extend(resolve_option(o, devices) for o in result.options)
        diags.extend((view.device.id, d) for d in result.diagnostics)
    return devices, options, diags


def _res(r: Resource | None) -> str:
    return r.describe() if r is not None else "-"


def no_options_reason(diags: Sequence[Diagnostic]) -> str:
    """Why a device offers nothing: its first problem, or that nothing was found."""
    if not diags:
        return _("(no boot options: no boot loader configuration with entries was found)")
    first = diags[0]
    where = (
        f"{first.file}:{first.line}: "
        if first.file and first.line is not None
        else (f"{first.file}: " if first.file else "")
    )
    more = ""
    if len(diags) == 2:
        more = _("; 1 more problem listed on stderr")
    elif len(diags) > 2:
        more = _("; {count} more problems listed on stderr").format(count=len(diags) - 1)
    message = Text(first.message, first.template, first.args).translated(_)
    return _("(no boot options: {reason})").format(reason=f"{where}{message}{more}")


def format_menu(
    devices: Sequence[Device],
    options: Sequence[BootOption],
    *,
    details: bool = True,
    diagnostics: Sequence[tuple[str, Diagnostic]] = (),
) -> str:
    """A readable menu: devices in order, submenus indented, ``*`` on defaults;
    a device without options says why (its first diagnostic)."""
    out: list[str] = []
    for dev in devices:
        mine = sorted((o for o in options if o.device == dev.id), key=lambda o: o.order)
        out.append(dev.title)
        if not mine:
            out.append("    " + no_options_reason([d for did, d in diagnostics if did == dev.id]))
        shown: tuple[str, ...] = ()
        for opt in mine:
            path = tuple(opt.group.split(" > ")) if opt.group else ()
            common = 0
            while common < min(len(path), len(shown)) and path[common] == shown[common]:
                common += 1
            for depth in range(common, len(path)):
                out.append("    " + "  " * depth + f"{path[depth]} >")
            shown = path
            indent = "    " + "  " * len(path)
            mark = "*" if opt.default else " "
            flags = [str(opt.source)]
            if opt.hidden:
                flags.append(_("hidden"))
            if opt.kind != "linux":
                flags.append(_("{kind}, not bootable by kexec").format(kind=opt.kind))
            out.append(f"  {mark} {indent[4:]}{opt.name}  [{', '.join(flags)}]")
            if details:
                line = f"kernel {_res(opt.kernel)}"
                if opt.initrds:
                    line += "  initrd " + " ".join(_res(r) for r in opt.initrds)
                if opt.dtb is not None:
                    line += f"  dtb {_res(opt.dtb)}"
                out.append(f"{indent}    {line}")
                if opt.args:
                    out.append(f"{indent}    args {opt.args}")
    return "\n".join(out) + ("\n" if out else "")


def _default_arch() -> str:
    return os.uname().machine


def run(args: argparse.Namespace) -> int:
    if not args.sources and not args.url:
        raise InvalidArgument(_("give at least one SOURCE or --url URL"))
    specs = [parse_source(s) for s in args.sources]
    errors: list[str] = []
    dirs: list[SourceSpec] = []
    others: list[SourceSpec] = []
    for spec in specs:
        if spec.path.is_dir():
            dirs.append(spec)
        elif spec.path.exists():
            others.append(spec)
        else:
            errors.append(_("{path}: no such file or directory").format(path=spec.path))
    arch = args.arch or _default_arch()
    firmware = args.firmware
    if firmware is None:
        from bootd.composition import machine_firmware

        firmware = machine_firmware()
    taken: set[str] = set()
    views = [directory_view(s, taken) for s in dirs]
    if others:
        try:
            import bootd.discovery.scanner  # noqa: F401
        except ImportError:
            errors.append(_("scanning image files and block devices needs discovery support, which is not installed"))
            others = []
    if others:
        import asyncio

        result, more_errors = asyncio.run(_scan_with_mounts(views, others, arch, firmware))
        errors.extend(more_errors)
    else:
        result = scan_views(views, arch=arch, firmware=firmware)
    devices, options, diags = result
    if args.url:
        url_devices, url_options, url_errors = scan_urls(args.url)
        devices, options = [*devices, *url_devices], [*options, *url_options]
        errors.extend(url_errors)
    if args.json:
        from bootd.jsoncodec import device_to_json, option_to_json

        doc = {"devices": [device_to_json(d) for d in devices], "options": [option_to_json(o) for o in options]}
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        sys.stdout.write(format_menu(devices, options, diagnostics=diags))
    sys.stdout.flush()
    for dev_id, diag in diags:
        sys.stderr.write(f"{dev_id}: {diag.text().translated(_)}\n")
    for err in errors:
        sys.stderr.write(f"bootd scan: {err}\n")
    return 1 if errors else 0


async def _scan_with_mounts(
    views: list[DirectoryView], specs: list[SourceSpec], arch: str, firmware: str
) -> tuple[tuple[list[Device], list[BootOption], list[tuple[str, Diagnostic]]], list[str]]:
    from bootd.composition import real_platform
    from bootd.discovery.scanner import mounted_sources
    from bootd.errors import BootdError
    from bootd.model import Severity
    from bootd.parsers.view import DirectoryView

    errors: list[str] = []

    def status(severity: Severity, message: str | Text) -> None:
        text = message.translated(_) if isinstance(message, Text) else message
        if severity == Severity.ERROR:
            errors.append(text)
        else:
            sys.stderr.write(f"bootd scan: {text}\n")

    taken = {v.device.id for v in views}
    try:
        async with mounted_sources(real_platform(), [s.path for s in specs], status=status) as mounted:
            all_views = list(views)
            for view in mounted:
                dev = view.device
                spec = specs[0] if len(specs) == 1 and len(mounted) == 1 else None
                if spec is not None:
                    dev = replace(
                        dev,
                        id=spec.id or dev.id,
                        uuid=spec.uuid or dev.uuid,
                        label=spec.label or dev.label,
                        type=spec.type if spec.type != DeviceType.DISK else dev.type,
                    )
                base, n = dev.id, 1
                while dev.id in taken:
                    n += 1
                    dev = replace(dev, id=f"{base}-{n}")
                taken.add(dev.id)
                all_views.append(DirectoryView(view.root, dev))
            return scan_views(all_views, arch=arch, firmware=firmware), errors
    except BootdError as e:
        errors.append(error_text(e))
        return scan_views(views, arch=arch, firmware=firmware), errors


# -- retrieve config from URL (network) ----------------------------------------------
URL_HELP = N_("also parse the boot config at URL (http, https, tftp, file); a URL ending in / is a PXE path prefix")


def scan_urls(urls: Sequence[str], timeout: float = 30.0) -> tuple[list[Device], list[BootOption], list[str]]:
    """Fetch and parse remote configs as the daemon's AddUrl does."""
    import asyncio

    from bootd.composition import real_platform
    from bootd.discovery.network import NetworkDiscovery, NetworkSettings
    from bootd.errors import BootdError
    from bootd.inventory import Inventory
    from bootd.model import Severity

    errors: list[str] = []

    def status(severity: Severity, message: str | Text) -> None:
        if severity != Severity.INFO:
            text = message.translated(_) if isinstance(message, Text) else message
            sys.stderr.write(f"bootd scan: {text}\n")

    async def go() -> tuple[list[Device], list[BootOption]]:
        inventory = Inventory()
        net = NetworkDiscovery(real_platform(), inventory, NetworkSettings(timeout=timeout), status=status)
        try:
            for url in urls:
                try:
                    await net.add_url(url)
                except BootdError as e:
                    errors.append(str(e))
            return inventory.devices(), inventory.options()
        finally:
            await net.stop()

    devices, options = asyncio.run(go())
    return devices, options, errors
