"""Discovery on a real kernel with device-mapper and an optical drive (x86_64 qemu guest, TCG).

The guest runs this tree's ``bootd watch --json`` (see guest.py).  It starts
with one disk that is an LVM physical volume; bootd itself must run
``vgchange -ay`` so that the logical volume and its boot entry appear (lvm2's
own udev activation is masked, as in a boot loader's initramfs).  While it
watches, the host hot-plugs two more such disks half a second apart (the
second may come while the first one's ``vgchange`` still runs), pulls one of
them out again (its logical volume must leave the menu), inserts a CD,
swaps it for another while it is mounted (the drive is locked, so the guest
is asked to release it) and ejects it.  Every image's hash is the same
afterwards.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import is_root
from tests.e2e.discovery.guest import LV, build_kernel, make_iso, make_lvm_disk, qemu_argv
from tests.e2e.discovery.vm import GuestError, Vm
from tests.integration.discovery.helpers import sha256

pytestmark = [pytest.mark.slow, pytest.mark.root]

BOOT_TIMEOUT = 240
EVENT_TIMEOUT = 90


@dataclass(frozen=True)
class LvmDisk:
    vg: str
    title: str
    label: str
    hotplug: int | None
    """The PCIe slot it is plugged into while bootd runs (None: there from the start)."""


LVM_DISKS = (
    LvmDisk("bootdcoldvg", "Debian on LVM", "LVMCOLD", None),
    LvmDisk("bootdhotvg1", "Fedora on hot-plugged LVM", "LVMHOT1", 0),
    LvmDisk("bootdhotvg2", "Arch on hot-plugged LVM", "LVMHOT2", 1),
)
HOTPLUG_GAP = 0.5
CD_ONE_TITLE = "Installer from CD one"
CD_TWO_TITLE = "Rescue from CD two"


def _lvm_files(disk: LvmDisk) -> dict[str, str | bytes]:
    return {
        "loader/entries/os-lvm.conf": (
            f"title {disk.title}\nversion 6.1.0\nlinux /vmlinuz-6.1.0\ninitrd /initrd.img-6.1.0\n"
            f"options root=/dev/{disk.vg}/{LV} ro quiet\n"
        ),
        "vmlinuz-6.1.0": b"kernel on a logical volume",
        "initrd.img-6.1.0": b"initrd on a logical volume",
    }


def _cd_one() -> dict[str, str | bytes]:
    return {
        "isolinux/isolinux.cfg": (
            "DEFAULT install\nLABEL install\n  MENU LABEL " + CD_ONE_TITLE + "\n"
            "  KERNEL /install/vmlinuz\n  INITRD /install/initrd.gz\n  APPEND priority=low cd=one\n"
        ),
        "install/vmlinuz": b"installer kernel",
        "install/initrd.gz": b"installer initrd",
    }


def _cd_two() -> dict[str, str | bytes]:
    return {
        "boot/grub/grub.cfg": (
            "set timeout=5\n"
            f"menuentry '{CD_TWO_TITLE}' {{\n  linux /live/vmlinuz boot=live cd=two\n  initrd /live/initrd.img\n}}\n"
        ),
        "live/vmlinuz": b"live kernel",
        "live/initrd.img": b"live initrd",
    }


@dataclass
class Proof:
    """What happened in the guest, step by step (indexes into ``lines``)."""

    lines: list[str]
    log: Path
    steps: dict[str, int] = field(default_factory=dict)
    mounts: dict[str, list[str]] = field(default_factory=dict)
    hashes_before: dict[str, str] = field(default_factory=dict)
    hashes_after: dict[str, str] = field(default_factory=dict)
    dm_before: str = ""
    tray: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The CD drive as qemu reports it, before and after the eject."""
    exit_code: int | None = None

    def events(self, start: str, end: str | None = None) -> list[dict[str, Any]]:
        """``bootd watch --json`` events between two steps."""
        hi = self.steps[end] if end is not None else len(self.lines)
        return [
            json.loads(line.removeprefix("WATCH "))
            for line in self.lines[self.steps[start] : hi]
            if line.startswith("WATCH {")
        ]

    def between(self, start: str, end: str | None = None) -> list[str]:
        hi = self.steps[end] if end is not None else len(self.lines)
        return self.lines[self.steps[start] : hi]

    def context(self) -> str:
        return f"serial log {self.log}:\n" + "\n".join(self.lines[-80:])


