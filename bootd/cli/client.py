"""The daemon's command-line client: ``bootd list``, ``bootd boot NAME|ID``
(through :func:`boot_via_daemon`), ``bootd cancel``, ``bootd settings``,
``bootd status [--follow]``.

Every command takes ``--bus system|session|ADDRESS`` (default: ``$BOOTD_BUS``
or the system bus).  When the daemon has a password, commands that need it
authenticate with ``$BOOTD_PASSWORD``, or ask for it when run on a terminal.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from bootd.cli import N_
from bootd.cli.i18n import _
from bootd.cli.settings_network import is_network_key, network_lines, network_value, write_offline
from bootd.errors import AuthenticationRequired, InvalidArgument, NotFound
from bootd.model import Transfer, Trust
from bootd.settings_table import TABLE, NetworkConfig, Table

if TYPE_CHECKING:
    from bootd.dbus.client import BootdClient
    from bootd.dbus.views import DaemonState, SettingsView
    from bootd.model import BootOption

T = TypeVar("T")


def _bus_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--bus", metavar="system|session|ADDRESS", help=N_("the daemon's bus (default: $BOOTD_BUS or system)")
    )


def _bus(args: argparse.Namespace) -> str:
    return getattr(args, "bus", None) or os.environ.get("BOOTD_BUS") or "system"


def _with_client(args: argparse.Namespace, work: Callable[[BootdClient], Awaitable[T]], table: Table = TABLE) -> T:
    import asyncio
    import getpass

    async def main() -> T:
        from bootd.dbus.client import BootdClient

        client = await BootdClient.connect(_bus(args), table=table)
        password = os.environ.get("BOOTD_PASSWORD")
        try:
            if password:
                await client.authenticate(password)
            try:
                return await work(client)
            except AuthenticationRequired as e:
                if password:
                    raise
                if not (sys.stdin.isatty() and sys.stderr.isatty()):
                    raise AuthenticationRequired(
                        _("{error}: put the password in $BOOTD_PASSWORD (or run the command on a terminal)").format(
                            error=e
                        )
                    ) from None
            # asked on the terminal, after the daemon said it wants it (never echoed)
            typed = await asyncio.to_thread(getpass.getpass, _("bootd password: "))
            await client.authenticate(typed)
            return await work(client)
        finally:
            client.close()

    return asyncio.run(main())


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


# -- list ------------------------------------------------------------------------------------
def configure_list(parser: argparse.ArgumentParser) -> None:
    _bus_arg(parser)
    parser.add_argument("--json", action="store_true", help=N_("print devices and options as JSON"))
    parser.add_argument("--all", action="store_true", help=N_("include hidden options"))


def run_list(args: argparse.Namespace) -> int:
    async def work(client: BootdClient) -> int:
        import json

        from bootd import jsoncodec

        devices = await client.list_devices()
        options = await client.list_options()
        state = await client.get_state()
        if args.json:
            doc = {
                "devices": [jsoncodec.device_to_json(d) for d in devices],
                "options": [jsoncodec.option_to_json(o) for o in options],
                "state": state.state,
                "autoboot": state.autoboot_option,
                "remaining": state.autoboot_remaining,
            }
            _out(json.dumps(doc, indent=2))
            return 0
        titles = {d.id: d.title for d in devices}
        if not options:
            _out(_("no boot options found (yet)"))
        shown = [o for o in options if args.all or not o.hidden]
        for line in list_lines(shown, titles, state.autoboot_option, columns()):
            _out(line)
        _out(_state_line(state))
        return 0

    return _with_client(args, work)


def columns() -> int:
    """The terminal's width; 80 when the output is not a terminal."""
    import shutil

    return max(40, shutil.get_terminal_size((80, 24)).columns)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 3)] + "..."


