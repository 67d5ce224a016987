"""Reading a SYSLINUX configuration: lines, INCLUDEs and menus into labels
and global settings (the syntax half of :mod:`bootd.parsers.syslinux`).

This follows SYSLINUX's own reader (``readconfig.c``, shared by ldlinux and
the menu modules): a LABEL's first word is its kernel until a KERNEL line
says otherwise (the menu shows the whole LABEL line, ldlinux's prompt knows
the label by its first word); KERNEL/LINUX/INITRD/FDT lines outside a
LABEL are ignored; APPEND and IPAPPEND/SYSAPPEND outside a LABEL set the
global value that the labels *after* them inherit (a label takes the global
value in force when it is recorded, so a later global APPEND does not reach
back); MENU BEGIN, MENU END and MENU SEPARATOR end the label being read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bootd.model import N_, Diagnostic, Severity, Text
from bootd.parsers._text import lines_of
from bootd.parsers.view import normalize

Reader = Callable[[str], str | None]

MAX_INCLUDE_DEPTH = 16
MAX_INCLUDES = 512
MAX_TOTAL_LINES = 200_000

# Label keywords that load something kexec cannot boot, and what it is.
LABEL_SKIP = {
    "localboot": N_("boots the local disk (a firmware service)"),
    "config": N_("loads another SYSLINUX configuration"),
    "boot": N_("a boot sector"),
    "bss": N_("a boot sector"),
    "pxe": N_("a PXE bootstrap program"),
    "fdimage": N_("a floppy image"),
    "comboot": N_("a COMBOOT image"),
    "com32": N_("a COM32 module"),
}
"""Why a label of each kind is not a kexec entry (templates without fields)."""
MENU_ACTIONS = {
    "menu exit": N_("a menu action (MENU EXIT), not a boot entry"),
    "menu goto": N_("a menu action (MENU GOTO), not a boot entry"),
    "menu quit": N_("a menu action (MENU QUIT), not a boot entry"),
    "menu disable": N_("disabled in the menu (MENU DISABLE)"),
    "menu disabled": N_("disabled in the menu (MENU DISABLE)"),
}
OUTSIDE_LABEL = N_("{keyword} outside a LABEL ignored (as SYSLINUX does)")
_IGNORED = {
    "prompt", "say", "display", "kbdmap", "serial", "console", "font", "noescape", "nocomplete",
    "allowoptions", "onerror", "totaltimeout", "nohalt", "f1", "f2", "f3", "f4", "f5", "f6",
    "f7", "f8", "f9", "f10", "f11", "f12", "f0", "text", "endtext", "nerfdefault", "kaslrseed", "path", "pxeretry",
    "sendcookies",
}  # fmt: skip


@dataclass
class Menu:
    tag: str | None
    parent: Menu | None
    label: str | None = None
    title: str | None = None
    menu_default: bool = False
    """MENU DEFAULT in this submenu's body (outside a label): the submenu
    itself is its parent menu's default entry."""

    def path(self) -> str | None:
        names: list[str] = []
        m: Menu | None = self
        while m is not None and m.parent is not None:
            names.append(m.label or m.title or m.tag or "submenu")
            m = m.parent
        return " > ".join(reversed(names)) or None


@dataclass
class Label:
    label: str
    file: str
    line: int
    menu: Menu
    name: str | None = None
    kind: str = ""
    kernel: str | None = None
    kernel_args: str = ""
    append: str | None = None
    initrd: str | None = None
    fdt: str | None = None
    fdtdir: str | None = None
    sysappend: str | None = None
    hidden: bool = False
    menu_default: bool = False
    action: str | None = None
    """Why the menu does not boot this label (MENU EXIT/GOTO/QUIT/DISABLE)."""
    global_append: str | None = None
    """The global APPEND in force when this label was read (its default)."""
    implied_kernel: bool = False
    """No KERNEL line: the label's name is the kernel, as SYSLINUX does."""

    @property
    def word(self) -> str:
        """The label's first word: the name ldlinux knows it by."""
        return self.label.split(None, 1)[0] if self.label.strip() else ""


