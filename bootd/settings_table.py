"""Every setting, declared once (layer L1, pure).

Each field of :class:`Settings` is one setting: its name is the ``bootd.toml``
key, its annotation the type, and :func:`setting` gives the rest — default,
validation, help text, Petitboot's NVRAM key (where Petitboot has one), the
``org.bootd.Settings1`` property name (none: the setting lives in the files
only) and the menu's widget (none: not on the settings screen).

Derived from this table (:data:`TABLE`), and from nowhere else:

* the TOML loader and its validation, the NVRAM import (:mod:`bootd.settings`);
* the format-preserving writer (:mod:`bootd.settings_write`);
* ``org.bootd.Settings1``: its properties and introspection
  (:func:`bootd.dbus.schema.settings_interface`), the service
  (:mod:`bootd.dbus.settings_iface`) and the client's key -> property map;
* what clients see (:class:`bootd.dbus.views.SettingsView`), the menu's settings form
  (``ui/views/settings.py``) and ``bootd settings`` get/set;
* the documented defaults ``config/bootd.toml``, the README's settings table
  and Settings1 in ``org.bootd.xml`` (rendered by ``tests/settings_docs.py``;
  a test holds the shipped files to them, ``make settings-docs`` rewrites them).

A table is extended by :meth:`Table.extend` with more :class:`Setting` rows
(that is how a test proves a new setting reaches every part); the daemon, the
service, the client and the menu each take the table they serve.
"""

from __future__ import annotations

import textwrap
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields, make_dataclass
from dataclasses import replace as dc_replace
from enum import StrEnum
from typing import Any, TypeVar

from bootd.errors import ConfigError
from bootd.model import DeviceType

T = TypeVar("T")
Validator = Callable[[str, Any], Any]
NvramValues = dict[str, str | list[str]]
"""Settings read from Petitboot's NVRAM keys, still to validate (a list for a list-valued key)."""

RESTRICT_VALUES = ("changes", "all")
SIGNED_BOOT_VALUES = ("off", "warn", "enforce")
BOOT_ORDER_TYPES = tuple(str(t) for t in DeviceType)
MAX_TIMEOUT = 24 * 3600
MAX_BOOT_ORDER = 64
"""The most ``boot_order`` items (a real machine has a handful)."""


class Widget(StrEnum):
    """How the menu's settings form edits a setting."""

    CHECK = "check"
    """A check box (a boolean)."""
    SECONDS = "seconds"
    """A whole-number field."""
    ORDER = "order"
    """The boot order list: +/- moves an item, Del removes it, Add appends one."""
    CONSOLE = "console"
    """One of the machine's consoles, or none (the entry's own)."""
    SECRET = "secret"
    """A masked field with a Clear button (the password)."""


@dataclass(frozen=True)
class Setting:
    """One row of the table.  ``name``, ``type`` and ``default`` come from the
    :class:`Settings` field the row is declared on (or are given, for a row
    added by :meth:`Table.extend`)."""

    validate: Validator
    """``(key, raw value) -> typed value``; ConfigError says what is wrong."""
    help: str
    """What it does, for people: config/bootd.toml's comment, the README, the CLI."""
    nvram: str = ""
    """Petitboot's NVRAM key ('' = none)."""
    nvram_list: bool = False
    """The NVRAM value is a space-separated list."""
    nvram_empty: bool = False
    """An empty NVRAM value counts (and is validated) instead of being ignored."""
    dbus: str = ""
    """The ``org.bootd.Settings1`` property ('' = the files only)."""
    secret: bool = False
    """Write-only on the bus (a ``<dbus>Set`` boolean tells whether it is set);
    written as a hash; shown as (set)/(none)."""
    widget: Widget | None = None
    """The menu's settings form widget (None = not on the screen)."""
    label: str = ""
    """The form's label (and its help screen's first column)."""
    form_help: str = ""
    """The form's help screen text for this field."""
    name: str = ""
    type: Any = None
    default: Any = None

    @property
    def signature(self) -> str:
        """The D-Bus signature of the value."""
        origin = typing.get_origin(self.type) or self.type
        sig = {bool: "b", int: "u", str: "s", tuple: "as"}.get(origin)
        if sig is None:
            raise TypeError(f"setting {self.name}: no D-Bus signature for {self.type!r}")
        return sig

    @property
    def set_property(self) -> str:
        """A secret's read-only property that says whether it is set."""
        return f"{self.dbus}Set"


