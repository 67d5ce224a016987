"""The firmware image (``make image``): its size, and power-on → menu on the serial console.

One arm64 boot under TCG with the test machine's second disk (Debian GRUB
config): seconds from starting qemu to the menu's countdown line, beside the
kernel's own start (first kernel line) and systemd's multi-user.target as the
baseline measured in the same boot.  Aims: menu < 10 s, image < 120 MB
compressed (kernel + initramfs).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

BENCH = "image"
MENU = r"Booting \"Debian GNU/Linux\" in \d+ s"


def emit(metric: str, value: float, unit: str, **extra: object) -> None:
    print(json.dumps({"bench": BENCH, "metric": metric, "value": round(value, 2), "unit": unit, **extra}), flush=True)


def main() -> None:
    if os.geteuid() != 0 or shutil.which("qemu-system-aarch64") is None:
        print(json.dumps({"bench": BENCH, "error": "needs root and qemu-system-aarch64 (make apt)"}), flush=True)
        return
    from image.build import CACHE, build
    from tests.e2e.debian import Apt
    from tests.e2e.firmware.console import Console
    from tests.e2e.firmware.machine import machine
    from tests.e2e.firmware.package import debian_package
    from tests.e2e.guest import ARM64

    built = build(ARM64, debian_package().deb)
    m = built.manifest
    total = float(m["kernel_bytes"]) + float(m["initramfs_bytes"])  # type: ignore[arg-type]
    emit("image_compressed", total / 1e6, "MB", aim="< 120", kernel_mb=round(float(m["kernel_bytes"]) / 1e6, 1))  # type: ignore[arg-type]
    emit("image_unpacked", float(m["tree_bytes"]) / 1e6, "MB", packages=len(m["packages"]))  # type: ignore[arg-type]
    out = Path("build/image/arm64/machines")
    out.mkdir(parents=True, exist_ok=True)
    mach = machine(built, Apt("arm64", (CACHE / "arm64/apt").resolve()), out, "timeout = 30\n", "bench")
    with tempfile.TemporaryDirectory() as tmp:
        con = Console(mach.qemu_argv(), Path(tmp) / "bench.log")
        try:
            con.wait(MENU, 600)
            kernel = con.seen_at(r"Booting Linux on physical CPU") or 0.0
            target = con.seen_at(r"Reached target multi-user.target|Multi-User System") or 0.0
            menu = con.seen_at(MENU) or 0.0
        finally:
            con.close()
    emit("power_on_to_kernel", kernel, "s")
    emit("power_on_to_multi_user_target", target, "s", note="baseline: systemd up, before the menu")
    ratio = round(menu / target, 2) if target else None
    emit("power_on_to_menu", menu, "s", aim="< 10 (TCG arm64)", ratio_to_baseline=ratio)
