"""The loader's side of a sandbox machine (see :mod:`bootd.platform.machine`).

The live device tree is the machine's ``device_tree`` file (``.dts`` compiled
with dtc, ``.dtb`` read as is); consoles and framebuffers come from
``machine.toml``.  kexec is recorded, never run: each command is appended to
``state_dir/kexec.log`` as a JSON line, and the DTB it names is copied into
``state_dir``.  Boot hooks do run: they are the caller's own programs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from bootd.errors import DtbError
from bootd.model import N_, Console, Framebuffer
from bootd.platform.machine import MachineSpec
from bootd.platform.run import Result, Runner, run

log = logging.getLogger(__name__)

KEXEC_LOG = "kexec.log"


class SandboxBoot:
    def __init__(self, spec: MachineSpec, runner: Runner, state_dir: Path) -> None:
        self.spec = spec
        self.runner = runner
        self.state_dir = state_dir
        self._dtb: bytes | None = None
        self._draws = 0

    def live_dtb(self) -> bytes | None:
        source = self.spec.device_tree
        if source is None:
            return None
        if self._dtb is None:
            if source.suffix == ".dts":
                self.state_dir.mkdir(parents=True, exist_ok=True)
                out = self.state_dir / "live.dtb"
                argv = ["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", str(out), str(source)]
                result = self.runner.run_sync(argv, check=False)
                if not result.ok:
                    raise DtbError.of(
                        N_("{source}: dtc could not compile it: {error}"), source=source, error=result.stderr.strip()
                    )
                self._dtb = out.read_bytes()
            else:
                try:
                    self._dtb = source.read_bytes()
                except OSError as e:
                    raise DtbError(f"{source}: {e.strerror}") from None
        return self._dtb

    def consoles(self) -> list[Console]:
        return list(self.spec.consoles)

    def framebuffers(self) -> list[Framebuffer]:
        return [f.fb for f in self.spec.framebuffers]

    def display_node(self, fb: str) -> str | None:
        return next((f.dt_path for f in self.spec.framebuffers if f.fb.name == fb), None)

    def random_bytes(self, count: int) -> bytes:
        # Fake but fresh: every call differs (a counter), and the same machine gives the same sequence.
        out = b""
        while len(out) < count:
            self._draws += 1
            out += hashlib.sha256(b"bootd sandbox seed %d" % self._draws).digest()
        return out[:count]

    def lockdown(self) -> str:
        return self.spec.lockdown

    def under_systemd(self) -> bool:
        return self.spec.systemd

    async def run_hook(self, path: Path, env: Mapping[str, str], *, timeout: float) -> Result:
        return await run([str(path)], check=False, env=env, timeout=timeout)

    async def kexec(self, argv: Sequence[str]) -> Result:
        args = [str(a) for a in argv]
        record: dict[str, object] = {"time": time.time(), "argv": args}
        dtb = next((a.split("=", 1)[1] for a in args if a.startswith("--dtb=")), None)
        if dtb is not None:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            count = sum(1 for _ in self.state_dir.glob("kexec-*.dtb"))
            copy = self.state_dir / f"kexec-{count + 1}.dtb"
            shutil.copyfile(dtb, copy)
            record["dtb"] = copy.name
        with open(self.state_dir / KEXEC_LOG, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        if args[1:2] == ["-s"] and self.spec.lockdown != "none" and self.spec.kexec_signature == "reject":
            return Result(tuple(args), 255, "", "kexec_file_load failed: Key was rejected by service\n")
        return await self.runner.run(args, check=False)