def list_lines(options: list[BootOption], titles: dict[str, str], autoboot: str | None, width: int) -> list[str]:
    """``bootd list``'s rows within ``width`` columns: ``MARK ID  NAME`` when every
    row fits, else the name with its id on the line below (ids are never cut).
    Under signed boot the name carries the trust mark (``[TAMPERED]``) and a
    failed check's reason follows on its own line."""
    idw = max((len(o.id) for o in options), default=0)
    one_line = all(4 + idw + 2 + len(o.name) <= width for o in options)
    out: list[str] = []
    current = None
    for opt in options:
        if opt.device != current:
            current = opt.device
            out.append(_cut(titles.get(opt.device, opt.device or _("Custom")), width))
        mark = ">" if opt.id == autoboot else ("*" if opt.default else " ")
        tag = trust_mark(opt.trust)
        name = f"{opt.name} {tag}" if tag else opt.name
        if one_line:
            out.append(f"  {mark} {opt.id:<{idw}}  {name}")
        else:
            out.append(_cut(f"  {mark} {name}", width))
            out.append(" " * min(6, max(2, width - len(opt.id))) + opt.id)
        if opt.trust.failed():
            out.append(_cut(f"      {opt.trust_reason}", width))
    return out


def trust_mark(trust: Trust) -> str:
    """``bootd list``'s tag for an option's trust state ('' when unchecked)."""
    marks = {
        Trust.VERIFIED: _("[verified]"),
        Trust.UNSIGNED: _("[unsigned]"),
        Trust.BAD_SIGNATURE: _("[bad signature]"),
        Trust.TAMPERED: _("[TAMPERED]"),
        Trust.ERROR: _("[not checked]"),
    }
    return marks.get(trust, "")


def _state_line(state: DaemonState) -> str:
    line = f"state: {state.state}"
    if state.autoboot_option and state.autoboot_remaining is not None:
        line += f"; booting {state.autoboot_option} in {state.autoboot_remaining:.0f} s"
    if state.next_boot:
        line += f"; next boot: {state.next_boot}"
    return line


# -- boot ---------------------------------------------------------------------------------------
def find_option(options: list[BootOption], wanted: str) -> BootOption:
    """The option named by id, entry id or (case-insensitive) title."""
    from bootd.inventory import find_option as find

    return find(options, wanted)


def boot_via_daemon(args: argparse.Namespace) -> int:
    """``bootd boot NAME|ID [--console C] [--args …] [--next]`` through the daemon."""
    wanted = getattr(args, "option", None) or getattr(args, "name", None)
    if not wanted:
        raise InvalidArgument(_("say which option to boot: bootd boot NAME|ID (see `bootd list`)"))

    async def work(client: BootdClient) -> int:
        opt = find_option(await client.list_options(), wanted)
        if getattr(args, "next", False):
            await client.set_next_boot(opt.id)
            _out(_("{name} ({id}) will boot next time").format(name=opt.name, id=opt.id))
            return 0
        _follow_progress(client)
        await client.boot(opt.id, console=getattr(args, "console", None) or "", args=getattr(args, "args", None))
        state = await client.get_state()
        last = state.last_boot
        _out(_("booted {name} ({id})").format(name=opt.name, id=opt.id))
        if last.kexec_load:
            _out("kexec load: " + " ".join(last.kexec_load))
        if last.kexec_exec:
            _out("kexec exec: " + " ".join(last.kexec_exec))
        if last.dt_console_path:
            _out(_("console {console}: {path}").format(console=last.console, path=last.dt_console_path))
        for line in last.dtb_changes:
            _out(f"  dtb: {line}")
        for note in last.notes:
            _out("  " + _("note: {note}").format(note=note))
        return 0

    return _with_client(args, work)


def _follow_progress(client: BootdClient) -> None:
    lines = ProgressLines(_out)
    client.on_progress_text(lambda stage, fraction: lines(stage.translated(_), fraction))
    client.on_download_text(lambda stage, fraction, t: lines.download(stage.translated(_), fraction, t))


