"""Building a SYSLINUX label into a boot option: image types, the command
line, initrds (the semantic half of :mod:`bootd.parsers.syslinux`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePosixPath

from bootd.model import N_, BootOption, Resource, Severity, Source, Text
from bootd.parsers._syslinux_reader import LABEL_SKIP, Label, Menu, State, strip_hotkey
from bootd.parsers.view import normalize

Resolver = Callable[[str], Resource]

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


def ext(path: str) -> str:
    name = path.rsplit("/", 1)[-1].lower()
    if name.endswith(".0"):
        return ".0"
    dot = name.rfind(".")
    return name[dot:] if dot > 0 else ""


def _initrds_from_args(args: str, *, last: bool = False) -> str | None:
    """The ``initrd=`` list the Linux loader takes from a command line:
    ldlinux's own loader the first ``initrd=`` in it (it searches the text),
    linux.c32 the last argument starting with one."""
    if not last:
        at = args.find("initrd=")
        return args[at + len("initrd=") :].split(" ", 1)[0] if at >= 0 else None
    found: str | None = None
    for word in args.split():
        if word.startswith("initrd="):
            found = word[len("initrd=") :]
    return found


def _config_note(st: State, lab: Label, target: str) -> str:
    """Why a CONFIG label is not followed, naming a cycle back to a file being read."""
    file = target.split(None, 1)[0]
    here = PurePosixPath(st.config_path).parent  # SYSLINUX's working directory
    if normalize(file, here) in (normalize(st.config_path), normalize(lab.file, here)):
        return f"CONFIG {file} loads this same configuration again (a CONFIG cycle); its entries are the ones shown"
    return f"CONFIG {file} {LABEL_SKIP['config']} (not followed: its entries are not read)"


def build(st: State, lab: Label, resolve: Resolver) -> BootOption | None:
    where = f"label {lab.label!r}"
    if lab.action is not None:
        st.diag(Severity.INFO, f"{where} skipped: {lab.action}", lab.file, lab.line)
        return None
    if lab.kernel is None:
        if lab.kind in LABEL_SKIP:
            st.diag(Severity.INFO, f"{where} skipped: {LABEL_SKIP[lab.kind]}", lab.file, lab.line)
        else:
            st.diag(Severity.INFO, f"{where} skipped: it names no kernel", lab.file, lab.line)
        return None
    if lab.kind == "config":
        st.diag(Severity.INFO, f"{where} skipped: {_config_note(st, lab, lab.kernel)}", lab.file, lab.line)
        return None
    if lab.kind in LABEL_SKIP:
        st.diag(Severity.INFO, f"{where} skipped: {LABEL_SKIP[lab.kind]}", lab.file, lab.line)
        return None
    append = lab.append if lab.append is not None else lab.global_append
    if append is not None and append.strip() == "-":
        append = None
    args = " ".join(x for x in (lab.kernel_args, append or "") if x)
    kernel = lab.kernel
    kind = "linux"
    initrds: list[str] = []
    suffix = ext(kernel) if lab.kind == "kernel" else ""
    module = kernel.rsplit("/", 1)[-1].lower()
    via_linux_c32 = lab.kind == "kernel" and module == "linux.c32"
    if lab.kind == "kernel" and module == "mboot.c32":
        parts = [p.strip() for p in args.split("---")]
        head = parts[0].split(None, 1)
        if not head:
            st.diag(Severity.INFO, f"{where} skipped: mboot.c32 without a hypervisor", lab.file, lab.line)
            return None
        kernel, kind = head[0], "multiboot"
        args = args.split(None, 1)[1].strip() if len(args.split(None, 1)) > 1 else ""
        initrds = [p.split()[0] for p in parts[1:] if p.split()]
    elif via_linux_c32:
        words = args.split(None, 1)
        if not words:
            st.diag(Severity.INFO, f"{where} skipped: linux.c32 without a kernel", lab.file, lab.line)
            return None
        kernel, args = words[0], words[1] if len(words) > 1 else ""
    elif suffix in _NOT_LINUX:
        st.diag(Severity.INFO, f"{where} skipped: {kernel} is {_NOT_LINUX[suffix]}", lab.file, lab.line)
        return None
    elif lab.kind == "kernel" and module == "memdisk":
        st.diag(Severity.INFO, f"{where} skipped: memdisk needs a PC BIOS", lab.file, lab.line)
        return None
    if kind == "linux":
        # SYSLINUX adds " initrd=LIST" after APPEND (and IPAPPEND); the loader then
        # reads the line it built.  (That word and BOOT_IMAGE= stay off ``args``.)
        full = f"{args} initrd={lab.initrd}" if lab.initrd is not None else args
        spec = _initrds_from_args(full, last=via_linux_c32)
        initrds = [p for p in (spec or "").split(",") if p]
    props: list[tuple[str, str]] = []
    sysappend = lab.sysappend
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


def safe_build(st: State, lab: Label, resolve: Resolver) -> BootOption | None:
    try:
        return build(st, lab, resolve)
    except Exception as e:  # a resolver must not take the parse down
        st.diag(
            Severity.WARNING,
            Text.of(N_("label {label} skipped: {error}"), label=repr(lab.label), error=e),
            lab.file,
            lab.line,
        )
        return None


def implicit(st: State, command: str, resolve: Resolver) -> BootOption | None:
    """A command line naming a kernel file: SYSLINUX boots it with exactly the
    words given (ldlinux passes no global APPEND to an implicit kernel)."""
    words = command.split(None, 1)
    lab = Label(label=command, file=st.config_path, line=0, menu=Menu(tag=None, parent=None))
    lab.kind = "kernel"
    lab.kernel = words[0]
    lab.kernel_args = words[1] if len(words) > 1 else ""
    lab.append = "-"
    return safe_build(st, lab, resolve)
