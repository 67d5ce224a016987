"""The firmware image (``make image``): its size, and power-on → menu on the serial console.

One arm64 boot under TCG with the test machine's second disk (Debian GRUB
config): seconds from starting qemu to the menu's countdown line, and the
steps on the way, each as first seen on the serial console (host clock): the
kernel's first line, the kernel starting /init (the initramfs unpacked),
systemd starting its jobs (generators run, units loaded), bootd.service up
(Type=dbus: the daemon owns its name), multi-user.target.  Aims: menu < 10 s,
image < 120 MB compressed (kernel + initramfs).  The sizes of every image
already built (``make image ARCH=...``) are reported too.

TCG figures scale with the load on the host: ``host_load`` is the 1-minute
load average when the boot began.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

BENCH = "image"
MENU = r"Booting \"Debian GNU/Linux\" in \d+ s"
STEPS = (
    ("power_on_to_kernel", r"Booting Linux on physical CPU"),
    ("power_on_to_init", r"Run /init as init process"),
    ("power_on_to_systemd_jobs", r"Queued start job for default target"),
    ("power_on_to_bootd_service", r"Started .*bootd\.service"),
    ("power_on_to_multi_user_target", r"Reached target .*multi-user\.target"),
)


def emit(metric: str, value: float | None, unit: str, **extra: object) -> None:
    v = None if value is None else round(value, 2)
    print(json.dumps({"bench": BENCH, "metric": metric, "value": v, "unit": unit, **extra}), flush=True)


def sizes(manifest: Path) -> None:
    m = json.loads(manifest.read_text())
    arch = m["arch"]
    total = float(m["kernel_bytes"]) + float(m["initramfs_bytes"])
    emit("image_compressed", total / 1e6, "MB", arch=arch, aim="< 120", kernel_mb=round(m["kernel_bytes"] / 1e6, 1))
    emit("image_unpacked", float(m["tree_bytes"]) / 1e6, "MB", arch=arch, packages=len(m["packages"]))


def main() -> None:
    if os.geteuid() != 0 or shutil.which("qemu-system-aarch64") is None:
        print(json.dumps({"bench": BENCH, "error": "needs root and qemu-system-aarch64 (make apt)"}), flush=True)
        return
    from image.build import CACHE, OUT, build
    from tests.e2e.debian import Apt
    from tests.e2e.firmware.console import Console
    from tests.e2e.firmware.machine import machine
    from tests.e2e.firmware.package import debian_package
    from tests.e2e.guest import ARM64

    built = build(ARM64, debian_package().deb)
    for manifest in sorted(OUT.glob("*/manifest.json")):
        sizes(manifest)
    out = OUT / "arm64" / "machines"
    out.mkdir(parents=True, exist_ok=True)
    mach = machine(built, Apt("arm64", (CACHE / "arm64/apt").resolve()), out, "timeout = 30\n", "bench")
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        con = Console(mach.qemu_argv(), Path(tmp) / "bench.log")
        try:
            con.wait(MENU, 600)
            seen = {name: con.seen_at(rx) for name, rx in STEPS}
            menu = con.seen_at(MENU) or 0.0
        finally:
            con.close()
    for name, value in seen.items():
        emit(name, value, "s", host_load=round(load, 1))
    target = seen["power_on_to_multi_user_target"]
    ratio = round(menu / target, 2) if target else None
    emit("power_on_to_menu", menu, "s", aim="< 10 (TCG arm64)", ratio_to_multi_user=ratio, host_load=round(load, 1))


if __name__ == "__main__":
    main()
