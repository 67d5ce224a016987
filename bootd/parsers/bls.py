"""Boot Loader Specification type #1 entries (``/loader/entries/*.conf``).

Each ``*.conf`` file is one menu entry: ``key value`` lines; ``options``,
``initrd`` and ``devicetree-overlay`` may repeat.  The menu order is the one
the specification defines:

1. entries with no boot tries left (``NAME+0-DONE.conf``) go last;
2. entries with a ``sort-key`` come before those without; among them, by
   ``sort-key`` then ``machine-id`` (both ascending) then ``version``
   (newest first, compared as the UAPI version format says);
3. then by file name without ``.conf`` and the boot-counting suffix, newest
   first (same comparison); then more tries left first.

Entry files are parsed and put in that order by :mod:`bootd.parsers._bls_entry`.

``loader.conf`` (``/loader/loader.conf``) gives ``default`` (a glob matched
against the entry name, with or without ``.conf``) and ``timeout``.

Paths in entries are absolute on the partition that holds the entries.  Two
cases where files were written for another layout are resolved the way the
user meant: a relative path (``linux vmlinuz``) that only exists next to the
``loader/`` directory, and a ``/vmlinuz-…`` path written for a separate
``/boot`` partition when the entries live in ``/boot/loader/entries`` on the
root filesystem.  ``$name`` / ``${name}`` in ``options`` are expanded from
GRUB's ``grubenv`` when one is present (Fedora's ``kernelopts``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath

from bootd.model import N_, BootOption, Diagnostic, ParseResult, Record, Resource, Severity, Source, record
from bootd.parsers import ParseContext, paths, uki
from bootd.parsers._bls_entry import BlsEntry, parse_entry, sort_entries, split_kv
from bootd.parsers._glob import GlobTooLong, Matcher, compile_glob
from bootd.parsers._pe import PeError
from bootd.parsers._text import config_text, lines_of, note_not_regular, read_config
from bootd.parsers.view import DeviceView, ViewError, normalize

_set = object.__setattr__

DIRECTORIES: tuple[str, ...] = paths.BLS_DIRECTORIES
LOADER_CONF: tuple[str, ...] = ("/loader/loader.conf", "/boot/loader/loader.conf")
GRUBENV: tuple[str, ...] = ("/grub2/grubenv", "/boot/grub2/grubenv", "/grub/grubenv", "/boot/grub/grubenv")
MAX_ENTRIES = 4096
"""The most entry files read from one directory."""
MAX_ENTRY_BYTES = 8 * 1024 * 1024
"""The most bytes of entry files read in one go (all directories together):
real entries are a few hundred bytes each; 4,096 files of 1 MiB would be 4 GiB."""

_VAR = re.compile(r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))")


def load_entries(view: DeviceView, directories: Sequence[str] = DIRECTORIES) -> tuple[list[BlsEntry], list[Diagnostic]]:
    """Read every ``*.conf`` entry in ``directories``, in the specification's
    menu order.  An entry file that also exists in an earlier directory is
    skipped (the first directory wins)."""
    reading = _Reading(view)
    for directory in directories:
        if not reading.directory(directory):
            break
    return sort_entries(reading.entries), reading.diags


@dataclass
class _Reading:
    """The entry files read so far, over the directories."""

    view: DeviceView
    diags: list[Diagnostic] = field(default_factory=list)
    entries: list[BlsEntry] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    total: int = 0

    def directory(self, directory: str) -> bool:
        """Read one directory's entries; False when the byte budget ran out."""
        view = self.view
        dirpath = str(normalize(directory))
        names = [n for n in view.listdir(dirpath) if n.lower().endswith(".conf")]
        if len(names) > MAX_ENTRIES:
            template = N_("{count} entry files; only the first {limit} are read")
            self.diags.append(Diagnostic.of(Severity.WARNING, template, directory, count=len(names), limit=MAX_ENTRIES))
            del names[MAX_ENTRIES:]
        if not names:
            return True
        # One read of the directory tells which names are plain files: only
        # the others (links, FIFOs, devices) are looked at one by one, so a
        # FIFO is reported and never opened.  The files are read from the
        # directory resolved once, each opened without blocking and refused
        # unless it is a regular file (should one be swapped in meanwhile).
        regular = view.regular_files(dirpath)
        base = dirpath.rstrip("/")
        out_of_bytes = False

        def wanted() -> Iterator[str]:
            nonlocal out_of_bytes
            for name in names:
                if name in self.seen or "/" in name:
                    continue
                if name not in regular and not note_not_regular(view, f"{base}/{name}", self.diags):
                    continue
                if self.total >= MAX_ENTRY_BYTES:
                    template = N_(
                        "entry files larger than {limit} bytes together (MAX_ENTRY_BYTES); the rest are not read"
                    )
                    self.diags.append(Diagnostic.of(Severity.WARNING, template, directory, limit=MAX_ENTRY_BYTES))
                    out_of_bytes = True
                    return
                yield name

        files = view.read_files(dirpath, wanted())
        try:
            for name, data in files:
                path = f"{base}/{name}"
                text = config_text(data, path, self.diags)
                if text is None:
                    continue
                self.total += len(text)
                self.seen.add(name)
                self.entries.append(parse_entry(text, name, path=path, directory=dirpath))
        finally:
            files.close()
        return not out_of_bytes


