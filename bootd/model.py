"""The data every part of bootd speaks: frozen dataclasses and closed sets.

Stdlib only (layer L0).  Anything that crosses a module boundary is one of
these types; the JSON form lives in :mod:`bootd.jsoncodec`, the D-Bus form in
:mod:`bootd.dbus.codec`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import FrozenInstanceError, dataclass, fields
from enum import StrEnum
from operator import attrgetter
from pathlib import PurePosixPath
from typing import Any, ClassVar, TypeVar, dataclass_transform

_set = object.__setattr__
_R = TypeVar("_R", bound="Record")


@dataclass_transform(frozen_default=True)
def record(cls: type[_R]) -> type[_R]:
    """A :class:`Record` subclass made a dataclass with slots; its ``__init__``
    is its own, its other methods :class:`Record`'s.  Type checkers see a
    frozen dataclass."""
    made = dataclass(init=False, repr=False, eq=False, slots=True)(cls)
    every = fields(made)  # type: ignore[arg-type]  # a dataclass from here on
    code = made.__dict__["__init__"].__code__
    params = code.co_varnames[1 : code.co_argcount + code.co_kwonlyargcount]
    if params != tuple(f.name for f in every):  # a field added without its __init__ line
        raise TypeError(f"{made.__qualname__}.__init__ takes {params}, not its fields in order")
    made._names = tuple(f.name for f in every if f.repr)
    compared = tuple(f.name for f in every if f.compare)
    if not compared:
        made._values = staticmethod(lambda self: ())
    elif len(compared) == 1:
        one = attrgetter(compared[0])
        made._values = staticmethod(lambda self: (one(self),))
    else:
        made._values = staticmethod(attrgetter(*compared))
    made._all = tuple(f.name for f in every)
    return made


class Record:
    """Base of frozen records.

    Each record is a dataclass (``dataclasses.fields``, ``replace``, ``asdict``
    and ``match`` see its fields) whose ``__init__`` is written out in the
    class and whose other methods are these, shared: ``dataclass(frozen=True)``
    would compile six methods for every class when its module is imported,
    eight times the cost of the class itself, and every bootd process imports
    this module before its first useful output.  Behaviour is a frozen
    dataclass's: assignment raises :class:`~dataclasses.FrozenInstanceError`,
    equality and hash are by the compared fields in order, ``repr`` names the
    shown ones.  Made by :func:`record`.
    """

    __slots__ = ()
    _names: ClassVar[tuple[str, ...]] = ()
    """The fields ``repr`` shows."""
    _all: ClassVar[tuple[str, ...]] = ()
    _values: ClassVar[Callable[..., tuple[Any, ...]]]
    """The compared fields' values, as a tuple."""

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._names)
        return f"{type(self).__qualname__}({shown})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return bool(self._values(self) == self._values(other))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._values(self))

    def __getstate__(self) -> tuple[Any, ...]:
        return tuple(getattr(self, n) for n in self._all)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        for name, value in zip(self._all, state, strict=True):
            _set(self, name, value)


class DeviceType(StrEnum):
    """What kind of medium a device is; also the boot-order vocabulary."""

    DISK = "disk"
    USB = "usb"
    OPTICAL = "optical"
    NETWORK = "network"
    ANY = "any"

    def is_removable(self) -> bool:
        return self in (DeviceType.USB, DeviceType.OPTICAL)

    @property
    def label(self) -> str:
        """How menus name the type: ``Disk``, ``USB``, ``CD/DVD``, ``Network``."""
        return {
            DeviceType.DISK: "Disk",
            DeviceType.USB: "USB",
            DeviceType.OPTICAL: "CD/DVD",
            DeviceType.NETWORK: "Network",
            DeviceType.ANY: "Any",
        }[self]


class Source(StrEnum):
    """Which configuration format produced a boot option."""

    GRUB2 = "grub2"
    SYSLINUX = "syslinux"
    BLS = "bls"
    YABOOT = "yaboot"
    KBOOT = "kboot"
    PETITBOOT = "petitboot"
    """Petitboot's own (native) configuration, ``petitboot.conf``."""
    PXE = "pxe"
    UKI = "uki"
    USER = "user"


