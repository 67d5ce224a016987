"""Hostile media in the running daemon (``bootd serve --sandbox``): six
devices built to hurt it are present from power-on, a good disk is plugged
while they are read; the good disk's options appear within a second of the
plug, the machine autoboots it, and the daemon stays small throughout.

Each hostile device is one of the attacks of the hostile-media issue: a
GRUB memory bomb, ``blscfg`` in an endless loop beside many BLS files, a
``loader.conf`` default of 30,000 ``[``, a ``configfile`` cycle inside a
menu entry, ``test -f`` on long paths in a loop, and a megabyte of
one-word commands.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.integration.daemon.conftest import set_config
from tests.integration.daemon.helpers import DaemonProcess, Entry, MachineDevice, PrivateBus, busctl, make_machine

PLUG_AFTER = 2.0
"""Seconds after discovery starts that the good disk is plugged."""

GRUB = "boot/grub/grub.cfg"


def _hostile(root: Path) -> dict[str, dict[str, str]]:
    bls = {f"loader/entries/e{i:03}.conf": f"title e{i}\n" for i in range(300)}
    return {
        "bomb": {GRUB: "set a=x\n" + 'set a="$a$a$a$a$a$a$a$a$a$a"\n' * 10},
        "blsloop": {GRUB: "while true; do blscfg; done\n", **bls},
        "glob": {
            "loader/loader.conf": "default " + "[" * 30_000 + "\n",
            "loader/entries/x.conf": "title x\nlinux /vmlinuz-x\n",
        },
        "cycle": {GRUB: "menuentry Again { configfile /boot/grub/grub.cfg }\n"},
        "paths": {GRUB: "while true; do test -f " + "/a" * 2000 + "; done\n"},
        "dense": {GRUB: "a\n" * 500_000},
    }


def _vm_hwm_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def _tree(bus: PrivateBus) -> set[str]:
    return set(busctl(bus, "tree", "--list", "org.bootd", check=False).stdout.split())


def test_good_disk_appears_and_boots_beside_six_hostile_ones(
    system_bus: PrivateBus, tmp_path: Path, config_root: Path, daemon_factory: list[DaemonProcess]
) -> None:
    set_config(config_root, 'autoboot = true\ntimeout = 1\nboot_order = ["usb"]\n')
    hostile = _hostile(tmp_path)
    devices = [MachineDevice(id=name, type="disk") for name in hostile]
    devices.append(MachineDevice(id="good", type="usb", entries=[Entry("good", "Good OS")], plug_after=PLUG_AFTER))
    machine = make_machine(tmp_path / "machine", devices).root
    for name, files in hostile.items():
        for rel, text in files.items():
            path = machine / "devices" / name / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    state = tmp_path / "state"
    d = DaemonProcess(system_bus, machine, state, config_root=config_root)
    daemon_factory.append(d)
    d.wait_ready()
    ready = time.monotonic()
    option = "/org/bootd/options/good/bls/good"
    plugged: float | None = None  # when the daemon mounted it: the plug (sandbox mounts take no time)
    while option not in _tree(system_bus):
        if plugged is None and "good: mounted" in d.output():
            plugged = time.monotonic()
        assert time.monotonic() - ready < PLUG_AFTER + 20, d.output()
        time.sleep(0.02)
    appeared = time.monotonic()
    plugged = plugged or appeared
    assert appeared - plugged < 1.0, f"the good disk took {appeared - plugged:.2f} s after its plug"
    # the machine autoboots it (timeout 1 s), hostile devices or not
    kexec = state / "kexec.log"
    deadline = time.monotonic() + 20
    while not (kexec.exists() and "vmlinuz-good" in kexec.read_text()):
        assert time.monotonic() < deadline, d.output()
        time.sleep(0.05)
    # every hostile device was read to its end, with a message naming what stopped it
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not all(f"/org/bootd/devices/{n}" in _tree(system_bus) for n in hostile):
        time.sleep(0.1)
    assert all(f"/org/bootd/devices/{n}" in _tree(system_bus) for n in hostile), d.output()
    hwm = _vm_hwm_kb(d.process.pid)
    d.stop()
    log = d.output()
    for cap in ("max_value", "too long", "configfile cycle", "too many words"):
        assert cap in log, f"no diagnostic naming {cap!r}:\n{log}"
    assert "steps" in log or "cpu_seconds" in log
    assert "Traceback" not in log and "RecursionError" not in log and "MemoryError" not in log
    assert hwm < 60 * 1024, f"the daemon's peak RSS was {hwm / 1024:.1f} MB"
    assert json.loads(kexec.read_text().splitlines()[0])["argv"]


def test_a_failing_kexec_step_says_what_failed(serve: DaemonProcess, system_bus: PrivateBus, tmp_path: Path) -> None:
    # the sandbox records kexec in state/kexec.log: a directory there makes the kexec step fail with an OSError
    (tmp_path / "state" / "kexec.log").mkdir()
    mgr = ("org.bootd", "/org/bootd", "org.bootd.Manager1")
    option = "/org/bootd/options/sdb1/bls/rescue"
    r = busctl(system_bus, "call", *mgr, "Boot", "osa{sv}", option, "ttyAMA0", "0", check=False)
    assert r.returncode != 0
    assert "internal error" not in r.stderr
    assert "kexec.log: Is a directory" in r.stderr, r.stderr
    assert "Boot of Rescue stick" in serve.output() and "Is a directory" in serve.output()