def _option_event(kind: str, name: str) -> Any:
    def match(line: str) -> bool:
        if not line.startswith("WATCH {"):
            return False
        ev = json.loads(line.removeprefix("WATCH "))
        return bool(ev.get("event") == kind and ev.get("option", {}).get("name") == name)

    return match


def _change_medium(vm: Vm, image: Path, *, timeout: float = EVENT_TIMEOUT) -> None:
    """Put ``image`` in the drive as a user would: when the guest holds the tray locked,
    qemu asks it to let go (one eject request, one press of the eject button); once the
    guest has opened the tray, the medium is swapped and the tray closed.

    The request is made once: asking again before the guest has reacted (a slow guest
    takes longer than a second) queues another eject request, which the guest's udev
    carries out after the new medium is in, and the tray opens again with it."""

    def change() -> dict[str, Any]:
        ro = {"read-only-mode": "read-only"}
        return vm.qmp("blockdev-change-medium", id="cddrive", filename=str(image), format="raw", **ro)

    reply = change()
    if "return" in reply:
        return
    desc = reply["error"].get("desc", "")
    if "locked" not in desc:
        raise GuestError(f"changing the medium to {image.name}: {desc}")
    deadline = time.monotonic() + timeout
    while not _tray(vm).get("tray_open"):
        if time.monotonic() > deadline:
            raise GuestError(f"changing the medium to {image.name}: the guest kept the tray locked ({desc})")
        time.sleep(0.2)
    reply = change()
    if "return" not in reply:
        raise GuestError(f"changing the medium to {image.name} with the tray open: {reply['error'].get('desc', '')}")


def _tray(vm: Vm) -> dict[str, Any]:
    for dev in vm.qmp("query-block")["return"]:
        if dev.get("qdev") == "cddrive" or dev.get("device") == "cd":
            info: dict[str, Any] = dev
            return info
    raise GuestError("no CD drive in query-block")


def _drive_state(vm: Vm) -> str:
    """The drive as qemu and the guest see it, for a failure message."""
    tray = {k: v for k, v in _tray(vm).items() if k in ("tray_open", "locked", "removable")}
    inserted = (_tray(vm).get("inserted") or {}).get("file")
    start = len(vm.lines)
    vm.tell("cdrom")
    try:
        end = vm.wait_line(r"^GUEST-CDROM-END", timeout=30, start=start)
        guest = "\n".join(vm.lines[start:end])
    except GuestError:
        guest = "(the guest did not answer)"
    t0 = vm.qmp_events[0][0] if vm.qmp_events else 0.0
    events = "\n".join(f"  +{t - t0:.2f}s {e['event']} {json.dumps(e.get('data', {}))}" for t, e in vm.qmp_events)
    return f"qemu: {tray} medium {inserted}\nQMP events:\n{events}\nguest:\n{guest}"


def _mounts(vm: Vm) -> list[str]:
    start = len(vm.lines)
    vm.tell("mounts")
    end = vm.wait_line(r"^GUEST-MOUNTS-END", timeout=30, start=start)
    return [line.removeprefix("GUEST-MOUNT ") for line in vm.lines[start:end] if line.startswith("GUEST-MOUNT ")]


