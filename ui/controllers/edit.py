"""From the editor's text fields back to a boot request: the copy of an
option a person changed.  Pure functions; the disk's config is never touched."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from bootd.errors import InvalidArgument
from bootd.model import BootOption, Resource, Source

from ..i18n import N_, _
from ..views.editor import MANUAL, EditFields

NEEDS_KERNEL = N_("an entry needs a kernel")


def format_resource(r: Resource | None) -> str:
    return r.describe() if r is not None else ""


def parse_resource(text: str) -> Resource | None:
    """``/boot/vmlinuz``, ``(sda2)/boot/vmlinuz``, ``(uuid=…)/vmlinuz`` or a URL."""
    text = text.strip()
    if not text:
        return None
    if "://" in text:
        return Resource.remote(text)
    if text.startswith("("):
        inner, close, path = text[1:].partition(")")
        if not close or not inner or not path.startswith("/"):
            raise InvalidArgument.of(
                N_("{path}: write (DEVICE)/path, a path starting with / or a URL"), path=repr(text)
            )
        if "=" in inner:
            return (
                Resource.by_uuid(inner[5:], path) if inner.startswith("uuid=") else Resource.by_label(inner[6:], path)
            )
        return Resource.local(path, device=inner)
    if not text.startswith("/"):
        raise InvalidArgument.of(N_("{path}: a path on the device starts with /"), path=repr(text))
    return Resource.local(text)


def fields_of(option: BootOption, devices: Iterable[str] = ()) -> EditFields:
    """The editor's fields for ``option``; its device is preselected when it is
    one of ``devices`` (else "Specify paths/URLs manually", with each path
    naming its device)."""
    known = option.device in set(devices)

    def fmt(r: Resource | None) -> str:
        if r is not None and not known and r.url is None and r.device is None and r.selector is None:
            r = Resource.local(str(r.path), device=option.device)
        return format_resource(r)

    return EditFields(
        name=option.name,
        kernel=fmt(option.kernel),
        initrds=" ".join(fmt(r) for r in option.initrds),
        dtb=fmt(option.dtb),
        args=option.args,
        device=option.device if known else MANUAL,
    )


def _resources(fields: EditFields) -> tuple[Resource, tuple[Resource, ...], Resource | None]:
    def parse(text: str) -> Resource | None:
        r = parse_resource(text)
        if r is not None and fields.device == MANUAL and r.url is None and r.device is None and r.selector is None:
            raise InvalidArgument.of(
                N_("{path}: with 'Specify paths/URLs manually' write a URL or (DEVICE)/path, or choose a device"),
                path=repr(text),
            )
        return r

    kernel = parse(fields.kernel)
    if kernel is None:
        raise InvalidArgument.of(NEEDS_KERNEL)
    initrds = tuple(r for r in (parse(t) for t in fields.initrds.split()) if r is not None)
    return kernel, initrds, parse(fields.dtb)


def edited(option: BootOption, fields: EditFields, devices: Iterable[str] = ()) -> tuple[BootOption | None, str | None]:
    """``(None, args)`` when only the arguments changed (boot the option with
    new arguments), else ``(copy, None)``: a user option to boot as given."""
    before = fields_of(option, devices)
    same_files = (fields.kernel, fields.initrds, fields.dtb, fields.device) == (
        before.kernel,
        before.initrds,
        before.dtb,
        before.device,
    )
    if same_files:
        return None, fields.args
    kernel, initrds, dtb = _resources(fields)
    copy = replace(
        option,
        id=f"{option.id}#edited",
        name=_("{name} (edited)").format(name=option.name),
        device=fields.device or option.device,
        kernel=kernel,
        initrds=initrds,
        dtb=dtb,
        args=fields.args,
        default=False,
        source=Source.USER,
    )
    return copy, None


def new_option(fields: EditFields, number: int) -> BootOption:
    """A boot option made from scratch with ``n`` (Petitboot's "User item N")."""
    kernel, initrds, dtb = _resources(fields)
    return BootOption(
        id=f"user/{number}",
        device=fields.device,
        name=fields.name or _("User item {number}").format(number=number),
        kernel=kernel,
        initrds=initrds,
        dtb=dtb,
        args=fields.args,
        source=Source.USER,
        order=1000 + number,
    )
