"""The system information and settings screens."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ui.views.settings import SettingsView
from ui.views.text import TextView

if TYPE_CHECKING:
    from ui.app import App


class SystemController:
    def __init__(self, app: App) -> None:
        self.app = app

    async def show_info(self) -> None:
        info = await self.app.backend.system_info()
        lines: list[str | tuple[str, str]] = [
            ("device", "System"),
            f"  bootd version   {info.version or self.app.version}",
            f"  platform        {info.platform} ({info.arch}, firmware {info.firmware})",
            f"  lockdown        {info.lockdown or 'none'}",
            *(f"  {k:<15} {v}" for k, v in info.extra),
            "",
            ("device", "Devices"),
        ]
        for d in sorted(self.app.model.devices.values(), key=lambda d: d.id):
            lines.append(f"  {d.title}")
            lines.append(f"    type {d.type}  node {d.node or '-'}  fs {d.fstype or '-'}")
            lines.append(f"    uuid {d.uuid or '-'}  label {d.label or '-'}")
            lines.append(f"    mounted on {d.mountpoint or '-'}")
        lines += ["", ("device", "Network interfaces")]
        lines += [f"  {name:<10} {addr}" for name, addr in info.interfaces] or ["  (none)"]
        lines += ["", ("device", "Consoles")]
        lines += [f"  {c.name:<8} {c.kind:<7} {c.dt_path or ''}" for c in self.app.consoles] or ["  (none)"]
        self.app.push(TextView("System information", lines))

    async def show_settings(self) -> None:
        self.app.settings = await self.app.backend.get_settings()
        self.app.push(SettingsView(self.app.settings, self.app.consoles, self.save_settings, self.app.back))

    def save_settings(self, changes: dict[str, object]) -> None:
        if not changes:
            self.app.back()
            self.app.status("Settings unchanged")
            return

        async def save() -> None:
            await self.app.backend.set_settings(changes)
            self.app.settings = await self.app.backend.get_settings()
            self.app.back()
            self.app.status("Settings saved")
            self.app.refresh_menu()

        self.app.boots.with_auth(save, "Save settings")