@pytest.fixture(scope="module")
def proof(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proof]:
    if not is_root():
        pytest.skip("the guest's media are built on loop devices and its packages fetched as root")
    tools = ("qemu-system-x86_64", "dpkg-deb", "modinfo", "mkfs.ext4", "genisoimage", "apt-get", "udevadm")
    for tool in tools:
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (make test installs it)")
    if not Path("/lib/systemd/systemd-udevd").exists():
        pytest.skip("systemd-udevd is not installed (make test installs udev)")
    out = tmp_path_factory.mktemp("discovery-guest")
    kernel = build_kernel(out)
    lvm = {d: make_lvm_disk(out / f"{d.vg}.img", _lvm_files(d), label=d.label, vg=d.vg) for d in LVM_DISKS}
    cd_one = make_iso(out / "cd-one.iso", _cd_one(), label="CDONE")
    cd_two = make_iso(out / "cd-two.iso", _cd_two(), label="CDTWO")
    images = {p.name: p for p in (*lvm.values(), cd_one, cd_two)}
    qmp, control = out / "qmp.sock", out / "control.sock"
    cold = [img for d, img in lvm.items() if d.hotplug is None]
    argv = qemu_argv(kernel, qmp=qmp, control=control, disks=cold, hotplug_slots=2)
    vm = Vm(argv, log=out / "serial.log", qmp=qmp, control=control)
    p = Proof(vm.lines, vm.log, hashes_before={n: sha256(i) for n, i in images.items()})
    try:
        # at start: the cold-plugged physical volume, an empty drive
        p.steps["ready"] = vm.wait_line(r'^WATCH \{"event": "ready"\}', timeout=BOOT_TIMEOUT)
        before = vm.lines[vm.wait_line(r"^GUEST-DM-BEFORE ", timeout=5)]
        p.dm_before = before.removeprefix("GUEST-DM-BEFORE ")
        for d in LVM_DISKS:
            if d.hotplug is None:
                vm.wait_for(_option_event("option-added", d.title), timeout=EVENT_TIMEOUT, what=f"option {d.title!r}")

        # two more disks with LVM physical volumes are plugged in, one shortly after the other
        p.steps["lvm-plug"] = len(vm.lines)
        for d, img in lvm.items():
            if d.hotplug is not None:
                node = {"node-name": f"lvm{d.hotplug}"}
                reply = vm.qmp("blockdev-add", driver="raw", **node, file={"driver": "file", "filename": str(img)})
                assert "return" in reply, reply
        for d in LVM_DISKS:
            if d.hotplug is not None:
                bus = f"hotplug{d.hotplug}"
                reply = vm.qmp("device_add", driver="virtio-blk-pci", drive=f"lvm{d.hotplug}", bus=bus, id=d.vg)
                assert "return" in reply, reply
                time.sleep(HOTPLUG_GAP)
        for d in LVM_DISKS:
            if d.hotplug is not None:
                found = vm.wait_for(
                    _option_event("option-added", d.title),
                    timeout=EVENT_TIMEOUT,
                    start=p.steps["lvm-plug"],
                    what=f"option {d.title!r}",
                )
                p.steps["lvm-option"] = max(p.steps.get("lvm-option", 0), found + 1)
        p.mounts["lvm"] = _mounts(vm)

        # the last disk is pulled: its logical volume stays in the kernel, but not in the menu
        pulled = LVM_DISKS[-1]
        p.steps["lvm-unplug"] = len(vm.lines)
        reply = vm.qmp("device_del", id=pulled.vg)
        assert "return" in reply, reply
        p.steps["lvm-unplugged"] = vm.wait_for(
            _option_event("option-removed", pulled.title), timeout=EVENT_TIMEOUT, what=f"{pulled.title!r} removed"
        )
        deadline = time.monotonic() + 30
        while any(f"/dev/mapper/{pulled.vg}-" in m for m in _mounts(vm)) and time.monotonic() < deadline:
            time.sleep(0.5)
        p.mounts["lvm-unplugged"] = _mounts(vm)

        # a CD is inserted into the empty drive
        p.steps["cd-one"] = len(vm.lines)
        _change_medium(vm, cd_one)
        p.steps["cd-one-option"] = vm.wait_for(
            _option_event("option-added", CD_ONE_TITLE), timeout=EVENT_TIMEOUT, what=f"option {CD_ONE_TITLE!r}"
        )
        p.mounts["cd-one"] = _mounts(vm)

        # swapped for another while mounted: the guest has the tray locked and is asked to release it
        p.steps["cd-two"] = len(vm.lines)
        _change_medium(vm, cd_two)
        try:
            p.steps["cd-two-option"] = vm.wait_for(
                _option_event("option-added", CD_TWO_TITLE), timeout=EVENT_TIMEOUT, what=f"option {CD_TWO_TITLE!r}"
            )
        except GuestError as e:
            raise GuestError(f"{e}\n{_drive_state(vm)}") from None
        p.mounts["cd-two"] = _mounts(vm)

        # ejected: the same request, and nothing may be left of the CD
        p.tray["before-eject"] = _tray(vm)
        p.steps["eject"] = len(vm.lines)
        vm.qmp("eject", id="cddrive")
        p.steps["eject-removed"] = vm.wait_for(
            _option_event("option-removed", CD_TWO_TITLE), timeout=EVENT_TIMEOUT, what=f"{CD_TWO_TITLE!r} removed"
        )
        vm.wait_line(r'^WATCH \{"event": "device-removed", "device": \{"id": "sr0"', timeout=30, start=p.steps["eject"])
        deadline = time.monotonic() + 30
        while not _tray(vm).get("tray_open") and time.monotonic() < deadline:
            time.sleep(0.5)
        p.tray["after-eject"] = _tray(vm)
        # the device-removed event comes before the unmount: give it a moment
        deadline = time.monotonic() + 30
        while any(" /run/bootd/mnt/sr0 " in m for m in _mounts(vm)) and time.monotonic() < deadline:
            time.sleep(0.5)
        p.mounts["ejected"] = _mounts(vm)

        # bootd stops: it unmounts what it mounted
        p.steps["stop"] = len(vm.lines)
        vm.tell("stop")
        vm.wait_line(r"^GUEST-DONE", timeout=60, start=p.steps["stop"])
        p.exit_code = vm.wait_exit(60)
    except GuestError as e:
        pytest.fail(str(e))
    finally:
        vm.close()
    p.hashes_after = {n: sha256(i) for n, i in images.items()}
    yield p


