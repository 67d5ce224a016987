"""The systemd units, the D-Bus activation file and the bus policy."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.integration.daemon.helpers import ROOT

SYSTEMD = ROOT / "systemd"
BIN = Path(sys.executable).parent


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_systemd_analyze_verify(tmp_path: Path) -> None:
    # The units name /usr/bin/bootd; point them at this build's entry points so
    # that verify also checks the commands exist.
    for unit in ("bootd.service", "bootd-menu@.service"):
        text = (SYSTEMD / unit).read_text()
        assert "ExecStart=/usr/bin/" in text
        (tmp_path / unit).write_text(text.replace("/usr/bin/", f"{BIN}/"))
    r = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", "./bootd.service", "./bootd-menu@.service"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 0 and r.stderr.strip() == "", r.stderr


def _unit(name: str) -> configparser.ConfigParser:
    cp = configparser.ConfigParser(strict=False, interpolation=None)
    cp.optionxform = str  # type: ignore[assignment,method-assign]
    cp.read(SYSTEMD / name)
    return cp


def test_daemon_unit_shape() -> None:
    unit = _unit("bootd.service")
    svc = unit["Service"]
    assert svc["Type"] == "dbus" and svc["BusName"] == "org.bootd" and svc["Restart"] == "on-failure"
    caps = svc["CapabilityBoundingSet"].split()
    assert {"CAP_SYS_ADMIN", "CAP_SYS_BOOT"} <= set(caps), "mounts and kexec stay possible"
    assert svc["ProtectSystem"] != "strict", "mountpoints under /run and kexec need a writable view"
    assert "/etc/bootd" in svc["ReadWritePaths"].split(), "settings writes reach /etc/bootd/bootd.toml"
    assert svc["RuntimeDirectory"] == "bootd" and svc["StateDirectory"] == "bootd", "/run/bootd and /var/lib/bootd"
    assert unit["Install"]["Alias"] == "dbus-org.bootd.service"


def test_menu_unit_is_a_getty_like_template() -> None:
    unit = _unit("bootd-menu@.service")
    assert "%I" in unit["Service"]["ExecStart"] and unit["Service"]["TTYPath"] == "/dev/%I"
    assert "getty@%i.service" in unit["Unit"]["Conflicts"]
    assert unit["Install"]["WantedBy"] == "getty.target"


def test_dbus_activation_file_names_the_unit() -> None:
    cp = configparser.ConfigParser(interpolation=None)
    cp.read(SYSTEMD / "org.bootd.service")
    act = cp["D-BUS Service"]
    assert act["Name"] == "org.bootd" and act["User"] == "root"
    assert act["SystemdService"] == _unit("bootd.service")["Install"]["Alias"]


def test_bus_policy_only_root_owns_and_acts() -> None:
    tree = ET.parse(ROOT / "config/dbus-1/org.bootd.conf")
    policies = {p.get("user") or p.get("context"): p for p in tree.getroot().findall("policy")}
    assert policies["root"].find("allow[@own='org.bootd']") is not None
    default = policies["default"]
    assert default.find("deny[@own='org.bootd']") is not None
    allowed = {(a.get("send_interface"), a.get("send_member")) for a in default.findall("allow")}
    # Of bootd's own methods, anyone may only look an option up by id.
    assert {pair for pair in allowed if (pair[0] or "").startswith("org.bootd.")} == {
        ("org.bootd.Manager1", "FindOption")
    }
    sets = [a for a in default.findall("allow") if a.get("send_member") == "Set"]
    assert sets == [], "only root may set properties"