_SPEC = "bootd.setting"


def setting(
    default: T,
    validate: Callable[[str, Any], T],
    help: str,
    **more: Any,
) -> T:
    """Declare a :class:`Settings` field (keyword arguments: the other
    :class:`Setting` attributes)."""
    if "form_help" in more:
        more["form_help"] = textwrap.dedent(more["form_help"]).strip()
    spec = Setting(validate, textwrap.dedent(help).strip(), **more)
    return field(default=default, metadata={_SPEC: spec})


# -- validation ----------------------------------------------------------------
def check_bool(key: str, v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.lower() in ("true", "yes", "on", "1", "false", "no", "off", "0"):
        return v.lower() in ("true", "yes", "on", "1")
    raise ConfigError(f"{key} must be true or false, not {v!r}")


def check_seconds(key: str, v: Any) -> int:
    if isinstance(v, str) and v.strip().isdigit():
        v = int(v.strip())
    if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= MAX_TIMEOUT:
        raise ConfigError(f"{key} must be a whole number of seconds from 0 to {MAX_TIMEOUT}, not {v!r}")
    return v


def validate_boot_order_item(item: str) -> str:
    item = item.strip()
    low = item.lower()
    if low in BOOT_ORDER_TYPES:
        return low
    if low == "cdrom":
        return "optical"
    kind, sep, value = item.partition(":")
    if sep and kind.lower() in ("uuid", "mac") and value:
        return f"{kind.lower()}:{value.lower() if kind.lower() == 'mac' else value}"
    raise ConfigError(
        f"boot_order item {item!r} is not one of {', '.join(BOOT_ORDER_TYPES)} or a uuid:…/mac:… selector"
    )


def check_boot_order(key: str, v: Any) -> tuple[str, ...]:
    if isinstance(v, str):
        v = [x for x in v.replace(",", " ").split() if x]
    if not isinstance(v, list | tuple) or not all(isinstance(x, str) for x in v):
        raise ConfigError(f"{key} must be a list of strings, not {v!r}")
    if len(v) > MAX_BOOT_ORDER:
        raise ConfigError(f"{key} has {len(v)} items; at most {MAX_BOOT_ORDER} are allowed")
    return tuple(validate_boot_order_item(x) for x in v)


def check_text(key: str, v: Any) -> str:
    if not isinstance(v, str) or len(v) > 1024 or "\0" in v or "\n" in v:
        raise ConfigError(f"{key} must be a one-line string, not {v!r}")
    return v


def one_of(*values: str) -> Callable[[str, Any], str]:
    """A validator that takes exactly one of ``values``."""

    def check(key: str, v: Any) -> str:
        if v not in values:
            raise ConfigError(f"{key} must be one of {', '.join(values)}, not {v!r}")
        return str(v)

    return check


def check_abspath(key: str, v: Any) -> str:
    v = check_text(key, v)
    if not v.startswith("/"):
        raise ConfigError(f"{key} must be an absolute path, not {v!r}")
    return str(v)


def is_password_hash(text: str) -> bool:
    parts = text.split("$")
    return len(parts) == 6 and parts[0] == "scrypt" and all(p.isdigit() for p in parts[1:4])


def check_password_hash(key: str, v: Any) -> str:
    v = check_text(key, v)
    if v and not is_password_hash(v):
        raise ConfigError(f"{key} must be a scrypt hash made by bootd (set it through the API or `bootd settings`)")
    return str(v)


# -- the table -------------------------------------------------------------------
@dataclass(frozen=True)
class Settings:
    """The settings in force (see :mod:`bootd.settings` for the layers)."""

    autoboot: bool = setting(
        True,
        check_bool,
        "Boot the default entry on its own when the countdown ends.",
        nvram="auto-boot?",
        nvram_empty=True,
        dbus="Autoboot",
        widget=Widget.CHECK,
        label="Autoboot",
        form_help="boot the default entry by itself when nobody is there",
    )
    timeout: int = setting(
        10,
        check_seconds,
        "Seconds of countdown before autoboot; 0 boots the first candidate at once.",
        nvram="petitboot,timeout",
        nvram_empty=True,
        dbus="Timeout",
        widget=Widget.SECONDS,
        label="Timeout",
        form_help="seconds of countdown before autoboot (0 = at once)",
    )
    boot_order: tuple[str, ...] = setting(
        ("any",),
        check_boot_order,
        """\
        Which default entries may autoboot, best first: device types (disk, usb,
        optical, network, any) and selectors uuid:FILESYSTEM-UUID / mac:NIC-ADDRESS.
        Only entries their own configuration marks default are candidates; the first
        selector that matches one wins; defaults no selector matches never autoboot.""",
        nvram="petitboot,bootdevs",
        nvram_list=True,
        dbus="BootOrder",
        widget=Widget.ORDER,
        label="Boot order",
        form_help="""\
        which devices autoboot prefers, first match wins; on an
        item press + or - to move it up or down, Del to remove it;
        Add puts a device type (disk, usb, optical, network) or a
        uuid:/mac: selector at the end""",
    )
    console: str = setting(
        "",
        check_text,
        """\
        Console the next kernel should use when nobody chooses one (hvc0, ttyS0,
        ttyS0,115200n8, tty1, or a device-tree path); "" keeps the entry's own.""",
        nvram="petitboot,console",
        dbus="Console",
        widget=Widget.CONSOLE,
        label="Console",
        form_help="the console the booted system uses unless one is picked",
    )
    restrict: str = setting(
        "changes",
        one_of(*RESTRICT_VALUES),
        """\
        What the password gates: "changes" (booting with changed arguments, custom
        boots, choosing the next boot, adding URLs, settings) or "all" (every boot too).""",
        dbus="Restrict",
    )
    password: str = setting(
        "",
        check_password_hash,
        """\
        A salted scrypt hash (scrypt$N$r$p$salt$hash), set from plain text through
        `bootd settings set password -` or the D-Bus Password property; "" = none.""",
        dbus="Password",
        secret=True,
        widget=Widget.SECRET,
        label="Password",
        form_help="""\
        when set, booting, editing and changing settings ask for it;
        leave empty and choose Clear password to remove it""",
    )
    scan_loop_devices: bool = setting(
        False,
        check_bool,
        "Also scan loop devices (images attached with losetup).",
        dbus="ScanLoopDevices",
    )
    allow_shell: bool = setting(
        True,
        check_bool,
        """\
        Whether a menu may exit to a shell (key x).  false keeps every console in
        the menu: the machine can then only boot what the menu offers.""",
        dbus="AllowShell",
    )
    auth_timeout: int = setting(
        300,
        check_seconds,
        """\
        Seconds a connection stays authenticated (after Authenticate) without using
        the password; then it must give the password again.  A boot that needed the
        password ends the authentication too.  0 = until the connection closes.""",
        dbus="AuthTimeout",
    )
    add_boot_seeds: bool = setting(
        True,
        check_bool,
        """\
        Every device tree handed to the next kernel gets fresh boot seeds
        (/chosen/kaslr-seed, 8 bytes, and /chosen/rng-seed, 64 bytes) from the
        kernel's RNG; a tree's own seeds are never handed on.  false: add none to a
        tree that had none (the next kernel then needs a CPU RNG for KASLR).""",
    )
    signed_boot: str = setting(
        "off",
        one_of(*SIGNED_BOOT_VALUES),
        """\
        Signed boot: off, warn (boot, but report every file that does not verify) or
        enforce (boot only an option whose kernel, initrds, device tree and command
        line verify against the keyring; editing the command line is refused).
        Detached signatures beside the files: FILE.sig, KERNEL.cmdline.sig (the
        exact command line, no trailing newline), IMAGE.efi.sig for a UKI.""",
    )
    signed_boot_keyring: str = setting(
        "/etc/bootd/keyring.gpg",
        check_abspath,
        "The owner's OpenPGP keyring, binary (gpg --export KEYID > keyring.gpg).",
    )
    measured_boot: bool = setting(
        False,
        check_bool,
        """\
        Measured boot: extend the TPM's PCRs (tpm2-tools, /dev/tpmrm0 unless
        TPM2TOOLS_TCTI says otherwise) with what is about to run, before kexec.""",
    )


class Table:
    """The rows of a settings dataclass (:class:`Settings` or an extension of it)."""

    def __init__(self, cls: type[Settings]) -> None:
        self.cls = cls
        hints = typing.get_type_hints(cls)
        rows = []
        for f in fields(cls):
            spec = f.metadata.get(_SPEC)
            if not isinstance(spec, Setting):
                raise TypeError(f"{cls.__name__}.{f.name} is not declared with bootd.settings_table.setting()")
            rows.append(dc_replace(spec, name=f.name, type=hints[f.name], default=f.default))
        self.rows: tuple[Setting, ...] = tuple(rows)
        self._by_name = {s.name: s for s in self.rows}
        props = [p for s in self.rows if s.dbus for p in (s.dbus, s.set_property if s.secret else "")] + ["Problems"]
        dup = {p for p in props if p and props.count(p) > 1}
        if dup:
            raise TypeError(f"two settings claim the D-Bus property {', '.join(sorted(dup))}")

    def extend(self, *rows: Setting) -> Table:
        """This table with ``rows`` added at its end (each with name, type and default)."""
        cls = make_dataclass(
            self.cls.__name__,
            [(s.name, s.type, field(default=s.default, metadata={_SPEC: s})) for s in rows],
            bases=(self.cls,),
            frozen=True,
            namespace={"__doc__": self.cls.__doc__},
        )
        cls.__module__ = self.cls.__module__
        return Table(cls)

    def __iter__(self) -> Iterator[Setting]:
        return iter(self.rows)

    def __contains__(self, key: object) -> bool:
        return key in self._by_name

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.rows)

    def row(self, key: str) -> Setting:
        """The row of ``key``; ConfigError names the known ones."""
        try:
            return self._by_name[key]
        except KeyError:
            raise ConfigError(f"unknown setting {key!r} (known: {', '.join(self.keys)})") from None

    def validate(self, key: str, value: Any) -> Any:
        """The typed value of ``key``; ConfigError says what is wrong."""
        return self.row(key).validate(key, value)

    def defaults(self) -> Settings:
        return self.cls()

    @property
    def on_bus(self) -> tuple[Setting, ...]:
        """The rows ``org.bootd.Settings1`` carries, in table order."""
        return tuple(s for s in self.rows if s.dbus)

    @property
    def in_form(self) -> tuple[Setting, ...]:
        """The rows the menu's settings form edits, in table order."""
        return tuple(s for s in self.rows if s.widget is not None)

    def nvram_values(self, raw: Mapping[str, str]) -> NvramValues:
        """The settings Petitboot's NVRAM keys in ``raw`` give (values still to validate)."""
        out: NvramValues = {}
        for s in self.rows:
            if not s.nvram or s.nvram not in raw or not (raw[s.nvram] or s.nvram_empty):
                continue
            out[s.name] = raw[s.nvram].split() if s.nvram_list else raw[s.nvram]
        return out


TABLE = Table(Settings)
"""The built-in settings."""