def test_guest_kernel_has_device_mapper_and_an_optical_drive(proof: Proof) -> None:
    blocks = [line for line in proof.lines if line.startswith("GUEST-BLOCK ")]
    assert any(line.startswith("GUEST-BLOCK sr0 ") for line in blocks), proof.context()
    assert any(line.startswith("GUEST-BLOCK vda ") and "LVM2_member" in line for line in blocks), proof.context()
    # no logical volume was active before bootd ran (lvm2's own activation rule is masked in the guest)
    assert proof.dm_before == ".", proof.context()


def _lv_devices(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Devices added, by filesystem label."""
    return {e["device"]["label"]: e["device"] for e in events if e["event"] == "device-added"}


def _check_lv(disk: LvmDisk, events: list[dict[str, Any]], mounts: list[str]) -> None:
    lv = _lv_devices(events)[disk.label]
    assert lv["id"].startswith("dm-") and lv["fstype"] == "ext4" and lv["type"] == "disk", lv
    (option,) = [e["option"] for e in events if e["event"] == "option-added" and e["option"]["device"] == lv["id"]]
    assert option["name"] == disk.title
    assert option["kernel"] == {"device": lv["id"], "path": "/vmlinuz-6.1.0"}
    assert option["initrds"] == [{"device": lv["id"], "path": "/initrd.img-6.1.0"}]
    assert option["args"] == f"root=/dev/{disk.vg}/{LV} ro quiet"
    # mounted read-only, without replaying the journal
    (mount,) = [m for m in mounts if f" /run/bootd/mnt/{lv['id']} " in m]
    assert mount.startswith(f"/dev/mapper/{disk.vg}-{LV} ") and " ext4 ro," in mount and "norecovery" in mount


def test_bootd_activates_the_volume_group_present_at_start(proof: Proof) -> None:
    (cold,) = [d for d in LVM_DISKS if d.hotplug is None]
    first = proof.lines[: proof.steps["lvm-plug"]]
    # bootd ran vgchange itself when it found the physical volume at start
    assert any(re.search(r"run: vgchange -ay\b", line) for line in first), proof.context()
    events = [json.loads(line.removeprefix("WATCH ")) for line in first if line.startswith("WATCH {")]
    _check_lv(cold, events, proof.mounts["lvm"])
    # the physical volume itself is no device of the menu
    assert "vda" not in {e["device"]["id"] for e in events if e["event"] == "device-added"}


def test_bootd_activates_volume_groups_plugged_in_while_it_runs(proof: Proof) -> None:
    seen = proof.between("lvm-plug", "lvm-option")
    # at least one more vgchange, after the disks came (two when the second came during the first)
    assert any(re.search(r"run: vgchange -ay\b", line) for line in seen), proof.context()
    events = proof.events("lvm-plug", "lvm-unplug")
    for disk in LVM_DISKS:
        if disk.hotplug is not None:
            _check_lv(disk, events, proof.mounts["lvm"])
    added = {e["device"]["id"] for e in events if e["event"] == "device-added"}
    assert not {"vdb", "vdc"} & added, added


def test_a_logical_volume_goes_with_its_disk(proof: Proof) -> None:
    pulled = LVM_DISKS[-1]
    events = proof.events("lvm-unplug", "cd-one")
    removed = [e for e in events if e["event"] in ("option-removed", "device-removed")]
    assert [e["option"]["name"] for e in removed if "option" in e] == [pulled.title], events
    assert [e["device"]["label"] for e in removed if "device" in e] == [pulled.label], events
    assert not [e for e in events if e["event"].endswith("-added")], events
    mounts = proof.mounts["lvm-unplugged"]
    assert not [m for m in mounts if f"/dev/mapper/{pulled.vg}-" in m], mounts
    # the others stay
    for disk in LVM_DISKS[:-1]:
        assert [m for m in mounts if m.startswith(f"/dev/mapper/{disk.vg}-{LV} ")], mounts


def _sr0_mounts(lines: list[str]) -> list[str]:
    return [line for line in lines if re.search(r"run: mount .* /dev/sr0 /run/bootd/mnt/sr0$", line)]


def test_cd_options_follow_the_medium(proof: Proof) -> None:
    one = proof.events("cd-one", "cd-two")
    cd = next(e["device"] for e in one if e["event"] == "device-added" and e["device"]["id"] == "sr0")
    assert cd["type"] == "optical" and cd["fstype"] == "iso9660" and cd["label"] == "CDONE", one
    names = [e["option"]["name"] for e in one if e["event"] == "option-added"]
    assert names == [CD_ONE_TITLE], one
    assert any(m.startswith("/dev/sr0 /run/bootd/mnt/sr0 iso9660 ro,") for m in proof.mounts["cd-one"])
    # mounted once: the insertion's second media-change event names the medium already mounted
    assert len(_sr0_mounts(proof.between("cd-one", "cd-one-option"))) == 1, proof.context()

    swap = proof.events("cd-two", "eject")
    removed = [e["option"]["name"] for e in swap if e["event"] == "option-removed"]
    added = [e["option"] for e in swap if e["event"] == "option-added"]
    assert removed == [CD_ONE_TITLE] and [o["name"] for o in added] == [CD_TWO_TITLE], swap
    assert added[0]["device"] == "sr0" and added[0]["args"] == "boot=live cd=two"
    labels = [e["device"]["label"] for e in swap if e["event"] == "device-added"]
    assert labels == ["CDTWO"], swap
    assert any(m.startswith("/dev/sr0 /run/bootd/mnt/sr0 iso9660 ro,") for m in proof.mounts["cd-two"])
    assert len(_sr0_mounts(proof.between("cd-two", "cd-two-option"))) == 1, proof.context()

    ejected = proof.events("eject", "stop")
    assert [e["option"]["name"] for e in ejected if e["event"] == "option-removed"] == [CD_TWO_TITLE], ejected
    assert not [e for e in ejected if e["event"] in ("option-added", "device-added")], ejected
    assert not [m for m in proof.mounts["ejected"] if "/run/bootd/mnt/sr0 " in m], proof.mounts["ejected"]
    # the logical volumes' entries were never disturbed by the CD's comings and goings
    titles = {d.title for d in LVM_DISKS}
    assert not [e for e in proof.events("cd-one", "stop") if e.get("option", {}).get("name") in titles]


def test_the_kernel_asked_for_the_locked_medium(proof: Proof) -> None:
    """Swap and eject went through the guest: the drive was locked (udev locks a drive that holds a
    medium, the kernel one that is mounted), so qemu asked the guest for the medium and the kernel
    reported eject requests (bootd let go), then media changes as the medium went and came."""
    assert proof.tray["before-eject"]["locked"] is True, proof.tray
    assert proof.tray["after-eject"]["tray_open"] is True, proof.tray
    for start, end in (("cd-two", "eject"), ("eject", "stop")):
        uevents = [line for line in proof.between(start, end) if line.startswith("UEVENT ")]
        assert "UEVENT DISK_EJECT_REQUEST=1" in uevents, proof.context()
    media = [line for line in proof.between("cd-one", "stop") if line == "UEVENT DISK_MEDIA_CHANGE=1"]
    assert len(media) >= 3, proof.context()


def test_bootd_stops_cleanly_and_wrote_nothing(proof: Proof) -> None:
    tail = proof.between("stop")
    assert "GUEST-WATCH-EXIT 0" in tail, proof.context()
    assert not [line for line in tail if line.startswith("GUEST-LEFT-MOUNT ")], proof.context()
    assert proof.exit_code == 0, proof.context()
    assert not [line for line in proof.lines if "Traceback" in line], proof.context()
    statuses = [e for e in proof.events("ready") if e["event"] == "status" and e["severity"] == "error"]
    assert not statuses, statuses
    # every mount bootd made was read-only
    for mounts in proof.mounts.values():
        for m in mounts:
            assert m.split()[3].startswith("ro,"), m
    assert proof.hashes_after == proof.hashes_before
