"""SIGHUP (``systemctl reload bootd``) reads hand edits of the settings files
into the running daemon; an invalid file is refused as a whole and the
settings in force stay, the password included (never fail open)."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from tests.integration.daemon.helpers import DaemonProcess, PrivateBus, busctl
from tests.integration.daemon.test_settings_fail_closed import bootd


def reload(serve: DaemonProcess, line: str) -> None:
    """SIGHUP, then wait for ``line`` in the daemon's log."""
    before = serve.output().count(line)
    serve.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 20
    while serve.output().count(line) <= before:
        assert serve.process.poll() is None, serve.output()
        assert time.monotonic() < deadline, serve.output()
        time.sleep(0.05)


def test_sighup_reloads_a_hand_edit_and_refuses_an_invalid_one(
    serve: DaemonProcess, system_bus: PrivateBus, config_root: Path
) -> None:
    main = config_root / "etc/bootd/bootd.toml"
    main.write_text("autoboot = false\ntimeout = 7  # by hand\n")
    assert bootd(system_bus, "settings", "get", "timeout").stdout.strip() == "10", "nothing before the signal"
    reload(serve, "Settings reloaded from")
    assert bootd(system_bus, "settings", "get", "timeout").stdout.strip() == "7"
    assert "Settings reloaded from " in serve.output() and ": timeout" in serve.output()

    busctl(system_bus, "set-property", "org.bootd", "/org/bootd", "org.bootd.Settings1", "Password", "s", "hunter2")
    hashed = main.read_text()

    # the password removed by hand, in a file with an invalid value: refused, the password stays
    for bad, why in (
        ('autoboot = "maybe"\ntimeout = 3\n', "autoboot"),
        ("timeout = 3\ntimout = 4\n", "unknown setting 'timout'"),
        ("timeout = 3\nboot_order = [\n", str(main)),
    ):
        main.write_text(bad)
        reload(serve, "settings not reloaded: ")
        last = serve.output().rsplit("settings not reloaded: ", 1)[1].splitlines()[0]
        assert why in last and last.endswith("the settings in force are kept"), last
        assert bootd(system_bus, "settings", "get", "timeout").stdout.strip() == "7"
        r = bootd(system_bus, "settings", "set", "timeout", "4")
        assert r.returncode == 1 and "authenticate first" in r.stderr, r.stderr

    # a valid file: in force at once (an admin who can edit the file may remove the password)
    main.write_text(hashed.replace("timeout = 7", "timeout = 5"))
    reload(serve, "Settings reloaded from")
    assert bootd(system_bus, "settings", "get", "timeout").stdout.strip() == "5"
    main.write_text("autoboot = false\n")
    reload(serve, "Settings reloaded from")
    r = bootd(system_bus, "settings", "set", "timeout", "4")
    assert r.returncode == 0, r.stderr


def test_a_network_write_never_drops_a_hand_edit_the_daemon_has_not_read(
    serve: DaemonProcess, system_bus: PrivateBus, config_root: Path
) -> None:
    main = config_root / "etc/bootd/bootd.toml"
    main.write_text('autoboot = false\n[network.interface.eth1]  # by hand\nmethod = "ignore"\n')
    r = bootd(system_bus, "settings", "set", "network.nameservers", "10.0.0.53")
    assert r.returncode == 1 and "was edited since the daemon read it" in r.stderr, r.stderr
    assert "systemctl reload bootd" in r.stderr and "Traceback" not in r.stderr
    assert "eth1" in main.read_text() and "nameservers" not in main.read_text()
    r = bootd(system_bus, "settings", "set", "timeout", "6")
    assert r.returncode == 1 and "was edited since the daemon read it" in r.stderr, "no write puts it in force unread"
    assert "timeout" not in main.read_text()

    reload(serve, "Settings reloaded from")
    assert bootd(system_bus, "settings", "set", "timeout", "6").returncode == 0
    r = bootd(system_bus, "settings", "set", "network.nameservers", "10.0.0.53")
    assert r.returncode == 0, r.stderr
    assert "network.interface.eth1 = ignore" in r.stdout and "network.nameservers = 10.0.0.53" in r.stdout
    text = main.read_text()
    assert '[network.interface.eth1]  # by hand\nmethod = "ignore"\n' in text and "timeout = 6" in text, text
