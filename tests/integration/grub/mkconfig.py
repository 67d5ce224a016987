"""Run Debian's own grub-mkconfig against a throwaway /boot, changing nothing on the machine.

A small ext4 image is attached to a loop device this module adds (numbers
from 96 up, removed afterwards) and mounted over /boot inside a private
mount namespace (``unshare -m``), together with a private /etc/default
holding the test's ``grub`` settings.  Fake kernels and initrds are created
there, ``grub-mkconfig`` writes /boot/grub/grub.cfg, and the filesystem's
files are copied out before the namespace ends.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

LOOP_CTL_ADD = 0x4C80
LOOP_CTL_REMOVE = 0x4C81
FIRST_LOOP = 96


@dataclass(frozen=True)
class MkconfigResult:
    boot: Path
    """A copy of the /boot filesystem after grub-mkconfig ran."""
    image: Path
    """The filesystem image itself (ext4)."""
    uuid: str
    """The /boot filesystem's UUID."""
    grub_cfg: str


def missing_tools() -> list[str]:
    return [
        t
        for t in ("grub-mkconfig", "grub-probe", "grub-editenv", "unshare", "losetup", "mkfs.ext4", "blkid")
        if shutil.which(t) is None
    ]


@contextlib.contextmanager
def loop_device(image: Path) -> Iterator[str]:
    """Attach ``image`` to a loop device added for it; detach and remove it afterwards."""
    ctl = os.open("/dev/loop-control", os.O_RDWR | os.O_CLOEXEC)
    try:
        for number in range(FIRST_LOOP, FIRST_LOOP + 32):
            try:
                fcntl.ioctl(ctl, LOOP_CTL_ADD, number)
            except OSError as e:
                if e.errno == errno.EEXIST:
                    continue
                raise
            node = f"/dev/loop{number}"
            try:
                if not os.path.exists(node):
                    os.mknod(node, 0o600 | 0o060000, os.makedev(7, number))
                subprocess.run(["losetup", node, str(image)], check=True, capture_output=True)
            except (OSError, subprocess.CalledProcessError):
                with contextlib.suppress(OSError):
                    fcntl.ioctl(ctl, LOOP_CTL_REMOVE, number)
                continue
            try:
                yield node
            finally:
                subprocess.run(["losetup", "-d", node], check=False, capture_output=True)
                for _ in range(50):
                    try:
                        fcntl.ioctl(ctl, LOOP_CTL_REMOVE, number)
                        break
                    except OSError as e:
                        if e.errno != errno.EBUSY:
                            break
                        import time

                        time.sleep(0.1)
            return
        raise RuntimeError("no free loop device number between 96 and 127")
    finally:
        os.close(ctl)


SCRIPT = r"""
set -euo pipefail
mount --make-rprivate /
mount "$LOOPDEV" /boot
mount -t tmpfs -o size=1m tmpfs /etc/default
cp "$WORK/default-grub" /etc/default/grub
for v in $KERNELS; do
  head -c 4096 /dev/urandom > /boot/vmlinuz-$v
  head -c 2048 /dev/urandom > /boot/initrd.img-$v
  echo "CONFIG_X=y" > /boot/config-$v
done
mkdir -p /boot/grub
grub-mkconfig -o /boot/grub/grub.cfg 2> "$WORK/mkconfig.log"
cp -a /boot/. "$WORK/boot/"
"""


def run_mkconfig(work: Path, kernels: Sequence[str], default_grub: str) -> MkconfigResult:
    """Make a /boot with ``kernels`` and run grub-mkconfig on it (needs root)."""
    image = work / "boot.img"
    with open(image, "wb") as f:
        f.truncate(48 * 1024 * 1024)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-L", "bootfs", str(image)], check=True, capture_output=True)
    (work / "default-grub").write_text(default_grub)
    (work / "boot").mkdir()
    env = {**os.environ, "WORK": str(work), "KERNELS": " ".join(kernels)}
    with loop_device(image) as node:
        env["LOOPDEV"] = node
        proc = subprocess.run(
            ["unshare", "-m", "--propagation", "private", "bash", "-c", SCRIPT],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if proc.returncode != 0:
            log = (work / "mkconfig.log").read_text() if (work / "mkconfig.log").exists() else ""
            raise RuntimeError(f"grub-mkconfig failed: {proc.stderr}{log}")
        uuid = subprocess.run(
            ["blkid", "-p", "-o", "value", "-s", "UUID", str(image)], check=True, capture_output=True, text=True
        ).stdout.strip()
    boot = work / "boot"
    return MkconfigResult(boot=boot, image=image, uuid=uuid, grub_cfg=(boot / "grub" / "grub.cfg").read_text())
