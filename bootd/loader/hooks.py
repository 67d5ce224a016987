"""Boot hooks: executables in ``/etc/bootd/boot.d/`` run before kexec.

Each hook runs in name order with ``BOOT_IMAGE``, ``BOOT_INITRD``,
``BOOT_DTB``, ``BOOT_ARGS`` and ``BOOT_CONSOLE`` in its environment (empty
when a value is absent).  Exit status 0 keeps the values; exit status 2 means
"replace": every ``NAME=VALUE`` line the hook printed on stdout, for one of
those names, replaces that value for the hooks that follow and for the boot.
Any other status (or a timeout) stops the boot with a
:class:`~bootd.errors.HookError` naming the hook and its last line of output.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

from bootd.errors import BootdError, HookError
from bootd.model import N_
from bootd.platform import Platform

log = logging.getLogger(__name__)

DEFAULT_HOOKS_DIR = Path("/etc/bootd/boot.d")
HOOK_TIMEOUT = 60.0
REPLACE_STATUS = 2


@dataclass(frozen=True)
class HookValues:
    image: str
    initrd: str = ""
    dtb: str = ""
    args: str = ""
    console: str = ""

    def env(self) -> dict[str, str]:
        return {f"BOOT_{f.name.upper()}": getattr(self, f.name) for f in fields(self)}


_NAMES = {f"BOOT_{f.name.upper()}": f.name for f in fields(HookValues)}


def list_hooks(hooks_dir: Path | None) -> list[Path]:
    """The executables in ``hooks_dir`` in name order (dotfiles and ``~`` backups skipped)."""
    if hooks_dir is None or not hooks_dir.is_dir():
        return []
    out = []
    for entry in sorted(os.scandir(hooks_dir), key=lambda e: e.name):
        if entry.name.startswith(".") or entry.name.endswith("~"):
            continue
        if entry.is_file() and os.access(entry.path, os.X_OK):
            out.append(Path(entry.path))
        else:
            log.debug("%s: not an executable file; skipped", entry.path)
    return out


def apply_updates(values: HookValues, stdout: str) -> tuple[HookValues, list[str]]:
    """Values after a hook's ``NAME=VALUE`` lines; also the names it changed."""
    changes: dict[str, str] = {}
    for line in stdout.splitlines():
        name, sep, value = line.partition("=")
        if sep and name.strip() in _NAMES:
            changes[_NAMES[name.strip()]] = value
    return replace(values, **changes), sorted(changes)


async def run_hooks(platform: Platform, hooks_dir: Path | None, values: HookValues) -> tuple[HookValues, list[str]]:
    """Run every hook; the final values and notes saying what each hook changed."""
    notes: list[str] = []
    for hook in list_hooks(hooks_dir):
        try:
            result = await platform.boot.run_hook(hook, values.env(), timeout=HOOK_TIMEOUT)
        except BootdError as e:
            raise HookError.of(N_("boot hook {hook} failed: {error}; not booting"), hook=hook.name, error=e) from None
        if result.returncode == REPLACE_STATUS:
            values, changed = apply_updates(values, result.stdout)
            if changed:
                notes.append(f"boot hook {hook.name} changed {', '.join(changed)}")
            continue
        if result.returncode != 0:
            lines = (result.stderr or result.stdout).strip().splitlines()
            detail = lines[-1] if lines else "no output"
            raise HookError.of(
                N_("boot hook {hook} failed (exit status {status}): {detail}; not booting"),
                hook=hook.name,
                status=result.returncode,
                detail=detail,
            )
    return values, notes