class Severity(StrEnum):
    """Level of a status message shown to people."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@record
class Resource(Record):
    """Where a kernel, initrd or DTB lives.

    Exactly one form is used:

    * ``path`` alone: a path on the option's own device;
    * ``path`` with ``device``: a path on another, already known device;
    * ``path`` with ``selector`` (``uuid=…`` / ``label=…``): a path on a device
      that is named but not known yet (resolved when it appears);
    * ``url``: a remote or ``file://`` resource.

    ``section`` narrows a path to one PE section of that file, for the parts of
    a Unified Kernel Image: ``.linux``, ``.initrd``, ``.ucode``, ``.dtb``, or
    ``@N:.linux`` for the section as profile ``N`` of a multi-profile image
    sees it (its own, else the base profile's).

    ``inside`` narrows a path to one file inside the ISO9660 image at ``path``
    (GRUB's ``loopback``): ``path`` is the image on its device, ``inside`` the
    file's path in the image (``/casper/vmlinuz``).
    """

    path: PurePosixPath | None = None
    device: str | None = None
    selector: str | None = None
    url: str | None = None
    section: str | None = None
    inside: PurePosixPath | None = None

    def __init__(
        self,
        path: PurePosixPath | None = None,
        device: str | None = None,
        selector: str | None = None,
        url: str | None = None,
        section: str | None = None,
        inside: PurePosixPath | None = None,
    ) -> None:
        _set(self, "path", path)
        _set(self, "device", device)
        _set(self, "selector", selector)
        _set(self, "url", url)
        _set(self, "section", section)
        _set(self, "inside", inside)

    @staticmethod
    def local(path: str | PurePosixPath, device: str | None = None) -> Resource:
        return Resource(path=PurePosixPath(path), device=device)

    @staticmethod
    def remote(url: str) -> Resource:
        return Resource(url=url)

    @staticmethod
    def by_uuid(uuid: str, path: str | PurePosixPath) -> Resource:
        return Resource(path=PurePosixPath(path), selector=f"uuid={uuid}")

    @staticmethod
    def by_label(label: str, path: str | PurePosixPath) -> Resource:
        return Resource(path=PurePosixPath(path), selector=f"label={label}")

    @property
    def is_url(self) -> bool:
        return self.url is not None

    @property
    def is_unresolved(self) -> bool:
        return self.selector is not None and self.device is None

    def describe(self) -> str:
        """A short human form: ``/boot/vmlinuz``, ``(sda2)/vmlinuz``, a URL,
        ``/EFI/Linux/fedora.efi[.linux]``, ``/isos/ubuntu.iso[/casper/vmlinuz]``."""
        if self.url is not None:
            return self.url
        part = f"[{self.section}]" if self.section is not None else ""
        if self.inside is not None:
            part += f"[{self.inside}]"
        if self.selector is not None and self.device is None:
            return f"({self.selector}){self.path}{part}"
        if self.device is not None:
            return f"({self.device}){self.path}{part}"
        return f"{self.path}{part}"


@record
class Device(Record):
    """A source of boot options: a filesystem, a network interface, a directory."""

    id: str
    type: DeviceType = DeviceType.DISK
    node: str | None = None
    uuid: str | None = None
    label: str | None = None
    mountpoint: PurePosixPath | None = None
    fstype: str | None = None
    properties: tuple[tuple[str, str], ...] = ()

    def __init__(
        self,
        id: str,
        type: DeviceType = DeviceType.DISK,
        node: str | None = None,
        uuid: str | None = None,
        label: str | None = None,
        mountpoint: PurePosixPath | None = None,
        fstype: str | None = None,
        properties: tuple[tuple[str, str], ...] = (),
    ) -> None:
        _set(self, "id", id)
        _set(self, "type", type)
        _set(self, "node", node)
        _set(self, "uuid", uuid)
        _set(self, "label", label)
        _set(self, "mountpoint", mountpoint)
        _set(self, "fstype", fstype)
        _set(self, "properties", properties)

    def prop(self, key: str, default: str | None = None) -> str | None:
        for k, v in self.properties:
            if k == key:
                return v
        return default

    def matches(self, selector: str) -> bool:
        """Whether ``uuid=…`` / ``label=…`` / ``id=…`` / ``node=…`` names this device."""
        kind, _, value = selector.partition("=")
        kind = kind.lower()
        if kind == "uuid":
            return self.uuid is not None and self.uuid.lower() == value.lower()
        if kind == "label":
            return self.label is not None and self.label == value
        if kind == "id":
            return self.id == value
        if kind == "node":
            if self.node is None:
                return False
            return self.node == value or self.node.rsplit("/", 1)[-1] == value.rsplit("/", 1)[-1]
        return False

    @property
    def title(self) -> str:
        """How menus name the device: ``USB: STICK (sdb1)``, ``Disk: sda2``."""
        short = self.node.rsplit("/", 1)[-1] if self.node else self.id
        if self.label:
            return f"{self.type.label}: {self.label} ({short})"
        return f"{self.type.label}: {short}"


class Trust(StrEnum):
    """What signed boot (``signed_boot`` warn/enforce) makes of an option's files."""

    UNCHECKED = "unchecked"
    """Signed boot is off, the check has not run yet, or it runs only at boot (network files)."""
    VERIFIED = "verified"
    UNSIGNED = "unsigned"
    """A signature file is missing."""
    BAD_SIGNATURE = "bad-signature"
    """A signature is by a key not in the keyring, expired, revoked or not a signature."""
    TAMPERED = "tampered"
    """A file or the command line is not what was signed."""
    ERROR = "error"
    """It could not be checked (no keyring, a file unreadable)."""

    def failed(self) -> bool:
        return self not in (Trust.UNCHECKED, Trust.VERIFIED)


@record
class BootOption(Record):
    """One entry of the boot menu."""

    id: str
    device: str
    name: str
    kernel: Resource | None
    initrds: tuple[Resource, ...] = ()
    dtb: Resource | None = None
    args: str = ""
    default: bool = False
    source: Source = Source.USER
    order: int = 0
    hidden: bool = False
    group: str | None = None
    """Submenu title (GRUB ``submenu``, SYSLINUX ``MENU BEGIN``) for grouping."""
    entry_id: str | None = None
    """The entry's own id within its config (GRUB ``--id``, BLS file stem, label)."""
    kind: str = "linux"
    """``linux`` for kexec-able entries; other kinds (``multiboot``) are listed
    but cannot be booted by kexec."""
    properties: tuple[tuple[str, str], ...] = ()
    """Format-specific facts a later step may use (SYSLINUX ``ipappend`` /
    ``sysappend`` bits for PXE, ``fdtdir``)."""
    trust: Trust = Trust.UNCHECKED
    """Signed boot's verdict on the option's files, set by the daemon after discovery."""
    trust_reason: str = ""
    """Why: the signer, or what failed to verify."""

    def __init__(
        self,
        id: str,
        device: str,
        name: str,
        kernel: Resource | None,
        initrds: tuple[Resource, ...] = (),
        dtb: Resource | None = None,
        args: str = "",
        default: bool = False,
        source: Source = Source.USER,
        order: int = 0,
        hidden: bool = False,
        group: str | None = None,
        entry_id: str | None = None,
        kind: str = "linux",
        properties: tuple[tuple[str, str], ...] = (),
        trust: Trust = Trust.UNCHECKED,
        trust_reason: str = "",
    ) -> None:
        _set(self, "id", id)
        _set(self, "device", device)
        _set(self, "name", name)
        _set(self, "kernel", kernel)
        _set(self, "initrds", initrds)
        _set(self, "dtb", dtb)
        _set(self, "args", args)
        _set(self, "default", default)
        _set(self, "source", source)
        _set(self, "order", order)
        _set(self, "hidden", hidden)
        _set(self, "group", group)
        _set(self, "entry_id", entry_id)
        _set(self, "kind", kind)
        _set(self, "properties", properties)
        _set(self, "trust", trust)
        _set(self, "trust_reason", trust_reason)

    def prop(self, key: str, default: str | None = None) -> str | None:
        for k, v in self.properties:
            if k == key:
                return v
        return default


@record
class Diagnostic(Record):
    """A message from a parser or scanner about something it skipped or fixed."""

    severity: Severity
    message: str
    file: str | None = None
    line: int | None = None
    template: str = ""
    """The message's ``N_`` template, when it was made with :meth:`of` (a client translates it)."""
    args: tuple[tuple[str, str], ...] = ()

    def __init__(
        self,
        severity: Severity,
        message: str,
        file: str | None = None,
        line: int | None = None,
        template: str = "",
        args: tuple[tuple[str, str], ...] = (),
    ) -> None:
        _set(self, "severity", severity)
        _set(self, "message", message)
        _set(self, "file", file)
        _set(self, "line", line)
        _set(self, "template", template)
        _set(self, "args", args)

    @classmethod
    def of(
        cls, severity: Severity, template: str, file: str | None = None, line: int | None = None, /, **args: object
    ) -> Diagnostic:
        """The diagnostic ``template`` (marked with ``N_``) makes with ``args``; it keeps both."""
        t = Text.of(template, **args)
        return cls(severity, t.text, file, line, t.template, t.args)

    def _where(self) -> str:
        if self.file is None:
            return ""
        return f"{self.file}:{self.line}: " if self.line is not None else f"{self.file}: "

    def __str__(self) -> str:
        return f"{self.severity}: {self._where()}{self.message}"

    def text(self) -> Text:
        """What :meth:`__str__` says, as a :class:`Text` a client translates
        (the level word stays English, as in ``bootd status``)."""
        message = Text(self.message, self.template, self.args)
        return Text.of(
            N_("{severity}: {where}{message}"), severity=str(self.severity), where=self._where(), message=message
        )


MAX_AWAITS = 16
"""At most this many devices one device's configs wait for (:attr:`ParseResult.awaits`)."""


@record
class ParseResult(Record):
    """What parsing one device gives: options in menu order and diagnostics."""

    options: tuple[BootOption, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    timeout: float | None = None
    """Timeout the config asks for, seconds, when it says."""
    supersedes: tuple[Source, ...] = ()
    """Formats whose options this result already contains (GRUB ``blscfg``
    lists the BLS entries; the BLS parser's copy is then dropped)."""
    awaits: tuple[str, ...] = ()
    """Devices its configs searched for and did not find (``uuid=U``,
    ``label=L``): when one of them appears, the device is read again, as
    GRUB run then would find it."""

    def __init__(
        self,
        options: tuple[BootOption, ...] = (),
        diagnostics: tuple[Diagnostic, ...] = (),
        timeout: float | None = None,
        supersedes: tuple[Source, ...] = (),
        awaits: tuple[str, ...] = (),
    ) -> None:
        _set(self, "options", options)
        _set(self, "diagnostics", diagnostics)
        _set(self, "timeout", timeout)
        _set(self, "supersedes", supersedes)
        _set(self, "awaits", awaits)


class ConsoleKind(StrEnum):
    SERIAL = "serial"
    HVC = "hvc"
    VGA = "vga"
    OTHER = "other"


@record
class Console(Record):
    """A console the next kernel may use."""

    name: str
    """Kernel name: ``ttyS0``, ``hvc0``, ``tty1``, ``ttyAMA0``."""
    kind: ConsoleKind = ConsoleKind.OTHER
    dt_path: str | None = None
    """Device-tree node, when known: ``/pl011@9000000``."""
    description: str = ""

    def __init__(
        self,
        name: str,
        kind: ConsoleKind = ConsoleKind.OTHER,
        dt_path: str | None = None,
        description: str = "",
    ) -> None:
        _set(self, "name", name)
        _set(self, "kind", kind)
        _set(self, "dt_path", dt_path)
        _set(self, "description", description)


_SCREEN_TTY = re.compile(r"tty\d*")


@record
class ChosenConsole(Record):
    """The console the next kernel uses, decided once (:meth:`parse`) and
    carried as is to the device tree (``stdout-path``) or the command line
    (``console=``)."""

    text: str
    """What was asked for, as given (``ttyS0,115200n8``, ``/pl011@9000000:115200``)."""
    device: str | None
    """Kernel name (``ttyAMA0``, ``hvc1``, ``tty0``); None for a DT path no known console has."""
    node: str | None
    """Device-tree node (``/pl011@9000000``); None until the tree says (aliases,
    OPAL consoles, the screen's node)."""
    options: str = ""
    """Line settings (``115200n8``), '' for none."""
    screen: bool = False
    """The framebuffer (a VGA tty) rather than a serial or hypervisor console."""

    def __init__(
        self,
        text: str,
        device: str | None,
        node: str | None,
        options: str = "",
        screen: bool = False,
    ) -> None:
        _set(self, "text", text)
        _set(self, "device", device)
        _set(self, "node", node)
        _set(self, "options", options)
        _set(self, "screen", screen)

    @staticmethod
    def parse(text: str, consoles: Sequence[Console] = ()) -> ChosenConsole:
        """The one reading of a console choice: a kernel name, an ``/aliases``
        name or a DT path, with ``:options`` or (kernel style) ``,options``."""
        sep = ":" if text.startswith("/") or ":" in text else ","
        name, _, options = text.partition(sep)
        if name.startswith("/"):
            known = next((c for c in consoles if c.dt_path == name), None)
            device = known.name if known is not None else None
            screen = known is not None and known.kind is ConsoleKind.VGA
            return ChosenConsole(text, device, name, options, screen)
        known = next((c for c in consoles if c.name == name), None)
        screen = (known is not None and known.kind is ConsoleKind.VGA) or _SCREEN_TTY.fullmatch(name) is not None
        node = known.dt_path if known is not None and not screen else None
        return ChosenConsole(text, name or None, node, options, screen)

    def at(self, node: str) -> ChosenConsole:
        """This console, its device-tree node now known."""
        return ChosenConsole(self.text, self.device, node, self.options, self.screen)

    @property
    def stdout_path(self) -> str | None:
        """``/chosen/stdout-path``'s value: the node with ``:options``."""
        if self.node is None:
            return None
        return self.node + (f":{self.options}" if self.options else "")

    @property
    def kernel_arg(self) -> str | None:
        """``console=NAME[,options]`` for the command line; None without a kernel name."""
        if self.device is None:
            return None
        return f"console={self.device}" + (f",{self.options}" if self.options else "")


@record
class Framebuffer(Record):
    """Facts about a framebuffer, as the kernel reports them for fbN."""

    name: str
    width: int
    height: int
    depth: int
    stride: int
    address: int
    size: int
    format: str = "a8r8g8b8"

    def __init__(
        self,
        name: str,
        width: int,
        height: int,
        depth: int,
        stride: int,
        address: int,
        size: int,
        format: str = "a8r8g8b8",
    ) -> None:
        _set(self, "name", name)
        _set(self, "width", width)
        _set(self, "height", height)
        _set(self, "depth", depth)
        _set(self, "stride", stride)
        _set(self, "address", address)
        _set(self, "size", size)
        _set(self, "format", format)


def N_(template: str) -> str:  # noqa: N802  # gettext's name for "mark, translate later"
    """Mark a daemon message's template for the catalogues (ui/po, bootd/po):
    the daemon sends it in English, each client translates it (:class:`Text`)."""
    return template


MAX_TEXT_ARGS = 16
"""Arguments a :class:`Text` keeps (one from the bus is cut to these)."""

_MAX_TEXT_DEPTH = 4
"""How deep texts inside a text's arguments are translated."""
_FIELD = re.compile(r"\{(\w+)\}")
_FIELDS_ONLY = re.compile(r"(?:[^{}]|\{\w+\})*")
"""A template whose braces are all ``{name}`` fields (no format specs, no attributes)."""


@record
class Text(Record):
    """A message for people as the daemon says it: its English ``text``, and
    the ``template`` (marked with :func:`N_`, ``{name}`` fields) and ``args``
    it was made from, so that a client can say it in its own language.  A
    text with no template (a library's error, an older daemon) is shown as it is."""

    text: str
    template: str = ""
    args: tuple[tuple[str, str], ...] = ()

    def __init__(self, text: str, template: str = "", args: tuple[tuple[str, str], ...] = ()) -> None:
        _set(self, "text", text)
        _set(self, "template", template)
        _set(self, "args", args)

    @classmethod
    def of(cls, template: str, /, **args: object) -> Text:
        """The text ``template`` makes with ``args``.  An argument that is itself
        a :class:`Text` (a reason inside a message), or an error made with
        :meth:`bootd.errors.BootdError.of`, is sent as its English text
        under its name and, beside it, its template and arguments under
        ``name.template`` and ``name.field``, so that a client translates it too."""
        values: dict[str, str] = {}
        pairs: list[tuple[str, str]] = []
        for name, value in args.items():
            if isinstance(value, BaseException):  # an error made with BootdError.of keeps its template
                value = Text.of_error(value)
            if isinstance(value, Text):
                values[name] = value.text
                pairs.append((name, value.text))
                if value.template:
                    pairs.append((f"{name}.template", value.template))
                    pairs.extend((f"{name}.{k}", v) for k, v in value.args)
            else:
                values[name] = str(value)
                pairs.append((name, values[name]))
        return cls(template.format(**values), template, tuple(pairs))

    def translated(self, gettext: Callable[[str], str], _depth: int = 0) -> str:
        """The text in the language of ``gettext``: the template's translation
        filled with the arguments (an argument sent with a template of its own,
        see :meth:`of`, translated the same way); the English text where the
        catalogue lacks the template or its translation names a field the
        arguments lack.  Only a catalogue's own msgstr is ever used as a format
        string, never one from the bus: a template the catalogue does not change
        (one of only fields and punctuation, ``{device}: {error}``, or one it
        lacks) keeps its English words, and the arguments that have templates of
        their own are still translated, filled in by plain substitution of its
        ``{name}`` fields (a template with anything else in braces is not used)."""
        if not self.template:
            return self.text
        translation = gettext(self.template)
        plain = translation == self.template
        if plain and not any(k.endswith(".template") for k, _v in self.args):
            return self.text
        if plain and _FIELDS_ONLY.fullmatch(self.template) is None:
            return self.text
        given = dict(self.args)
        values: dict[str, str] = {}
        for name, value in self.args:
            if "." in name:
                continue
            inner = given.get(f"{name}.template", "")
            if inner and _depth < _MAX_TEXT_DEPTH:
                prefix = f"{name}."
                sub = tuple(
                    (k[len(prefix) :], v) for k, v in self.args if k.startswith(prefix) and k != f"{name}.template"
                )
                value = Text(value, inner, sub).translated(gettext, _depth + 1)
            values[name] = value
        if plain:
            if any(name not in values for name in _FIELD.findall(self.template)):
                return self.text
            return _FIELD.sub(lambda m: values[m.group(1)], self.template)
        try:
            return translation.format_map(values)
        except (KeyError, IndexError, ValueError, AttributeError):
            return self.text

    @classmethod
    def of_error(cls, error: BaseException) -> Text:
        """What ``error`` says, with its template when it was made with
        :meth:`bootd.errors.BootdError.of` (other errors stay as they are)."""
        template = getattr(error, "template", "")
        args = getattr(error, "template_args", ())
        return cls(str(error), template, tuple(args)) if isinstance(template, str) and template else cls(str(error))

    def __str__(self) -> str:
        return self.text


@record
class StatusMessage(Record):
    severity: Severity
    message: str
    timestamp: float = 0.0
    text: Text | None = None
    """What the daemon sent (template and arguments): the menu translates it when shown."""

    def __init__(self, severity: Severity, message: str, timestamp: float = 0.0, text: Text | None = None) -> None:
        _set(self, "severity", severity)
        _set(self, "message", message)
        _set(self, "timestamp", timestamp)
        _set(self, "text", text)

    def translated(self, gettext: Callable[[str], str]) -> str:
        return self.text.translated(gettext) if self.text is not None else self.message


@record
class BootRequest(Record):
    """What a person (or autoboot) asked to boot, after overrides."""

    option: BootOption
    console: str | None = None
    args: str | None = None
    """Replacement kernel arguments; ``None`` keeps the option's own."""

    def __init__(self, option: BootOption, console: str | None = None, args: str | None = None) -> None:
        _set(self, "option", option)
        _set(self, "console", console)
        _set(self, "args", args)


class State(StrEnum):
    """What the daemon is doing (``Manager1.State``)."""

    IDLE = "idle"
    """Showing the menu; nothing will happen on its own."""
    COUNTDOWN = "countdown"
    """Autoboot will boot its candidate when the countdown ends."""
    BOOTING = "booting"
    BOOTED = "booted"
    """The new kernel was executed (on a sandbox machine: recorded)."""


@record
class BootOverrides(Record):
    """What a caller changes for one boot: ``args`` replaces the kernel arguments."""

    args: str | None = None

    def __init__(self, args: str | None = None) -> None:
        _set(self, "args", args)


@record
class BootRecord(Record):
    """What the last boot did (``Manager1.LastBoot``); empty before any boot."""

    option: str = ""
    name: str = ""
    console: str = ""
    dt_console_path: str = ""
    args: str = ""
    kexec_load: tuple[str, ...] = ()
    kexec_exec: tuple[str, ...] = ()
    dtb_changes: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def __init__(
        self,
        option: str = "",
        name: str = "",
        console: str = "",
        dt_console_path: str = "",
        args: str = "",
        kexec_load: tuple[str, ...] = (),
        kexec_exec: tuple[str, ...] = (),
        dtb_changes: tuple[str, ...] = (),
        notes: tuple[str, ...] = (),
    ) -> None:
        _set(self, "option", option)
        _set(self, "name", name)
        _set(self, "console", console)
        _set(self, "dt_console_path", dt_console_path)
        _set(self, "args", args)
        _set(self, "kexec_load", kexec_load)
        _set(self, "kexec_exec", kexec_exec)
        _set(self, "dtb_changes", dtb_changes)
        _set(self, "notes", notes)


@record
class DaemonInfo(Record):
    """What the daemon says about itself and the machine (system information)."""

    version: str
    platform: str
    arch: str
    firmware: str
    lockdown: str

    def __init__(self, version: str, platform: str, arch: str, firmware: str, lockdown: str) -> None:
        _set(self, "version", version)
        _set(self, "platform", platform)
        _set(self, "arch", arch)
        _set(self, "firmware", firmware)
        _set(self, "lockdown", lockdown)


@record
class Transfer(Record):
    """How far one download is: bytes ``done`` of ``total`` (None: the server
    did not say; the last report of a download always has it), the ``rate``
    in bytes per second and the seconds left (``eta``), each None until known.
    The ``*_text`` helpers spell numbers and units, the same in every language."""

    done: int
    total: int | None = None
    rate: float | None = None
    eta: float | None = None

    def __init__(
        self,
        done: int,
        total: int | None = None,
        rate: float | None = None,
        eta: float | None = None,
    ) -> None:
        _set(self, "done", done)
        _set(self, "total", total)
        _set(self, "rate", rate)
        _set(self, "eta", eta)

    @property
    def complete(self) -> bool:
        return self.total is not None and self.done >= self.total

    @property
    def fraction(self) -> float | None:
        if self.total is None:
            return None
        return 1.0 if self.total <= 0 else min(1.0, self.done / self.total)

    @staticmethod
    def size_text(n: float) -> str:
        """``512 B``, ``1.5 KiB``, ``36.0 MiB``, ``2.00 GiB``."""
        if n < 1024:
            return f"{int(n)} B"
        for unit in ("KiB", "MiB", "GiB", "TiB"):
            n /= 1024
            if n < 1024 or unit == "TiB":
                break
        return f"{n:.2f} {unit}" if unit in ("GiB", "TiB") else f"{n:.1f} {unit}"

    @staticmethod
    def eta_text(seconds: float) -> str:
        """``0:07``, ``12:05``, ``1:02:03`` (hours, minutes, seconds)."""
        s = max(0, round(seconds))
        h, m = divmod(s // 60, 60)
        return f"{h}:{m:02d}:{s % 60:02d}" if h else f"{m}:{s % 60:02d}"

    def describe(self, _: Callable[[str], str] = str) -> str:
        """``36.0 MiB of 300.0 MiB, 12.0 MiB/s, 0:22 left``; at the end
        ``300.0 MiB in 0:25, 12.0 MiB/s``; ``_``: the caller's catalogue (the
        menu's and the client commands' differ; both carry these texts)."""
        size = Transfer.size_text
        rate = f"{size(self.rate)}/s" if self.rate else ""
        if self.complete:
            if self.rate:
                took = Transfer.eta_text(self.done / self.rate)
                return _("{size} in {time}, {rate}").format(size=size(self.done), time=took, rate=rate)
            return _("{size}, complete").format(size=size(self.done))
        done = size(self.done)
        if self.total is None:
            if rate:
                return _("{done} so far, {rate}").format(done=done, rate=rate)
            return _("{done} so far").format(done=done)
        if rate and self.eta is not None:
            left = Transfer.eta_text(self.eta)
            return _("{done} of {total}, {rate}, {time} left").format(
                done=done, total=size(self.total), rate=rate, time=left
            )
        return _("{done} of {total}").format(done=done, total=size(self.total))
