"""Names of the D-Bus API: bus name, object paths, interfaces, properties,
settings keys.  Shared by the service, the client and the TUI (layer L1, pure).

Object paths carry option and device ids.  Each ``/`` of an id becomes a
path separator, so ``sda2/grub2/Linux`` is ``/org/bootd/options/sda2/grub2/Linux``;
inside one element, every byte outside ``[A-Za-z0-9]`` (``:``, ``#``, ``.``,
``-``, ``_``) becomes ``_xx`` (two lower-case hex digits), and an empty element
becomes ``_``.  The mapping is reversible; ``Manager1.FindOption`` looks an
option's path up by its id, entry id or title.
"""

from __future__ import annotations

from enum import StrEnum

from bootd.settings_table import TABLE

BUS_NAME = "org.bootd"
ROOT_PATH = "/org/bootd"
DEVICES_PATH = f"{ROOT_PATH}/devices"
OPTIONS_PATH = f"{ROOT_PATH}/options"
NO_OBJECT = "/"

MANAGER_IFACE = "org.bootd.Manager1"
SETTINGS_IFACE = "org.bootd.Settings1"
DEVICE_IFACE = "org.bootd.Device1"
OPTION_IFACE = "org.bootd.BootOption1"
OBJECT_MANAGER_IFACE = "org.freedesktop.DBus.ObjectManager"
PROPERTIES_IFACE = "org.freedesktop.DBus.Properties"

INTERNAL_ERROR = "org.bootd.Error.Internal"


class Restrict(StrEnum):
    """What a configured password gates (setting ``restrict``)."""

    CHANGES = "changes"
    """Boots with changed arguments, custom boots and settings writes."""
    ALL = "all"
    """Every boot as well."""


SETTING_PROPERTIES: dict[str, tuple[str, str]] = {s.name: (s.dbus, s.signature) for s in TABLE.on_bus}
"""settings key (bootd.toml) -> (Settings1 property, D-Bus signature), from the settings table."""
PASSWORD_SET_PROPERTY = TABLE.row("password").set_property
PROBLEMS_PROPERTY = "Problems"


def _escape(text: str) -> str:
    if not text:
        return "_"
    out = []
    for byte in text.encode("utf-8"):
        ch = chr(byte)
        if ch.isascii() and ch.isalnum():
            out.append(ch)
        else:
            out.append(f"_{byte:02x}")
    return "".join(out)


def _unescape(element: str) -> str:
    if element == "_":
        return ""
    raw = bytearray()
    i = 0
    while i < len(element):
        ch = element[i]
        if ch == "_":
            raw.append(int(element[i + 1 : i + 3], 16))
            i += 3
        else:
            raw.append(ord(ch))
            i += 1
    return raw.decode("utf-8")


def _escape_id(ident: str) -> str:
    return "/".join(_escape(part) for part in ident.split("/"))


def option_path(option_id: str) -> str:
    return f"{OPTIONS_PATH}/{_escape_id(option_id)}"


def device_path(device_id: str) -> str:
    return f"{DEVICES_PATH}/{_escape_id(device_id)}"


def _id_from(path: str, prefix: str, what: str) -> str:
    if not path.startswith(prefix + "/"):
        raise ValueError(f"{path!r} is not a {what} object path")
    elements = path[len(prefix) + 1 :].split("/")
    try:
        if not all(elements) or any(_escape(_unescape(e)) != e for e in elements):
            raise ValueError(path)
        return "/".join(_unescape(e) for e in elements)
    except (ValueError, UnicodeDecodeError):
        raise ValueError(f"{path!r} is not a {what} object path") from None


def option_id_from_path(path: str) -> str:
    """The option id an object path names; ValueError when it names none."""
    return _id_from(path, OPTIONS_PATH, "boot option")


def device_id_from_path(path: str) -> str:
    return _id_from(path, DEVICES_PATH, "device")
