"""The SYSLINUX family: ``syslinux.cfg``, ``extlinux.conf``, ``isolinux.cfg``
(and ``pxelinux.cfg/*`` through :func:`parse_text`, which the PXE parser uses).

What the menu shows follows real SYSLINUX (and U-Boot's extlinux support):

* Labels are listed in file order; ``MENU BEGIN``/``MENU END`` submenus are
  flattened and their entries keep the submenu title as ``group``.
* The entry booted unattended is ``ONTIMEOUT``'s label, else the one with
  ``MENU DEFAULT``, else ``DEFAULT``'s label, else the first entry.  A
  ``DEFAULT`` that names no label and no UI module is a command line
  (``kernel args``): with no labels at all it becomes an entry of its own.
* A label's ``APPEND`` replaces the global one; ``APPEND -`` clears it.
  ``INITRD`` (comma list) wins over ``initrd=`` in the command line (which is
  kept there, as SYSLINUX passes it to the kernel).
* ``KERNEL`` picks the image type by extension like SYSLINUX: COM32 modules,
  boot sectors, COMBOOT and PXE images cannot be kexec'd and are skipped with
  a reason; ``mboot.c32`` entries are listed as ``multiboot`` (hypervisor as
  kernel, modules as initrds); ``linux.c32 IMAGE ARGS`` boots IMAGE.
* ``INCLUDE``/``MENU INCLUDE`` are read relative to the working directory
  (the config's directory for local media), depth-capped and cycle-safe.
* ``IPAPPEND``/``SYSAPPEND`` are kept in the option's ``properties``
  (``sysappend``) for the PXE step, ``FDTDIR`` likewise (``fdtdir``).
* ``^`` hotkey markers are removed from names, as the menu shows them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import PurePosixPath

from bootd.model import BootOption, Diagnostic, ParseResult, Resource, Severity, Source
from bootd.parsers import ParseContext
from bootd.parsers._syslinux_reader import (
    LABEL_SKIP,
    MAX_INCLUDE_DEPTH,
    MAX_INCLUDES,
    MAX_TOTAL_LINES,
    Label,
    Menu,
    Reader,
    State,
    feed,
    strip_hotkey,
)
from bootd.parsers._text import Finder, note_not_regular, read_config
from bootd.parsers.view import DeviceView, normalize

Resolver = Callable[[str], Resource]

__all__ = [
    "MAX_INCLUDES",
    "MAX_INCLUDE_DEPTH",
    "MAX_TOTAL_LINES",
    "Reader",
    "Resolver",
    "config_candidates",
    "find_config",
    "join_url",
    "parse",
    "parse_text",
    "strip_hotkey",
]


CONFIG_DIRS: tuple[str, ...] = (
    "/boot/isolinux",
    "/isolinux",
    "/boot/syslinux",
    "/boot/extlinux",
    "/extlinux",
    "/syslinux",
    "/",
    "/boot",
    "/EFI/BOOT",
)
CONFIG_NAMES: tuple[str, ...] = ("isolinux.cfg", "extlinux.conf", "syslinux.cfg")

# Images SYSLINUX recognises by extension that kexec cannot boot.
_NOT_LINUX = {
    ".c32": "a COM32 module",
    ".cbt": "a COMBOOT image",
    ".com": "a COMBOOT image",
    ".bs": "a boot sector",
    ".bss": "a boot sector",
    ".bin": "a boot sector",
    ".0": "a PXE bootstrap program",
    ".img": "a floppy image",
}


def _ext(path: str) -> str:
    name = path.rsplit("/", 1)[-1].lower()
    if name.endswith(".0"):
        return ".0"
    dot = name.rfind(".")
    return name[dot:] if dot > 0 else ""


def _initrds_from_args(args: str) -> str | None:
    found: str | None = None
    for word in args.split():
        if word.startswith("initrd="):
            found = word[len("initrd=") :]
    return found


def _build(st: State, lab: Label, resolve: Resolver) -> BootOption | None:
    where = f"label {lab.label!r}"
    if lab.kernel is None:
        if lab.kind in LABEL_SKIP:
            st.diag(Severity.INFO, f"{where} skipped: {LABEL_SKIP[lab.kind]}", lab.file, lab.line)
        else:
            st.diag(Severity.INFO, f"{where} skipped: it names no kernel", lab.file, lab.line)
        return None
    if lab.kind in LABEL_SKIP:
        st.diag(Severity.INFO, f"{where} skipped: {LABEL_SKIP[lab.kind]}", lab.file, lab.line)
        return None
    append = lab.append if lab.append is not None else st.append
    if append is not None and append.strip() == "-":
        append = None
    args = " ".join(x for x in (lab.kernel_args, append or "") if x)
    kernel = lab.kernel
    kind = "linux"
    initrds: list[str] = []
    ext = _ext(kernel) if lab.kind == "kernel" else ""
    module = kernel.rsplit("/", 1)[-1].lower()
    if lab.kind == "kernel" and module == "mboot.c32":
        parts = [p.strip() for p in args.split("---")]
        head = parts[0].split(None, 1)
        if not head:
            st.diag(Severity.INFO, f"{where} skipped: mboot.c32 without a hypervisor", lab.file, lab.line)
            return None
        kernel, kind = head[0], "multiboot"
        args = args.split(None, 1)[1].strip() if len(args.split(None, 1)) > 1 else ""
        initrds = [p.split()[0] for p in parts[1:] if p.split()]
    elif lab.kind == "kernel" and module == "linux.c32":
        words = args.split(None, 1)
        if not words:
            st.diag(Severity.INFO, f"{where} skipped: linux.c32 without a kernel", lab.file, lab.line)
            return None
        kernel, args = words[0], words[1] if len(words) > 1 else ""
    elif ext in _NOT_LINUX:
        st.diag(Severity.INFO, f"{where} skipped: {kernel} is {_NOT_LINUX[ext]}", lab.file, lab.line)
        return None
    elif lab.kind == "kernel" and module == "memdisk":
        st.diag(Severity.INFO, f"{where} skipped: memdisk needs a PC BIOS", lab.file, lab.line)
        return None
    if kind == "linux":
        spec = lab.initrd if lab.initrd is not None else _initrds_from_args(args)
        initrds = [p for p in (spec or "").split(",") if p]
    props: list[tuple[str, str]] = []
    sysappend = lab.sysappend if lab.sysappend is not None else st.sysappend
    if sysappend:
        props.append(("sysappend", sysappend))
    if lab.fdtdir:
        props.append(("fdtdir", lab.fdtdir))
    return BootOption(
        id="",
        device="",
        name=strip_hotkey(lab.name) if lab.name and strip_hotkey(lab.name) else lab.label,
        kernel=resolve(kernel),
        initrds=tuple(resolve(p) for p in initrds),
        dtb=resolve(lab.fdt) if lab.fdt else None,
        args=args,
        source=Source.SYSLINUX,
        hidden=lab.hidden,
        group=lab.menu.path(),
        entry_id=lab.label,
        kind=kind,
        properties=tuple(props),
    )


def _find_label(labels: list[Label], options: list[BootOption | None], name: str) -> int | None:
    for exact in (True, False):
        for i, lab in enumerate(labels):
            if options[i] is None:
                continue
            if lab.label == name if exact else lab.label.lower() == name.lower():
                return i
    return None


def parse_text(text: str, *, config_path: str, read: Reader, resolve: Resolver) -> ParseResult:
    """Parse a SYSLINUX configuration's text.

    ``read(path)`` returns the text of an INCLUDEd file (None when missing);
    ``resolve(path)`` turns a kernel/initrd/FDT path, as written, into a
    Resource.  Never raises.
    """
    st = State(read=read, config_path=config_path)
    st.stack.append(str(normalize(config_path)))
    root = Menu(tag=None, parent=None)
    feed(st, text, config_path, root, None)
    if st.unknown:
        f, n = st.first_unknown or (config_path, 0)
        st.diag(Severity.INFO, f"{st.unknown} line(s) not understood and ignored (the first here)", f, n)
    built = [_safe_build(st, lab, resolve) for lab in st.labels]
    default_index = _choose_default(st, built, resolve)
    options = [o for o in built if o is not None]
    if default_index is not None and built[default_index] is not None:
        chosen = built[default_index]
        options = [_with_default(o, o is chosen) for o in options]
    elif options:
        options[0] = _with_default(options[0], True)
    return ParseResult(options=tuple(options), diagnostics=tuple(st.diags), timeout=st.timeout)


def _safe_build(st: State, lab: Label, resolve: Resolver) -> BootOption | None:
    try:
        return _build(st, lab, resolve)
    except Exception as e:  # a resolver must not take the parse down
        st.diag(Severity.WARNING, f"label {lab.label!r} skipped: {e}", lab.file, lab.line)
        return None


def _choose_default(st: State, built: list[BootOption | None], resolve: Resolver) -> int | None:
    """Index in ``built`` of the entry booted unattended (None: the first)."""
    if st.ontimeout:
        index = _find_label(st.labels, built, st.ontimeout.split()[0])
        if index is not None:
            return index
        st.diag(Severity.INFO, f"ONTIMEOUT {st.ontimeout!r} names no bootable label", st.config_path)
    index = next((i for i, lab in enumerate(st.labels) if lab.menu_default and built[i] is not None), None)
    if index is not None:
        return index
    if not st.default:
        return None
    word = st.default.split()[0]
    if _ext(word) == ".c32":  # DEFAULT menu.c32 / vesamenu.c32: the UI, not an entry
        return None
    index = _find_label(st.labels, built, word)
    if index is not None:
        return index
    if not st.labels:
        implicit = _implicit(st, st.default, resolve)
        if implicit is not None:
            built.append(implicit)
            return len(built) - 1
        return None
    st.diag(Severity.INFO, f"DEFAULT {word!r} names no bootable label", st.config_path)
    return None


def _with_default(opt: BootOption, default: bool) -> BootOption:
    return opt if opt.default == default else replace(opt, default=default)


def _implicit(st: State, command: str, resolve: Resolver) -> BootOption | None:
    """``DEFAULT kernel args`` with no labels: SYSLINUX boots that command line."""
    words = command.split(None, 1)
    lab = Label(label=words[0], file=st.config_path, line=0, menu=Menu(tag=None, parent=None))
    lab.kind = "kernel"
    lab.kernel = words[0]
    lab.kernel_args = words[1] if len(words) > 1 else ""
    if len(words) > 1:
        lab.append = "-"
    return _safe_build(st, lab, resolve)


def join_url(base: str, path: str) -> str:
    """``path`` as PXELINUX fetches it: full URLs as they are, ``/x`` from the
    server root of ``base``, anything else relative to ``base`` (a directory
    URL, with or without a trailing slash)."""
    if "://" in path:
        return path
    scheme, sep, rest = base.partition("://")
    if not sep:
        return str(normalize(path, PurePosixPath(base or "/")))
    host, slash, basepath = rest.partition("/")
    prefix = f"{scheme}://{host}"
    start = PurePosixPath("/" + basepath)
    joined = normalize(path, start)
    return prefix + str(joined)


def config_candidates(
    view: DeviceView, finder: Finder | None = None, diags: list[Diagnostic] | None = None
) -> list[PurePosixPath]:
    """The configuration files SYSLINUX would read on this device, in order
    (something else where one should be is reported in ``diags``)."""
    finder = finder or Finder(view)
    found: list[PurePosixPath] = []
    for directory in CONFIG_DIRS:
        for name in CONFIG_NAMES:
            path = finder.find_file(f"{directory.rstrip('/')}/{name}", diags)
            if path is not None and path not in found:
                found.append(path)
    return found


def find_config(view: DeviceView) -> PurePosixPath | None:
    """The configuration file SYSLINUX would read on this device."""
    candidates = config_candidates(view)
    return candidates[0] if candidates else None


def parse(view: DeviceView, ctx: ParseContext) -> ParseResult:
    diags: list[Diagnostic] = []
    finder = Finder(view)
    for path in config_candidates(view, finder, diags):
        text = read_config(view, path, diags)
        if text is not None:
            break  # an unreadable config is reported and the next one is tried
    else:
        return ParseResult(diagnostics=tuple(diags))
    cwd = path.parent
    seen: dict[str, PurePosixPath] = {}

    def local(name: str) -> PurePosixPath:
        p = seen.get(name)
        if p is None:
            q = normalize(name, cwd)
            p = seen[name] = q if view.is_file(q) else finder.find(q) or q
        return p

    def read(name: str) -> str | None:
        p = local(name)
        if not note_not_regular(view, p, diags):
            return None
        return read_config(view, p, diags)

    def resolve(name: str) -> Resource:
        return Resource(path=local(name))

    result = parse_text(text, config_path=str(path), read=read, resolve=resolve)
    return ParseResult(
        options=result.options,
        diagnostics=tuple(diags) + result.diagnostics,
        timeout=result.timeout,
    )
