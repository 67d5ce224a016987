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

import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from bootd.model import BootOption, Diagnostic, ParseResult, Resource, Severity, Source
from bootd.parsers import ParseContext
from bootd.parsers._text import VersionKey, lines_of, read_config, version_key
from bootd.parsers.view import DeviceView, normalize

DIRECTORIES: tuple[str, ...] = ("/loader/entries", "/boot/loader/entries")
LOADER_CONF: tuple[str, ...] = ("/loader/loader.conf", "/boot/loader/loader.conf")
GRUBENV: tuple[str, ...] = ("/grub2/grubenv", "/boot/grub2/grubenv", "/grub/grubenv", "/boot/grub/grubenv")
MAX_ENTRIES = 4096
"""The most entry files read from one directory."""

_COUNTING = re.compile(r"^(?P<stem>.*?)\+(?P<left>\d+)(?:-(?P<done>\d+))?$")
_VAR = re.compile(r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))")


@dataclass(frozen=True)
class BlsEntry:
    """One parsed entry file, values as written (paths not yet resolved)."""

    file_stem: str
    """File name without ``.conf`` and without the boot-counting suffix."""
    title: str | None = None
    version: str | None = None
    machine_id: str | None = None
    sort_key: str | None = None
    linux: str | None = None
    initrds: tuple[str, ...] = ()
    devicetree: str | None = None
    options: str = ""
    """All ``options`` lines joined with spaces, variables not expanded."""
    architecture: str | None = None
    tries_left: int | None = None
    raw: tuple[tuple[str, str], ...] = ()
    """Every ``key value`` pair in file order."""
    tries_done: int | None = None
    devicetree_overlays: tuple[str, ...] = ()
    efi: str | None = None
    path: str = ""
    """Where the entry file is on the device."""
    directory: str = "/loader/entries"

    @property
    def name(self) -> str:
        """What a menu shows: the title, else the version, else the file name."""
        return self.title or self.version or self.file_stem

    def get(self, key: str) -> str | None:
        for k, v in self.raw:
            if k == key:
                return v
        return None


def _split_kv(line: str) -> tuple[str, str] | None:
    s = line.strip()
    if not s or s.startswith("#"):
        return None
    parts = s.split(None, 1)
    if len(parts) < 2:
        return None
    return parts[0], parts[1].strip()


def parse_entry(text: str, file_name: str, *, path: str = "", directory: str = "/loader/entries") -> BlsEntry:
    """Parse one entry file's text (never raises)."""
    stem = file_name[:-5] if file_name.lower().endswith(".conf") else file_name
    tries_left: int | None = None
    tries_done: int | None = None
    m = _COUNTING.match(stem)
    if m:
        stem = m.group("stem")
        tries_left = int(m.group("left")[:9])
        tries_done = int(m.group("done")[:9]) if m.group("done") else 0
    raw: list[tuple[str, str]] = []
    single: dict[str, str] = {}
    initrds: list[str] = []
    options: list[str] = []
    overlays: list[str] = []
    for line in lines_of(text):
        kv = _split_kv(line)
        if kv is None:
            continue
        key, value = kv
        raw.append((key, value))
        if key == "initrd":
            initrds.append(value)
        elif key == "options":
            options.append(value)
        elif key == "devicetree-overlay":
            overlays.extend(value.split())
        else:
            single[key] = value
    return BlsEntry(
        file_stem=stem,
        title=single.get("title"),
        version=single.get("version"),
        machine_id=single.get("machine-id"),
        sort_key=single.get("sort-key"),
        linux=single.get("linux"),
        initrds=tuple(initrds),
        devicetree=single.get("devicetree"),
        options=" ".join(options),
        architecture=single.get("architecture"),
        tries_left=tries_left,
        raw=tuple(raw),
        tries_done=tries_done,
        devicetree_overlays=tuple(overlays),
        efi=single.get("efi"),
        path=path,
        directory=directory,
    )


def _newest_first(versions: Sequence[str]) -> dict[str, int]:
    """Rank of each distinct version string, 0 for the newest."""
    distinct = sorted({v: version_key(v) for v in versions}.items(), key=lambda kv: kv[1], reverse=True)
    ranks: dict[str, int] = {}
    previous: VersionKey | None = None
    rank = -1
    for text, key in distinct:
        if key != previous:
            rank, previous = rank + 1, key
        ranks[text] = rank
    return ranks


def sort_entries(entries: Sequence[BlsEntry]) -> list[BlsEntry]:
    """The specification's menu order: entries with no tries left last;
    entries with a sort-key first, by sort-key, machine-id, version (newest
    first); then by file name (newest first); then more tries left first,
    fewer tries done first."""
    versions = _newest_first([e.version or "" for e in entries if e.sort_key is not None])

    def main(e: BlsEntry) -> tuple[object, ...]:
        if e.sort_key is None:
            return (e.tries_left == 0, 1, "", "", 0)
        return (e.tries_left == 0, 0, e.sort_key, e.machine_id or "", versions[e.version or ""])

    ordered = sorted(entries, key=main)
    # Ties (no sort-key, or equal sort-key/machine-id/version) go by file name:
    # version keys for file names are made only for those.
    out: list[BlsEntry] = []
    i = 0
    while i < len(ordered):
        j = i + 1
        key = main(ordered[i])
        while j < len(ordered) and main(ordered[j]) == key:
            j += 1
        run = ordered[i:j]
        if len(run) > 1:
            stems = _newest_first([e.file_stem for e in run])
            run.sort(
                key=lambda e: (
                    stems[e.file_stem],
                    *((-(e.tries_left or 0), e.tries_done or 0) if e.tries_left is not None else (0, 0)),
                )
            )
        out.extend(run)
        i = j
    return out


