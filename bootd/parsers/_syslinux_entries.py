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
    ".c32": N_("{kernel} is a COM32 module"),
    ".cbt": N_("{kernel} is a COMBOOT image"),
    ".com": N_("{kernel} is a COMBOOT image"),
    ".bs": N_("{kernel} is a boot sector"),
    ".bss": N_("{kernel} is a boot sector"),
    ".bin": N_("{kernel} is a boot sector"),
    ".0": N_("{kernel} is a PXE bootstrap program"),
    ".img": N_("{kernel} is a floppy image"),
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


def _config_note(st: State, lab: Label, target: str) -> Text:
    """Why a CONFIG label is not followed, naming a cycle back to a file being read."""
    file = target.split(None, 1)[0]
    here = PurePosixPath(st.config_path).parent  # SYSLINUX's working directory
    if normalize(file, here) in (normalize(st.config_path), normalize(lab.file, here)):
        return Text.of(
            N_("CONFIG {file} loads this same configuration again (a CONFIG cycle); its entries are the ones shown"),
            file=file,
        )
    return Text.of(
        N_("CONFIG {file} loads another SYSLINUX configuration (not followed: its entries are not read)"), file=file
    )


def _skipped(st: State, lab: Label, reason: Text | str) -> None:
    """An INFO diagnostic: label ``lab`` is no entry, for ``reason`` (a template without fields, or a Text)."""
    why = reason if isinstance(reason, Text) else Text.of(reason)
    st.diag(
        Severity.INFO,
        Text.of(N_("label {label} skipped: {reason}"), label=repr(lab.label), reason=why),
        lab.file,
        lab.line,
    )


def build(st: State, lab: Label, resolve: Resolver) -> BootOption | None:
    if lab.action is not None:
        _skipped(st, lab, lab.action)
        return None
    if lab.kernel is None:
        _skipped(st, lab, LABEL_SKIP.get(lab.kind) or N_("it names no kernel"))
        return None
    if lab.kind == "config":
        _skipped(st, lab, _config_note(st, lab, lab.kernel))
        return None
    if lab.kind in LABEL_SKIP:
        _skipped(st, lab, LABEL_SKIP[lab.kind])
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
            _skipped(st, lab, N_("mboot.c32 without a hypervisor"))
            return None
        kernel, kind = head[0], "multiboot"
        args = args.split(None, 1)[1].strip() if len(args.split(None, 1)) > 1 else ""
        initrds = [p.split()[0] for p in parts[1:] if p.split()]
    elif via_linux_c32:
        words = args.split(None, 1)
        if not words:
            _skipped(st, lab, N_("linux.c32 without a kernel"))
            return None
        kernel, args = words[0], words[1] if len(words) > 1 else ""
    elif suffix in _NOT_LINUX:
        _skipped(st, lab, Text.of(_NOT_LINUX[suffix], kernel=kernel))
        return None
    elif lab.kind == "kernel" and module == "memdisk":
        _skipped(st, lab, N_("memdisk needs a PC BIOS"))
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
