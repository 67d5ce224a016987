from __future__ import annotations

import urwid

from bootd.model import BootOption, Console
from tests.unit.ui import helpers as h
from tests.unit.ui.sample import ADVANCED, CONSOLES, DISK, RECOVERY, STICK, UBUNTU, USB
from ui.backend import Settings
from ui.controllers.menu import build_rows
from ui.views.common import Chrome, Glyphs
from ui.views.console import ConsolePickerView
from ui.views.editor import EditFields, EditorView
from ui.views.menu import MainMenuView
from ui.views.settings import CheckInput, ConsoleInput, OrderInput, SecretInput, SettingsView
from ui.views.text import ProgressView, PromptView, TextView

DEVICES = {"sda2": DISK, "sdb1": USB}


def menu_with(
    options: list[BootOption], candidate: str | None = "sda2/ubuntu"
) -> tuple[MainMenuView, list[tuple[str, str | None]]]:
    calls: list[tuple[str, str | None]] = []
    view = MainMenuView(lambda a, o: calls.append((a, o)))
    view.set_rows(build_rows(DEVICES, options, candidate))
    return view, calls


def test_menu_groups_under_device_headers_and_submenus() -> None:
    view, _ = menu_with([UBUNTU, ADVANCED, RECOVERY, STICK])
    text = h.screen(view)
    lines = [ln.rstrip() for ln in text.splitlines()]
    assert lines[0] == "[Disk: sda2]"
    assert lines[1] == "  * Ubuntu"
    assert lines[2] == "  Advanced options for Ubuntu:"
    assert lines[3] == "      Ubuntu, with Linux 6.8"
    assert lines[5] == "[USB: STICK (sdb1)]"
    assert lines[6] == "    Live system"
    assert "System information" in text and "Rescan devices" in text


def test_cursor_starts_on_the_autoboot_candidate() -> None:
    view, _ = menu_with([ADVANCED, UBUNTU, STICK], candidate="sdb1/live")
    assert view.focused_key == "opt:sdb1/live"
    assert "Live system" in h.focus_line(view)
    assert h.render(view)[0].startswith("[Disk: sda2]"), "the rows above the cursor stay in view"


def test_the_cursor_follows_the_candidate_until_a_key_moves_it() -> None:
    view = MainMenuView(lambda a, o: None)
    view.set_rows(build_rows(DEVICES, [RECOVERY], None))  # the first option comes before the default
    assert view.focused_key == f"opt:{RECOVERY.id}"
    view.set_rows(build_rows(DEVICES, [UBUNTU, ADVANCED, RECOVERY], "sda2/ubuntu"))
    assert view.focused_key == f"opt:{UBUNTU.id}", "the default arrived: the cursor is on it"
    view.set_rows(build_rows(DEVICES, [UBUNTU, ADVANCED, RECOVERY, STICK], "sdb1/live"))
    assert view.focused_key == f"opt:{STICK.id}", "autoboot's pick moved: so does the untouched cursor"
    h.press(view, "up")
    moved = view.focused_key
    view.set_rows(build_rows(DEVICES, [UBUNTU, ADVANCED, RECOVERY, STICK], "sda2/ubuntu"))
    assert view.focused_key == moved, "once a key moved it, the cursor stays where the person put it"


def test_first_option_shows_its_device_header() -> None:
    view, _ = menu_with([UBUNTU, ADVANCED], candidate=None)
    assert view.focused_key == f"opt:{UBUNTU.id}"
    assert h.render(view)[0] == "[Disk: sda2]".ljust(80)


def test_enter_boots_and_e_edits_the_focused_option() -> None:
    view, calls = menu_with([UBUNTU, ADVANCED])
    h.press(view, "down", "enter", "e")
    assert calls == [("boot", ADVANCED.id), ("edit", ADVANCED.id)]


def test_letters_reach_their_actions() -> None:
    view, calls = menu_with([UBUNTU])
    assert h.press(view, "t", "i", "s", "g", "u", "r", "x", "c", "l", "n") == [None] * 10
    assert [a for a, _ in calls] == [
        "console", "info", "settings", "log", "url", "rescan", "exit", "settings", "language", "new"
    ]  # fmt: skip


def test_enter_on_an_action_row_runs_it() -> None:
    view, calls = menu_with([UBUNTU])
    view.focus_key("act:settings")
    h.press(view, "enter")
    assert calls == [("settings", None)]


def test_live_add_and_remove_keep_the_cursor_on_its_entry() -> None:
    view, _ = menu_with([UBUNTU, ADVANCED, RECOVERY])
    h.press(view, "down", "down")
    assert view.focused_key == f"opt:{RECOVERY.id}"
    # a USB stick appears (sorted after the disk) and a disk entry vanishes before the cursor
    view.set_rows(build_rows(DEVICES, [UBUNTU, RECOVERY, STICK], "sda2/ubuntu"))
    assert view.focused_key == f"opt:{RECOVERY.id}"
    assert "recovery mode" in h.focus_line(view)
    # the entry under the cursor vanishes: the cursor goes to a neighbour, not to the top
    view.set_rows(build_rows(DEVICES, [UBUNTU, STICK], "sda2/ubuntu"))
    assert view.focused_key in (f"opt:{UBUNTU.id}", f"opt:{STICK.id}")


