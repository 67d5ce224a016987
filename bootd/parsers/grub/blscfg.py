"""GRUB's ``blscfg`` command: Boot Loader Specification entries as menu entries.

As Fedora's GRUB does, entries come from ``$blsdir`` (else the standard
entry directories) on the ``$boot`` device (else ``$root``), in the BLS
parser's menu order; ``$kernelopts``-style variables in ``options``,
``linux`` and ``initrd`` are expanded from the GRUB environment when the
command runs; each entry's id is its file name, so ``saved_entry`` picks it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bootd.model import Severity
from bootd.parsers.grub.loaders import quote_cmdline
from bootd.parsers.grub.state import Loaded, MenuItem

if TYPE_CHECKING:
    from bootd.parsers.grub.interpreter import Interpreter

_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


def expand(it: Interpreter, text: str) -> str:
    """``$name``/``${name}`` replaced by the variable's value (empty when unset)."""
    return _VAR.sub(lambda m: it.get(m.group(1) or m.group(2)), text)


def run_blscfg(it: Interpreter, args: list[str]) -> int:
    try:
        from bootd.parsers import bls
    except ImportError:  # the BLS parser is part of bootd; guard anyway
        it.warn("blscfg: the BLS parser is not available", severity=Severity.ERROR, once=True)
        return 1
    device = it.get("boot") or it.get("root")
    target = it.table.target(device)
    if target.view is None:
        # The device $root names is not known (a search for a UUID nobody
        # carries yet): the entries GRUB would read sit beside the config
        # that runs blscfg, on the device being scanned.
        it.warn(f"blscfg: {device} is not a known device; reading the entries of the scanned device", once=True)
        device = it.table.root_name
        target = it.table.self_target
    assert target.view is not None
    blsdir = it.get("blsdir")
    directories = (blsdir,) if blsdir else bls.DIRECTORIES
    entries, diags = bls.load_entries(target.view, directories)
    for d in diags:
        it.warn(d.message)
    if target.view is it.table.view and entries:
        # The plain BLS parser would list these same entries again.
        it.used_blscfg = True
    root = device
    for entry in entries:
        if entry.linux is None:
            continue
        kernel_path = expand(it, entry.linux).strip()
        if not kernel_path:
            continue
        loaded = Loaded(kind="linux")
        loaded.kernel = it.table.resource(_on(root, kernel_path), root)
        loaded.args = quote_cmdline(expand(it, entry.options).split())
        for initrd in entry.initrds:
            for path in expand(it, initrd).split():
                loaded.initrds.append(it.table.resource(_on(root, path), root))
        if entry.devicetree:
            dtb = expand(it, entry.devicetree).strip()
            if dtb:
                loaded.dtb = it.table.resource(_on(root, dtb), root)
        it.add_item(
            MenuItem(
                kind="entry",
                title=entry.title or entry.version or entry.file_stem,
                entry_id=entry.file_stem,
                args=[],
                body=(),
                ctx=it.ctx,
                loaded=loaded,
                file=entry.path,
            )
        )
    return 0


def _on(device: str, path: str) -> str:
    """A path on the BLS device unless it names its own device."""
    if path.startswith("("):
        return path
    return f"({device}){path if path.startswith('/') else '/' + path}"
