"""The files the settings table documents itself in, rendered from it:
``config/bootd.toml`` (the documented defaults), the README's settings table
and the ``org.bootd.Settings1`` block of ``bootd/dbus/org.bootd.xml``.

``make settings-docs`` (``python -m tests.settings_docs``) rewrites them;
``tests/unit/core/test_settings_docs.py`` fails while any is stale."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from bootd import settings_table
from bootd.dbus import names, schema

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config/bootd.toml"
README = ROOT / "README.md"
XML = ROOT / "bootd/dbus/org.bootd.xml"

BEGIN = "<!-- settings table: generated from bootd/settings_table.py by `make settings-docs` -->"
END = "<!-- end of the settings table -->"
_XML_BLOCK = re.compile(rf'  <interface name="{re.escape(names.SETTINGS_IFACE)}">\n.*?\n  </interface>', re.S)


def config_text(table: settings_table.Table = settings_table.TABLE) -> str:
    return settings_table.documented_defaults(table)


def readme_text(readme: str, table: settings_table.Table = settings_table.TABLE) -> str:
    """``readme`` with the text between the markers replaced by the table."""
    start, end = readme.index(BEGIN) + len(BEGIN), readme.index(END)
    return readme[:start] + "\n" + settings_table.markdown_table(table) + readme[end:]


def xml_text(xml: str, table: settings_table.Table = settings_table.TABLE) -> str:
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
