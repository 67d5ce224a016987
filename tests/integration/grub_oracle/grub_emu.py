"""Real GRUB (Debian's grub-emu) run on a config: what every entry would load.

grub-emu is GRUB's own interpreter and menu built as a host program.  It runs
here with a module directory that holds no loader at all (no ``linux.mod``,
nothing that can kexec), so ``linux``, ``initrd``, ``devicetree`` and their
variants are not commands but GRUB script functions defined by a wrapper
config: they print their arguments, one per line, behind a marker.  GRUB
looks a name up as a command first and as a function only when no command
has it, which is why the loaders must be absent.

Each device of a case becomes a small GPT disk image (one partition with the
case's files, UUID and label) listed in grub-emu's device map, so ``search``,
``test -f`` and ``$root`` work on real filesystems: the scanned device is
``(hd0,gpt1)``, the name bootd gives the device it scans.  The partition's
filesystem is the one the case's device declares (``"fs"``, else its
``"fstype"``, else an ``iso9660`` ``"kind"``): FAT (an EFI system partition,
made by mkfs.fat with the case's volume id and label), ISO 9660 (made by
xorriso, its UUID -- the volume's date as GRUB prints it -- and volume id
the case's), else ext4 (also for the filesystems the harness does not build,
such as xfs).

An entry is run by starting GRUB with ``default`` set to its index path and
``timeout=0``: GRUB prints ``Booting `TITLE'`` for each menu level, runs the
entry's body with ``$chosen`` set to its id path, finds nothing loaded, and
prints "Press any key to continue..." -- the run is complete and the process
is killed (by its pid).  A sentinel entry appended after the config marks the
end of the top-level menu; inside a submenu, an index past the end makes GRUB
boot the submenu's first entry again, which is how the end is recognised.

A menu that ``configfile`` opens (an EFI stub's hand-over, an entry that opens
a snapshot's config) runs with that file's own ``default`` and ``timeout``, so
the harness chooses there by keys once GRUB has drawn it (Home, Down N times,
Enter); the entry chosen is the one the drawing marks with ``*``.  A Down past
the last entry stays on it, which ends such a menu.  The default of a drawn
menu is what Enter boots at once.

Safety: grub-emu is started only through :func:`_argv`, which refuses any
kexec option, runs it as ``nobody`` with no_new_privs and no supplementary
groups, and refuses to run at all if the module directory holds a loader.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import tempfile
import time
import uuid as uuidlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

GRUB_EMU = "/usr/bin/grub-emu"
MODULES = Path("/usr/lib/grub/x86_64-emu")
NOBODY = 65534

# Loaders (and anything that could hand the machine to another kernel), and
# terminals that would take the console away from the pty.
EXCLUDED = re.compile(
    r"^(linux.*|kexec.*|multiboot.*|chain.*|boot|xnu|bsd|gfxterm.*|gfxmenu|sdl|emunet|.*_test|testspeed|testload|videotest.*)\.mod$"
)
LOADERS = re.compile(r"^(linux.*|kexec.*|multiboot.*|chain.*|xnu|bsd|boot)\.mod$")
KEXEC_FLAGS = ("-X", "--kexec")

# Loaded by the wrapper before the config runs: commands autoload from
# $prefix, and the config moves $prefix to its own device.
PRELOAD = (
    "part_gpt part_msdos ext2 fat iso9660 btrfs xfs search search_fs_uuid search_fs_file search_label "
    "test regexp loadenv echo configfile eval sleep true minicmd halt reboot gettext loopback ls cat "
    "probe font video all_video read keystatus datehook date hashsum memdisk tr blocklist"
).split()

LOADER_FUNCTIONS = {
    "linux": "L",
    "linux16": "L",
    "linuxefi": "L",
    "initrd": "I",
    "initrd16": "I",
    "initrdefi": "I",
    "devicetree": "D",
    "multiboot": "M",
    "multiboot2": "M",
    "module": "m",
    "module2": "m",
    "chainloader": "C",
}
SENTINEL = "@@oracle-end@@"
ESCAPES = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][0-9A-B]|\x1b[=>]")
RUN_SECONDS = 30.0
"""A run that has not finished by then is an error (a loaded machine is slow)."""
ROWS, COLUMNS = 40, 500
MENU_HEADER = b"GNU GRUB  version"
KEY_QUIET = 0.25
MENU_QUIET = 0.7
"""A drawn menu quiet this long waits for a key: under a second, since a menu
with a timeout redraws its countdown every second (a run that stalls this long
on a loaded machine looks like one; a differing case is run again)."""
HOME, DOWN, ENTER = b"\x01", b"v", b"\r"
MAX_ENTRIES = 200


class UnsafeRun(RuntimeError):
    """The harness was about to run GRUB in a way that could touch the machine."""


def available() -> bool:
    return os.path.exists(GRUB_EMU) and (MODULES / "normal.mod").exists() and shutil.which("setpriv") is not None


@dataclasses.dataclass(frozen=True)
class DeviceSpec:
    id: str
    files: Mapping[str, bytes]
    uuid: str | None = None
    label: str | None = None
    fs: str = "ext4"
    """``ext4``, ``vfat`` or ``iso9660`` (see :func:`make_disk`)."""


FAT_UUID = re.compile(r"[0-9a-fA-F]{4}-[0-9a-fA-F]{4}")
ISO_UUID = re.compile(r"(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})")
EXT_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
FS_TYPES = ("ext4", "vfat", "iso9660")
LABEL_MAX = {"ext4": 16, "vfat": 11, "iso9660": 32}
PART_TYPE = {
    "ext4": "0FC63DAF-8483-4772-8E79-3D69D8477DE4",  # Linux filesystem
    "vfat": "C12A7328-F81F-11D2-BA4B-00A0C93EC93B",  # EFI system partition
    "iso9660": "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7",  # basic data
}


class BadSpec(ValueError):
    """A case's device cannot be built as it says."""


