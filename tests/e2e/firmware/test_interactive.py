"""One boot of the firmware image with people on it: a remote client on the
system bus, the daemon killed and stopped under it, then keys on the serial line.

In order, in the same boot (each TCG boot costs a minute or more):

1. a remote client (busctl, from a root shell that only this test machine's
   overlay puts on a virtio console) lists the options as root and as an
   unprivileged user; the unprivileged user is refused a boot and a settings
   change by the bus policy; root changes a setting (written under the unit's
   ProtectSystem) and boots: the daemon accepts, resolves and patches, and a boot
   hook of this machine (/etc/bootd/boot.d) stops that boot just before kexec,
   reporting the arguments root asked for - the kexec itself is step 3's;
2. the daemon killed: systemd restarts it and the menu on the serial line says
   it lost and found the daemon again; the daemon stopped: the next call on the
   bus starts it again through the D-Bus activation file;
3. keys on the serial line: another entry, the screen as the console, an edited
   command line, Enter: the second kernel's /proc/cmdline has the edit and its
   console is the screen (the board hands Linux a framebuffer, as U-Boot does).
"""

from __future__ import annotations

import json
import shlex
import time
from typing import Any

import pytest

from tests.e2e.firmware.conftest import Boot
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


def test_arm64_remote_client_restarts_and_keys_on_the_serial_line(boot_arm64: Boot) -> None:
    fw = boot_arm64(
        "interactive",
        settings="timeout = 300\n",
        files={"etc/bootd/boot.d/50-root-veto": VETO_HOOK},
        shell=True,
        framebuffer=True,
    )
    con, sh = fw.serial, fw.shell
    assert sh is not None
    con.wait(MENU, TIMEOUT)
    # the board's framebuffer is a display: a menu on its first virtual terminal too
    assert "bootd-menu@tty1" in con.text() and "bootd-menu@ttyAMA0" in con.text()
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
    # the two virtio consoles, the screen and the UART; not hvc2..hvc7, which hvc's driver
    # makes without a backend behind them
    assert consoles == ["hvc0", "hvc1", "tty1", "ttyAMA0"], consoles

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
    con.send("Home", *["Down"] * consoles.index("tty1"), "Enter")
    con.wait("will use console tty1", 60, after=mark)
    con.send("e")
    con.wait(f"Entry: {other}", 60, after=mark)
    con.send("End", " proof=edited", "Tab", "Enter")
    con.wait(r"\(edited\)", 60, after=mark)
    con.send("Enter")
    con.wait("PROOF-DONE", TIMEOUT, after=mark)
    cmdline = con.wait(r"PROOF-CMDLINE (.*)", 5, after=mark).group(1).split()
    assert "proof=advanced" in cmdline and cmdline[-1] == "proof=edited", cmdline
    assert "proof=root-veto" not in cmdline
    assert con.wait(r"PROOF-DT chosen/stdout-path=(\S*)", 5, after=mark).group(1) == FB_NODE
    assert con.wait(r"PROOF-CONSOLE (.*)", 5, after=mark).group(1).split() == ["tty0"]
