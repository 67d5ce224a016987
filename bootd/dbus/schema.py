"""The daemon's D-Bus API declared once: every method, signal and property of
``org.bootd.Manager1``, the properties of ``org.bootd.Device1`` and
``org.bootd.BootOption1``, and the ``org.bootd.Error.*`` names (layer L1).

Derived from it:

* the client (:mod:`bootd.dbus.client`) calls each method by its declaration
  (member name and signature);
* the service (:mod:`bootd.dbus.manager`) is checked against it when it is
  built (:func:`conform`): a method, signal or property that differs in name,
  signature, argument names or access stops the daemon at start, not a client
  later; its signal argument names come from here;
* the shipped introspection file ``org.bootd.xml`` is held against it by a
  test, and :func:`introspection` renders it.

``org.bootd.Settings1`` is derived from the settings table
(:mod:`bootd.settings_table`) by :func:`settings_interface`: one property per
setting the table puts on the bus (a secret: write-only, plus its read-only
``<name>Set``), ``Problems``, and the method ``Update``.
"""

from __future__ import annotations

from typing import Any

from bootd import errors
from bootd.dbus import codec, names
from bootd.model import Record, record
from bootd.settings_table import TABLE, Table

_set = object.__setattr__


@record
class Arg(Record):
    name: str
    sig: str

    def __init__(self, name: str, sig: str) -> None:
        _set(self, "name", name)
        _set(self, "sig", sig)


@record
class Method(Record):
    name: str
    args: tuple[Arg, ...] = ()
    returns: str = ""
    """The reply's signature ('' for none)."""
    doc: str = ""

    def __init__(self, name: str, args: tuple[Arg, ...] = (), returns: str = "", doc: str = "") -> None:
        _set(self, "name", name)
        _set(self, "args", args)
        _set(self, "returns", returns)
        _set(self, "doc", doc)

    @property
    def signature(self) -> str:
        return "".join(a.sig for a in self.args)


@record
class Signal(Record):
    name: str
    args: tuple[Arg, ...]
    doc: str = ""

    def __init__(self, name: str, args: tuple[Arg, ...], doc: str = "") -> None:
        _set(self, "name", name)
        _set(self, "args", args)
        _set(self, "doc", doc)


@record
class Property(Record):
    name: str
    sig: str
    access: str = "read"
    doc: str = ""

    def __init__(self, name: str, sig: str, access: str = "read", doc: str = "") -> None:
        _set(self, "name", name)
        _set(self, "sig", sig)
        _set(self, "access", access)
        _set(self, "doc", doc)


@record
class Interface(Record):
    name: str
    methods: tuple[Method, ...] = ()
    signals: tuple[Signal, ...] = ()
    properties: tuple[Property, ...] = ()

    def __init__(
        self,
        name: str,
        methods: tuple[Method, ...] = (),
        signals: tuple[Signal, ...] = (),
        properties: tuple[Property, ...] = (),
    ) -> None:
        _set(self, "name", name)
        _set(self, "methods", methods)
        _set(self, "signals", signals)
        _set(self, "properties", properties)


# -- org.bootd.Manager1 ---------------------------------------------------------------------
BOOT = Method(
    "Boot",
    (Arg("option", "o"), Arg("console", "s"), Arg("overrides", "a{sv}")),
    doc="Boot an option now; console '' keeps the configured default; overrides: args (s).",
)
BOOT_CUSTOM = Method(
    "BootCustom",
    (Arg("spec", "a{sv}"), Arg("console", "s")),
    doc="Boot a kernel named by URL or device path: kernel, initrds, dtb, args, device, name.",
)
CANCEL_AUTOBOOT = Method("CancelAutoboot", doc="Stop the countdown for the rest of this session.")
CANCEL_BOOT = Method("CancelBoot", returns="b", doc="Stop the boot in progress; false when there was none.")
RESCAN = Method("Rescan", doc="Scan every device again.")
ADD_URL = Method("AddUrl", (Arg("url", "s"),), "ao", doc="Add the options of a remote configuration file.")
FIND_OPTION = Method("FindOption", (Arg("name", "s"),), "o", doc="The option with this id, entry id or title.")
AUTHENTICATE = Method("Authenticate", (Arg("password", "s"),), doc="Unlock password-gated calls on this connection.")
SET_NEXT_BOOT = Method("SetNextBoot", (Arg("option", "o"),), doc="Autoboot this option next time only ('/' clears).")
EVENT = Method("Event", (Arg("event", "s"), Arg("params", "a{ss}")), doc="A DHCP lease event for network discovery.")