@record
class LoaderConf(Record):
    default: str | None = None
    timeout: float | None = None
    diagnostics: tuple[Diagnostic, ...] = field(default=())

    def __init__(
        self,
        default: str | None = None,
        timeout: float | None = None,
        diagnostics: tuple[Diagnostic, ...] = (),
    ) -> None:
        _set(self, "default", default)
        _set(self, "timeout", timeout)
        _set(self, "diagnostics", diagnostics)


def load_loader_conf(view: DeviceView) -> LoaderConf:
    diags: list[Diagnostic] = []
    for path in LOADER_CONF:
        if not note_not_regular(view, path, diags):
            continue
        text = read_config(view, path, diags)
        if text is None:
            break
        default: str | None = None
        timeout: float | None = None
        for n, line in enumerate(lines_of(text), 1):
            kv = split_kv(line)
            if kv is None:
                continue
            key, value = kv
            if key == "default":
                default = value
            elif key == "timeout":
                if value in ("menu-force", "menu-hidden", "menu-disabled"):
                    timeout = 0.0 if value != "menu-force" else None
                    continue
                try:
                    timeout = max(0.0, float(int(value)))
                except ValueError:
                    diags.append(
                        Diagnostic.of(
                            Severity.WARNING, N_("timeout {value} is not a number"), path, n, value=repr(value)
                        )
                    )
        return LoaderConf(default=default, timeout=timeout, diagnostics=tuple(diags))
    return LoaderConf(diagnostics=tuple(diags))


def read_grubenv(view: DeviceView) -> dict[str, str]:
    """Variables of the first GRUB environment block found (empty when none)."""
    diags: list[Diagnostic] = []
    for path in GRUBENV:
        if not note_not_regular(view, path, diags):
            continue
        text = read_config(view, path, diags)
        if text is None:
            return {}
        env: dict[str, str] = {}
        for line in lines_of(text):
            if line.startswith("#") or "=" not in line:
                continue
            key, _, value = line.partition("=")
            env[key] = value
        return env
    return {}


def expand(text: str, env: dict[str, str]) -> str:
    """Replace ``$name`` / ``${name}`` with values from ``env`` (unknown: empty)."""
    if "$" not in text:
        return text

    def sub(m: re.Match[str]) -> str:
        return env.get(m.group("braced") or m.group("plain") or "", "")

    return " ".join(_VAR.sub(sub, text).split())


