"""GRUB commands, as the sandbox runs them.

Each command takes the interpreter and its arguments and returns the exit
status (``$?``).  Loader commands (``linux``, ``initrd``, ``devicetree``,
``multiboot``, ``module``) record what the menu entry being evaluated would
load.  Display and hardware commands are accepted and do nothing.  Nothing
here reaches the host: files come through device views, and ``save_env``
only changes memory.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from bootd.model import N_, Severity, Text
from bootd.parsers.grub import grubenv
from bootd.parsers.grub.loaders import LOADERS, quote_cmdline
from bootd.parsers.grub.regex import RegexError, search
from bootd.parsers.grub.state import BreakLoop, ContinueLoop, Halt, MenuReplaced, ReturnFromFunction
from bootd.parsers.grub.testcmd import evaluate_test

if TYPE_CHECKING:
    from bootd.parsers.grub.interpreter import Interpreter

Command = Callable[["Interpreter", list[str]], int]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
MAX_ECHOES = 1000


def cmd_set(it: Interpreter, args: list[str]) -> int:
    if not args:
        return 0
    name, eq, value = args[0].partition("=")
    if not _NAME.match(name):
        return 1
    it.set(name, value if eq else "")
    return 0


def cmd_unset(it: Interpreter, args: list[str]) -> int:
    for name in args:
        it.ctx.vars.pop(name, None)
    return 0


def cmd_export(it: Interpreter, args: list[str]) -> int:
    it.ctx.exported.update(args)
    return 0


def cmd_true(it: Interpreter, args: list[str]) -> int:
    return 0


def cmd_false(it: Interpreter, args: list[str]) -> int:
    return 1


def cmd_test(it: Interpreter, args: list[str]) -> int:
    return 0 if evaluate_test(it, args) else 1


def cmd_bracket(it: Interpreter, args: list[str]) -> int:
    if not args or args[-1] != "]":
        it.warn(Text.of(N_("'[' without a closing ']'")), once=True)
        return 1
    return cmd_test(it, args[:-1])


def cmd_echo(it: Interpreter, args: list[str]) -> int:
    if len(it.echoes) < MAX_ECHOES:
        it.echoes.append(list(args))
    return 0


def cmd_break(it: Interpreter, args: list[str]) -> int:
    raise BreakLoop(_count(args))


def cmd_continue(it: Interpreter, args: list[str]) -> int:
    raise ContinueLoop(_count(args))


def cmd_return(it: Interpreter, args: list[str]) -> int:
    status = it.status
    if args:
        status = int(args[0]) & 0xFF if re.fullmatch(r"[0-9]{1,9}", args[0]) else 1
    raise ReturnFromFunction(status)


def _count(args: list[str]) -> int:
    if args and re.fullmatch(r"[0-9]{1,9}", args[0]):
        return max(1, int(args[0]))
    return 1


def cmd_shift(it: Interpreter, args: list[str]) -> int:
    n = _count(args)
    if n > len(it.ctx.positional):
        return 1
    it.ctx.positional = it.ctx.positional[n:]
    return 0


def cmd_setparams(it: Interpreter, args: list[str]) -> int:
    it.ctx.positional = list(args)
    return 0


# -- search -------------------------------------------------------------------


def cmd_search(it: Interpreter, args: list[str], mode: str | None = None) -> int:
    var: str | None = None
    key: str | None = None
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg in ("-f", "--file"):
            mode = "file"
        elif arg in ("-u", "--fs-uuid"):
            mode = "uuid"
        elif arg in ("-l", "--label"):
            mode = "label"
        elif arg.startswith("--set="):
            var = arg[6:]
        elif arg in ("-s", "--set"):
            # --set takes an optional name: a following word is the name when
            # another word is left to search for.
            remaining = [a for a in args[i:] if not a.startswith("-")]
            if len(rest) + len(remaining) >= 2 and i < len(args) and _NAME.match(args[i]):
                var = args[i]
                i += 1
            else:
                var = "root"
        elif arg.startswith("--hint") or arg == "-h":
            if "=" not in arg and i < len(args):
                i += 1
        elif arg.startswith("-"):
            continue
        else:
            rest.append(arg)
    if not rest:
        return 1
    key = rest[0]
    if var is None and len(rest) > 1:
        var = rest[1]
    mode = mode or "file"
    for device, target in it.table.devices():
        if mode == "uuid":
            hit = device.uuid is not None and device.uuid.lower() == key.lower()
        elif mode == "label":
            hit = device.label is not None and device.label == key
        else:
            _, path = it.table.locate(key if key.startswith("/") else "/" + key, "")
            hit = target.view is not None and target.view.is_file(path)
        if hit:
            if var:
                it.set(var, it.table.name_for(device, target))
            return 0
    # Found nowhere: GRUB leaves the variable as it was (so $root stays the
    # device the config is on) and the command fails.
    if mode in ("uuid", "label"):
        it.not_found.append(f"{mode}={key}")
    return 1


def _search_as(mode: str) -> Command:
    def run(it: Interpreter, args: list[str]) -> int:
        return cmd_search(it, args, mode)

    return run


# -- regexp ---------------------------------------------------------------------


def cmd_regexp(it: Interpreter, args: list[str]) -> int:
    sets: list[tuple[int, str]] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        spec: str | None = None
        if arg.startswith("--set="):
            spec = arg[6:]
        elif arg in ("-s", "--set") and i < len(args):
            spec = args[i]
            i += 1
        else:
            rest.append(arg)
            continue
        num, colon, name = spec.partition(":")
        if not colon:
            num, name = "1", spec
        if not re.fullmatch(r"[0-9]{1,3}", num):
            return 1
        sets.append((int(num), name))
    if len(rest) != 2:
        return 1
    try:
        groups = search(rest[0], rest[1])
    except RegexError as e:
        it.warn(f"regexp {rest[0]!r}: {e}", once=True)
        return 1
    if groups is None:
        return 1
    for index, var in sets:
        value = groups[index] if 0 <= index < len(groups) else None
        it.set(var, value or "")
    return 0


# -- environment blocks -----------------------------------------------------------


def _env_file(it: Interpreter, args: list[str]) -> tuple[str, list[str]]:
    path = it.get("prefix") + "/grubenv"
    names: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg in ("-f", "--file") and i < len(args):
            path = args[i]
            i += 1
        elif arg.startswith("--file="):
            path = arg[7:]
        elif arg.startswith("-"):
            continue
        else:
            names.append(arg)
    return path, names


def _env_key(it: Interpreter, path: str) -> str:
    target, p = it.locate(path)
    return f"{target.device_id or target.selector or ''}:{p}"


def cmd_load_env(it: Interpreter, args: list[str]) -> int:
    path, names = _env_file(it, args)
    values: dict[str, str] = {}
    found = it.read(path)
    if found is not None:
        try:
            values = grubenv.parse(found[0])
        except grubenv.EnvBlockError as e:
            it.warn(f"{found[1]}: {e}", once=True)
            return 1
    stored = it.env_store.get(_env_key(it, path))
    if stored is not None:
        values = {**values, **stored}
    elif found is None:
        return 1
    for name, value in values.items():
        if names and name not in names:
            continue
        if not _NAME.match(name):
            continue
        if name == "next_entry" and value and it.grubenv_next_entry is None:
            it.grubenv_next_entry = value
        it.set(name, value)
    return 0


def cmd_save_env(it: Interpreter, args: list[str]) -> int:
    path, names = _env_file(it, args)
    store = it.env_store.setdefault(_env_key(it, path), {})
    for name in names:
        store[name] = it.get(name)
    return 0


# -- files ---------------------------------------------------------------------


def cmd_source(it: Interpreter, args: list[str]) -> int:
    if not args:
        return 1
    found = it.read(args[0])
    if found is None:
        return 1
    return it.run_file(*found)


def cmd_eval(it: Interpreter, args: list[str]) -> int:
    """``eval``: the arguments joined by spaces run as script text in the
    current context (GRUB's grub_script_execute_sourcecode, like ``source``)."""
    text = " ".join(args)
    if it.source_depth >= it.limits.source_depth:
        it.warn(Text.of(N_("eval nested deeper than {depth}; skipped"), depth=it.limits.source_depth))
        return 1
    script = it.script(text, it.file or "eval", (-1, "eval\0" + text))
    it.source_depth += 1
    try:
        return it.run(script.body)
    finally:
        it.source_depth -= 1


def cmd_configfile(it: Interpreter, args: list[str]) -> int:
    if not args:
        return 1
    found = it.read(args[0])
    if found is None:
        target, path = it.locate(args[0])
        if target.view is None and target.selector is not None:
            # an EFI stub that hands over to the real config on a device not seen yet
            message = Text.of(
                N_("configfile {path}: no known device has {selector}; its menu is not shown"),
                path=path,
                selector=target.selector,
            )
            it.warn(message, severity=Severity.INFO)
        elif it.not_found:
            # the search before it found nothing, so $root is still this device
            message = Text.of(
                N_("configfile {path}: not on this device, and no known device has {selector}; its menu is not shown"),
                path=path,
                selector=it.not_found[-1],
            )
            it.warn(message, severity=Severity.INFO)
        return 1
    if it.source_depth >= it.limits.source_depth:
        it.warn(
            Text.of(
                N_("{file}: files nested deeper than {depth} (a configfile cycle?); skipped"),
                file=found[1],
                depth=it.limits.source_depth,
            )
        )
        return 1
    ctx = it.run_menu_file(*found)
    if ctx.menu:
        raise MenuReplaced(ctx)
    return 0


def cmd_blscfg(it: Interpreter, args: list[str]) -> int:
    from bootd.parsers.grub.blscfg import run_blscfg

    return run_blscfg(it, args)


def cmd_loopback(it: Interpreter, args: list[str]) -> int:
    # ISO9660 images and their reader load when a config first uses one
    from bootd.parsers.grub.loopback import cmd_loopback as run

    return run(it, args)


def cmd_noop(it: Interpreter, args: list[str]) -> int:
    return 0


def cmd_fail(it: Interpreter, args: list[str]) -> int:
    return 1


NOOPS = (
    "insmod rmmod loadfont font terminal_output terminal_input terminal serial background_image background_color "
    "play clear sleep gfxmode set_background videoinfo videotest lsfonts load_video cpuid read_byte "
    "vbeinfo vbetest locale i18n gettext lsmod savedefault recordfail probe nativedisk "
    "acpi badram cutmem fakebios hashsum md5sum sha1sum sha256sum sha512sum verify_detached trust distrust "
    "password password_pbkdf2 terminfo tpm rngseed setpci outb outw outl gptsync parttool drivemap "
    "efi_gop efi_uga smbios boot reboot halt exit help pager timeout fix_video btrfs-mount-subvol "
    "fwsetup lsefi lsefimmap lsefisystab lssal ls lspci cat hexdump date hello net_bootp net_dhcp"
).split()

COMMANDS: dict[str, Command] = {
    "set": cmd_set,
    "unset": cmd_unset,
    "export": cmd_export,
    "true": cmd_true,
    "false": cmd_false,
    "test": cmd_test,
    "[": cmd_bracket,
    "echo": cmd_echo,
    "break": cmd_break,
    "continue": cmd_continue,
    "return": cmd_return,
    "shift": cmd_shift,
    "setparams": cmd_setparams,
    "search": cmd_search,
    "search.file": _search_as("file"),
    "search.fs_uuid": _search_as("uuid"),
    "search.fs_label": _search_as("label"),
    "regexp": cmd_regexp,
    "load_env": cmd_load_env,
    "save_env": cmd_save_env,
    "source": cmd_source,
    ".": cmd_source,
    "eval": cmd_eval,
    "configfile": cmd_configfile,
    "normal": cmd_configfile,
    "blscfg": cmd_blscfg,
    **LOADERS,
    "loopback": cmd_loopback,
    "keystatus": cmd_fail,
}
COMMANDS.update({name: cmd_noop for name in NOOPS if name not in COMMANDS})

__all__ = ["COMMANDS", "Halt", "quote_cmdline"]