def test_a_device_that_arrives_before_the_cursor_does_not_move_it() -> None:
    devices = {"sda2": DISK, "sdb1": USB, "sr0": DISK.__class__("sr0")}
    view = MainMenuView(lambda a, o: None)
    view.set_rows(build_rows(devices, [STICK], None))
    assert view.focused_key == f"opt:{STICK.id}"
    view.set_rows(build_rows(devices, [UBUNTU, ADVANCED, STICK], None))
    assert view.focused_key == f"opt:{STICK.id}"


def test_empty_menu_says_devices_are_scanned_and_keeps_its_actions() -> None:
    calls: list[tuple[str, str | None]] = []
    view = MainMenuView(lambda a, o: calls.append((a, o)))
    view.set_rows(build_rows(DEVICES, [], None))
    text = h.screen(view)
    assert "No boot options found yet" in text
    assert "System information" in h.focus_line(view)
    h.press(view, "enter", "t")
    assert calls == [("info", None), ("console", None)]


def test_console_picker_preselects_and_chooses() -> None:
    chosen: list[str] = []
    view = ConsolePickerView(CONSOLES, "tty1", chosen.append)
    buttons = h.find_all(view, urwid.RadioButton)
    assert [b.label for b in buttons] == [f"{c.name}  ({c.kind})  {c.description}  {c.dt_path}" for c in CONSOLES]
    assert h.find_text(view, "Console for the booted system")
    text = h.screen(view)
    assert "hvc0" in text and "/ibm,opal/consoles/serial@0" in text
    assert view.selected == "tty1"
    assert "tty1" in h.focus_line(view)
    h.press(view, "up", "enter")
    assert chosen == ["hvc0"] and view.selected == "hvc0"


def test_console_picker_without_consoles() -> None:
    view = ConsolePickerView([], None, lambda n: None)
    assert "no consoles" in h.screen(view)
    assert view.selected is None


def test_editor_changes_arguments() -> None:
    got: list[EditFields] = []
    fields = EditFields("Ubuntu", "/boot/vmlinuz", "/boot/initrd.img", "", "root=/dev/sda2 ro")
    view = EditorView(fields, got.append, lambda: None)
    assert "Arguments:" in h.screen(view)
    h.type_text(view, " console=hvc0")  # the cursor starts at the end
    h.press(view, "tab", "tab", "enter")
    assert got and got[0].args == "root=/dev/sda2 ro console=hvc0"
    assert got[0].kernel == "/boot/vmlinuz"


def test_settings_reorders_boot_order_and_reports_only_changes() -> None:
    saved: list[dict[str, object]] = []
    s = Settings(autoboot=True, timeout=10, boot_order=("disk", "usb", "network"), console=None)
    view = SettingsView(s, CONSOLES, saved.append, lambda: None)
    order = view.input("boot_order", OrderInput)
    assert view.changes == {}
    view.walker.set_focus(4)  # the boot order list
    order.walker.set_focus(1)
    h.press(view, "+")
    assert order.order == ["usb", "disk", "network"]
    h.press(view, "-")
    h.press(view, "-")
    assert order.order == ["disk", "network", "usb"]
    h.press(view, "delete")
    view.input("autoboot", CheckInput).box.set_state(False)
    view.walker.set_focus(1)
    h.press(view, "backspace", "backspace")
    h.type_text(view, "3")
    view.input("console", ConsoleInput).group[1].set_state(True)
    view.input("password", SecretInput).edit.set_edit_text("s3cret")
    view.save()
    assert saved == [
        {"autoboot": False, "timeout": 3, "boot_order": ("disk", "network"), "console": "hvc0", "password": "s3cret"}
    ]


def test_settings_clear_password() -> None:
    saved: list[dict[str, object]] = []
    view = SettingsView(Settings(password_set=True), [], saved.append, lambda: None)
    assert "Password (set)" in h.screen(view)
    view.input("password", SecretInput).clear()
    assert saved == [{"password": ""}]


def test_text_view_scrolls_and_appends() -> None:
    view = TextView("Status log", [f"line {i}" for i in range(50)], end=True)
    assert "line 49" in h.screen(view)
    view.append("line 50")
    assert "line 50" in h.screen(view)
    assert view.text.splitlines()[0] == "line 0"


def test_progress_view_shows_step_and_completion() -> None:
    view = ProgressView('"Ubuntu"')
    view.update("Loading kernel", 0.5)
    text = h.screen(view)
    assert 'Booting "Ubuntu"' in text and "Loading kernel" in text and "50 %" in text


def test_prompt_view_masks_secrets_and_submits_on_enter() -> None:
    got: list[str] = []
    view = PromptView("Password required", "Password:", got.append, lambda: None, secret=True, message="wrong")
    h.type_text(view, "abc")
    text = h.screen(view)
    assert "***" in text and "abc" not in text and "wrong" in text
    h.press(view, "enter")
    assert got == ["abc"]