# The specification's architecture names (EFI's) and the machines (uname -m) they run on.
_EFI_ARCH = {
    "ia32": ("i386", "i486", "i586", "i686", "x86_64"),
    "x64": ("x86_64",),
    "arm": ("armv7l", "armv7", "armv6l", "arm", "aarch64"),
    "aa64": ("aarch64", "arm64"),
    "riscv32": ("riscv32",),
    "riscv64": ("riscv64",),
    "loongarch32": ("loongarch32",),
    "loongarch64": ("loongarch64",),
}


def arch_matches(architecture: str | None, machine: str) -> bool:
    """Whether an entry's ``architecture`` can run here (unknown names: yes)."""
    if not architecture:
        return True
    machines = _EFI_ARCH.get(architecture.lower())
    return machines is None or machine in machines


def menu_names(entries: Sequence[BlsEntry]) -> list[str]:
    """Menu texts as systemd-boot makes them: the title; where titles repeat,
    the version in parentheses; where that repeats too, the machine id; last,
    the file name."""
    names = [e.name for e in entries]
    if len(set(names)) == len(names):
        return names  # no title repeats (the usual menu): nothing to add
    extras: list[list[str | None]] = [
        [e.version for e in entries],
        [e.machine_id[:8] if e.machine_id else None for e in entries],
        [e.file_stem for e in entries],
    ]
    for values in extras:
        counts: dict[str, int] = {}
        for n in names:
            counts[n] = counts.get(n, 0) + 1
        for i, value in enumerate(values):
            if counts[names[i]] > 1 and value and value not in names[i]:
                names[i] = f"{names[i]} ({value})"
    return names


def default_matcher(pattern: str) -> Matcher:
    """Whether an entry is the one ``default`` names: its glob (compiled once,
    in linear time, :mod:`bootd.parsers._glob`) matched against the entry's
    name with or without ``.conf``, ignoring case."""
    match = compile_glob(pattern.lower())
    return lambda stem: match(stem.lower()) or match(stem.lower() + ".conf")


def matches_default(entry: BlsEntry, pattern: str) -> bool:
    return default_matcher(pattern)(entry.file_stem)


def _resolve(view: DeviceView, entry: BlsEntry, value: str) -> Resource:
    """The file an entry names, as the user meant it (see module docstring)."""
    absolute = value[:1] == "/"
    if absolute and "//" not in value and "/." not in value and value[-1] != "/":
        path = PurePosixPath(value)  # already normal: one path object, nothing parsed twice
    else:
        path = normalize(value)
    if absolute and entry.directory == "/loader/entries":
        return Resource(path)  # the specification's layout: nothing to guess
    if view.is_file(path):
        return Resource(path=path)
    entries_dir = PurePosixPath(entry.directory)
    candidates: list[PurePosixPath] = []
    if not value.startswith("/"):
        candidates.append(normalize(value, entries_dir.parent))
    base = entries_dir.parent.parent  # the directory that holds loader/
    if str(base) != "/":
        candidates.append(normalize(str(base) + "/" + value.lstrip("/")))
    for candidate in candidates:
        if view.is_file(candidate):
            return Resource.local(candidate)
    return Resource.local(path)


