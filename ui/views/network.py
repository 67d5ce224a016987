"""The network settings screen (``c``, then Network): for each interface DHCP,
a static address and gateway, or ignore; the DNS servers; the HTTP and
HTTPS proxies.  It edits the ``network`` setting
(:class:`~bootd.settings_table.NetworkConfig`, bootd.toml's ``[network]``);
Save hands the whole new value to ``on_save`` at once, or nothing when it is
unchanged."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import urwid

from bootd.dbus.client import InterfaceConfig, NetworkConfig

from ..i18n import N_, _
from .common import FieldEdit, Size, View, button, button_width, columns, field, labelled

METHODS = (("dhcp", N_("DHCP")), ("static", N_("Static")), ("ignore", N_("Ignore")))
"""(value in the file, radio label to translate)"""
NETWORK_HELP = N_("""\
Network settings

Each interface: DHCP (the default), Static (its address as
ADDRESS/PREFIX, e.g. 192.168.1.5/24, and a gateway; DNS servers
of its own, else those below) or Ignore (not touched).
DNS servers    for static interfaces that name none, space separated
HTTP proxy     http://HOST:PORT for http:// downloads ("" = the
               environment's http_proxy)
HTTPS proxy    for https:// downloads ("" = the HTTP proxy)

Save  write it through the daemon, all or none; a refused value is
      named in the status line and the screen stays open
Esc   back without saving""")


@dataclass
class InterfaceRow:
    """One interface's inputs."""

    key: str
    """The name its table has (or will have) in [network.interface]."""
    radios: list[urwid.RadioButton]
    address: FieldEdit
    gateway: FieldEdit
    dns: FieldEdit

    @property
    def method(self) -> str:
        return next(code for (code, _label), rb in zip(METHODS, self.radios, strict=True) if rb.state)

    def value(self) -> InterfaceConfig:
        if self.method != "static":
            return InterfaceConfig(self.key, self.method)
        return InterfaceConfig(
            self.key,
            "static",
            self.address.edit_text.strip(),
            self.gateway.edit_text.strip(),
            tuple(self.dns.edit_text.replace(",", " ").split()),
        )


class NetworkView(View):
    title = N_("Network settings")
    hints = N_("Tab=next  Space=choose  Save  Esc=back  F1=help")
    help = NETWORK_HELP

    def __init__(
        self,
        config: NetworkConfig,
        interfaces: Sequence[tuple[str, str]],
        on_save: Callable[[dict[str, object]], None],
        on_cancel: Callable[[], None],
    ) -> None:
        """``interfaces``: the machine's (name, MAC); an interface of the
        config that is not among them (by name or MAC) is shown too."""
        self.config = config
        self._on_save = on_save
        self.interfaces: list[InterfaceRow] = []
        widgets: list[urwid.Widget] = [urwid.Text(_("Interfaces:"))]
        shown: list[tuple[str, str]] = []
        for name, mac in interfaces:
            key = mac.lower() if mac and config.interface(mac.lower()) is not None else name
            shown.append((key, f"{name} ({mac})" if mac else name))
        known = {key for key, _ in shown}
        shown += [(i.name, i.name) for i in config.interfaces if i.name not in known]
        for key, title in shown:
            widgets += self._interface(key, title, config.interface(key))
        if not shown:
            widgets.append(urwid.Text("  " + _("(no network interfaces)")))
        self.nameservers = FieldEdit("", " ".join(config.nameservers))
        self.proxy = FieldEdit("", config.proxy)
        self.https_proxy = FieldEdit("", config.https_proxy)
        save, cancel = _("Save"), _("Cancel")
        self.buttons = urwid.Columns(
            [(button_width(save), button(save, self.save)), (button_width(cancel), button(cancel, on_cancel))],
            dividechars=2,
        )
        labels = [_("DNS servers:"), _("HTTP proxy:"), _("HTTPS proxy:")]
        width = max([16, *(columns(label) + 1 for label in labels)])
        widgets += [
            urwid.Divider(),
            labelled(labels[0], field(self.nameservers), width),
            labelled(labels[1], field(self.proxy), width),
            labelled(labels[2], field(self.https_proxy), width),
            urwid.Divider(),
            self.buttons,
        ]
        self.walker: urwid.SimpleFocusListWalker[Any] = urwid.SimpleFocusListWalker(widgets)
        super().__init__(urwid.ListBox(self.walker))

    def _interface(self, key: str, title: str, current: InterfaceConfig | None) -> list[urwid.Widget]:
        now = current or InterfaceConfig(key)
        group: list[urwid.RadioButton] = []
        radios = [urwid.RadioButton(group, _(label), state=code == now.method) for code, label in METHODS]
        row = InterfaceRow(
            key, radios, FieldEdit("", now.address), FieldEdit("", now.gateway), FieldEdit("", " ".join(now.dns))
        )
        self.interfaces.append(row)
        labels = [_("Address/prefix:"), _("Gateway:"), _("DNS servers:")]
        width = max([18, *(columns(label) + 3 for label in labels)])
        edits = [field(row.address), field(row.gateway), field(row.dns)]
        return [
            urwid.Divider(),
            urwid.Text(("device", title)),
            urwid.Columns(
                [(max(10, columns(rb.label) + 4), urwid.AttrMap(rb, "option", "focus")) for rb in radios],
                dividechars=2,
            ),
            *(labelled("  " + label, edit, width) for label, edit in zip(labels, edits, strict=True)),
        ]

    def row(self, key: str) -> InterfaceRow:
        return next(r for r in self.interfaces if r.key == key)

    def value(self) -> NetworkConfig:
        """The configuration the screen shows (an interface left at DHCP that
        the configuration did not name stays unnamed)."""
        interfaces = tuple(
            r.value()
            for r in self.interfaces
            if self.config.interface(r.key) is not None or r.value() != InterfaceConfig(r.key)
        )
        return NetworkConfig(
            interfaces,
            tuple(self.nameservers.edit_text.replace(",", " ").split()),
            self.proxy.edit_text.strip(),
            self.https_proxy.edit_text.strip(),
        )

    @property
    def changes(self) -> dict[str, object]:
        value = self.value()
        return {} if value == self.config else {"network": value}

    def save(self) -> None:
        self._on_save(self.changes)

    def keypress(self, size: Size, key: str) -> str | None:
        if key == "tab":
            key = "down"
        elif key == "shift tab":
            key = "up"
        before = self.walker.focus
        out = super().keypress(size, key)
        if self.walker.focus != before and self.walker[self.walker.focus or 0] is self.buttons:
            self.buttons.focus_position = 0  # arriving on the buttons: Save, wherever the cursor was
        return out