STATUS = Signal(
    "Status",
    (Arg("level", "s"), Arg("message", "s"), Arg("template", "s"), Arg("args", "a{ss}")),
    doc="A message for every UI, in English; template ('' = none) and args are what a UI translates it from.",
)
BOOT_PROGRESS = Signal(
    "BootProgress",
    (Arg("stage", "s"), Arg("fraction", "d"), Arg("template", "s"), Arg("args", "a{ss}")),
    doc="The boot in progress; stage in English, template and args as in Status.",
)
DOWNLOAD_PROGRESS = Signal(
    "DownloadProgress",
    (
        Arg("stage", "s"),
        Arg("fraction", "d"),
        Arg("done", "t"),
        Arg("total", "x"),
        Arg("rate", "d"),
        Arg("eta", "d"),
        Arg("template", "s"),
        Arg("args", "a{ss}"),
    ),
    doc="A download of the boot in progress: bytes done, total, bytes/s, seconds left (-1: not known yet);"
    " the stage's template and args as in Status.",
)

MANAGER = Interface(
    names.MANAGER_IFACE,
    methods=(
        BOOT,
        BOOT_CUSTOM,
        CANCEL_AUTOBOOT,
        CANCEL_BOOT,
        RESCAN,
        ADD_URL,
        FIND_OPTION,
        AUTHENTICATE,
        SET_NEXT_BOOT,
        EVENT,
    ),
    signals=(STATUS, BOOT_PROGRESS, DOWNLOAD_PROGRESS),
    properties=(
        Property("State", "s", doc="idle, countdown, booting or booted"),
        Property("AutobootOption", "o", doc="the countdown's option ('/' = none)"),
        Property("AutobootRemaining", "d", doc="seconds left (-1 = no countdown)"),
        Property("Consoles", "a(sss)", doc="name, kind, device-tree path"),
        Property("Version", "s"),
        Property("Platform", "s"),
        Property("Architecture", "s"),
        Property("Firmware", "s"),
        Property("Lockdown", "s"),
        Property("LastBoot", "a{sv}", doc="what the last boot did"),
        Property("NextBoot", "o", doc="the one-shot next boot ('/' = none)"),
        Property("AuthRequired", "b", doc="whether a password is set"),
    ),
)

# -- org.bootd.Settings1 (derived from the settings table) -----------------------------------
UPDATE = Method("Update", (Arg("changes", "a{sv}"),), doc="Write every setting in changes (bootd.toml names) or none.")


def settings_interface(table: Table = TABLE) -> Interface:
    """``org.bootd.Settings1`` as ``table`` declares it."""
    props: list[Property] = [
        Property(names.PROBLEMS_PROPERTY, "as", doc="why the settings are not the files'"),
        Property(names.ORIGINS_PROPERTY, "a{ss}", doc="the layer each setting came from"),
    ]
    for row in table.on_bus:
        if row.secret:
            props.append(Property(row.dbus, row.signature, "write", doc=row.help))
            props.append(Property(row.set_property, "b", doc=f"whether {row.name} is set"))
        else:
            props.append(Property(row.dbus, row.signature, "readwrite", doc=row.help))
    return Interface(names.SETTINGS_IFACE, methods=(UPDATE,), properties=tuple(props))


SETTINGS = settings_interface()