@dataclass
class State:
    read: Reader
    config_path: str
    diags: list[Diagnostic] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    default: str | None = None
    ontimeout: str | None = None
    last_named: str | None = None
    """The last DEFAULT or ONTIMEOUT line (U-Boot keeps one default label)."""
    ui: str | None = None
    prompt: bool = False
    implicit: bool = True
    timeout: float | None = None
    append: str | None = None
    sysappend: str | None = None
    includes: int = 0
    lines: int = 0
    unknown: int = 0
    first_unknown: tuple[str, int] | None = None
    stack: list[str] = field(default_factory=list)
    root_items: list[Label | Menu] = field(default_factory=list)
    """The top menu's entries in order: its labels and submenu heads."""

    def diag(self, severity: Severity, message: str | Text, file: str | None = None, line: int | None = None) -> None:
        """A diagnostic; a :class:`Text` message keeps its template for the client to translate."""
        if isinstance(message, Text):
            self.diags.append(Diagnostic(severity, message.text, file, line, message.template, message.args))
        else:
            self.diags.append(Diagnostic(severity, message, file=file, line=line))


def strip_hotkey(text: str) -> str:
    """A menu text as shown: ``^`` marks the hotkey and is not displayed."""
    return text.replace("^", "").strip()


def feed(st: State, text: str, file: str, menu: Menu, current: Label | None) -> tuple[Menu, Label | None]:
    in_text = False
    for n, raw in enumerate(lines_of(text), 1):
        st.lines += 1
        if st.lines > MAX_TOTAL_LINES:
            if st.lines == MAX_TOTAL_LINES + 1:
                st.diag(
                    Severity.WARNING,
                    Text.of(N_("more than {count} lines in all; the rest is ignored"), count=MAX_TOTAL_LINES),
                    file,
                    n,
                )
            return menu, current
        line = raw.strip()
        if in_text:
            if line.lower().split(None, 1)[:1] == ["endtext"]:
                in_text = False
            continue
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 1)
        key = parts[0].lower()
        value = parts[1].strip() if len(parts) > 1 else ""
        if key == "menu":
            sub = value.split(None, 1)
            mkey = sub[0].lower() if sub else ""
            value = sub[1].strip() if len(sub) > 1 else ""
            key = f"menu {mkey}"
        if key == "label":
            current = Label(label=value, file=file, line=n, menu=menu, global_append=st.append)
            current.sysappend = st.sysappend
            current.kind, current.kernel, current.implied_kernel = "kernel", current.word or None, True
            st.labels.append(current)
            if menu.parent is None:
                st.root_items.append(current)
        elif key in ("kernel", "linux") or key in LABEL_SKIP:
            if current is None:
                # SYSLINUX ignores an image line outside a LABEL: it is not
                # an entry and not a default (only DEFAULT names those).
                st.diag(Severity.INFO, Text.of(OUTSIDE_LABEL, keyword=parts[0]), file, n)
                continue
            words = value.split(None, 1)
            current.kind = key
            current.implied_kernel = False
            current.kernel = words[0] if words else None
            current.kernel_args = words[1] if len(words) > 1 else ""
        elif key == "append":
            if current is None:
                st.append = value
            else:
                current.append = value
        elif key in ("initrd", "fdt", "devicetree", "fdtdir"):
            if current is None:
                st.diag(Severity.INFO, Text.of(OUTSIDE_LABEL, keyword=parts[0]), file, n)
            elif key == "initrd":
                current.initrd = value
            elif key == "fdtdir":
                current.fdtdir = value
            else:
                current.fdt = value
        elif key in ("ipappend", "sysappend"):
            if current is None:
                st.sysappend = value
            else:
                current.sysappend = value
        elif key == "default":
            st.default = st.last_named = value
        elif key == "ontimeout":
            st.ontimeout = st.last_named = value
        elif key == "ui":
            st.ui = value
        elif key in ("prompt", "implicit"):
            number = _int(value)
            if key == "prompt":
                st.prompt = number != 0
            else:
                st.implicit = number != 0
        elif key == "timeout":
            try:
                tenths = int(value.split()[0]) if value else 0
            except ValueError:
                st.diag(Severity.WARNING, Text.of(N_("TIMEOUT {value} is not a number"), value=repr(value)), file, n)
                continue
            st.timeout = tenths / 10 if tenths > 0 else None
        elif key == "include":
            target = value.split()[0] if value else ""
            menu, current = include(st, target, file, n, menu, current)
        elif key == "menu include":
            words = value.split(None, 1)
            if len(words) > 1:  # MENU INCLUDE file title: the file is a submenu
                menu = _begin(st, menu, words[1])
                current = None
                menu, _ = include(st, words[0], file, n, menu, None)
                menu = menu.parent or menu
            else:
                menu, current = include(st, words[0] if words else "", file, n, menu, current)
        elif key == "menu label":
            if current is not None:
                current.name = value
            elif menu.parent is not None:
                menu.label = strip_hotkey(value)
        elif key == "menu title":
            if menu.parent is not None:
                menu.title = strip_hotkey(value)
        elif key == "menu default":
            if current is not None:
                current.menu_default = True
            elif menu.parent is not None:
                menu.menu_default = True
        elif key == "menu hide":
            if current is not None:
                current.hidden = True
        elif key == "menu begin":
            menu = _begin(st, menu, value)
            current = None
        elif key == "menu separator":
            current = None
        elif key in ("menu exit", "menu goto", "menu quit", "menu disable", "menu disabled"):
            if current is not None and (key != "menu exit" or menu.parent is not None):
                current.action = MENU_ACTIONS[key]
        elif key == "menu end":
            if menu.parent is None:
                st.diag(Severity.INFO, Text.of(N_("MENU END without MENU BEGIN ignored")), file, n)
            else:
                menu = menu.parent
            current = None
        elif key == "text":
            in_text = True
        elif key.startswith("menu ") or key in _IGNORED:
            continue
        else:
            st.unknown += 1
            if st.first_unknown is None:
                st.first_unknown = (file, n)
    return menu, current


