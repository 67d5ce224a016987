"""Helpers for tests that need a private message bus, a sandbox machine and
a running ``bootd serve``.  Reusable by other areas (the TUI tests)::

    from tests.integration.daemon.helpers import PrivateBus, make_machine, DaemonProcess

``PrivateBus.start(dir, system_like=True)`` runs a ``dbus-daemon`` whose policy
mirrors a system bus (deny by default, the shipped ``org.bootd.conf``
included); ``system_like=False`` gives a permissive session-like bus for
unprivileged runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
POLICY = ROOT / "config" / "dbus-1" / "org.bootd.conf"

SYSTEM_LIKE = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <auth>EXTERNAL</auth>
  <listen>unix:path={socket}</listen>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
  </policy>
  <include>{policy}</include>
  <limit name="max_replies_per_connection">{max_replies}</limit>
</busconfig>
"""

SESSION_LIKE = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <auth>EXTERNAL</auth>
  <listen>unix:path={socket}</listen>
  <policy context="default">
    <allow user="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


@dataclass
class PrivateBus:
    address: str
    socket: Path
    process: subprocess.Popen[bytes]

    @classmethod
    def start(cls, directory: Path, *, system_like: bool = True, max_replies: int = 512) -> PrivateBus:
        directory.mkdir(parents=True, exist_ok=True)
        os.chmod(directory, 0o755)
        socket = directory / "bus"
        config = directory / "bus.conf"
        template = SYSTEM_LIKE if system_like else SESSION_LIKE
        config.write_text(template.format(socket=socket, policy=POLICY, max_replies=max_replies))
        proc = subprocess.Popen(
            ["dbus-daemon", f"--config-file={config}", "--nofork", "--nopidfile", "--print-address=1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert proc.stdout is not None
        line = proc.stdout.readline().decode().strip()
        if not line:
            proc.kill()
            proc.wait()
            raise RuntimeError("dbus-daemon did not start")
        os.chmod(socket, 0o777)
        return cls(address=line, socket=socket, process=proc)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


@dataclass
class Entry:
    stem: str
    title: str
    args: str = "root=/dev/sda2 ro"
    initrd: bool = True


@dataclass
class MachineDevice:
    id: str
    type: str = "disk"
    entries: Sequence[Entry] = ()
    default: str | None = None
    """BLS ``default`` (a file stem); None = the first entry."""
    uuid: str | None = None
    label: str | None = None
    plug_after: float | None = None
    unplug_after: float | None = None


DTS = """/dts-v1/;
/ {
    #address-cells = <2>;
    #size-cells = <2>;
    compatible = "bootd,test";
    model = "bootd daemon test machine";
    chosen { bootargs = "console=ttyAMA0"; };
    pl011@9000000 { compatible = "arm,pl011", "arm,primecell"; reg = <0x0 0x9000000 0x0 0x1000>; };
    memory@40000000 { device_type = "memory"; reg = <0x0 0x40000000 0x0 0x20000000>; };
};
"""


@dataclass
class Machine:
    root: Path
    devices: list[MachineDevice] = field(default_factory=list)


def make_machine(root: Path, devices: Sequence[MachineDevice], *, arch: str = "aarch64") -> Machine:
    """A sandbox machine with BLS entries on directory devices and a small
    arm64 device tree with one serial console (ttyAMA0)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "machine.dts").write_text(DTS)
    lines = [
        "[machine]",
        f'arch = "{arch}"',
        'firmware = "efi"',
        'description = "daemon test machine"',
        'device_tree = "machine.dts"',
        "",
        "[[console]]",
        'name = "ttyAMA0"',
        'kind = "serial"',
        'dt_path = "/pl011@9000000"',
        "",
        "[[console]]",
        'name = "tty1"',
        'kind = "vga"',
        "",
    ]
    for dev in devices:
        lines += [
            "[[device]]",
            f'id = "{dev.id}"',
            f'type = "{dev.type}"',
            f'node = "/dev/{dev.id}"',
            'fstype = "ext4"',
        ]
        for key in ("uuid", "label", "plug_after", "unplug_after"):
            value = getattr(dev, key)
            if value is not None:
                lines.append(f"{key} = {value!r}".replace("'", '"'))
        lines.append("")
        write_entries(root / "devices" / dev.id, dev.entries, dev.default)
    (root / "machine.toml").write_text("\n".join(lines))
    return Machine(root, list(devices))


def write_entries(directory: Path, entries: Sequence[Entry], default: str | None = None) -> None:
    entries_dir = directory / "loader" / "entries"
    entries_dir.mkdir(parents=True, exist_ok=True)
    for entry in entries:
        kernel = directory / f"vmlinuz-{entry.stem}"
        kernel.write_bytes(b"MZ" + b"\0" * 62 + entry.stem.encode())
        text = [f"title {entry.title}", f"version {entry.stem}", f"linux /vmlinuz-{entry.stem}"]
        if entry.initrd:
            (directory / f"initrd-{entry.stem}.img").write_bytes(b"070701" + b"\0" * 100)
            text.append(f"initrd /initrd-{entry.stem}.img")
        text.append(f"options {entry.args}")
        (entries_dir / f"{entry.stem}.conf").write_text("\n".join(text) + "\n")
    if default is not None:
        (directory / "loader" / "loader.conf").write_text(f"default {default}.conf\n")


class DaemonProcess:
    """``bootd serve`` on a private bus; stopped with SIGTERM."""

    def __init__(
        self,
        bus: PrivateBus,
        machine: Path,
        state_dir: Path,
        *,
        config_root: Path | None = None,
        user: str | None = None,
        extra: Sequence[str] = (),
    ) -> None:
        argv = [sys.executable, "-m", "bootd", "serve", "--bus", bus.address, "--sandbox", str(machine)]
        argv += ["--state-dir", str(state_dir)]
        self.config_root = config_root or state_dir
        if config_root is not None:
            argv += ["--config-root", str(config_root)]
        argv += list(extra)
        self.log = state_dir.parent / f"{state_dir.name}.log"
        state_dir.mkdir(parents=True, exist_ok=True)
        self._log = self.log.open("wb")
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        if user is not None:
            argv = ["runuser", "-u", user, "--", *argv]
        self.process = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
        self.bus = bus

    def wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"bootd serve exited with {self.process.returncode}:\n{self.output()}")
            r = subprocess.run(
                ["busctl", f"--address={self.bus.address}", "status", "org.bootd"],
                capture_output=True,
                check=False,
            )
            if r.returncode == 0:
                return
            time.sleep(0.05)
        raise RuntimeError(f"bootd serve did not take its name within {timeout} s:\n{self.output()}")

    def config_root_file(self) -> Path:
        """The settings file the daemon writes."""
        return self.config_root / "etc/bootd/bootd.toml"

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log.read_text(errors="replace")

    def stop(self, timeout: float = 20.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode


def busctl(
    bus: PrivateBus, *args: str, user: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    argv = ["busctl", f"--address={bus.address}", *args]
    if user is not None:
        argv = ["runuser", "-u", user, "--", *argv]
    r = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=30)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed ({r.returncode}): {r.stderr}")
    return r
