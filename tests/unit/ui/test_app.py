"""The App's logic over an in-memory daemon: countdown, keys, boot requests,
passwords, live updates, failures, lost connections."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace

from bootd.model import Device, DeviceType, Severity, StatusMessage
from tests.unit.ui import helpers as h
from tests.unit.ui.fakes import FakeBackend
from tests.unit.ui.sample import ADVANCED, CONSOLES, DISK, STICK, UBUNTU, USB
from ui import backend as be
from ui.app import App
from ui.views.common import Glyphs
from ui.views.console import ConsolePickerView
from ui.views.editor import EditorView
from ui.views.menu import MenuRow
from ui.views.settings import SecondsInput, SettingsView
from ui.views.text import ProgressView, PromptView, TextView


def daemon(**kw: object) -> FakeBackend:
    b = FakeBackend(
        options=[UBUNTU, ADVANCED],
        devices=[DISK, USB],
        console_list=list(CONSOLES),
        state=be.DaemonState("countdown", "sda2/ubuntu", 7.0),
    )
    for k, v in kw.items():
        setattr(b, k, v)
    return b


async def started(b: FakeBackend, **kw: object) -> App:
    app = App(b, glyphs=Glyphs(utf8=False), version="0.1.0", **kw)  # type: ignore[arg-type]
    await app.start()
    return app


def top(app: App) -> object:
    return app.stack[-1]


async def settle(app: App) -> None:
    for _ in range(5):
        await asyncio.sleep(0)
    if app.tasks:
        await asyncio.gather(*app.tasks)


async def test_header_counts_down_and_any_key_stops_it() -> None:
    b = daemon()
    app = await started(b)
    top = h.render(app.chrome)[0]
    assert top.startswith('Booting "Ubuntu" in 7 s - press any key to stop')
    assert "* Ubuntu" in h.screen(app.chrome)
    app.input_filter(["down"], [])
    h.press(app.chrome, "down")
    await settle(app)
    assert ("cancel_autoboot",) in b.calls
    assert "press any key" not in h.render(app.chrome)[0]
    # the daemon confirms on every menu
    b.emit(be.CountdownChanged(None, None))
    await settle(app)
    assert "boot menu" in h.render(app.chrome)[0]
    assert "* Ubuntu" in h.screen(app.chrome), "the default entry stays marked"


async def test_boot_goes_with_the_console_the_menu_runs_on() -> None:
    b = daemon()
    app = await started(b, tty_console="hvc0")
    h.press(app.chrome, "enter")
    await settle(app)
    assert b.calls[-1] == ("boot", "sda2/ubuntu", "hvc0", None)


async def test_console_falls_back_to_the_setting_then_picker_changes_it() -> None:
    b = daemon(settings=be.Settings(console="tty1"))
    app = await started(b, tty_console="pts3")
    assert app.console == "tty1"
    h.press(app.chrome, "t")
    assert isinstance(app.stack[-1], ConsolePickerView)
    h.press(app.chrome, "up", "enter")
    assert app.console == "hvc0"
    assert top(app) is app.menu
    h.press(app.chrome, "enter")
    await settle(app)
    assert b.calls[-1] == ("boot", "sda2/ubuntu", "hvc0", None)


async def test_edit_arguments_boots_with_new_arguments_after_password() -> None:
    b = daemon(password="pw")
    app = await started(b, tty_console="hvc0")
    h.press(app.chrome, "e")
    editor = app.stack[-1]
    assert isinstance(editor, EditorView)
    editor.args.set_edit_text("root=/dev/sda2 ro console=hvc0")
    editor.submit()
    await settle(app)
    assert not any(str(c[0]).startswith("boot") for c in b.calls), "OK puts the copy in the menu; it does not boot"
    assert app.menu.focused_key == f"opt:{UBUNTU.id}#edited"
    assert "Ubuntu (edited)" in h.focus_line(app.menu)
    h.press(app.chrome, "enter")
    await settle(app)
    prompt = app.stack[-1]
    assert isinstance(prompt, PromptView)
    prompt.edit.set_edit_text("nope")
    prompt.submit()
    await settle(app)
    prompt = app.stack[-1]
    assert isinstance(prompt, PromptView) and "wrong password" in h.screen(prompt)
    prompt.edit.set_edit_text("pw")
    prompt.submit()
    await settle(app)
    assert b.calls[-1] == ("boot", "sda2/ubuntu", "hvc0", "root=/dev/sda2 ro console=hvc0")


async def test_edit_kernel_boots_a_custom_copy() -> None:
    b = daemon()
    app = await started(b)
    h.press(app.chrome, "e")
    editor = app.stack[-1]
    assert isinstance(editor, EditorView)
    editor.kernel.set_edit_text("(sdb1)/vmlinuz-rescue")
    editor.submit()
    await settle(app)
    h.press(app.chrome, "enter")
    await settle(app)
    call = b.calls[-1]
    assert call[0] == "boot_custom"
    custom = call[1]
    assert custom.kernel.device == "sdb1" and str(custom.kernel.path) == "/vmlinuz-rescue"  # type: ignore[attr-defined]
    assert UBUNTU.kernel is not None and str(UBUNTU.kernel.path) == "/boot/vmlinuz"


async def test_bad_edit_is_reported_not_booted() -> None:
    b = daemon()
    app = await started(b)
    h.press(app.chrome, "e")
    editor = app.stack[-1]
    assert isinstance(editor, EditorView)
    editor.kernel.set_edit_text("vmlinuz")
    editor.submit()
    await settle(app)
    assert not any(str(c[0]).startswith("boot") for c in b.calls)
    assert "starts with /" in h.screen(app.chrome)


async def test_hotplug_keeps_the_cursor() -> None:
    b = daemon()
    app = await started(b)
    h.press(app.chrome, "down")
    assert app.menu.focused_key == f"opt:{ADVANCED.id}"
    b.emit(be.DeviceAdded(USB))
    b.emit(be.OptionAdded(STICK))
    await settle(app)
    assert "Live system" in h.screen(app.chrome)
    assert app.menu.focused_key == f"opt:{ADVANCED.id}"
    b.emit(be.DeviceRemoved("sdb1"))
    await settle(app)
    assert "Live system" not in h.screen(app.chrome)
    assert app.menu.focused_key == f"opt:{ADVANCED.id}"


async def test_status_line_and_log() -> None:
    b = daemon()
    app = await started(b)
    b.emit(be.StatusEvent(StatusMessage(Severity.WARNING, "sdb1: grub.cfg line 3: unknown command", 1.0)))
    assert h.render(app.chrome)[-2].startswith("sdb1: grub.cfg line 3")
    h.press(app.chrome, "g")
    log_view = app.stack[-1]
    assert isinstance(log_view, TextView) and "unknown command" in log_view.text
    b.status("Scanning sdb1")
    assert "Scanning sdb1" in log_view.text
    h.press(app.chrome, "esc")
    assert app.stack[-1] is app.menu


async def test_help_on_every_screen() -> None:
    b = daemon()
    app = await started(b)
    h.press(app.chrome, "f1")
    assert "Boot menu" in h.screen(app.chrome) and "rescan devices" in h.screen(app.chrome)
    h.press(app.chrome, "esc", "t", "?")
    assert "stdout-path" in h.screen(app.chrome)


async def test_boot_progress_failure_and_back() -> None:
    b = daemon()
    app = await started(b)
    h.press(app.chrome, "enter")
    await settle(app)
    b.emit(be.BootProgress("Loading kernel", 0.4))
    assert isinstance(app.stack[-1], ProgressView)
    assert "Loading kernel" in h.screen(app.chrome) and "40 %" in h.screen(app.chrome)
    h.press(app.chrome, "esc")  # asks the daemon to cancel; the screen stays until it answers
    await settle(app)
    assert b.calls[-1] == ("cancel_boot",) and isinstance(app.stack[-1], ProgressView)
    assert "Cancelling the boot" in h.screen(app.chrome)
    b.emit(be.BootFailed("kexec failed: Invalid argument"))
    text = h.screen(app.chrome)
    assert "The boot failed" in text and "Invalid argument" in text
    h.press(app.chrome, "esc")
    assert top(app) is app.menu


async def test_boot_finished_ends_the_menu_when_asked() -> None:
    b = daemon()
    app = await started(b, exit_on_boot=True)
    ended: list[object] = []
    app.on_quit = ended.append
    b.emit(be.BootFinished(("kexec -l /k", "stdout-path /ibm,opal/consoles/serial@0")))
    assert app.outcome is not None and app.outcome.booted
    assert ended and "kexec -l /k" in h.screen(app.chrome)


async def test_settings_saved_through_the_backend() -> None:
    b = daemon(settings=be.Settings(boot_order=("disk", "usb")))
    app = await started(b)
    h.press(app.chrome, "s")
    await settle(app)
    view = app.stack[-1]
    assert isinstance(view, SettingsView)
    view.input("timeout", SecondsInput).edit.set_edit_text("5")
    view.save()
    await settle(app)
    assert ("set_settings", {"timeout": 5}) in b.calls
    assert app.stack[-1] is app.menu and "Settings saved" in h.screen(app.chrome)


async def test_url_errors_are_shown() -> None:
    b = daemon()
    app = await started(b)
    h.press(app.chrome, "u")
    prompt = app.stack[-1]
    assert isinstance(prompt, PromptView)
    prompt.edit.set_edit_text("not a url")
    prompt.submit()
    await settle(app)
    assert "is not a URL" in h.screen(app.chrome)


async def test_system_info_lists_devices_and_consoles() -> None:
    b = daemon(info=be.SystemInfo("sandbox", "ppc64le", "ieee1275", "none", "0.1.0", (("eth0", "52:54:00:12:34:56"),)))
    app = await started(b)
    h.press(app.chrome, "i")
    await settle(app)
    view = app.stack[-1]
    assert isinstance(view, TextView)
    for needle in ("ppc64le", "/dev/sda2", "1111-aaaa", "STICK", "52:54:00:12:34:56", "/ibm,opal/consoles/serial@0"):
        assert needle in view.text


async def test_connection_lost_and_regained() -> None:
    b = daemon()
    app = await started(b)
    b.emit(be.ConnectionLost())
    assert "connecting to the boot daemon" in h.render(app.chrome)[0]
    assert "Lost the connection" in h.screen(app.chrome)
    b.options = [UBUNTU, ADVANCED, replace(STICK)]
    b.state = be.DaemonState()
    b.emit(be.Reconnected())
    await settle(app)
    assert "Live system" in h.screen(app.chrome)
    assert "boot menu" in h.render(app.chrome)[0]


async def test_exit_respects_the_setting() -> None:
    b = daemon(settings=be.Settings(allow_shell=False))
    app = await started(b)
    h.press(app.chrome, "x")
    assert app.outcome is None and "disabled" in h.screen(app.chrome)
    assert "act:exit" not in [r.key for r in app.menu.menu_rows]


async def test_a_long_name_is_shortened_so_the_countdown_fits_80_columns() -> None:
    long = replace(UBUNTU, name="Fedora (5.8.15-201.fc32.ppc64le) 32 (Server Edition) with a very long title")
    b = daemon(options=[long, ADVANCED])
    app = await started(b)
    top = h.render(app.chrome)[0]
    assert top.rstrip().endswith("press any key to stop") and top.startswith('Booting "Fedora (5.8.15')
    assert "..." in top


async def test_a_burst_of_new_options_rebuilds_the_menu_once() -> None:
    b = daemon()
    app = await started(b)
    builds: list[int] = []
    original = app.menu.set_rows

    def counting(rows: Sequence[MenuRow]) -> None:
        builds.append(len(rows))
        original(rows)

    app.menu.set_rows = counting  # type: ignore[method-assign]
    for i in range(300):
        b.emit(be.OptionAdded(replace(STICK, id=f"sdb1/e{i}", name=f"Entry {i}", order=i)))
    assert builds == []
    await settle(app)
    assert len(builds) == 1
    assert "Entry 0" in h.screen(app.chrome)


async def test_url_prompt_help_names_the_schemes_and_the_path_prefix() -> None:
    app = await started(daemon())
    h.press(app.chrome, "u")
    assert isinstance(app.stack[-1], PromptView)
    h.press(app.chrome, "f1")
    text = h.screen(app.chrome)
    assert "http://, https://, tftp://" in text and "and file://" in text
    assert "An address ending in / is a path prefix" in text
    h.press(app.chrome, "esc")
    assert isinstance(app.stack[-1], PromptView)


async def test_system_info_shows_network_interfaces_with_their_lease() -> None:
    eth0 = Device(
        "eth0",
        DeviceType.NETWORK,
        uuid="52:54:00:12:34:56",
        properties=(("mac", "52:54:00:12:34:56"), ("link", "up"), ("ip", "10.0.0.5"), ("router", "10.0.0.1")),
    )
    eth1 = Device("eth1", DeviceType.NETWORK, uuid="52:54:00:12:34:57", properties=(("link", "down"),))
    info = be.SystemInfo(
        "sandbox", "ppc64le", "ieee1275", "none", "0.1.0", (("eth0", eth0.uuid or ""), ("eth1", eth1.uuid or ""))
    )
    b = daemon(devices=[DISK, replace(eth0, properties=eth0.properties[:2]), eth1], info=info)
    app = await started(b)
    b.devices[1] = eth0  # the lease came later; the menu is told of devices coming and going only
    h.press(app.chrome, "i")
    await settle(app)
    view = app.stack[-1]
    assert isinstance(view, TextView)
    lines = [ln.rstrip() for ln in view.text.splitlines()]
    i = lines.index("  Network: eth0")
    assert lines[i + 1 : i + 3] == [
        "    type network  MAC 52:54:00:12:34:56  link up",
        "    address 10.0.0.5  router 10.0.0.1",
    ]
    j = lines.index("  Network: eth1")
    assert lines[j + 1 : j + 3] == ["    type network  MAC 52:54:00:12:34:57  link down", "    no address"]
    assert "  eth0       52:54:00:12:34:56  10.0.0.5" in lines
    assert "  eth1       52:54:00:12:34:57  no address" in lines
    assert not any("node -" in ln for ln in lines[i : i + 3])


async def test_esc_on_the_progress_screen_cancels_the_boot() -> None:
    b = daemon()
    app = await started(b)
    h.press(app.chrome, "enter")
    await settle(app)
    b.emit(be.BootProgress("Loading kernel http://192.0.2.1/vmlinuz", 0.1))
    assert "Esc=cancel the boot" in h.screen(app.chrome), "the footer says how to cancel"
    h.press(app.chrome, "esc")
    await settle(app)
    assert ("cancel_boot",) in b.calls
    b.emit(be.StatusEvent(StatusMessage(Severity.INFO, "Boot cancelled: Ubuntu", 0.0)))
    b.emit(be.BootCancelled())
    assert top(app) is app.menu and app.boots.progress is None
    assert [m.message for m in app.status_log].count("Boot cancelled: Ubuntu") == 1
    assert not any(m.message == "Boot cancelled" for m in app.status_log), "said once"


async def test_cancel_when_the_daemon_has_no_boot_returns_to_the_menu() -> None:
    b = daemon(boot_in_progress=False)
    app = await started(b)
    b.emit(be.BootProgress("Loading kernel", 0.2))  # started elsewhere
    h.press(app.chrome, "esc")
    await settle(app)
    assert top(app) is app.menu and app.status_log[-1].message == "No boot is in progress"


async def test_cancel_asks_for_the_password_when_the_daemon_wants_it() -> None:
    b = daemon(password="pw", restrict_cancel=True)
    app = await started(b)
    b.emit(be.BootProgress("Loading kernel", 0.2))
    h.press(app.chrome, "esc")
    await settle(app)
    prompt = top(app)
    assert isinstance(prompt, PromptView) and prompt.title == "Password required"
    assert ("cancel_boot",) not in b.calls


async def test_the_progress_screen_draws_a_download_with_bytes_rate_and_time_left_at_80_columns() -> None:
    from bootd.model import Transfer

    b = daemon()
    app = await started(b)
    h.press(app.chrome, "enter")
    await settle(app)
    url = "http://netboot.example.org/releases/noble/main/installer-amd64/current/images/netboot/linux-6.8.0-45"
    stage = f"Loading kernel {url}"
    b.emit(be.BootProgress(stage, 0.0))
    b.emit(be.BootProgress(stage, 0.13, Transfer(4 * 2**20, 12 * 2**20, 4.1 * 2**20, 2.0)))
    b.emit(be.BootProgress(stage, 0.13))  # the step's plain report, after the download's
    lines = h.render(app.chrome)
    text = "\n".join(lines)
    assert "".join(line.strip() for line in lines).count(url) == 1, "the whole URL, wrapped, not cut"
    [bar] = [line.strip() for line in lines if line.strip().startswith("[#")]
    assert bar.endswith("] 33 %") and len(bar) == 72 and bar.count("#") == 21, bar
    assert "4.0 MiB of 12.0 MiB, 4.1 MiB/s, 0:02 left" in text
    b.emit(be.BootProgress(stage, 0.4, Transfer(12 * 2**20, 12 * 2**20, 4 * 2**20, 0.0)))
    assert "12.0 MiB in 0:03, 4.0 MiB/s" in h.screen(app.chrome) and "] 100 %" in h.screen(app.chrome)
    b.emit(be.BootProgress("Preparing the device tree", 0.4))
    text = h.screen(app.chrome)
    assert "] 40 %" in text and "MiB" not in text, "the next step: the bar is the boot's again"


async def test_system_info_shows_the_last_autoboot_choice_the_daemon_gave() -> None:
    """The countdown carries no reason: the menu keeps the daemon's last
    "Autoboot now boots ..." status (with its template) for this screen."""
    from bootd.model import N_, Text

    b = daemon(info=be.SystemInfo("sandbox", "ppc64le", "ieee1275", "none", "0.1.0", ()))
    app = await started(b)
    h.press(app.chrome, "i")
    await settle(app)
    assert isinstance(app.stack[-1], TextView) and "Autoboot" not in app.stack[-1].text
    app.back()
    reason = Text.of(N_("chosen for the next boot"))
    said = Text.of(N_("Autoboot now boots {name}: {reason}"), name="Ubuntu", reason=reason)
    b.emit(be.StatusEvent(StatusMessage(Severity.INFO, said.text, 1.0, said)))
    b.emit(be.StatusEvent(StatusMessage(Severity.INFO, "Rescanning devices", 2.0)))
    h.press(app.chrome, "i")
    await settle(app)
    view = app.stack[-1]
    assert isinstance(view, TextView)
    assert "Autoboot\n  Autoboot now boots Ubuntu: chosen for the next boot" in view.text
