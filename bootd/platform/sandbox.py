"""A sandbox machine (see :mod:`bootd.platform.machine`): directories stand in
for filesystems, the device tree comes from a file, kexec and other commands
that would change this machine are recorded under ``state_dir`` instead.

Chosen only by ``bootd.__main__`` / ``bootd.app``.
"""

from __future__ import annotations

from pathlib import Path

from bootd.platform import Platform
from bootd.platform.bmc import Bmc
from bootd.platform.machine import load_machine
from bootd.platform.run import RecordingRunner

# Commands a sandbox may run for real: they only read or compute.
PASSTHROUGH = frozenset({"dtc", "fdtdump", "gpgv", "true", "false", "sh", "env"})


def sandbox_platform(machine_dir: Path, state_dir: Path) -> Platform:
    """A Platform over the machine in ``machine_dir``; records go to ``state_dir``."""
    from bootd.platform.sandbox_block import SandboxBlock
    from bootd.platform.sandbox_boot import SandboxBoot
    from bootd.platform.sandbox_net import SandboxNet

    spec = load_machine(machine_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    runner = RecordingRunner(passthrough=PASSTHROUGH)
    return Platform(
        name="sandbox",
        arch=spec.arch,
        firmware=spec.firmware,
        runner=runner,
        block=SandboxBlock(spec, runner, state_dir),
        boot=SandboxBoot(spec, runner, state_dir),
        net=SandboxNet(spec, runner, state_dir),
        bmc=Bmc(RecordingRunner(passthrough=frozenset({"ipmitool"})), spec.ipmi) if spec.ipmi else None,
    )
