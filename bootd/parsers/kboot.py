"""kboot (``/etc/kboot.conf``, ``/kboot.conf``): one ``label=command`` per
line, where the command is ``KERNEL [initrd=FILE] [dtb=FILE] ARGS…``
(quoted with ``'`` or ``"`` when it has spaces).  ``default=LABEL`` names the
entry booted unattended (else the first); ``timeout=`` is in seconds;
``message=`` is ignored.  A kernel or initrd may name its device
(``/dev/sda1:/boot/vmlinux``): a file on another partition becomes a
``node=`` reference resolved when that device is known.  ``initrd=`` and
``dtb=`` are kboot's own and are taken off the kernel command line;
everything else (``root=`` included) is passed on.
"""

from __future__ import annotations

from dataclasses import replace

from bootd.model import N_, BootOption, Diagnostic, ParseResult, Resource, Severity, Source
from bootd.parsers import ParseContext, paths
from bootd.parsers._devpath import is_linux_device, on_partition, split_node
from bootd.parsers._text import first_config, lines_of
from bootd.parsers.view import DeviceView

CONFIG_PATHS: tuple[str, ...] = paths.KBOOT_PATHS
GLOBALS = {"default", "timeout", "message", "delay", "prompt"}


def _resolve(view: DeviceView, value: str, diags: list[Diagnostic], path: str) -> Resource:
    if ":" in value and not value.startswith(("http://", "https://", "tftp://", "ftp://")):
        dev, _, file = value.partition(":")
        if is_linux_device(dev):
            disk, part = split_node(dev if dev.startswith("/dev/") else "/dev/" + dev)
            res, note = on_partition(view.device, disk, part, file)
            if note:
                diags.append(Diagnostic(Severity.INFO, note.text, path, None, note.template, note.args))
            return res
    if "://" in value:
        return Resource.remote(value)
    return Resource.local("/" + value.lstrip("/"))


def _unquote(value: str) -> str:
    v = value.strip()
    if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'":
        return v[1:-1]
    return v


def parse(view: DeviceView, ctx: ParseContext) -> ParseResult:
    diags: list[Diagnostic] = []
    config = first_config(view, CONFIG_PATHS, diags)
    if config is None:
        return ParseResult(diagnostics=tuple(diags))
    path, text = config
    glob: dict[str, str] = {}
    options: list[BootOption] = []
    for n, line in enumerate(lines_of(text), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if "=" not in s:
            diags.append(Diagnostic.of(Severity.INFO, N_("line without '=' ignored"), path, n))
            continue
        key, _, value = s.partition("=")
        key, value = key.strip(), _unquote(value)
        if key.lower() in GLOBALS:
            glob[key.lower()] = value
            continue
        words = value.split()
        if not words:
            diags.append(
                Diagnostic.of(Severity.INFO, N_("entry {name} names no kernel; skipped"), path, n, name=repr(key))
            )
            continue
        initrds: list[Resource] = []
        dtb: Resource | None = None
        args: list[str] = []
        for word in words[1:]:
            if word.startswith("initrd="):
                initrds = [_resolve(view, p, diags, path) for p in word[7:].split(",") if p]
            elif word.startswith("dtb="):
                dtb = _resolve(view, word[4:], diags, path)
            else:
                args.append(word)
        options.append(
            BootOption(
                id="",
                device=view.device.id,
                name=key,
                kernel=_resolve(view, words[0], diags, path),
                initrds=tuple(initrds),
                dtb=dtb,
                args=" ".join(args),
                source=Source.KBOOT,
                entry_id=key,
            )
        )
    timeout: float | None = None
    if "timeout" in glob:
        try:
            timeout = max(0.0, float(glob["timeout"]))
        except ValueError:
            diags.append(
                Diagnostic.of(
                    Severity.WARNING, N_("timeout {value} is not a number"), path, value=repr(glob["timeout"])
                )
            )
    if options:
        index = 0
        wanted = glob.get("default")
        if wanted:
            found = next((i for i, o in enumerate(options) if o.name == wanted), None)
            if found is None:
                diags.append(
                    Diagnostic.of(
                        Severity.INFO, N_("default {name} names no entry; the first boots"), path, name=repr(wanted)
                    )
                )
            else:
                index = found
        options[index] = replace(options[index], default=True)
    return ParseResult(options=tuple(options), diagnostics=tuple(diags), timeout=timeout)