def check_spec(spec: DeviceSpec) -> None:
    """Raise :class:`BadSpec` unless the filesystem can carry the UUID and label."""
    if spec.fs not in FS_TYPES:
        raise BadSpec(f"{spec.id}: filesystem {spec.fs!r} is not one of {FS_TYPES}")
    form = {"ext4": EXT_UUID, "vfat": FAT_UUID, "iso9660": ISO_UUID}[spec.fs]
    if spec.uuid is not None and not form.fullmatch(spec.uuid):
        raise BadSpec(f"{spec.id}: {spec.uuid!r} is not a {spec.fs} UUID")
    if spec.label is not None and len(spec.label.encode()) > LABEL_MAX[spec.fs]:
        raise BadSpec(f"{spec.id}: label {spec.label!r} is longer than {spec.fs} allows ({LABEL_MAX[spec.fs]})")


@dataclasses.dataclass(frozen=True)
class Loaded:
    """What one GRUB entry asked its loaders for (paths as (disk index, path))."""

    titles: tuple[str, ...]
    chosen: str
    kind: str | None = None
    kernel: tuple[int | str, str] | None = None
    args: tuple[str, ...] = ()
    initrds: tuple[tuple[int | str, str], ...] = ()
    dtb: tuple[int | str, str] | None = None
    output: str = ""
    hashes: tuple[tuple[tuple[int | str, str], str], ...] = ()
    """With ``hashes`` on: the SHA-256 of each file a loader was given, as
    GRUB read it (``sha256sum``), by its (device, path)."""

    def same_entry(self, other: Loaded) -> bool:
        return dataclasses.replace(self, output="") == dataclasses.replace(other, output="")


@dataclasses.dataclass
class OracleResult:
    entries: list[Loaded]
    default: Loaded | None
    runs: int = 0


def _argv(moddir: Path, device_map: Path) -> list[str]:
    """The one way grub-emu is started (see the module documentation)."""
    argv = [
        "setpriv",
        f"--reuid={NOBODY}",
        f"--regid={NOBODY}",
        "--clear-groups",
        "--no-new-privs",
        "--",
        GRUB_EMU,
        "-d",
        str(moddir.parent),
        "-m",
        str(device_map),
    ]
    refuse_unsafe(argv, moddir)
    return argv


