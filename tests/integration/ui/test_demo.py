"""``bootd demo`` as a person runs it: one command in a terminal, the whole
product on a sandbox machine, nothing left behind."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.integration.ui.conftest import needs_tools
from tests.integration.ui.tmux import Tmux

pytestmark = needs_tools


def processes_mentioning(text: str) -> list[str]:
    """Processes with ``text`` in their command line or their environment (the
    demo itself and every child carry the test's TMPDIR)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            argv = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            environ = (proc / "environ").read_bytes().replace(b"\0", b"/ ").decode(errors="replace")
        except OSError:
            continue
        if text in argv or text in environ:
            found.append(argv)
    return found


def demo(tmux: Tmux, tmpdir: Path, *args: str) -> str:
    tmpdir.mkdir()
    return tmux.start([sys.executable, "-m", "bootd", "demo", *args], env={"TMPDIR": str(tmpdir)})


def assert_clean(tmpdir: Path) -> None:
    deadline = time.monotonic() + 10
    inside = f"{tmpdir}/"
    while processes_mentioning(inside) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_mentioning(inside) == []
    left = sorted(str(p.relative_to(tmpdir)) for p in tmpdir.rglob("*"))
    assert left == [], f"the demo left files behind: {left}"


def test_demo_runs_the_bundled_machine_and_cleans_up(tmux: Tmux, short_dir: Path) -> None:
    tmpdir = short_dir / "tmp"
    pane = demo(tmux, tmpdir, "--timeout", "120")
    text = tmux.wait(pane, "press any key to stop", timeout=30)
    assert "[Disk:" in text
    tmux.keys(pane, "Home")
    text = tmux.wait(pane, lambda t: "press any key" not in t and "boot menu" in t)
    tmux.keys(pane, "End")  # the stick's entries are below the disks'
    text = tmux.wait(pane, "[USB: RESCUE (sdc1)]", timeout=20)
    assert processes_mentioning(f"{tmpdir}/"), "the bus and the daemon run under the demo's temporary directory"
    tmux.keys(pane, "t")
    text = tmux.wait(pane, "Console for the booted system")
    assert "hvc0" in text and "/ibm,opal/consoles/serial@0" in text and "tty1" in text
    tmux.keys(pane, "Escape")
    tmux.wait(pane, "Enter=boot")
    tmux.keys(pane, "x")
    tmux.wait(pane, "MENU-EXIT=0")
    assert_clean(tmpdir)


def test_a_boot_ends_the_demo_with_what_would_happen(tmux: Tmux, short_dir: Path, machine: Path) -> None:
    tmpdir = short_dir / "tmp"
    pane = demo(tmux, tmpdir, "--machine", str(machine))
    tmux.wait(pane, "press any key to stop", timeout=30)
    tmux.keys(pane, "t")
    tmux.wait(pane, "Console for the booted system")
    tmux.keys(pane, "Home", "Enter")
    tmux.wait(pane, "will use console hvc0")
    tmux.keys(pane, "e")
    tmux.wait(pane, "Arguments:")
    tmux.keys(pane, "End")
    tmux.type(pane, " from=demo")
    tmux.keys(pane, "Tab", "Enter")
    tmux.wait(pane, "(edited): press Enter to boot it")
    tmux.keys(pane, "Enter")
    tmux.wait(pane, "MENU-EXIT=0", timeout=30)
    text = tmux.history(pane)
    assert "kexec load:    kexec -l" in text
    assert "stdout-path:   /ibm,opal/consoles/serial@0" in text
    assert "from=demo" in text and "Device tree changes:" in text
    assert "/chosen/stdout-path" in text
    assert_clean(tmpdir)


def test_a_hang_up_still_cleans_up(tmux: Tmux, short_dir: Path, machine: Path) -> None:
    tmpdir = short_dir / "tmp"
    demo(tmux, tmpdir, "--machine", str(machine))
    tmux.wait("menu", "press any key to stop", timeout=30)
    tmux.kill()
    assert_clean(tmpdir)


def test_demo_without_a_terminal_says_so() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "bootd", "demo"], capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60
    )
    assert r.returncode == 1
    assert "needs a terminal" in r.stderr and "Traceback" not in r.stderr


def test_demo_with_a_directory_that_is_no_machine(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "bootd", "demo", "--machine", str(tmp_path)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert r.returncode == 1
    assert "is not a sandbox machine" in r.stderr and "Traceback" not in r.stderr


def test_ctrl_c_ends_the_demo_cleanly(tmux: Tmux, short_dir: Path, machine: Path) -> None:
    tmpdir = short_dir / "tmp"
    pane = demo(tmux, tmpdir, "--machine", str(machine))
    tmux.wait(pane, "press any key to stop", timeout=30)
    tmux.keys(pane, "C-c")
    text = tmux.wait(pane, "MENU-EXIT=")
    assert "MENU-EXIT=130" in text and "Traceback" not in tmux.history(pane)
    assert_clean(tmpdir)


def test_editing_and_booting_on_the_bundled_machine(tmux: Tmux, short_dir: Path) -> None:
    tmpdir = short_dir / "tmp"
    pane = demo(tmux, tmpdir, "--timeout", "120")
    tmux.wait(pane, "press any key to stop", timeout=30)
    tmux.keys(pane, "t")
    tmux.wait(pane, "Console for the booted system")
    tmux.keys(pane, "Home", "Enter")
    tmux.wait(pane, "will use console hvc0")
    tmux.keys(pane, "Home")
    text = tmux.wait(pane, "[Disk: sda2]")
    tmux.keys(pane, "e")
    text = tmux.wait(pane, "Arguments:")
    entry = next(line for line in text.splitlines() if line.startswith("Entry: ")).removeprefix("Entry: ")
    tmux.type(pane, " from=the-demo")
    tmux.keys(pane, "Tab", "Enter")  # OK: the changed copy goes in the menu, selected
    tmux.wait(pane, f"{entry} (edited)")
    tmux.keys(pane, "Enter")
    tmux.wait(pane, "MENU-EXIT=0", timeout=30)
    text = tmux.history(pane)
    assert f"Booted:        {entry}" in text
    assert "stdout-path:   /ibm,opal/consoles/serial@0" in text
    assert '+ /chosen/stdout-path = "/ibm,opal/consoles/serial@0"' in text
    assert "from=the-demo" in text and "kexec load:    kexec -l" in text
    assert_clean(tmpdir)
