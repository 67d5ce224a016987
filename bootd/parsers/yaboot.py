"""yaboot (``yaboot.conf``): the classic PowerPC boot loader's configuration.

Global options come first; each ``image=PATH`` starts an entry whose
options follow until the next ``image=``.  An option an image does not set
falls back to the global one, as in yaboot itself; this includes
``append=``, ``initrd=``, ``root=``, ``device=``, ``partition=`` and
``read-only``/``read-write`` (Petitboot ignores a global ``append`` and a
per-image ``partition``: bootd does what the configuration says).

The kernel command line is ``literal=`` when given, else ``root=ROOT``,
``ro``/``rw`` and ``append``.  ``default=`` names a label or alias (else
the first image boots); ``timeout=`` is in tenths of a second.  Paths may
name a device and partition (``hd:3,/vmlinux``; ``device=sda`` +
``partition=3``): a file on another partition becomes a ``node=`` reference
resolved when that device is known.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from bootd.model import N_, BootOption, Diagnostic, ParseResult, Resource, Severity, Source, Text
from bootd.parsers import ParseContext, paths
from bootd.parsers._devpath import is_linux_device, on_partition, split_node
from bootd.parsers._text import first_config, lines_of
from bootd.parsers.view import DeviceView

CONFIG_PATHS: tuple[str, ...] = paths.YABOOT_PATHS
FLAGS = {"read-only", "read-write", "single-key", "restricted", "nonvram", "enablecdboot", "enableofboot"}
_IMAGE_KEY = re.compile(r"^image(?:\[(?P<arch>\w+)\])?$")
_DEVPATH = re.compile(r"^(?:(?P<dev>[^,]*?):)?(?:(?P<part>\d+),)?(?P<path>/.*)$")


@dataclass
class _Section:
    image: str
    line: int
    options: dict[str, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)


def unquote(value: str) -> str:
    v = value.strip()
    if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'":
        return v[1:-1]
    return v


def _split(line: str) -> tuple[str, str | None] | None:
    s = line.strip()
    if not s or s.startswith("#"):
        return None
    if "=" not in s:
        return s.lower(), None
    key, _, value = s.partition("=")
    value = value.strip()
    if value[:1] not in "\"'" and " #" in value:
        value = value.split(" #", 1)[0]
    return key.strip().lower(), unquote(value)


class _Resolver:
    def __init__(self, view: DeviceView, diags: list[Diagnostic], path: str) -> None:
        self.view = view
        self.diags = diags
        self.path = path

    def note(self, message: Text) -> None:
        if not any(d.message == message.text for d in self.diags):
            self.diags.append(Diagnostic(Severity.INFO, message.text, self.path, None, message.template, message.args))

    def device(self, spec: str | None) -> tuple[str | None, int | None]:
        """(disk node, partition) that a ``device=`` value names; None: this disk."""
        if not spec:
            return None, None
        value = spec.rstrip(":")
        part: int | None = None
        if ":" in value:
            value, _, rest = value.partition(":")
            part = int(rest) if rest.isdigit() else None
        if value in ("hd", "disk", ""):
            return None, part
        if is_linux_device(value):
            disk, p = split_node(value if value.startswith("/dev/") else "/dev/" + value)
            return disk, p if p is not None else part
        self.note(Text.of(N_("device {device} is a firmware path; this disk is assumed"), device=repr(spec)))
        return None, part

    def resolve(
        self, value: str, section: _Section | None, glob: dict[str, str], *, like: Resource | None = None
    ) -> Resource:
        """``value`` as a Resource; a plain path with ``like`` set is on ``like``'s
        device (an image's initrd is on the image's partition)."""
        if like is not None and value.startswith("/"):
            return Resource(path=Resource.local(value).path, selector=like.selector)

        def opt(key: str) -> str | None:
            if section is not None and key in section.options:
                return section.options[key]
            return glob.get(key)

        disk, part = self.device(opt("device"))
        p = opt("partition")
        if p is not None and p.strip().isdigit():
            part = int(p)
        m = _DEVPATH.match(value)
        path = value
        if m is not None:
            path = m.group("path")
            if m.group("dev") is not None:
                d2, p2 = self.device(m.group("dev") + ":")
                disk, part = d2 or disk, p2 if p2 is not None else part
            if m.group("part") is not None:
                part = int(m.group("part"))
        res, note = on_partition(self.view.device, disk, part, path)
        if note:
            self.note(note)
        return res


def parse(view: DeviceView, ctx: ParseContext) -> ParseResult:
    diags: list[Diagnostic] = []
    config = first_config(view, CONFIG_PATHS, diags)
    if config is None:
        return ParseResult(diagnostics=tuple(diags))
    path, text = config
    glob: dict[str, str] = {}
    gflags: set[str] = set()
    sections: list[_Section] = []
    for n, line in enumerate(lines_of(text), 1):
        kv = _split(line)
        if kv is None:
            continue
        key, value = kv
        m = _IMAGE_KEY.match(key)
        if m is not None and value:
            sections.append(_Section(image=value, line=n))
            continue
        if value is None:
            (sections[-1].flags if sections else gflags).add(key)
            if key not in FLAGS:
                diags.append(Diagnostic.of(Severity.INFO, N_("{key} not understood; ignored"), path, n, key=repr(key)))
            continue
        if sections:
            sections[-1].options[key] = value
        else:
            glob[key] = value
    timeout: float | None = None
    if "timeout" in glob:
        try:
            timeout = max(0, int(glob["timeout"])) / 10
        except ValueError:
            diags.append(
                Diagnostic.of(
                    Severity.WARNING, N_("timeout {value} is not a number"), path, value=repr(glob["timeout"])
                )
            )
    res = _Resolver(view, diags, path)
    options: list[BootOption] = []
    labels: list[tuple[str, str | None]] = []
    for sec in sections:
        label = sec.options.get("label") or sec.image.rsplit("/", 1)[-1].rsplit(",", 1)[-1] or "linux"
        initrd = sec.options.get("initrd", glob.get("initrd"))
        kernel = res.resolve(sec.image, sec, glob)
        options.append(
            BootOption(
                id="",
                device=view.device.id,
                name=label,
                kernel=kernel,
                initrds=(res.resolve(initrd, sec, glob, like=kernel),) if initrd else (),
                args=_cmdline(sec, glob, gflags),
                source=Source.YABOOT,
                entry_id=label,
            )
        )
        labels.append((label, sec.options.get("alias")))
    if not options:
        return ParseResult(diagnostics=tuple(diags), timeout=timeout)
    index = 0
    wanted = glob.get("default")
    if wanted:
        found = next((i for i, (lab, alias) in enumerate(labels) if wanted in (lab, alias)), None)
        if found is None:
            diags.append(
                Diagnostic.of(
                    Severity.INFO, N_("default {name} names no image; the first boots"), path, name=repr(wanted)
                )
            )
        else:
            index = found
    options[index] = replace(options[index], default=True)
    return ParseResult(options=tuple(options), diagnostics=tuple(diags), timeout=timeout)


def _cmdline(sec: _Section, glob: dict[str, str], gflags: set[str]) -> str:
    literal = sec.options.get("literal", glob.get("literal"))
    if literal is not None:
        return literal.strip()
    parts: list[str] = []
    root = sec.options.get("root", glob.get("root"))
    if root:
        parts.append(f"root={root}")
    for flags in (sec.flags, gflags):
        if "read-only" in flags:
            parts.append("ro")
            break
        if "read-write" in flags:
            parts.append("rw")
            break
    append = sec.options.get("append", glob.get("append"))
    if append:
        parts.append(append.strip())
    return " ".join(parts)