def refuse_unsafe(argv: Sequence[str], moddir: Path) -> None:
    """Raise :class:`UnsafeRun` unless grub-emu would run without any kexec
    option, without a loader module, as nobody and with no_new_privs."""
    for arg in argv:
        if arg in KEXEC_FLAGS or arg.startswith("--kexec") or re.fullmatch(r"-[A-Za-z]*X[A-Za-z]*", arg):
            raise UnsafeRun(f"kexec option {arg!r} in {list(argv)}")
    for mod in moddir.iterdir():
        if LOADERS.match(mod.name):
            raise UnsafeRun(f"{mod.name}: a loader module is in the module directory")
    if list(argv[:5]) != ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--no-new-privs"]:
        raise UnsafeRun(f"grub-emu must run as nobody with no_new_privs: {list(argv)}")


def _reachable_tmp() -> Path:
    """A temporary directory nobody can reach (the images must be readable by
    GRUB running as nobody): the usual one, unless a parent is closed."""
    base = Path(tempfile.gettempdir()).resolve()
    for p in (base, *base.parents):
        if not os.stat(p).st_mode & 0o001:
            return Path("/tmp")
    return base


class Workspace:
    """Images, device map and module directory for one case (readable by nobody)."""

    def __init__(self, base: Path) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="grub-oracle-", dir=base))
        self.dir.chmod(0o755)
        grub = self.dir / "grub"
        self.moddir = grub / "x86_64-emu"
        self.moddir.mkdir(parents=True)
        for mod in MODULES.iterdir():
            if EXCLUDED.match(mod.name):
                continue
            os.symlink(mod, self.moddir / mod.name)
        self.device_map = grub / "device.map"
        self.wrapper = grub / "grub.cfg"

    def argv(self) -> list[str]:
        """How GRUB is started for this workspace (always through a guard)."""
        return _argv(self.moddir, self.device_map)

    def cleanup(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def _tree(work: Path, name: str, spec: DeviceSpec) -> tuple[Path, int]:
    tree = work / f"{name}.tree"
    tree.mkdir()
    size = 0
    for rel, data in spec.files.items():
        target = tree / rel.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        size += len(data) + 4096
    return tree, size


def _make_fs(tree: Path, fs: Path, mib: int, spec: DeviceSpec) -> None:
    """The partition's filesystem, holding ``tree``, in the file ``fs``."""
    if spec.fs == "vfat":
        with open(fs, "wb") as f:
            f.truncate(mib << 20)
        cmd = ["mkfs.fat", "-i", (spec.uuid or "").replace("-", "") or "0c8a5f32"]
        if spec.label:
            cmd += ["-n", spec.label]
        subprocess.run([*cmd, str(fs)], check=True, capture_output=True)
        entries = sorted(str(p) for p in tree.iterdir())
        if entries:
            env = {**os.environ, "MTOOLS_SKIP_CHECK": "1", "MTOOLS_NO_VFAT": "0"}
            mcopy = ["mcopy", "-s", "-p", "-m", "-i", str(fs), *entries, "::/"]
            subprocess.run(mcopy, env=env, check=True, capture_output=True)
    elif spec.fs == "iso9660":
        m = ISO_UUID.fullmatch(spec.uuid or "2023-10-05-12-00-00-00")
        assert m is not None  # check_spec
        cmd = ["xorriso", "-abort_on", "FAILURE", "-outdev", str(fs), "-volume_date", "uuid", "".join(m.groups())]
        cmd += ["-volid", spec.label or "ISOIMAGE", "-map", str(tree), "/"]
        subprocess.run(cmd, check=True, capture_output=True)
    else:
        cmd = ["mkfs.ext4", "-q", "-F", "-E", "root_owner=0:0", "-d", str(tree)]
        cmd += ["-U", spec.uuid or str(uuidlib.uuid4())]
        if spec.label:
            cmd += ["-L", spec.label]
        subprocess.run([*cmd, str(fs), f"{mib}M"], check=True, capture_output=True)


def probe_identity(fs: Path) -> dict[str, str]:
    """What libblkid (udev's source, so bootd's discovery) reads from a filesystem image."""
    out = subprocess.run(["blkid", "-p", "-o", "export", str(fs)], check=True, capture_output=True, text=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def make_disk(work: Path, name: str, spec: DeviceSpec) -> Path:
    """A GPT disk image whose one partition holds ``spec.files`` on the
    filesystem ``spec.fs``, with the spec's UUID and label -- checked with
    libblkid, as discovery would read them."""
    check_spec(spec)
    tree, size = _tree(work, name, spec)
    fs = work / f"{name}.fs"
    mib = max(8, size // (1 << 20) * 2 + 8)
    _make_fs(tree, fs, mib, spec)
    mib = max(mib, -(-fs.stat().st_size // (1 << 20)))
    seen = probe_identity(fs)
    want = {"ext4": "ext4", "vfat": "vfat", "iso9660": "iso9660"}[spec.fs]
    if seen.get("TYPE") != want or (spec.uuid and seen.get("UUID", "").lower() != spec.uuid.lower()):
        raise BadSpec(f"{spec.id}: the image built is {seen}, not {spec.fs} with UUID {spec.uuid}")
    disk = work / f"{name}.img"
    with open(disk, "wb") as f:
        f.truncate((mib + 2) << 20)
    subprocess.run(
        ["sfdisk", "-q", "--no-reread", "--no-tell-kernel", str(disk)],
        input=f"label: gpt\nstart=2048, size={mib * 2048}, type={PART_TYPE[spec.fs]}\n",
        text=True,
        check=True,
        capture_output=True,
    )
    with open(fs, "rb") as src, open(disk, "r+b") as dst:
        dst.seek(1 << 20)
        shutil.copyfileobj(src, dst, 1 << 20)
    fs.unlink()
    shutil.rmtree(tree)
    disk.chmod(0o444)
    return disk


def wrapper(config: str, firmware: str, cpu: str, default: str | None, *, hashes: bool = False) -> str:
    """The config GRUB runs: the loader functions, the start environment, the
    case's config (``source``d, so it runs in the top-level context as GRUB's
    own config would), then the run's overrides and the sentinel.  With
    ``hashes``, each loader function first prints ``@@h|FILE`` and GRUB's own
    ``sha256sum`` of every argument that is a file (what GRUB would load from
    a ``loopback`` device, whose name says nothing of the image)."""
    lines = [f"insmod {m}" for m in PRELOAD]
    for name, mark in LOADER_FUNCTIONS.items():
        body = f'echo "@@{mark}|$root"; echo "@@c|$chosen"; for a in "$@"; do echo "@@a|$a"; done; echo "@@e"'
        if hashes:
            body = f'for a in "$@"; do if [ -f "$a" ]; then echo "@@h|$a"; sha256sum "$a"; fi; done; {body}'
        lines.append(f"function {name} {{ {body}; }}")
    lines += [
        "set root=hd0,gpt1",
        f"set prefix=(hd0,gpt1){Path(config).parent}",
        "set cmdpath=$prefix",
        "set config_directory=$prefix",
        f"set config_file=(hd0,gpt1){config}",
        f"set grub_platform={firmware}",
        f"set grub_cpu={cpu}",
        "export cmdpath config_directory config_file grub_platform grub_cpu",
        "unset chosen",
        f"source (hd0,gpt1){config}",
        "set timeout=0",
        "unset fallback",
        "unset timeout_style",
    ]
    if default is not None:
        lines.append(f'set default="{default}"')
    lines.append(f'menuentry "{SENTINEL}" --id {SENTINEL} {{ echo "@@END" ; }}')
    return "\n".join(lines) + "\n"


def _run(ws: Workspace, text: str, keys: Sequence[bytes] = ()) -> tuple[bool, str]:
    """Run GRUB once; type ``keys`` (one chunk each time the console has been
    quiet a moment).  Returns (whether GRUB waits in a menu, the console text)."""
    ws.wrapper.write_text(text)
    ws.wrapper.chmod(0o444)
    argv = ws.argv()
    if os.geteuid() != 0 and os.geteuid() != NOBODY:
        raise UnsafeRun("the oracle switches to nobody and needs root to do so")
    import fcntl
    import struct
    import termios

    winsize = struct.pack("HHHH", ROWS, COLUMNS, 0, 0)
    pid, fd = pty.fork()
    if pid == 0:  # child
        try:
            # The console's size is set here, before GRUB starts: set by the parent
            # after the fork, it raced GRUB's own look at it, and a GRUB that looked
            # first wrapped its lines at 80 columns (ids split by a newline).
            fcntl.ioctl(0, termios.TIOCSWINSZ, winsize)
            os.environ.clear()
            # The SDL video built into grub-emu must fail (gfxterm would take the console
            # away, drawing ASCII art): a video driver that does not exist.
            os.environ.update({"PATH": "/usr/bin:/bin", "TERM": "vt100", "LANG": "C", "SDL_VIDEODRIVER": "none"})
            os.chdir(ws.dir)
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    out = bytearray()
    waiting = False
    try:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, winsize)
        deadline = time.monotonic() + RUN_SECONDS
        last = time.monotonic()
        pending = list(keys)
        typed_at = 0
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.05)
            now = time.monotonic()
            if not ready:
                quiet = now - last
                if pending and quiet > KEY_QUIET and MENU_HEADER in out[typed_at:]:
                    typed_at = len(out)
                    os.write(fd, pending.pop(0))
                    last = now
                elif not pending and quiet > MENU_QUIET and MENU_HEADER in out[typed_at:]:
                    waiting = True  # a menu waits for a key nobody types
                    break
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
            last = now
            tail = out[typed_at:]
            if (b"Booting `" in out or keys) and b"Press any key to continue" in tail or b"@@END" in out:
                break
        else:
            raise TimeoutError(f"grub-emu did not finish an entry in {RUN_SECONDS}s: {bytes(out[-2000:])!r}")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(fd)
    return waiting, ESCAPES.sub(b"", bytes(out)).replace(b"\r", b"").decode("utf-8", "replace")


_DISK = re.compile(r"\(?hd(\d+)(?:,gpt1)?\)?")


def _where(root: str, arg: str) -> tuple[int | str, str]:
    if arg.startswith("("):
        end = arg.find(")")
        dev, path = arg[1:end], arg[end + 1 :]
    else:
        dev, path = root, arg
    m = _DISK.fullmatch(dev)
    return (int(m.group(1)) if m else dev), path


def menu_opened(text: str, typed: int) -> bool:
    """Whether, after the ``typed`` key chunks, GRUB drew a new menu that the
    entry opened (a submenu chosen by key, a configfile menu), rather than
    redrawing the same menu after an entry that loaded nothing."""
    before, *drawings = text.split(MENU_HEADER.decode())
    if len(drawings) <= typed:
        return False
    ran = drawings[typed - 1] if typed else before
    if "@@" in ran:
        return False
    if typed == 0:
        return True

    def plain(d: str) -> str:
        return re.sub(r"[*]", " ", d.split("@@", 1)[0])

    return plain(drawings[-1]) != plain(drawings[-2])


def parse_output(text: str, typed: int = 0) -> Loaded | None:
    """One run's console output as the entry it booted (None: the sentinel);
    ``typed``: how many menus were chosen from by keys."""
    titles: list[str] = []
    for m in re.finditer(r"Booting `(.*)'\n", text):
        titles.append(m.group(1))
    # A menu chosen from by keys: each drawing of a menu marks the highlighted
    # entry with "*"; the last mark of each drawing is the entry chosen there.
    for drawing in text.split(MENU_HEADER.decode())[1 : 1 + typed]:
        marks = re.findall(r"\*([^ \n].*?) {3,}", drawing.split("@@", 1)[0])
        if marks:
            titles.append(marks[-1])
    if "@@END" in text and (not titles or titles[-1] == SENTINEL):
        return None
    calls: list[tuple[str, str, str, list[str]]] = []
    hashes: dict[tuple[int | str, str], str] = {}
    pending: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        hashed = re.search(r"@@h\|(.*)$", line)
        if hashed and i + 1 < len(lines):
            # (a progress line of GRUB's file reader may come first on the line)
            digest = re.search(r"([0-9a-f]{64})  ", lines[i + 1])
            if digest:
                pending[hashed.group(1)] = digest.group(1)
        call = re.search(r"@@([LIDMmC])\|(.*)$", line)
        if call:
            for arg, digest_hex in pending.items():
                hashes[_where(call.group(2), arg)] = digest_hex
            pending = {}
            args: list[str] = []
            ch: list[str] = []
            current: list[str] | None = None
            i += 1
            while i < len(lines) and not lines[i].startswith("@@e"):
                a = lines[i]
                if a.startswith("@@c|"):
                    ch.append(a[4:])
                    current = ch
                elif a.startswith("@@a|"):
                    args.append(a[4:])
                    current = args
                elif current:  # the console wrapped a long line, or a value holds a newline
                    current[-1] += ("" if len(lines[i - 1]) >= COLUMNS - 1 else "\n") + a
                i += 1
            calls.append((call.group(1), call.group(2), ch[0] if ch else "", args))
        i += 1
    kind: str | None = None
    kernel = dtb = None
    kargs: tuple[str, ...] = ()
    initrds: list[tuple[int | str, str]] = []
    chosen = ""
    for mark, root, chosen_now, call_args in calls:
        chosen = chosen_now
        args = call_args
        files = [a for a in args if not a.startswith("--")]
        if mark in "LM" and files:
            kind = "linux" if mark == "L" else "multiboot"
            kernel = _where(root, files[0])
            kargs = tuple(args[args.index(files[0]) + 1 :])
            initrds = []
        elif mark == "I" and kind:
            initrds = [_where(root, f.split(":", 2)[-1] if f.startswith("newc:") else f) for f in files]
        elif mark == "m" and kind == "multiboot" and files:
            initrds.append(_where(root, files[0]))
        elif mark == "D" and args:
            dtb = _where(root, args[0])
        elif mark == "C":
            kind, kernel = "chainloader", None
    return Loaded(
        tuple(titles), chosen, kind, kernel, kargs, tuple(initrds), dtb, text, tuple(sorted(hashes.items(), key=str))
    )


class Oracle:
    """Runs one case's config under grub-emu, entry by entry."""

    def __init__(
        self,
        devices: Sequence[DeviceSpec],
        config: str,
        *,
        firmware: str = "efi",
        cpu: str = "x86_64",
        hashes: bool = False,
    ) -> None:
        self.devices = list(devices)
        self.config = config
        self.firmware = firmware
        self.cpu = cpu
        self.hashes = hashes
        self.runs = 0

    def _wrapper(self, default: str | None) -> str:
        return wrapper(self.config, self.firmware, self.cpu, default, hashes=self.hashes)

    @contextlib.contextmanager
    def _workspace(self) -> Iterator[Workspace]:
        ws = Workspace(_reachable_tmp())
        try:
            lines = []
            for n, dev in enumerate(self.devices):
                disk = make_disk(ws.dir, f"disk{n}", dev)
                lines.append(f"(hd{n}) {disk}")
            ws.device_map.write_text("\n".join(lines) + "\n")
            ws.device_map.chmod(0o444)
            yield ws
        finally:
            ws.cleanup()

    def _entry(self, ws: Workspace, path: Sequence[int], by_default: int) -> tuple[bool, Loaded | None]:
        """Boot the entry at ``path``: its first ``by_default`` steps through
        ``default``, the rest by keys in menus GRUB draws (configfile menus)."""
        self.runs += 1
        default = ">".join(str(p) for p in path[:by_default]) if by_default else None
        keys = [HOME + DOWN * p + ENTER for p in path[by_default:]]
        waiting, text = _run(ws, self._wrapper(default), keys)
        return waiting and menu_opened(text, len(keys)), parse_output(text, len(keys))

    def run(self) -> OracleResult:
        with self._workspace() as ws:
            entries: list[Loaded] = []
            waiting, top = self._entry(ws, (0,), 1)
            top_by_keys = waiting and top is not None and "Booting `" not in top.output
            todo: list[tuple[tuple[int, ...], int]] = [((0,), 0 if top_by_keys else 1)]
            first_of: dict[tuple[int, ...], Loaded] = {}
            while todo and len(entries) < MAX_ENTRIES:
                path, by_default = todo.pop()
                waiting, got = self._entry(ws, path, by_default)
                if got is None:  # past the top-level menu
                    continue
                parent = path[:-1]
                if path[-1] == 0:
                    first_of[parent] = got
                elif len(path) <= by_default and parent and got.same_entry(first_of[parent]):
                    continue  # past the end of a submenu: GRUB went back to its first entry
                elif len(path) > by_default and got.same_entry(first_of[parent]):
                    continue  # a key past the end of a drawn menu stays on its last entry
                if len(path) > by_default:
                    first_of[parent] = got  # the previous sibling, for the test above
                todo.append(((*path[:-1], path[-1] + 1), by_default))
                if waiting:  # a menu drawn after this entry (configfile, or a submenu chosen by key)
                    todo.append(((*path, 0), by_default))
                    continue
                if len(got.titles) > len(path):  # a submenu booted through default: open it
                    todo.append(((*path, 0), by_default + 1))
                    continue
                entries.append(got)
            default = self._default(ws, top_by_keys)
        return OracleResult(entries, default, self.runs)

    def _default(self, ws: Workspace, top_by_keys: bool) -> Loaded | None:
        """What GRUB boots when nobody chooses: each drawn menu's highlighted entry."""
        keys: list[bytes] = [ENTER] if top_by_keys else []
        for _ in range(8):
            self.runs += 1
            waiting, text = _run(ws, self._wrapper(None), keys)
            if not (waiting and menu_opened(text, len(keys))):
                return parse_output(text, len(keys))
            keys.append(ENTER)
        return None


MEDIA_FS = {"CentOS_7_x86_64_DVD_1810": "iso9660"}
"""Devices of u-root cases (copied unchanged, so without an ``fs``) whose
filesystem is known otherwise: the CentOS 7 DVD is an ISO 9660 medium (its
label is the DVD's volume id; the FAT-shaped UUID u-root kept cannot be an
ISO 9660 one, so one is made from the device's id)."""


def specs_from_case(case: Mapping[str, Any]) -> list[DeviceSpec]:
    """A corpus case's devices (its own first), as in tests/unit/grub/helpers.py."""
    import base64

    def files(raw: Mapping[str, str]) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        for key, text in raw.items():
            if key.startswith("base64:"):
                out[key[len("base64:") :]] = base64.b64decode(text)
            else:
                out[key] = text.encode()
        return out

    def fs_of(meta: Mapping[str, Any]) -> str:
        declared = str(meta.get("fs") or meta.get("fstype") or MEDIA_FS.get(str(meta.get("id")), ""))
        if not declared and "iso9660" in str(meta.get("kind", "")):
            declared = "iso9660"
        return declared if declared in FS_TYPES else "ext4"

    def uuid_of(meta: Mapping[str, Any], fs: str) -> str:
        """The case's UUID when the filesystem can carry it, else one made
        from the device's id (always the same for a case)."""
        value = meta.get("fs_uuid")
        form = {"ext4": EXT_UUID, "vfat": FAT_UUID, "iso9660": ISO_UUID}[fs]
        if value and form.fullmatch(str(value)):
            # As libblkid (so discovery) shows it: a FAT volume id in capitals.
            return str(value).upper() if fs == "vfat" else str(value)
        digest = hashlib.sha256(json.dumps(meta.get("id")).encode()).digest()
        if fs == "vfat":
            return f"{digest[:2].hex()}-{digest[2:4].hex()}".upper()
        if fs == "iso9660":
            n = int.from_bytes(digest[:8], "big")
            return f"{2000 + n % 30}-{1 + n // 30 % 12:02}-{1 + n // 360 % 28:02}-{n // 10080 % 24:02}-00-00-00"
        return str(uuidlib.UUID(bytes=digest[:16]))

    def spec(meta: Mapping[str, Any], raw: Mapping[str, str]) -> DeviceSpec:
        fs = fs_of(meta)
        label = meta.get("label")
        if fs == "ext4" and label:
            label = str(label)[: LABEL_MAX["ext4"]]
        return DeviceSpec(str(meta["id"]), files(raw), uuid_of(meta, fs), label, fs)

    devs = [spec(case["device"], case["files"])]
    devs[0] = dataclasses.replace(devs[0], files={**devs[0].files, **iso_images(case.get("isos", {}))})
    for other in case.get("other_devices", []):
        devs.append(spec(other, other.get("files", {})))
    return devs


def iso_images(isos: Mapping[str, Mapping[str, Any]]) -> dict[str, bytes]:
    """A case's ``isos`` (path on the device → ``files`` and ``rock``/``joliet``
    flags): ISO9660 images built with xorriso, by path."""
    from tests.isobuild import build_iso

    out: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory() as d:
        for n, (path, spec) in enumerate(isos.items()):
            image = build_iso(
                Path(d) / f"{n}.iso",
                dict(spec["files"]),
                rock=bool(spec.get("rock", True)),
                joliet=bool(spec.get("joliet", True)),
            )
            out[path] = image.read_bytes()
    return out