def test_chrome_shows_header_status_hints_and_routes_help_and_back() -> None:
    events: list[str] = []
    chrome = Chrome(
        on_help=lambda: events.append("help"), on_back=lambda: events.append("back"), glyphs=Glyphs(utf8=False)
    )
    view, _ = menu_with([UBUNTU])
    chrome.show(view)
    chrome.set_header('Booting "Ubuntu" in 7 s - press any key to stop', countdown=True)
    chrome.set_status("Scanning sdb1", "warning")
    text = h.screen(chrome)
    lines = text.splitlines()
    assert lines[0].startswith('Booting "Ubuntu" in 7 s')
    assert lines[-2].startswith("Scanning sdb1")
    assert lines[-1].startswith("Enter=boot")
    h.press(chrome, "?", "f1", "esc")
    assert events == ["help", "help", "back"]


def test_ascii_rendering_has_no_non_ascii_characters() -> None:
    urwid.set_encoding("ascii")
    try:
        chrome = Chrome(on_help=lambda: None, on_back=lambda: None, glyphs=Glyphs(utf8=False))
        view, _ = menu_with([UBUNTU, ADVANCED, STICK])
        chrome.show(view)
        text = h.screen(chrome)
        assert text.isascii()
        assert "-----" in text
    finally:
        urwid.set_encoding("utf-8")


def test_utf8_glyphs() -> None:
    g = Glyphs(utf8=True)
    assert g.dash == "\u2014" and not g.rule.isascii()
    assert isinstance(CONSOLES[0], Console)


def test_home_and_end_land_on_entries_not_headers() -> None:
    view, _ = menu_with([UBUNTU, ADVANCED, STICK])
    h.press(view, "down", "home")
    assert view.focused_key == f"opt:{UBUNTU.id}"
    assert h.render(view)[0].startswith("[Disk: sda2]")
    h.press(view, "end")
    assert view.focused_key == "act:exit"
    h.press(view, "page up", "page up", "page up")
    assert view.focused_row is not None and view.focused_row.kind.selectable()


def test_prompt_view_enter_on_an_empty_field_says_what_to_do() -> None:
    got: list[str] = []
    view = PromptView("Retrieve config from URL", "URL:", got.append, lambda: None)
    assert h.press(view, "enter") == [None]
    assert got == [] and "Type a value first, or press Esc to cancel." in h.screen(view)
    h.type_text(view, "tftp://10.0.0.1/x")
    h.press(view, "enter")
    assert got == ["tftp://10.0.0.1/x"]


def test_editor_fields_clear_with_ctrl_u_and_ctrl_k() -> None:
    got: list[EditFields] = []
    fields = EditFields("Ubuntu", "/boot/vmlinuz-6.8.0-45-generic", "/boot/initrd.img", "", "root=/dev/sda2 ro quiet")
    view = EditorView(fields, got.append, lambda: None)
    h.press(view, "up", "up", "up")  # onto Kernel, the cursor after its text
    h.press(view, "ctrl u")
    h.type_text(view, "/vmlinux")
    h.press(view, "down", "down", "down")  # Arguments
    h.press(view, *["left"] * len(" quiet"), "ctrl k")
    assert "Ctrl-U deletes before the cursor" in view.help
    h.press(view, "tab", "enter")
    assert got and got[0].kernel == "/vmlinux" and got[0].args == "root=/dev/sda2 ro"
    assert got[0].initrds == "/boot/initrd.img"


def test_entries_with_the_same_title_are_told_apart_by_their_loader() -> None:
    from dataclasses import replace

    from bootd.model import Source

    yaboot = replace(UBUNTU, id="sda2/yaboot/stretch", name="stretch", source=Source.YABOOT, default=False)
    kboot = replace(UBUNTU, id="sda2/kboot/stretch", name="stretch", source=Source.KBOOT, order=5, default=False)
    twin = replace(kboot, id="sda2/kboot/stretch-2", entry_id="stretch-2", order=6)
    rows = build_rows(DEVICES, [UBUNTU, yaboot, kboot, twin, replace(STICK, name="stretch")], None)
    texts = [r.text for r in rows if r.kind.name == "OPTION"]
    assert "Ubuntu" in texts and "stretch" in texts, "unique titles (per device) stay as they are"
    assert "stretch [yaboot]" in texts
    assert "stretch [kboot stretch]" in texts and "stretch [kboot stretch-2]" in texts


def test_progress_shows_the_time_left_of_a_download() -> None:
    from ui.controllers.progress import StepRate, describe_left

    now = [0.0]
    rate = StepRate(clock=lambda: now[0])
    assert rate.update("Loading kernel http://10.0.0.1/vmlinuz", 0.0) is None
    now[0] = 10.0
    left = rate.update("Loading kernel http://10.0.0.1/vmlinuz", 0.1)
    assert left is not None and round(left) == 90
    assert describe_left(left) == "1 min 30 s" and describe_left(4.2) == "4 s"
    view = ProgressView('"Debian"')
    view.update("Loading kernel http://10.0.0.1/vmlinuz", 0.1, describe_left(left))
    text = h.screen(view)
    assert "about 1 min 30 s left" in text and "10 %" in text