def load_entries(view: DeviceView, directories: Sequence[str] = DIRECTORIES) -> tuple[list[BlsEntry], list[Diagnostic]]:
    """Read every ``*.conf`` entry in ``directories``, in the specification's
    menu order.  An entry file that also exists in an earlier directory is
    skipped (the first directory wins)."""
    diags: list[Diagnostic] = []
    entries: list[BlsEntry] = []
    seen: set[str] = set()
    for directory in directories:
        dirpath = str(normalize(directory))
        names = [n for n in view.listdir(dirpath) if n.lower().endswith(".conf")]
        if len(names) > MAX_ENTRIES:
            diags.append(
                Diagnostic(
                    Severity.WARNING,
                    f"{len(names)} entry files; only the first {MAX_ENTRIES} are read",
                    file=directory,
                )
            )
            del names[MAX_ENTRIES:]
        for name in names:
            path = f"{dirpath.rstrip('/')}/{name}"
            if name in seen or "/" in name:
                continue
            text = read_config(view, path, diags)
            if text is None:
                continue
            seen.add(name)
            entries.append(parse_entry(text, name, path=path, directory=dirpath))
    return sort_entries(entries), diags


@dataclass(frozen=True)
class LoaderConf:
    default: str | None = None
    timeout: float | None = None
    diagnostics: tuple[Diagnostic, ...] = field(default=())


def load_loader_conf(view: DeviceView) -> LoaderConf:
    diags: list[Diagnostic] = []
    for path in LOADER_CONF:
        if not view.is_file(path):
            continue
        text = read_config(view, path, diags)
        if text is None:
            break
        default: str | None = None
        timeout: float | None = None
        for n, line in enumerate(lines_of(text), 1):
            kv = _split_kv(line)
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
                    diags.append(Diagnostic(Severity.WARNING, f"timeout {value!r} is not a number", path, n))
        return LoaderConf(default=default, timeout=timeout, diagnostics=tuple(diags))
    return LoaderConf(diagnostics=tuple(diags))


def read_grubenv(view: DeviceView) -> dict[str, str]:
    """Variables of the first GRUB environment block found (empty when none)."""
    diags: list[Diagnostic] = []
    for path in GRUBENV:
        if not view.is_file(path):
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


def matches_default(entry: BlsEntry, pattern: str) -> bool:
    pat = pattern.lower()
    stem = entry.file_stem.lower()
    return fnmatch.fnmatchcase(stem, pat) or fnmatch.fnmatchcase(stem + ".conf", pat)


def _resolve(view: DeviceView, entry: BlsEntry, value: str) -> Resource:
    """The file an entry names, as the user meant it (see module docstring)."""
    path = normalize(value)
    if value.startswith("/") and entry.directory == "/loader/entries":
        return Resource(path=path)  # the specification's layout: nothing to guess
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
    if not entries:
        return ParseResult(diagnostics=tuple(diags))
    conf = load_loader_conf(view)
    diags.extend(conf.diagnostics)
    env = read_grubenv(view) if any("$" in e.options for e in entries) else {}
    usable: list[BlsEntry] = []
    for entry in entries:
        if not arch_matches(entry.architecture, ctx.arch):
            msg = f"entry for architecture {entry.architecture} hidden on this {ctx.arch} machine"
            diags.append(Diagnostic(Severity.INFO, msg, file=entry.path))
            continue
        if entry.linux is None:
            what = "an EFI program (not bootable by kexec)" if entry.efi else "no 'linux' line"
            diags.append(Diagnostic(Severity.INFO, f"entry skipped: {what}", file=entry.path))
            continue
        usable.append(entry)
    default_index = 0 if usable else None
    if conf.default and usable:
        pattern = conf.default
        if pattern.startswith("@"):
            pass  # @saved / @default name EFI variables we cannot read; first entry
        else:
            match = next((i for i, e in enumerate(usable) if matches_default(e, pattern)), None)
            if match is None:
                diags.append(Diagnostic(Severity.INFO, f"default {pattern!r} matches no entry; using the first"))
            else:
                default_index = match
    names = menu_names(usable)
    options: list[BootOption] = []
    for i, entry in enumerate(usable):
        assert entry.linux is not None
        dtb = _resolve(view, entry, entry.devicetree) if entry.devicetree else None
        if entry.devicetree_overlays:
            diags.append(
                Diagnostic(Severity.INFO, "devicetree-overlay is not applied by kexec; listed only", file=entry.path)
            )
        options.append(
            BootOption(
                id="",
                device=view.device.id,
                name=names[i],
                kernel=_resolve(view, entry, entry.linux),
                initrds=tuple(_resolve(view, entry, p) for v in entry.initrds for p in v.split()),
                dtb=dtb,
                args=expand(entry.options, env),
                default=i == default_index,
                source=Source.BLS,
                entry_id=entry.file_stem,
            )
        )
    return ParseResult(options=tuple(options), diagnostics=tuple(diags), timeout=conf.timeout)