class ProgressLines:
    """Boot progress as a few lines: one when a step starts, then one per tenth
    of the boot done, with the step's rate and time left; never one line per
    signal (a 300 MB download sends over a thousand).  A download's reports
    (:meth:`download`) print its bytes, rate and time left, at most one line a
    second and one per :data:`DOWNLOAD_STEP` of the file (one per
    :data:`UNKNOWN_SIZE_INTERVAL` seconds while its size is unknown), and the
    last report once."""

    STEP = 0.1
    DOWNLOAD_STEP = 0.05
    INTERVAL = 1.0
    UNKNOWN_SIZE_INTERVAL = 5.0

    def __init__(self, out: Callable[[str], None], clock: Callable[[], float] | None = None) -> None:
        import time

        self.out = out
        self.clock = clock or time.monotonic
        self.stage = ""
        self.started = (0.0, 0.0)
        self.shown = -1.0
        self.downloading = False
        self.download_shown: tuple[float, float] | None = None
        """(time, fraction of the file) of the last download line of this step."""
        self.download_done = False

    def _new_stage(self, stage: str, fraction: float) -> None:
        now = self.clock()
        self.stage, self.started, self.shown = stage, (now, fraction), fraction
        self.downloading, self.download_shown, self.download_done = False, (now, 0.0), False
        self.out(f"[{fraction * 100:3.0f}%] {stage}")

    def __call__(self, stage: str, fraction: float) -> None:
        now = self.clock()
        if stage != self.stage:
            self._new_stage(stage, fraction)
            return
        if self.downloading:  # the download's own lines say more
            self.shown = max(self.shown, fraction)
            return
        if fraction - self.shown < self.STEP and not fraction >= 1.0 > self.shown:
            return
        self.shown = fraction
        t0, f0 = self.started
        rate = (fraction - f0) / (now - t0) if now > t0 else 0.0
        left = ""
        if rate > 0 and fraction < 1.0:
            left = _("; about {seconds} s left").format(seconds=f"{(1.0 - fraction) / rate:.0f}")
        self.out(f"[{fraction * 100:3.0f}%] {stage}{left}")

    def download(self, stage: str, fraction: float, t: Transfer) -> None:
        if stage != self.stage:
            self._new_stage(stage, fraction)
        self.downloading = True
        now = self.clock()
        if t.complete:
            if self.download_done:
                return
            self.download_done = True
        else:
            last_time, last_part = self.download_shown or (now, 0.0)
            if now - last_time < self.INTERVAL:
                return
            part = t.fraction
            if part is None:
                if now - last_time < self.UNKNOWN_SIZE_INTERVAL:
                    return
            elif part - last_part < self.DOWNLOAD_STEP:
                return
        self.download_shown = (now, t.fraction or 0.0)
        self.shown = max(self.shown, fraction)
        self.out(f"[{fraction * 100:3.0f}%]   {describe_transfer(t)}")


def describe_transfer(t: Transfer) -> str:
    """:meth:`Transfer.describe` in the client commands' catalogue."""
    return t.describe(_)


# -- cancel ------------------------------------------------------------------------------------
def configure_cancel(parser: argparse.ArgumentParser) -> None:
    _bus_arg(parser)


def run_cancel(args: argparse.Namespace) -> int:
    async def work(client: BootdClient) -> int:
        if await client.cancel_boot():
            _out(_("boot cancelled"))
            return 0
        await client.cancel_autoboot()
        _out(_("autoboot cancelled"))
        return 0

    return _with_client(args, work)


# -- settings -----------------------------------------------------------------------------------
def configure_settings(parser: argparse.ArgumentParser, table: Table = TABLE) -> None:
    _bus_arg(parser)
    parser.add_argument(
        "action", nargs="?", choices=("show", "get", "set"), help=N_("show (the default), get KEY or set KEY VALUE")
    )
    keys = [row.name for row in table.on_bus] + ["network.interface.NAME", "network.nameservers", "network.proxy"]
    parser.add_argument("key", nargs="?", help=", ".join(keys))
    secrets = " ".join(f"{row.name}: '-' reads stdin;" for row in table.on_bus if row.secret)
    parser.add_argument(
        "value",
        nargs="*",
        help=f"new value (lists: space/comma separated; {secrets.rstrip(';')} "
        "network.interface.NAME: dhcp|static|ignore|delete address=A/P gateway=G dns=D,D)",
    )
    parser.add_argument(
        "--origin",
        action="store_true",
        help=N_("show: also the layer each setting came from (default, a file, NVRAM), and the [network] keys' layers"),
    )
    parser.add_argument(
        "--config-root",
        type=Path,
        default=Path("/"),
        help=N_("set network…: where etc/bootd/bootd.toml is written when no daemon runs (default: /)"),
    )


def _show(value: Any) -> str:
    if isinstance(value, NetworkConfig):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return " ".join(str(v) for v in value)
    return str(value)


def settings_shown(view: SettingsView) -> dict[str, object]:
    """What ``bootd settings`` shows: every setting the bus carries, in table
    order; a secret as ``(set)`` or ``(none)``."""
    shown: dict[str, object] = {}
    for row in view.table.on_bus:
        if row.secret:
            shown[row.name] = "(set)" if view.get(f"{row.name}_set") else "(none)"
        else:
            shown[row.name] = view.get(row.name)
    return shown


