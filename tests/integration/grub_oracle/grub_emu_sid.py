"""Real GRUB 2.14 (Debian sid's grub-emu, in the cached root of :mod:`sidroot`)
run on a config, for what GRUB 2.06 cannot run: ``blscfg``.

Everything works as in :mod:`tests.integration.grub_oracle.grub_emu` (module
directory without loaders, loader functions that print their arguments, one
run per entry); the differences:

* the workspace (disk images, device map, module directory, wrapper) is made
  inside the sid root, and GRUB is started as
  ``chroot ROOT setpriv --reuid=nobody ... --no-new-privs -- grub-emu ...``:
  :func:`refuse_unsafe` checks that the chroot is the cached root and then
  applies the harness's own guard to the rest of the command (no kexec
  option, no loader module, nobody, no_new_privs);
* ``blscfg`` is built into this grub-emu and reads the host's entries there
  (its device is "host" in the emulator, and the chroot is the host), while on
  a machine it reads ``($root)/loader/entries/``.  So on the disk images GRUB
  reads, each ``blscfg`` command of a ``.cfg`` file gets ``--path
  "($root)/loader/entries/"`` put before its own arguments (a ``--path`` of
  the config's own comes later and wins): the device and directory GRUB uses
  on a machine.  A ``--path`` of the config's own that names a directory
  or file without a device (``--path /DIR``) gets ``($root)`` put before
  it, for the same reason: in the emulator GRUB would read the host's.
  bootd reads the files as they are.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from tests.integration.grub_oracle import grub_emu, sidroot
from tests.integration.grub_oracle.grub_emu import (
    EXCLUDED,
    KEXEC_FLAGS,
    LOADERS,
    NOBODY,
    Loaded,
    UnsafeRun,
    Workspace,
    make_disk,
)

CHROOT = "/usr/sbin/chroot"
MACHINE_DEFAULT = '--path "($root)/loader/entries/"'
_BLSCFG = re.compile(r"(^|[;{]|\bthen|\bdo|\belse)([ \t]*)blscfg\b(?=[ \t;]|$)([^;\n}]*)", re.M)


_OWN_PATH = re.compile(r"""((?:--path[= ]|-p ?)[ \t]*["']?)/""")


def on_machine(config: bytes) -> bytes:
    """A config whose ``blscfg`` commands read what they read on a machine."""
    text = config.decode("utf-8", "surrogateescape")

    def command(m: re.Match[str]) -> str:
        rest = _OWN_PATH.sub(lambda p: f"{p.group(1)}($root)/", m.group(3))
        return f"{m.group(1)}{m.group(2)}blscfg {MACHINE_DEFAULT}{rest}"

    return _BLSCFG.sub(command, text).encode("utf-8", "surrogateescape")


def refuse_unsafe(argv: Sequence[str], root: Path, moddir: Path) -> None:
    """Raise :class:`UnsafeRun` unless ``argv`` enters the cached sid root and
    starts its grub-emu-lite as nobody, with no_new_privs, no kexec option,
    and a module directory without any loader but ``boot.mod`` and without any
    module that holds kexec code."""
    if len(argv) < 3 or argv[0] != CHROOT or argv[1] != str(root):
        raise UnsafeRun(f"GRUB 2.14 runs only inside the cached root {root}: {list(argv)}")
    if not sidroot.usable(root):
        raise UnsafeRun(f"{root} is not a finished oracle root")
    inner = list(argv[2:])
    for arg in inner:
        if arg in KEXEC_FLAGS or arg.startswith("--kexec") or re.fullmatch(r"-[A-Za-z]*X[A-Za-z]*", arg):
            raise UnsafeRun(f"kexec option {arg!r} in {list(argv)}")
    if inner[:6] != ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--no-new-privs", "--"]:
        raise UnsafeRun(f"grub-emu must run as nobody with no_new_privs: {list(argv)}")
    if inner[6:7] != [sidroot.GRUB_EMU]:
        raise UnsafeRun(f"only {sidroot.GRUB_EMU} is started (it loads every module from -d): {list(argv)}")
    for mod in moddir.iterdir():
        if LOADERS.match(mod.name) and mod.name != "boot.mod":
            raise UnsafeRun(f"{mod.name}: a loader module is in the module directory")
        if mod.name.endswith(".mod") and b"kexec" in _module_bytes(root, mod):
            raise UnsafeRun(f"{mod.name}: a module with kexec code is in the module directory")


def _module_bytes(root: Path, mod: Path) -> bytes:
    """A module's contents (its symlink resolved inside the root)."""
    target = os.readlink(mod) if mod.is_symlink() else None
    path = root / target.lstrip("/") if target and target.startswith("/") else mod
    return path.read_bytes()


class SidWorkspace(Workspace):
    """A workspace inside the sid root, its modules those of GRUB 2.14."""

    def __init__(self, root: Path) -> None:  # no super().__init__: other modules, other base
        self.root = root
        self.dir = Path(tempfile.mkdtemp(prefix="grub-oracle-", dir=root / "tmp"))
        self.dir.chmod(0o755)
        grub = self.dir / "grub"
        self.moddir = grub / "x86_64-emu"
        self.moddir.mkdir(parents=True)
        modules = root / sidroot.MODULES.lstrip("/")
        for mod in modules.iterdir():
            # boot.mod is what normal.mod needs to load; it runs only a loader a
            # loader module registered, and none is here (see refuse_unsafe).
            if EXCLUDED.match(mod.name) and mod.name != "boot.mod":
                continue
            os.symlink(f"{sidroot.MODULES}/{mod.name}", self.moddir / mod.name)  # resolved inside the root
        # Commands of the modules left out are not announced either (an
        # announced command would hide the harness's function of that name).
        present = {p.name.removesuffix(".mod") for p in self.moddir.iterdir()}
        listed = (modules / "command.lst").read_text().splitlines()
        kept = [line for line in listed if line.rsplit(":", 1)[-1].strip() in present]
        (self.moddir / "command.lst").unlink()
        (self.moddir / "command.lst").write_text("\n".join(kept) + "\n")
        self.device_map = grub / "device.map"
        self.wrapper = grub / "grub.cfg"

    def inside(self, path: Path) -> str:
        """``path`` as GRUB sees it from inside the root."""
        return "/" + str(path.relative_to(self.root))

    def argv(self) -> list[str]:
        argv = [CHROOT, str(self.root), "setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
        argv += ["--no-new-privs", "--"]
        argv += [sidroot.GRUB_EMU, "-d", self.inside(self.moddir.parent), "-m", self.inside(self.device_map)]
        refuse_unsafe(argv, self.root, self.moddir)
        return argv


class GrubCrashed(RuntimeError):
    """GRUB itself failed (its C library found the heap corrupted): no answer."""


_CRASH = re.compile(r"\b(?:free|realloc|malloc)\(\): [^\n]*|double free[^\n]*|corrupted [^\n]*")


def _check(loaded: Loaded | None) -> None:
    m = _CRASH.search(loaded.output) if loaded is not None else None
    if m:
        raise GrubCrashed(
            f"grub-emu aborted ({m.group(0)!r}): GRUB 2.14's blscfg writes one byte past the buffer of an "
            "expanded variable, which glibc catches for some lengths; choose other values for the case"
        )


class SidOracle(grub_emu.Oracle):
    """:class:`grub_emu.Oracle` with GRUB 2.14 from the sid root."""

    def __init__(self, root: Path, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.root = root

    def _wrapper(self, default: str | None) -> str:
        # Commands autoload from $prefix, which the config moves to its own device.
        return "insmod blsuki\n" + super()._wrapper(default)

    def _entry(self, ws: Workspace, path: Sequence[int], by_default: int) -> tuple[bool, Loaded | None]:
        waiting, got = super()._entry(ws, path, by_default)
        _check(got)
        return waiting, got

    def _default(self, ws: Workspace, top_by_keys: bool) -> Loaded | None:
        got = super()._default(ws, top_by_keys)
        _check(got)
        return got

    @contextlib.contextmanager
    def _workspace(self) -> Iterator[Workspace]:
        ws = SidWorkspace(self.root)
        try:
            lines = []
            for n, dev in enumerate(self.devices):
                files = {k: on_machine(v) if k.endswith(".cfg") else v for k, v in dev.files.items()}
                disk = make_disk(ws.dir, f"disk{n}", dataclasses.replace(dev, files=files))
                lines.append(f"(hd{n}) {ws.inside(disk)}")
            ws.device_map.write_text("\n".join(lines) + "\n")
            ws.device_map.chmod(0o444)
            yield ws
        finally:
            ws.cleanup()
