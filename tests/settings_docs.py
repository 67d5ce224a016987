"""The files the settings table documents itself in, rendered from it:
``config/bootd.toml`` (the documented defaults), the README's settings table
and the ``org.bootd.Settings1`` block of ``bootd/dbus/org.bootd.xml``.

``make settings-docs`` (``python -m tests.settings_docs``) rewrites them;
``tests/unit/core/test_settings_docs.py`` fails while any is stale."""

from __future__ import annotations

import re
import sys
import textwrap
import typing
from pathlib import Path

from bootd.dbus import names, schema
from bootd.settings_table import TABLE, Table

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config/bootd.toml"
README = ROOT / "README.md"
XML = ROOT / "bootd/dbus/org.bootd.xml"


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def markdown_table(table: Table = TABLE) -> str:
    """The README's settings table."""
    lines = [
        "| setting | type | default | NVRAM key | Settings1 property | menu | what it does |",
        "|---|---|---|---|---|---|---|",
    ]
    names = {bool: "bool", int: "seconds", str: "string", tuple: "list"}
    for s in table:
        kind = names.get(typing.get_origin(s.type) or s.type, str(s.type))
        prop = f"`{s.dbus}` (write-only; `{s.set_property}`)" if s.secret else (f"`{s.dbus}`" if s.dbus else "")
        text = " ".join(s.help.split()).replace("|", "\\|")
        lines.append(
            f"| `{s.name}` | {kind} | `{toml_value(s.default)}` | {f'`{s.nvram}`' if s.nvram else ''} "
            f"| {prop} | {s.label if s.widget else ''} | {text} |"
        )
    return "\n".join(lines) + "\n"


DOCUMENTED_HEADER = """\
# bootd settings: the documented defaults.
#
{layers}
#
# Generated from bootd/settings_table.py (make settings-docs); edit it there.
"""

DOCUMENTED_TRAILER = """\
# Network interfaces (a table of its own, read by network discovery):
# [network]
# enabled = true            # false: no interface is touched
# bring_up = true           # bring interfaces up (false: use only those already up)
# dns = false               # write a lease's DNS servers to /etc/resolv.conf
# proxy = ""                # HTTP(S) proxy for downloads ("" = from the environment)
# timeout = 30              # seconds without progress before a config download gives up
# lease_reports = "direct"  # "dbus": udhcpc's lease script reports through `bootd event` (Manager1.Event)
# method = "dhcp"           # dhcp | static | ignore, for interfaces not listed below
# [network.interface.eth0]  # by name, or by MAC: [network.interface."52:54:00:12:34:56"]
# method = "static"
# address = "192.168.1.5/24"
# gateway = "192.168.1.1"
# dns = ["192.168.1.1"]
"""


def documented_defaults(table: Table = TABLE) -> str:
    """``config/bootd.toml``: every setting's help as a comment, then its default."""
    nvram = ", ".join(s.nvram for s in table if s.nvram)
    layers = textwrap.fill(
        "Layers, later ones win: these defaults, /usr/lib/bootd/bootd.toml, Petitboot's NVRAM keys on "
        f"OpenPOWER ({nvram}), /etc/bootd/bootd.toml (what `bootd settings set` and the D-Bus Settings1 "
        "interface write), then /etc/bootd/bootd.toml.d/*.toml in name order.  A file that cannot be parsed, "
        "or a value that is not valid, is ignored with a warning; bootd always starts.",
        width=78,
        initial_indent="# ",
        subsequent_indent="# ",
        break_on_hyphens=False,
        break_long_words=False,
    )
    parts = [DOCUMENTED_HEADER.format(layers=layers)]
    for s in table:
        comment = "\n".join(f"# {line}".rstrip() for line in s.help.splitlines())
        parts.append(f"{comment}\n{s.name} = {toml_value(s.default)}\n")
    parts.append(DOCUMENTED_TRAILER)
    return "\n".join(parts)


BEGIN = "<!-- settings table: generated from bootd/settings_table.py by `make settings-docs` -->"
END = "<!-- end of the settings table -->"
_XML_BLOCK = re.compile(rf'  <interface name="{re.escape(names.SETTINGS_IFACE)}">\n.*?\n  </interface>', re.S)


def config_text(table: Table = TABLE) -> str:
    return documented_defaults(table)


def readme_text(readme: str, table: Table = TABLE) -> str:
    """``readme`` with the text between the markers replaced by the table."""
    start, end = readme.index(BEGIN) + len(BEGIN), readme.index(END)
    return readme[:start] + "\n" + markdown_table(table) + readme[end:]


def xml_text(xml: str, table: Table = TABLE) -> str:
    """``xml`` with its Settings1 interface rendered from the table."""
    block = schema.introspection(schema.settings_interface(table))
    if not _XML_BLOCK.search(xml):
        raise ValueError(f"no {names.SETTINGS_IFACE} interface in the introspection file")
    return _XML_BLOCK.sub(lambda _m: block, xml, count=1)


def main() -> int:
    for path, render in (
        (CONFIG, lambda _old: config_text()),
        (README, readme_text),
        (XML, xml_text),
    ):
        old = path.read_text(encoding="utf-8")
        new = render(old)
        if new != old:
            path.write_text(new, encoding="utf-8")
            print(f"rewrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
