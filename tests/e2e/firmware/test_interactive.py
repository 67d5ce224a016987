"""One boot of the firmware image with people on it: a remote client on the
system bus, the daemon killed and stopped under it, then keys on the serial line.

In order, in the same boot (each TCG boot costs a minute or more):

1. a remote client (busctl, from a root shell that only this test machine's
   overlay puts on a console of its own) lists the options as root and as an
   unprivileged user; the unprivileged user is refused a boot and a settings
   change by the bus policy; root changes a setting (written under the unit's
   ProtectSystem) and boots: the daemon accepts, resolves and patches, and a boot
   hook of this machine (/etc/bootd/boot.d) stops that boot just before kexec,
   reporting the arguments root asked for - the kexec itself is step 3's;
2. the daemon killed: systemd restarts it and the menu on the serial line says
   it lost and found the daemon again; the daemon stopped: the next call on the
   bus starts it again through the D-Bus activation file;
3. keys on the serial line: another entry, another console, an edited command
   line, Enter: the second kernel's /proc/cmdline has the edit and its console is
   the one picked - on arm64 the screen (the board hands Linux a framebuffer, as
   U-Boot does), on pseries (no display) the second vty, whose output on the host
   is the file the journal went to.

The same test runs on arm64 ``virt`` and ppc64el pseries (``BOARDS``).
Measured on 2 cores at load average 6, with the image cached: arm64 2-3.5 min,
ppc64el about 1 min 45 s.
"""

from __future__ import annotations

import json
import re
import shlex
import time
from dataclasses import dataclass
from typing import Any

import pytest

from tests.e2e.firmware.conftest import SECOND_VTY, Boot
from tests.e2e.firmware.console import Shell
from tests.e2e.guest import FB_NODE

pytestmark = [pytest.mark.slow, pytest.mark.root, pytest.mark.timeout(1200)]

TIMEOUT = 420
MENU = r"Booting \"Debian GNU/Linux\" in \d+ s"
NOBODY = "setpriv --reuid=65534 --regid=65534 --clear-groups"
BUSCTL = "busctl --timeout=300 --json=short"
OBJECTS = f"{BUSCTL} call org.bootd /org/bootd org.freedesktop.DBus.ObjectManager GetManagedObjects"
VETO_HOOK = """#!/bin/sh
# This test machine's boot hook: a boot whose arguments ask for it stops here, after the
# daemon resolved, staged and patched everything, with what it was given.
case " $BOOT_ARGS " in
*" proof=root-veto "*) echo "vetoed by the test machine: $BOOT_ARGS" >&2; exit 1 ;;
esac
exit 0
"""


def _json(out: str) -> Any:
    return json.loads(out.strip().splitlines()[-1])


def options(out: str) -> dict[str, tuple[str, str]]:
    """GetManagedObjects' BootOption1 objects, by name: (object path, arguments)."""
    found = {}
    for path, ifaces in _json(out)["data"][0].items():
        opt = ifaces.get("org.bootd.BootOption1")
        if opt is not None:
            found[opt["Name"]["data"]] = (path, opt["Args"]["data"])
    return found


def refused(out: str) -> bool:
    """busctl's words for an AccessDenied reply of the bus (the policy in org.bootd.conf)."""
    return "Access denied" in out or "Rejected send message" in out


def ok(sh: Shell, command: str, timeout: float = 300) -> str:
    rc, out = sh.run(command, timeout)
    assert rc == 0, f"{command}: exit status {rc}: {out}"
    return out


@dataclass(frozen=True)
class Board:
    """What differs between the two machines the test boots."""

    serial: str
    """The kernel's console: the one the menu is on."""
    consoles: list[str]
    """What the daemon offers: the machine's hvc consoles (not hvc3..hvc7, which hvc's driver
    makes without a backend behind them), the screen when there is one, the UART."""
    pick: str
    """The console the keys pick for the booted system."""
    stdout_path: str
    """The second kernel's /chosen/stdout-path: the picked console's node."""
    active: str
    """The second kernel's own name for its console."""
    framebuffer: bool


BOARDS = {
    # two virtio consoles (journal, shell), the firmware framebuffer's screen, the UART
    "arm64": Board("ttyAMA0", ["hvc0", "hvc1", "tty1", "ttyAMA0"], "tty1", FB_NODE, "tty0", framebuffer=True),
    # three PAPR vtys (serial, journal, shell) and no display: the second vty; the next kernel's
    # hvc_vio numbers its stdout vty hvc0
    "ppc64el": Board(
        "hvc0", ["hvc0", "hvc1", "hvc2"], "hvc1", f"/vdevice/vty@{SECOND_VTY:x}", "hvc0", framebuffer=False
    ),
}


