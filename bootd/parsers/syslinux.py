"""The SYSLINUX family: ``syslinux.cfg``, ``extlinux.conf``, ``isolinux.cfg``
(and ``pxelinux.cfg/*`` through :func:`parse_text`, which the PXE parser uses).

What the menu shows follows real SYSLINUX (and U-Boot's extlinux support):

* Labels are listed in file order; ``MENU BEGIN``/``MENU END`` submenus are
  flattened and their entries keep the submenu title as ``group``.  A LABEL
  without a KERNEL line boots the file its name names.
* The entry marked default is the one SYSLINUX boots unattended, found as
  its reader finds it (see :func:`_choose_default`); when SYSLINUX would
  boot nothing on its own (no DEFAULT and no UI: the ``boot:`` prompt), no
  entry is marked.  ``DEFAULT``/``ONTIMEOUT`` are command lines: a first
  word naming a label (exactly, case included) boots that label with the
  other words added to its command line (an entry of its own when there are
  such words); any other first word is a kernel file (an "implicit" kernel,
  unless ``IMPLICIT 0``) booted with exactly the words given.
* A label's ``APPEND`` replaces the global one in force when the label was
  read; ``APPEND -`` clears it.  Statements before the first LABEL other
  than APPEND/IPAPPEND and the global settings (KERNEL, INITRD, FDT...)
  are ignored, as SYSLINUX ignores them.
  ``INITRD LIST`` adds ``initrd=LIST`` to the end of the command line, as
  SYSLINUX's reader does; SYSLINUX 6's Linux loader then loads the first
  ``initrd=`` list of the command line (so an ``initrd=`` in APPEND wins
  over INITRD), linux.c32 the last one.  ``args`` leaves out the words the
  loader adds itself (``BOOT_IMAGE=``, INITRD's ``initrd=``).
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

from bootd.model import N_, BootOption, Diagnostic, ParseResult, Resource, Severity, Text
from bootd.parsers import ParseContext, paths
from bootd.parsers._syslinux_entries import ext, implicit, safe_build
from bootd.parsers._syslinux_reader import (
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


CONFIG_DIRS: tuple[str, ...] = paths.SYSLINUX_DIRS
CONFIG_NAMES: tuple[str, ...] = paths.SYSLINUX_NAMES


def _find_label(labels: list[Label], name: str, *, menu: bool = False) -> int | None:
    """The label a command's first word names: the first one recorded with
    exactly that name, case included.  ldlinux knows a label by its first
    word; the menu modules keep the whole LABEL line, so there a label with
    spaces is never named by a command."""
    for i, lab in enumerate(labels):
        if (lab.label.strip() if menu else lab.word) == name:
            return i
    return None


def parse_text(
    text: str,
    *,
    config_path: str,
    read: Reader,
    resolve: Resolver,
    exists: Callable[[str], bool] | None = None,
    u_boot: bool = False,
) -> ParseResult:
    """Parse a SYSLINUX configuration's text (``u_boot``: an extlinux.conf
    that U-Boot, not SYSLINUX, reads; see :func:`_u_boot_default`).

    ``read(path)`` returns the text of an INCLUDEd file (None when missing);
    ``resolve(path)`` turns a kernel/initrd/FDT path, as written, into a
    Resource; ``exists(path)``, when given, tells whether an implicit
    kernel (a DEFAULT naming a file, not a label) is there.  Never raises.
    """
    st = State(read=read, config_path=config_path)
    st.stack.append(str(normalize(config_path)))
    root = Menu(tag=None, parent=None)
    feed(st, text, config_path, root, None)
    if st.unknown:
        f, n = st.first_unknown or (config_path, 0)
        st.diag(
            Severity.INFO,
            Text.of(N_("{count} line(s) not understood and ignored (the first here)"), count=st.unknown),
            f,
            n,
        )
    built = [safe_build(st, lab, resolve) for lab in st.labels]
    default_index = _u_boot_default(st, built) if u_boot else _choose_default(st, built, resolve, exists)
    options = [o for o in built if o is not None]
    chosen = built[default_index] if default_index is not None else None
    options = [_with_default(o, o is chosen) for o in options]
    return ParseResult(options=tuple(options), diagnostics=tuple(st.diags), timeout=st.timeout)


def _u_boot_default(st: State, built: list[BootOption | None]) -> int | None:
    """U-Boot's extlinux support (``pxe_utils.c``): the default label is the
    last DEFAULT or ONTIMEOUT line, compared with the label names; with no
    such label U-Boot boots the labels in file order, so the first one that
    can boot is the one booted unattended."""
    name = (st.last_named or "").strip()
    index = next((i for i, lab in enumerate(st.labels) if name and lab.label.strip() == name), None)
    if index is not None and built[index] is not None:
        return index
    if name:
        st.diag(
            Severity.INFO,
            Text.of(N_("U-Boot: default {name} names no bootable label; the first label boots"), name=repr(name)),
            st.config_path,
        )
    return next((i for i, opt in enumerate(built) if opt is not None), None)


U_BOOT_ARCHES = ("aarch64", "arm", "armv7l", "armv6l", "riscv64", "riscv32", "mips64", "loongarch64")
"""Machines where an extlinux.conf is U-Boot's: SYSLINUX exists only for x86,
and OpenPOWER (ppc64) machines come from Petitboot, which reads the file as
SYSLINUX does."""

MENU_MODULES = ("menu.c32", "vesamenu.c32", "gfxboot.c32", "gfxboot")
"""UI modules that show the config's own labels as a menu."""


