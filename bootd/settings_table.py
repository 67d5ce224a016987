"""Every setting, declared once (layer L1, pure).

Each field of :class:`Settings` is one setting: its name is the ``bootd.toml``
key, its annotation the type, and :func:`setting` gives the rest — default,
validation, help text, Petitboot's NVRAM key (where Petitboot has one), the
``org.bootd.Settings1`` property name (none: the setting lives in the files
only) and the menu's widget (none: not on the settings screen).

Derived from this table (:data:`TABLE`), and from nowhere else:

The validators, the structured ``network`` value and Petitboot's NVRAM keys
are in :mod:`bootd.settings_types` (re-exported here).

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
from bootd.settings_types import (
    BOOT_ORDER_TYPES,
    MAX_BOOT_ORDER,
    MAX_TIMEOUT,
    PETITBOOT_NVRAM,
    RESTRICT_VALUES,
    SIGNED_BOOT_VALUES,
    InterfaceConfig,
    NetworkConfig,
    NvramTable,
    NvramValues,
    check_abspath,
    check_bool,
    check_boot_order,
    check_language,
    check_network,
    check_password_hash,
    check_seconds,
    check_text,
    is_password_hash,
    nvram_network,
    one_of,
    validate_boot_order_item,
)

T = TypeVar("T")
Validator = Callable[[str, Any], Any]


def N_(message: str) -> str:  # noqa: N802  # gettext's name for "mark, translate later"
    """Mark a settings form label or help text for the menu's catalogue
    (``ui/po``, domain ``bootd-menu``): the menu translates it when it shows
    it.  Nothing is imported for it, so the table stays cheap to import."""
    return message


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
    NETWORK = "network"
    """A button that opens the network settings screen (:class:`NetworkConfig`)."""


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
    nvram_old: str = ""
    """An older Petitboot's key for the same setting, read when ``nvram`` is absent."""
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
        sig = {bool: "b", int: "u", str: "s", tuple: "as"}.get(origin) or getattr(origin, "DBUS_SIGNATURE", None)
        if not isinstance(sig, str):
            raise TypeError(f"setting {self.name}: no D-Bus signature for {self.type!r}")
        return sig

    @property
    def structured(self) -> bool:
        """A value of several parts (a TOML table of its own, a D-Bus struct)."""
        return hasattr(self.type, "DBUS_SIGNATURE")

    def to_bus(self, value: Any) -> Any:
        """``value`` as D-Bus carries it."""
        if self.structured:
            return value.to_bus()
        return list(value) if self.signature == "as" else value

    def from_bus(self, value: Any) -> Any:
        """A D-Bus value (variants unwrapped) as the setting's type."""
        if self.structured:
            return self.type.from_bus(value)
        kind: Any = {"b": bool, "u": int, "s": str, "as": tuple}[self.signature]
        return kind(value)

    @property
    def set_property(self) -> str:
        """A secret's read-only property that says whether it is set."""
        return f"{self.dbus}Set"


_SPEC = "bootd.setting"

IPMI_VALUES = ("auto", "off")
"""The ``ipmi`` setting's values."""


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
        label=N_("Autoboot"),
        form_help=N_("boot the default entry by itself when nobody is there"),
    )
    timeout: int = setting(
        10,
        check_seconds,
        "Seconds of countdown before autoboot; 0 boots the first candidate at once.",
        nvram="petitboot,timeout",
        nvram_empty=True,
        dbus="Timeout",
        widget=Widget.SECONDS,
        label=N_("Timeout"),
        form_help=N_("seconds of countdown before autoboot (0 = at once)"),
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
        nvram_old="petitboot,bootdev",
        nvram_list=True,
        dbus="BootOrder",
        widget=Widget.ORDER,
        label=N_("Boot order"),
        form_help=N_("""\
        which devices autoboot prefers, first match wins; on an
        item press + or - to move it up or down, Del to remove it;
        Add puts a device type (disk, usb, optical, network) or a
        uuid:/mac: selector at the end"""),
    )
    console: str = setting(
        "",
        check_text,
        """\
        Console the next kernel should use when nobody chooses one (hvc0, ttyS0,
        ttyS0,115200n8, tty1, or a device-tree path); "" keeps the entry's own.""",
        nvram="petitboot,console",
        nvram_old="petitboot,tty",
        dbus="Console",
        widget=Widget.CONSOLE,
        label=N_("Console"),
        form_help=N_("the console the booted system uses unless one is picked"),
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
        label=N_("Password"),
        form_help=N_("""\
        when set, booting, editing and changing settings ask for it;
        leave empty and choose Clear Password to remove it"""),
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
    ipmi: str = setting(
        "auto",
        one_of(*IPMI_VALUES),
        """\
        The BMC's boot-device override (ipmitool chassis bootdev pxe|disk|cdrom|safe|bios
        on the BMC): "auto" asks the machine's own BMC in-band, through the kernel's
        IPMI device (/dev/ipmi0, ipmitool -I open), where there is one; "off" never
        reads or clears the BMC's boot flags.""",
    )
    language: str = setting(
        "",
        check_language,
        """\
        The menu's language (a gettext code: de, zh_CN, en); "" = the environment's
        (LANGUAGE, LC_ALL, LC_MESSAGES, LANG).  The l key still changes it for one
        console until that menu exits; the bootd commands follow the environment.""",
        nvram="petitboot,language",
        dbus="Language",
    )
    network: NetworkConfig = setting(
        NetworkConfig(),
        check_network,
        """\
        The [network] table's interfaces, DNS servers and proxies (see "Network
        interfaces" below): what the menu's network screen edits.""",
        dbus="Network",
        widget=Widget.NETWORK,
        label=N_("Network"),
        form_help=N_("""\
        the network screen: each interface's DHCP or static address
        and gateway, the DNS servers and the HTTP/HTTPS proxies"""),
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
            raise ConfigError.of(
                N_("unknown setting {key} (known: {known})"), key=repr(key), known=", ".join(self.keys)
            ) from None

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
            key = s.nvram if s.nvram in raw else s.nvram_old
            if not key or key not in raw or not (raw[key] or s.nvram_empty):
                continue
            out[s.name] = raw[key].split() if s.nvram_list else raw[key]
        network = nvram_network(raw)
        if network:
            out["network"] = network
        return out


TABLE = Table(Settings)
"""The built-in settings."""

__all__ = [
    "BOOT_ORDER_TYPES",
    "IPMI_VALUES",
    "MAX_BOOT_ORDER",
    "MAX_TIMEOUT",
    "PETITBOOT_NVRAM",
    "RESTRICT_VALUES",
    "SIGNED_BOOT_VALUES",
    "TABLE",
    "InterfaceConfig",
    "NetworkConfig",
    "NvramTable",
    "NvramValues",
    "Setting",
    "Settings",
    "Table",
    "Validator",
    "Widget",
    "check_abspath",
    "check_bool",
    "check_boot_order",
    "check_language",
    "check_network",
    "check_password_hash",
    "check_seconds",
    "check_text",
    "is_password_hash",
    "nvram_network",
    "one_of",
    "setting",
    "validate_boot_order_item",
]