@pytest.mark.parametrize("arch", sorted(BOARDS))
def test_remote_client_restarts_and_keys_on_the_serial_line(arch: str, request: pytest.FixtureRequest) -> None:
    board = BOARDS[arch]
    power_on: Boot = request.getfixturevalue(f"boot_{arch}")
    fw = power_on(
        f"interactive-{arch}",
        settings="timeout = 300\n",
        files={"etc/bootd/boot.d/50-root-veto": VETO_HOOK},
        shell=True,
        framebuffer=board.framebuffer,
    )
    con, sh = fw.serial, fw.shell
    assert sh is not None
    con.wait(MENU, TIMEOUT)
    assert f"bootd-menu@{board.serial}" in con.text()
    # a display (the board's framebuffer): a menu on its first virtual terminal too; none without
    assert ("bootd-menu@tty1" in con.text()) == board.framebuffer
    sh.open(TIMEOUT)

    # 1. the remote client: everyone may list, only root may change anything
    mine = options(ok(sh, OBJECTS))
    assert options(ok(sh, f"{NOBODY} {OBJECTS}")) == mine
    default = next(n for n in mine if n == "Debian GNU/Linux")
    other = next(n for n in mine if n.startswith("Debian GNU/Linux, with Linux") and "recovery" not in n)
    path, args = mine[default]
    mark = len(con.text())
    boot = f"{BUSCTL} call org.bootd /org/bootd org.bootd.Manager1 Boot 'osa{{sv}}' {path} ''"
    rc, out = sh.run(f"{NOBODY} {boot} 0")
    assert rc != 0 and refused(out), out
    rc, out = sh.run(f"{NOBODY} {BUSCTL} set-property org.bootd /org/bootd org.bootd.Settings1 Timeout u 5")
    assert rc != 0 and refused(out), out
    ok(sh, f"{BUSCTL} set-property org.bootd /org/bootd org.bootd.Settings1 Timeout u 250")
    assert "timeout = 250" in ok(sh, "cat /etc/bootd/bootd.toml")
    rc, out = sh.run(f"{boot} 1 args s {shlex.quote(args + ' proof=root-veto')}")
    assert rc != 0 and "vetoed by the test machine:" in out and "proof=root-veto" in out, out
    assert "boot hook 50-root-veto failed" in out, out
    # the menu showed that boot and why it failed; Esc takes it back to the menu, as it says
    con.wait("vetoed by the test machine", 60, after=mark)
    con.wait("Press Esc to return to the menu", 60, after=mark)
    con.send("Esc")
    prop = ok(sh, f"{BUSCTL} get-property org.bootd /org/bootd org.bootd.Manager1 Consoles")
    consoles = [c[0] for c in _json(prop)["data"]]
    assert consoles == board.consoles, consoles

    # 2. the daemon killed, then stopped
    pid = ok(sh, "systemctl show -P MainPID bootd.service").strip()
    mark = len(con.text())
    ok(sh, "systemctl kill --signal=SIGKILL bootd.service")
    con.wait("Lost the connection to the boot daemon", 120, after=mark)
    con.wait("Connected to the boot daemon again", 180, after=mark)
    assert ok(sh, "systemctl show -P NRestarts bootd.service").strip() == "1"
    assert ok(sh, "systemctl show -P MainPID bootd.service").strip() not in ("0", pid)
    ok(sh, "systemctl stop bootd.service")
    assert ok(sh, "systemctl is-active bootd.service || true").strip() == "inactive"
    mark = len(con.text())
    # the call starts the daemon (org.bootd.service -> dbus-org.bootd.service); it answers before discovery is done
    assert _json(ok(sh, OBJECTS))["type"] == "a{oa{sa{sv}}}"
    assert ok(sh, "systemctl is-active bootd.service").strip() == "active"
    deadline = time.monotonic() + 180
    while options(ok(sh, OBJECTS)) != mine:
        assert time.monotonic() < deadline, "the activated daemon did not find the disk's entries again"
        time.sleep(2)
    fw.journal.wait(r"Activating via systemd: service name='org.bootd' unit='dbus-org.bootd.service'", 60)
    con.wait("Connected to the boot daemon again", 180, after=mark)
    con.wait(MENU, 180, after=mark)

    # 3. keys on the serial line
    mark = len(con.text())
    con.send("Home", "Down", pause=1.5)  # the first key stops the countdown; the cursor ends on the second entry
    con.send("t")
    con.wait("Console for the booted system", 60, after=mark)
    con.send("Home", *["Down"] * consoles.index(board.pick), "Enter")
    con.wait(f"will use console {board.pick}", 60, after=mark)
    con.send("e")
    con.wait(f"Entry: {other}", 60, after=mark)
    con.send("End", " proof=edited", "Tab", "Enter")
    con.wait(r"\(edited\)", 60, after=mark)
    con.send("Enter")

    def proof(pattern: str, timeout: float) -> re.Match[str]:
        if arch == "arm64":  # stage 2 reports on the UART also when its console is the screen
            return con.wait(pattern, timeout, after=mark)
        return fw.journal.wait(pattern, timeout)  # only on its console: the second vty, the journal's file

    proof("PROOF-DONE", TIMEOUT)
    cmdline = proof(r"PROOF-CMDLINE (.*)", 5).group(1).split()
    assert "proof=advanced" in cmdline and cmdline[-1] == "proof=edited", cmdline
    assert "proof=root-veto" not in cmdline
    assert proof(r"PROOF-DT chosen/stdout-path=(\S*)", 5).group(1) == board.stdout_path
    assert proof(r"PROOF-CONSOLE (.*)", 5).group(1).split() == [board.active]
    if arch != "arm64":
        assert "PROOF-" not in con.text()[mark:], "stage 2 still wrote to the first vty"