def _choose_default(
    st: State, built: list[BootOption | None], resolve: Resolver, exists: Callable[[str], bool] | None
) -> int | None:
    """Index in ``built`` of the entry SYSLINUX boots unattended, or None
    (an entry for a DEFAULT/ONTIMEOUT command line is appended to ``built``).

    With a menu (``UI menu.c32``, or ``DEFAULT vesamenu.c32``) the menu
    boots ``ONTIMEOUT`` when its timeout runs out, else its default entry:
    ``DEFAULT``'s label when a UI line is present (it overrides MENU
    DEFAULT, as the menu's reader applies it last), else the last top-level
    MENU DEFAULT, else the top menu's first entry.  Without a menu, ldlinux
    boots ``DEFAULT`` at once (or, with PROMPT or no DEFAULT, ``ONTIMEOUT``
    when the prompt times out); with neither, nothing boots.
    """
    default = st.default or ""
    word = default.split()[0] if default.strip() else ""
    module = (st.ui or "").split()[0].rsplit("/", 1)[-1].lower() if st.ui and st.ui.strip() else ""
    if not module and ext(word) == ".c32":
        module = word.rsplit("/", 1)[-1].lower()
        if module not in MENU_MODULES:
            st.diag(
                Severity.INFO,
                Text.of(N_("DEFAULT {module} is a COM32 module, not a kernel: nothing to autoboot"), module=word),
                st.config_path,
            )
            return None
        word = ""  # the menu module reads the config itself; DEFAULT named the module
    elif module and module not in MENU_MODULES and ext(module) == ".c32" and module != "gfxboot.c32":
        st.diag(
            Severity.INFO,
            Text.of(N_("UI {module} is not a boot menu: nothing to autoboot"), module=module),
            st.config_path,
        )
        return None
    ontimeout = (st.ontimeout or "").strip()
    if module:
        if ontimeout and st.timeout:
            return _command(st, built, "ONTIMEOUT", ontimeout, resolve, exists, menu=True)
        return _menu_default(st, built, word if st.ui else "")
    if ontimeout and st.timeout and (st.prompt or not word):
        return _command(st, built, "ONTIMEOUT", ontimeout, resolve, exists)
    if not word:
        if st.labels:
            st.diag(
                Severity.INFO,
                Text.of(N_("no DEFAULT and no UI: SYSLINUX waits at its boot prompt, nothing autoboots")),
                st.config_path,
            )
        return None
    return _command(st, built, "DEFAULT", default.strip(), resolve, exists)


def _menu_default(st: State, built: list[BootOption | None], word: str) -> int | None:
    index = _find_label(st.labels, word, menu=True) if word else None
    if index is not None and not st.labels[index].hidden:
        return _bootable(st, built, index, f"DEFAULT {word!r}")
    item: Label | Menu | None = None
    for candidate in st.root_items:
        if candidate.menu_default and not (isinstance(candidate, Label) and candidate.hidden):
            item = candidate
    if item is None:
        item = next((c for c in st.root_items if not (isinstance(c, Label) and c.hidden)), None)
    if item is None:
        return None
    if isinstance(item, Menu):
        st.diag(
            Severity.INFO, Text.of(N_("the menu's default entry is a submenu: nothing to autoboot")), st.config_path
        )
        return None
    return _bootable(st, built, st.labels.index(item), Text.of(N_("the menu's default entry")))


def _bootable(st: State, built: list[BootOption | None], index: int, what: str | Text) -> int | None:
    if built[index] is None:
        st.diag(
            Severity.INFO,
            Text.of(
                N_("{what} is label {label}, which cannot be kexec'd: nothing to autoboot"),
                what=what,
                label=repr(st.labels[index].label),
            ),
            st.config_path,
        )
        return None
    return index


def _command(
    st: State,
    built: list[BootOption | None],
    keyword: str,
    command: str,
    resolve: Resolver,
    exists: Callable[[str], bool] | None,
    *,
    menu: bool = False,
) -> int | None:
    """What a DEFAULT/ONTIMEOUT command line boots, as ldlinux's load_kernel
    reads it: a label (plus the extra words) or an implicit kernel."""
    words = command.split(None, 1)
    extra = words[1].strip() if len(words) > 1 else ""
    index = _find_label(st.labels, words[0], menu=menu)
    if index is not None:
        index = _bootable(st, built, index, f"{keyword} {words[0]!r}")
        opt = built[index] if index is not None else None
        if opt is None or not extra:
            return index
        built.append(replace(opt, name=command, entry_id=command, args=" ".join(x for x in (opt.args, extra) if x)))
        return len(built) - 1
    if not st.implicit:
        st.diag(
            Severity.INFO,
            Text.of(
                N_("{keyword} {name} names no label (IMPLICIT 0): nothing to autoboot"),
                keyword=keyword,
                name=repr(words[0]),
            ),
            st.config_path,
        )
        return None
    if exists is not None and not exists(words[0]):
        st.diag(
            Severity.INFO,
            Text.of(
                N_("{keyword} {name} names no label and no kernel file: nothing to autoboot"),
                keyword=keyword,
                name=repr(words[0]),
            ),
            st.config_path,
        )
        return None
    entry = implicit(st, command, resolve)
    if entry is None:
        return None
    built.append(entry)
    return len(built) - 1


def _with_default(opt: BootOption, default: bool) -> BootOption:
    return opt if opt.default == default else replace(opt, default=default)


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

    def exists(name: str) -> bool:
        return view.is_file(local(name))

    u_boot = path.name.lower() == "extlinux.conf" and ctx.arch in U_BOOT_ARCHES
    result = parse_text(text, config_path=str(path), read=read, resolve=resolve, exists=exists, u_boot=u_boot)
    return ParseResult(
        options=result.options,
        diagnostics=tuple(diags) + result.diagnostics,
        timeout=result.timeout,
    )
