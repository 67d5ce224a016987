"""From the editor's text fields back to a boot request: the copy of an
option a person changed.  Pure functions; the disk's config is never touched."""

from __future__ import annotations

from dataclasses import replace

from bootd.errors import InvalidArgument
from bootd.model import BootOption, Resource, Source

from ..views.editor import EditFields


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
            raise InvalidArgument(f"{text!r}: write (DEVICE)/path, a path starting with / or a URL")
        if "=" in inner:
            return (
                Resource.by_uuid(inner[5:], path) if inner.startswith("uuid=") else Resource.by_label(inner[6:], path)
            )
        return Resource.local(path, device=inner)
    if not text.startswith("/"):
        raise InvalidArgument(f"{text!r}: a path on the device starts with /")
    return Resource.local(text)


def fields_of(option: BootOption) -> EditFields:
    return EditFields(
        name=option.name,
        kernel=format_resource(option.kernel),
        initrds=" ".join(format_resource(r) for r in option.initrds),
        dtb=format_resource(option.dtb),
        args=option.args,
    )


def edited(option: BootOption, fields: EditFields) -> tuple[BootOption | None, str | None]:
    """``(None, args)`` when only the arguments changed (boot the option with
    new arguments), else ``(copy, None)``: a user option to boot as given."""
    before = fields_of(option)
    if (fields.kernel, fields.initrds, fields.dtb) == (before.kernel, before.initrds, before.dtb):
        return None, fields.args
    kernel = parse_resource(fields.kernel)
    if kernel is None:
        raise InvalidArgument("an entry needs a kernel")
    initrds = tuple(r for r in (parse_resource(t) for t in fields.initrds.split()) if r is not None)
    copy = replace(
        option,
        id=f"{option.id}#edited",
        name=f"{option.name} (edited)",
        kernel=kernel,
        initrds=initrds,
        dtb=parse_resource(fields.dtb),
        args=fields.args,
        default=False,
        source=Source.USER,
    )
    return copy, None
