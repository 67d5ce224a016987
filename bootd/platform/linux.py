"""The real machine.  Chosen only by ``bootd.__main__`` / ``bootd.app``.

Implementations import their heavy libraries (pyudev) lazily, so that
``bootd boot`` runs with only python3 and libfdt present.
"""

from __future__ import annotations

import os
from pathlib import Path

from bootd.platform import Platform
from bootd.platform.bmc import Bmc
from bootd.platform.firmware import detect_firmware
from bootd.platform.run import RealRunner


def linux_platform() -> Platform:
    from bootd.platform.linux_block import LinuxBlock
    from bootd.platform.linux_boot import LinuxBoot
    from bootd.platform.linux_net import LinuxNet

    runner = RealRunner()
    return Platform(
        name="linux",
        arch=os.uname().machine,
        firmware=detect_firmware(),
        runner=runner,
        block=LinuxBlock(runner),
        boot=LinuxBoot(runner),
        net=LinuxNet(runner),
        bmc=local_bmc(runner),
    )


def local_bmc(runner: RealRunner) -> Bmc | None:
    """The BMC behind the kernel's IPMI device, when there is one and ipmitool."""
    import shutil

    if shutil.which("ipmitool") is None:
        return None
    if not any(Path(p).exists() for p in ("/dev/ipmi0", "/dev/ipmi/0", "/dev/ipmidev/0")):
        return None
    return Bmc(runner)