DEVICE = Interface(names.DEVICE_IFACE, properties=tuple(Property(n, s) for n, s in codec.DEVICE_SIGNATURES.items()))
OPTION = Interface(names.OPTION_IFACE, properties=tuple(Property(n, s) for n, s in codec.OPTION_SIGNATURES.items()))
INTERFACES = (MANAGER, SETTINGS, DEVICE, OPTION)


def _all_errors() -> dict[str, type[errors.BootdError]]:
    out: dict[str, type[errors.BootdError]] = {}
    todo: list[type[errors.BootdError]] = [errors.BootdError]
    while todo:
        cls = todo.pop()
        out.setdefault(cls.dbus_name, cls)
        todo.extend(sorted(cls.__subclasses__(), key=lambda c: c.__name__, reverse=True))
    return out


ERRORS: dict[str, type[errors.BootdError]] = _all_errors()
"""Every ``org.bootd.Error.*`` name and the error class it stands for (each
:class:`~bootd.errors.BootdError` names its own), plus :data:`names.INTERNAL_ERROR`."""


# -- derivations ------------------------------------------------------------------------------
Member = tuple[str, ...]


def members(iface: Interface) -> list[Member]:
    """The declaration as comparable rows: (kind, name, type, access, args…)."""
    rows: list[Member] = []
    for m in iface.methods:
        args = [f"{a.name}:in:{a.sig}" for a in m.args] + ([f":out:{m.returns}"] if m.returns else [])
        rows.append(("method", m.name, "", "", *args))
    for s in iface.signals:
        rows.append(("signal", s.name, "", "", *(f"{a.name}:out:{a.sig}" for a in s.args)))
    for p in iface.properties:
        rows.append(("property", p.name, p.sig, p.access))
    return sorted(rows)


def members_of(service: Any) -> list[Member]:
    """The same rows for an exported dbus-fast ``ServiceInterface``."""
    intro = service.introspect()
    rows: list[Member] = []
    for m in intro.methods:
        ins = [f"{a.name or ''}:in:{a.signature}" for a in m.in_args]
        outs = [f"{a.name or ''}:out:{a.signature}" for a in m.out_args]
        rows.append(("method", m.name, "", "", *ins, *outs))
    for s in intro.signals:
        rows.append(("signal", s.name, "", "", *(f"{a.name or ''}:out:{a.signature}" for a in s.args)))
    for p in intro.properties:
        rows.append(("property", p.name, p.signature, p.access.value))
    return sorted(rows)


def conform(service: Any, iface: Interface) -> None:
    """Refuse a service whose members differ from their declaration."""
    have, want = members_of(service), members(iface)
    if have != want:
        extra = sorted(set(have) - set(want))
        missing = sorted(set(want) - set(have))
        raise RuntimeError(f"{iface.name} differs from bootd.dbus.schema: extra {extra}, missing {missing}")


def introspection(iface: Interface) -> str:
    """``<interface>`` XML of the declaration (as in ``org.bootd.xml``)."""
    lines = [f'  <interface name="{iface.name}">']
    for m in sorted(iface.methods, key=lambda m: m.name):
        if not m.args and not m.returns:
            lines.append(f'    <method name="{m.name}" />')
            continue
        lines.append(f'    <method name="{m.name}">')
        lines += [f'      <arg name="{a.name}" direction="in" type="{a.sig}" />' for a in m.args]
        if m.returns:
            lines.append(f'      <arg direction="out" type="{m.returns}" />')
        lines.append("    </method>")
    for s in sorted(iface.signals, key=lambda s: s.name):
        lines.append(f'    <signal name="{s.name}">')
        lines += [f'      <arg name="{a.name}" direction="out" type="{a.sig}" />' for a in s.args]
        lines.append("    </signal>")
    for p in sorted(iface.properties, key=lambda p: p.name):
        lines.append(f'    <property name="{p.name}" type="{p.sig}" access="{p.access}" />')
    lines.append("  </interface>")
    return "\n".join(lines)
