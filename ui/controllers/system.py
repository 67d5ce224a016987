"""The system information and settings screens."""

from __future__ import annotations

from bootd.model import DeviceType

from ..i18n import N_, _
from ..views.common import columns
from ..views.network import NetworkView
from ..views.settings import SettingsView
from ..views.text import TextView
from .host import Host

LEASE_FIELDS = (("ip", N_("address")), ("router", N_("router")), ("dns", N_("DNS")), ("serverid", N_("DHCP server")))
"""What a network device's lease shows on the system information screen."""

INFO_TITLE = N_("System information")


def row(label: str, value: str, width: int = 15) -> str:
    """``  label   value``: the label padded to ``width`` columns (a wider translation pushes the value on)."""
    return f"  {label}{' ' * max(1, width + 1 - columns(label))}{value}"


class SystemController:
    def __init__(self, app: Host) -> None:
        self.app = app

    async def show_info(self) -> None:
        info = await self.app.backend.system_info()
        # asked afresh: a device's details (an interface's lease) change without it coming or going
        devices = {d.id: d for d in await self.app.backend.list_devices()}
        platform = _("{platform} ({arch}, firmware {firmware})").format(
            platform=info.platform, arch=info.arch, firmware=info.firmware
        )
        lines: list[str | tuple[str, str]] = [
            ("device", _("System")),
            row(_("bootd version"), info.version or self.app.version),
            row(_("platform"), platform),
            row(_("lockdown"), info.lockdown or _("none")),
            *(row(_(k), v) for k, v in info.extra),
            "",
            ("device", _("Devices")),
        ]
        none = _("no address")
        for d in sorted(devices.values(), key=lambda d: d.id):
            lines.append(f"  {d.title}")
            if d.type is DeviceType.NETWORK:
                lines.append(
                    "    "
                    + _("type network  MAC {mac}  link {link}").format(mac=d.uuid or "-", link=d.prop("link") or "-")
                )
                lease = [f"{_(label)} {d.prop(key)}" for key, label in LEASE_FIELDS if d.prop(key)]
                lines.append(f"    {'  '.join(lease) if lease else none}")
                continue
            lines.append(
                "    "
                + _("type {type}  node {node}  fs {fs}").format(type=d.type, node=d.node or "-", fs=d.fstype or "-")
            )
            lines.append("    " + _("uuid {uuid}  label {label}").format(uuid=d.uuid or "-", label=d.label or "-"))
            lines.append("    " + _("mounted on {mountpoint}").format(mountpoint=d.mountpoint or "-"))
        if self.app.autoboot_reason is not None:
            lines += ["", ("device", _("Autoboot")), "  " + self.app.autoboot_reason.translated(_)]
        lines += ["", ("device", _("Network interfaces"))]
        for name, addr in info.interfaces:
            dev = devices.get(name)
            ip = dev.prop("ip") if dev is not None else None
            lines.append(f"  {name:<10} {addr}  {ip or none}")
        if not info.interfaces:
            lines.append("  " + _("(none)"))
        lines += ["", ("device", _("Consoles"))]
        lines += [f"  {c.name:<8} {c.kind:<7} {c.dt_path or ''}" for c in self.app.consoles] or ["  " + _("(none)")]
        self.app.push(TextView(INFO_TITLE, lines))

    async def show_settings(self) -> None:
        self.app.use_settings(await self.app.backend.get_settings())
        self.app.push(
            SettingsView(
                self.app.settings,
                self.app.consoles,
                self.save_settings,
                self.app.back,
                on_network=lambda: self.app.spawn(self.show_network(), N_("Network settings")),
            )
        )

    async def show_network(self) -> None:
        info = await self.app.backend.system_info()
        self.app.use_settings(await self.app.backend.get_settings())
        config = self.app.settings.network
        self.app.push(NetworkView(config, list(info.interfaces), self.save_settings, self.app.back))

    def save_settings(self, changes: dict[str, object]) -> None:
        if not changes:
            self.app.back()
            self.app.status(_("Settings unchanged"))
            return

        async def save() -> None:
            await self.app.backend.set_settings(changes)
            self.app.use_settings(await self.app.backend.get_settings())
            self.app.back()
            form = self.app.stack[-1]
            if isinstance(form, SettingsView) and "network" in changes:  # saved by the network screen
                form.inputs["network"].saved_elsewhere(self.app.settings.network)
            if "network" not in changes:  # the daemon's status line says what of the network settings it applied
                self.app.status(_("Settings saved"))
            self.app.refresh_menu()

        self.app.boots.with_auth(save, N_("Save settings"))