def run_settings(args: argparse.Namespace, table: Table = TABLE) -> int:
    words: list[str] = list(args.value or [])
    network = is_network_key(args.key)
    if args.action == "set":
        secret = args.key in table and table.row(args.key).secret
        if args.key is None or (not words and not secret and not network):
            raise InvalidArgument(_("usage: bootd settings set KEY VALUE"))
        value: Any = " ".join(words) if words else None
        if secret:
            if value in (None, "-"):
                value = sys.stdin.readline().rstrip("\n")
        elif not network:
            value = table.validate(args.key, value)
    elif args.action == "get" and args.key is None:
        raise InvalidArgument(_("usage: bootd settings get KEY"))
    elif words:
        raise InvalidArgument(_("usage: bootd settings get KEY"))

    reached: list[bool] = []

    async def work(client: BootdClient) -> int:
        applied: list[str] = []
        if args.action == "set" and network:
            # the change is made to the network settings in force, then written as a whole (all or nothing)
            current = (await client.get_settings()).network
            reached.append(True)
            network_cfg = network_value(current, args.key, words, table)
            client.on_status(lambda _level, message: applied.append(message))
            await client.set_setting("network", network_cfg)
        elif args.action == "set":
            await client.set_setting(args.key, value)
        view = await client.get_settings()
        shown = settings_shown(view)
        if network and args.action in ("set", "get"):
            for line in network_lines(view.network):
                _out(line)
            for line in applied:
                if line.startswith(("Network settings", "network settings")):
                    _out(line)
        elif args.action == "set":
            _out(f"{args.key} = {_show(shown.get(args.key, ''))}")
        elif args.action == "get":
            if args.key not in shown:
                raise InvalidArgument(
                    _("unknown setting {key} (known: {known})").format(key=repr(args.key), known=", ".join(shown))
                )
            _out(_show(shown[args.key]))
        elif args.action in (None, "show"):
            for key, val in shown.items():
                origin = f"  # {view.origins.get(key, '')}" if args.origin else ""
                _out(f"{key} = {_show(val)}{origin}")
            if args.origin:
                for key, origin in view.origins.items():
                    if key not in view.table:
                        _out(f"{key}  # {origin}")
        for problem in view.problems:
            print(_("bootd settings: warning: {problem}").format(problem=problem), file=sys.stderr)
        return 0

    if not (args.action == "set" and network):
        return _with_client(args, work, table)
    try:
        return _with_client(args, work, table)
    except NotFound as e:
        if reached:
            raise
        written = write_offline(args.config_root, args.key, words, table)  # no daemon: the file, checked the same way
        print(_("bootd settings: {error}: written to {path}; applied at the daemon's next start").format(
            error=e, path=written), file=sys.stderr)  # fmt: skip
        return 0


# -- status -----------------------------------------------------------------------------------------
def configure_status(parser: argparse.ArgumentParser) -> None:
    _bus_arg(parser)
    parser.add_argument(
        "--follow", "-f", action="store_true", help=N_("keep printing status messages and the countdown")
    )


def run_status(args: argparse.Namespace) -> int:
    import asyncio

    async def work(client: BootdClient) -> int:
        state = await client.get_state()
        _out(_state_line(state))
        for problem in (await client.get_settings()).problems:
            _out(_("settings: {problem}").format(problem=problem))
        if state.last_boot.option:
            last = state.last_boot
            _out(
                _("last boot: {name} ({id}): {command}").format(
                    name=last.name, id=last.option, command=" ".join(last.kexec_exec)
                )
            )
        if not args.follow:
            return 0
        done = asyncio.Event()
        last_line = [_state_line(state)]

        def on_state(s: DaemonState) -> None:
            line = _state_line(s)
            if line != last_line[0]:
                last_line[0] = line
                _out(line)

        # the level stays as the daemon says it (scripts match it); the message is in the user's language
        client.on_status_text(lambda level, text: _out(f"{level}: {text.translated(_)}"))
        _follow_progress(client)
        client.on_state(on_state)
        client.on_daemon_lost(lambda: _out(_("the daemon went away; waiting for it to come back")))
        client.on_daemon_appeared(lambda: _out(_("the daemon is back")))
        await done.wait()
        return 0

    return _with_client(args, work)