def _int(value: str) -> int:
    """A number as C's atoi reads it: leading digits, else 0."""
    digits = ""
    for ch in value.strip():
        if not ch.isdigit() or not ch.isascii():
            break
        digits += ch
    return int(digits) if digits else 0


def _begin(st: State, parent: Menu, tag: str) -> Menu:
    menu = Menu(tag=strip_hotkey(tag) or None, parent=parent)
    if parent.parent is None:
        st.root_items.append(menu)
    return menu


def include(st: State, target: str, file: str, n: int, menu: Menu, current: Label | None) -> tuple[Menu, Label | None]:
    if not target:
        st.diag(Severity.INFO, Text.of(N_("INCLUDE without a file name ignored")), file, n)
        return menu, current
    key = str(normalize(target))
    if key in st.stack:
        st.diag(
            Severity.WARNING,
            Text.of(N_("INCLUDE {target}: includes itself (a cycle); skipped"), target=target),
            file,
            n,
        )
        return menu, current
    if len(st.stack) >= MAX_INCLUDE_DEPTH:
        st.diag(
            Severity.WARNING,
            Text.of(
                N_("INCLUDE {target}: nested more than {depth} deep; skipped"), target=target, depth=MAX_INCLUDE_DEPTH
            ),
            file,
            n,
        )
        return menu, current
    st.includes += 1
    if st.includes > MAX_INCLUDES:
        if st.includes == MAX_INCLUDES + 1:
            st.diag(
                Severity.WARNING,
                Text.of(N_("more than {count} INCLUDEs; the rest are skipped"), count=MAX_INCLUDES),
                file,
                n,
            )
        return menu, current
    try:
        text = st.read(target)
    except Exception as e:  # a reader must not take the parse down
        st.diag(Severity.WARNING, Text.of(N_("INCLUDE {target}: {error}; skipped"), target=target, error=e), file, n)
        return menu, current
    if text is None:
        st.diag(Severity.INFO, Text.of(N_("INCLUDE {target}: not found; skipped"), target=target), file, n)
        return menu, current
    st.stack.append(key)
    try:
        return feed(st, text, target, menu, current)
    finally:
        st.stack.pop()