def parse(view: DeviceView, ctx: ParseContext) -> ParseResult:
    entries, diags = load_entries(view)
    type2 = uki.read_images(view, uki.image_files(view), diags)
    if not entries and not type2:
        return ParseResult(diagnostics=tuple(diags))
    images = {entry.path: image for image, entry in type2}
    if type2:
        entries = sort_entries([*entries, *(entry for _, entry in type2)])
    conf = load_loader_conf(view)
    diags.extend(conf.diagnostics)
    env = read_grubenv(view) if any("$" in e.options for e in entries) else {}
    usable: list[BlsEntry] = []
    for entry in entries:
        if not arch_matches(entry.architecture, ctx.arch):
            msg = N_("entry for architecture {architecture} hidden on this {arch} machine")
            diags.append(Diagnostic.of(Severity.INFO, msg, entry.path, architecture=entry.architecture, arch=ctx.arch))
            continue
        if entry.linux is None and entry.path not in images:
            image = _image_of(view, entry, diags)
            if image is None:
                continue
            images[entry.path] = image
        usable.append(entry)
    default_index = 0 if usable else None
    if conf.default and usable:
        pattern = conf.default
        if pattern.startswith("@"):
            pass  # @saved / @default name EFI variables we cannot read; first entry
        else:
            shown = pattern if len(pattern) <= 80 else pattern[:80] + "…"
            try:
                matcher = default_matcher(pattern)
            except GlobTooLong as e:
                diags.append(
                    Diagnostic.of(
                        Severity.WARNING,
                        N_("default {default} is too long ({error}); using the first entry"),
                        default=repr(shown),
                        error=e,
                    )
                )
                matcher = None
            match = None
            if matcher is not None:
                match = next((i for i, e in enumerate(usable) if _names(matcher, e, images)), None)
                if match is None:
                    diags.append(
                        Diagnostic.of(
                            Severity.INFO,
                            N_("default {default} matches no entry; using the first"),
                            default=repr(shown),
                        )
                    )
            if match is not None:
                default_index = match
    names = menu_names(usable)
    device = view.device.id
    options: list[BootOption] = []
    for i, entry in enumerate(usable):
        image = images.get(entry.path)
        if image is not None:
            made = uki.image_options(
                view, ctx, image, entry_id=entry.file_stem, title=names[i], args=expand(entry.options, env), diags=diags
            )
            if made and i == default_index:
                made[0] = replace(made[0], default=True)
            options.extend(made)
            continue
        assert entry.linux is not None
        dtb = _resolve(view, entry, entry.devicetree) if entry.devicetree else None
        kernel = _resolve(view, entry, entry.linux)
        words = entry.initrds[0].split() if len(entry.initrds) == 1 else None
        if words is not None and len(words) == 1:
            resolved: tuple[Resource, ...] = (_resolve(view, entry, words[0]),)  # the usual one initrd
        else:
            resolved = tuple(_resolve(view, entry, p) for v in entry.initrds for p in v.split())
        if entry.devicetree_overlays:
            diags.append(
                Diagnostic.of(Severity.INFO, N_("devicetree-overlay is not applied by kexec; listed only"), entry.path)
            )
        options.append(
            BootOption(
                id="",
                device=device,
                name=names[i],
                kernel=kernel,
                initrds=resolved,
                dtb=dtb,
                args=expand(entry.options, env),
                default=i == default_index,
                source=Source.BLS,
                entry_id=entry.file_stem,
            )
        )
    return ParseResult(options=tuple(options), diagnostics=tuple(diags), timeout=conf.timeout)


def _image_of(view: DeviceView, entry: BlsEntry, diags: list[Diagnostic]) -> uki.Image | None:
    """The Unified Kernel Image a type #1 entry names with ``uki`` (or with
    ``efi``, when that program holds a ``.linux``); ``None``, with the reason
    noted, for an entry kexec cannot boot."""
    value = entry.get("uki") or entry.efi
    if value is None:
        diags.append(Diagnostic.of(Severity.INFO, N_("entry skipped: no 'linux' line"), entry.path))
        return None
    path = _resolve(view, entry, value).path
    assert path is not None
    try:
        return uki.read_image(view, path)
    except (PeError, ViewError) as e:
        if entry.get("uki") is None:
            diags.append(
                Diagnostic.of(Severity.INFO, N_("entry skipped: an EFI program (not bootable by kexec)"), entry.path)
            )
        else:
            diags.append(Diagnostic.of(Severity.INFO, N_("entry skipped: {error}"), entry.path, error=e))
        return None


def _names(matcher: Matcher, entry: BlsEntry, images: dict[str, uki.Image]) -> bool:
    """Whether ``default`` names this entry: a type #2 image also as ``NAME.efi``."""
    return matcher(entry.file_stem) or (entry.path in images and matcher(entry.file_stem + ".efi"))
