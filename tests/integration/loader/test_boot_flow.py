"""loader.boot end to end on sandbox machines: resources, DTB, hooks, recorded kexec."""

from __future__ import annotations

import json
import os
import struct
from dataclasses import replace
from pathlib import Path, PurePosixPath

import libfdt
import pytest

from bootd.errors import DtbError, HookError, KexecError
from bootd.loader.boot import boot
from bootd.model import BootOption, BootRequest, Device, Resource
from bootd.platform import Platform
from bootd.platform.linux_boot import LinuxBoot
from bootd.platform.run import RealRunner
from bootd.platform.sandbox import sandbox_platform
from tests.unit.loader.helpers import (
    ARM64_DTS,
    ARM_TOML,
    DEMO_DTS,
    compile_dts,
    executable,
    make_machine,
    ppc64_vmlinux,
)


def chosen(blob: bytes, name: str) -> bytes | None:
    fdt = libfdt.Fdt(blob)
    v = fdt.getprop(fdt.path_offset("/chosen"), name, (libfdt.NOTFOUND,))
    return None if isinstance(v, int) else bytes(v)


def kexec_log(state: Path) -> list[dict[str, object]]:
    path = state / "kexec.log"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def disk(tmp_path: Path, *, kernel: bytes = b"KERNEL") -> tuple[BootOption, dict[str, Device]]:
    root = tmp_path / "disk"
    (root / "boot").mkdir(parents=True)
    (root / "boot/vmlinuz").write_bytes(kernel)
    (root / "boot/initrd").write_bytes(b"INITRD")
    dev = Device("vda2", mountpoint=PurePosixPath(str(root)))
    opt = BootOption(
        id="vda2/bls/demo",
        device="vda2",
        name="Demo",
        kernel=Resource.local("/boot/vmlinuz"),
        initrds=(Resource.local("/boot/initrd"),),
        args="root=/dev/vda2 ro",
    )
    return opt, {"vda2": dev}


def arm64(tmp_path: Path, **kw: object) -> Platform:
    machine = make_machine(tmp_path / "m", dts=ARM64_DTS, extra=ARM_TOML, **kw)  # type: ignore[arg-type]
    return sandbox_platform(machine, tmp_path / "state")


async def test_serial_console_boot_is_recorded_with_patched_dtb(tmp_path: Path) -> None:
    platform = arm64(tmp_path)
    opt, devices = disk(tmp_path)
    progress: list[tuple[str, float]] = []
    plan = await boot(
        platform,
        BootRequest(opt, console="ttyAMA0:115200n8"),
        devices,
        work_dir=tmp_path / "work",
        hooks_dir=None,
        progress=lambda m, f: progress.append((str(m), f)),
    )
    root = tmp_path / "disk"
    assert plan.kexec_load_argv == (
        "kexec",
        "-l",
        str(root / "boot/vmlinuz"),
        f"--dtb={tmp_path / 'work/boot.dtb'}",
        f"--initrd={root / 'boot/initrd'}",
        "--append=root=/dev/vda2 ro",
    )
    assert plan.kexec_exec_argv == ("kexec", "-e")
    assert plan.dt_console_path == "/pl011@9000000:115200n8"
    assert '+ /chosen/linux,stdout-path = "/pl011@9000000:115200n8"' in plan.dtb_changes
    log = kexec_log(tmp_path / "state")
    assert [entry["argv"] for entry in log] == [list(plan.kexec_load_argv), ["kexec", "-e"]]
    recorded = (tmp_path / "state" / str(log[0]["dtb"])).read_bytes()
    assert recorded == (tmp_path / "work/boot.dtb").read_bytes()
    assert chosen(recorded, "stdout-path") == b"/pl011@9000000:115200n8\0"
    assert chosen(recorded, "bootargs") == b"root=/dev/vda2 ro\0"
    live = platform.boot.live_dtb()
    assert live is not None and chosen(recorded, "kaslr-seed") not in (None, chosen(live, "kaslr-seed"))
    assert [f for _, f in progress] == sorted(f for _, f in progress) and progress[-1] == ("Starting the kernel", 1.0)


async def test_screen_console_points_at_simple_framebuffer(tmp_path: Path) -> None:
    platform = arm64(tmp_path)
    opt, devices = disk(tmp_path)
    plan = await boot(platform, BootRequest(opt, console="tty1"), devices, work_dir=tmp_path / "w", hooks_dir=None)
    assert plan.dt_console_path == "/chosen/framebuffer@7fc00000"
    assert chosen((tmp_path / "w/boot.dtb").read_bytes(), "linux,stdout-path") == b"/chosen/framebuffer@7fc00000\0"


async def test_lockdown_uses_kexec_file_load_and_console_on_cmdline(tmp_path: Path) -> None:
    platform = arm64(tmp_path, lockdown="integrity", systemd=True)
    opt, devices = disk(tmp_path)
    plan = await boot(platform, BootRequest(opt, console="ttyAMA0"), devices, work_dir=tmp_path / "w", hooks_dir=None)
    assert plan.kexec_load_argv[:2] == ("kexec", "-s")
    assert plan.kexec_load_argv[-1] == "--append=root=/dev/vda2 ro console=ttyAMA0"
    assert plan.dtb is None and plan.dt_console_path is None and plan.dtb_changes == ()
    assert any("locked down" in n for n in plan.notes)
    assert [e["argv"] for e in kexec_log(tmp_path / "state")][1] == ["systemctl", "kexec"]
    assert "dtb" not in kexec_log(tmp_path / "state")[0]


async def test_machine_without_device_tree(tmp_path: Path) -> None:
    machine = tmp_path / "m"
    machine.mkdir()
    (machine / "machine.toml").write_text('[machine]\narch = "x86_64"\n')
    platform = sandbox_platform(machine, tmp_path / "state")
    opt, devices = disk(tmp_path)
    plan = await boot(
        platform,
        BootRequest(opt, console="ttyS0:115200n8", args="quiet"),
        devices,
        work_dir=tmp_path / "w",
        hooks_dir=None,
        execute=False,
    )
    assert plan.kexec_load_argv[1] == "-l" and plan.args == "quiet console=ttyS0,115200n8"
    assert len(kexec_log(tmp_path / "state")) == 1  # loaded, not executed


async def test_hooks_run_on_the_patched_tree_and_can_change_args(tmp_path: Path) -> None:
    platform = arm64(tmp_path)
    opt, devices = disk(tmp_path)
    hooks = tmp_path / "boot.d"
    hooks.mkdir()
    seen = tmp_path / "seen.dtb"
    executable(hooks / "50-args", f'#!/bin/sh\ncp "$BOOT_DTB" {seen}\necho "BOOT_ARGS=$BOOT_ARGS hooked"\nexit 2\n')
    plan = await boot(platform, BootRequest(opt, console="ttyAMA0"), devices, work_dir=tmp_path / "w", hooks_dir=hooks)
    # the hook saw the finished tree: console and seeds already in it
    assert chosen(seen.read_bytes(), "stdout-path") == b"/pl011@9000000\0"
    assert chosen(seen.read_bytes(), "kaslr-seed") is not None
    # the new command line goes on --append, which arm64's kexec-tools writes into /chosen/bootargs
    assert plan.kexec_load_argv[-1] == "--append=root=/dev/vda2 ro hooked"
    assert plan.args == "root=/dev/vda2 ro hooked"
    assert "boot hook 50-args changed args" in plan.notes


async def test_a_hook_changing_the_console_changes_nothing_and_is_told(tmp_path: Path) -> None:
    platform = arm64(tmp_path)
    opt, devices = disk(tmp_path)
    hooks = tmp_path / "boot.d"
    hooks.mkdir()
    executable(hooks / "50-console", '#!/bin/sh\necho "BOOT_CONSOLE=tty0"\nexit 2\n')
    plan = await boot(platform, BootRequest(opt, console="ttyAMA0"), devices, work_dir=tmp_path / "w", hooks_dir=hooks)
    assert plan.dt_console_path == "/pl011@9000000"
    assert any("BOOT_CONSOLE" in n and "stays ttyAMA0" in n for n in plan.notes)


async def test_failing_hook_stops_before_kexec(tmp_path: Path) -> None:
    platform = arm64(tmp_path)
    opt, devices = disk(tmp_path)
    hooks = tmp_path / "boot.d"
    hooks.mkdir()
    executable(hooks / "10-no", "#!/bin/sh\necho refused >&2\nexit 3\n")
    with pytest.raises(HookError, match="10-no failed"):
        await boot(platform, BootRequest(opt, console="ttyAMA0"), devices, work_dir=tmp_path / "w", hooks_dir=hooks)
    assert kexec_log(tmp_path / "state") == []


async def test_broken_entry_dtb_refuses_to_boot(tmp_path: Path) -> None:
    platform = arm64(tmp_path)
    opt, devices = disk(tmp_path)
    (tmp_path / "disk/boot/bad.dtb").write_bytes(bytes.fromhex("d00dfeed") + b"\xff" * 100)
    opt = replace(opt, dtb=Resource.local("/boot/bad.dtb"))
    with pytest.raises(DtbError, match="invalid device tree"):
        await boot(platform, BootRequest(opt, console="ttyAMA0"), devices, work_dir=tmp_path / "w", hooks_dir=None)
    assert kexec_log(tmp_path / "state") == []


async def test_failed_load_reports_kexec_and_executes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    calls = tmp_path / "calls"
    executable(
        bindir / "kexec",
        f'#!/bin/sh\necho "$@" >> {calls}\necho "kexec_load failed: Device or resource busy" >&2\nexit 1\n',
    )
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    base = arm64(tmp_path)
    platform = replace(base, runner=RealRunner(), boot=LinuxBoot(RealRunner(), root=tmp_path / "sysroot"))
    opt, devices = disk(tmp_path)
    with pytest.raises(KexecError, match="kexec could not load the kernel: kexec_load failed: Device or resource busy"):
        await boot(platform, BootRequest(opt, console="ttyS0"), devices, work_dir=tmp_path / "w", hooks_dir=None)
    assert calls.read_text().splitlines() == [
        f"-l {tmp_path}/disk/boot/vmlinuz --initrd={tmp_path}/disk/boot/initrd --append=root=/dev/vda2 ro console=ttyS0"
    ]


async def test_ppc64_boot_carries_initrd_in_the_kernel_and_args_in_the_dtb(tmp_path: Path) -> None:
    machine = make_machine(tmp_path / "m", dts=DEMO_DTS, arch="ppc64le")
    platform = sandbox_platform(machine, tmp_path / "state")
    opt, devices = disk(tmp_path, kernel=ppc64_vmlinux())
    plan = await boot(platform, BootRequest(opt, console="hvc1"), devices, work_dir=tmp_path / "w", hooks_dir=None)
    staged = tmp_path / "w/kernel+initrd"
    # one tree, patched once: console, command line, initrd range and spare reserve entry together
    assert plan.kexec_load_argv == ("kexec", "-l", str(staged), f"--dtb={tmp_path / 'w/boot.dtb'}")
    assert sorted(p.name for p in (tmp_path / "w").glob("*.dtb")) == ["boot.dtb"]
    blob = (tmp_path / "state/kexec-1.dtb").read_bytes()
    assert chosen(blob, "bootargs") == b"root=/dev/vda2 ro\0"
    assert chosen(blob, "linux,stdout-path") == b"/ibm,opal/consoles/serial@1\0"
    start = struct.unpack(">Q", chosen(blob, "linux,initrd-start") or b"")[0]
    end = struct.unpack(">Q", chosen(blob, "linux,initrd-end") or b"")[0]
    assert end - start == len(b"INITRD")
    assert staged.read_bytes().endswith(b"INITRD")
    assert any("ppc64" in n for n in plan.notes)


FB_TOML = """
[[framebuffer]]
name = "fb0"
width = 1024
height = 768
depth = 32
stride = 4096
address = 0x6000c0000000
size = 3145728
format = "x8r8g8b8"
dt_path = "/pciex@600c3c0000000/pci@0/vga@0"
"""
VGA = "/pciex@600c3c0000000/pci@0/vga@0"


@pytest.mark.parametrize(("arch", "flag", "not_flag"), [("ppc64le", "little", "big"), ("ppc64", "big", "little")])
async def test_ppc64_screen_boot_hands_on_the_framebuffer_in_the_menu_kernels_byte_order(
    tmp_path: Path, arch: str, flag: str, not_flag: str
) -> None:
    machine = make_machine(tmp_path / "m", dts=DEMO_DTS, arch=arch, extra=FB_TOML)
    platform = sandbox_platform(machine, tmp_path / "state")
    opt, devices = disk(tmp_path, kernel=ppc64_vmlinux())
    plan = await boot(platform, BootRequest(opt, console="tty0"), devices, work_dir=tmp_path / "w", hooks_dir=None)
    # the plan says which framebuffer the tree hands on, as the platform found it, and where
    assert plan.framebuffer == platform.boot.framebuffers()[0]
    assert plan.framebuffer_node == VGA and plan.dt_console_path == VGA
    fdt = libfdt.Fdt((tmp_path / "state/kexec-1.dtb").read_bytes())
    vga = fdt.path_offset(VGA)
    for present in ("linux,opened", "linux,boot-display", f"{flag}-endian"):
        assert bytes(fdt.getprop(vga, present)) == b"", present
    assert fdt.getprop(vga, f"{not_flag}-endian", (libfdt.NOTFOUND,)) == -libfdt.NOTFOUND
    assert f"+ {VGA}/{flag}-endian" in plan.dtb_changes


async def test_a_hook_tree_hands_on_no_framebuffer_the_plan_vouches_for(tmp_path: Path) -> None:
    machine = make_machine(tmp_path / "m", dts=DEMO_DTS, arch="ppc64le", extra=FB_TOML)
    platform = sandbox_platform(machine, tmp_path / "state")
    opt, devices = disk(tmp_path, kernel=ppc64_vmlinux())
    hooks = tmp_path / "boot.d"
    hooks.mkdir()
    own = tmp_path / "own.dtb"
    own.write_bytes(compile_dts(DEMO_DTS))
    executable(hooks / "50-tree", f'#!/bin/sh\necho "BOOT_DTB={own}"\nexit 2\n')
    plan = await boot(platform, BootRequest(opt, console="tty0"), devices, work_dir=tmp_path / "w", hooks_dir=hooks)
    assert plan.framebuffer is None and plan.framebuffer_node is None


async def test_a_hook_changing_what_the_ppc64_tree_carries_is_refused(tmp_path: Path) -> None:
    machine = make_machine(tmp_path / "m", dts=DEMO_DTS, arch="ppc64le")
    platform = sandbox_platform(machine, tmp_path / "state")
    opt, devices = disk(tmp_path, kernel=ppc64_vmlinux())
    hooks = tmp_path / "boot.d"
    hooks.mkdir()
    executable(hooks / "50-args", '#!/bin/sh\necho "BOOT_ARGS=quiet"\nexit 2\n')
    with pytest.raises(HookError, match="BOOT_ARGS.*on ppc64 the device tree carries the command line"):
        await boot(platform, BootRequest(opt, console="hvc1"), devices, work_dir=tmp_path / "w", hooks_dir=hooks)
    assert kexec_log(tmp_path / "state") == []


async def test_missing_kexec_is_a_kexec_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no kexec can be found, whatever the machine has
    platform = replace(arm64(tmp_path), runner=RealRunner(), boot=LinuxBoot(RealRunner(), root=tmp_path / "sysroot"))
    opt, devices = disk(tmp_path)
    with pytest.raises(KexecError, match="kexec could not load the kernel: kexec: command not found"):
        await boot(platform, BootRequest(opt), devices, work_dir=tmp_path / "w", hooks_dir=None)


async def test_every_handed_on_tree_has_fresh_seeds(tmp_path: Path) -> None:
    # No console and no framebuffer asked for: the live tree still carries this
    # boot's seeds, so it is patched (fresh seeds) and handed on, never as it was.
    platform = arm64(tmp_path)
    live = platform.boot.live_dtb()
    assert live is not None and chosen(live, "kaslr-seed") is not None
    opt, devices = disk(tmp_path)
    seen: set[bytes] = set()
    for n in range(2):
        plan = await boot(platform, BootRequest(opt), devices, work_dir=tmp_path / f"w{n}", hooks_dir=None)
        assert plan.dtb is not None
        blob = plan.dtb.read_bytes()
        kaslr, rng = chosen(blob, "kaslr-seed"), chosen(blob, "rng-seed")
        # arm64's kexec -l writes the kaslr-seed itself and takes only the zero a
        # running kernel leaves; bootd hands it that zero, never the old seed
        assert kaslr == bytes(8) != chosen(live, "kaslr-seed")
        assert rng is not None and len(rng) >= 64 and rng != chosen(live, "rng-seed")
        seen.add(rng)
    assert len(seen) == 2  # a new seed for every boot


async def test_a_tree_a_hook_names_gets_fresh_seeds(tmp_path: Path) -> None:
    platform = arm64(tmp_path)
    opt, devices = disk(tmp_path)
    live = platform.boot.live_dtb()
    assert live is not None
    own = tmp_path / "hook.dtb"
    own.write_bytes(live)
    hooks = tmp_path / "boot.d"
    hooks.mkdir()
    executable(hooks / "10-dtb", f"#!/bin/sh\necho BOOT_DTB={own}\nexit 2\n")
    plan = await boot(platform, BootRequest(opt, console="ttyAMA0"), devices, work_dir=tmp_path / "w", hooks_dir=hooks)
    assert plan.dtb is not None
    assert chosen(plan.dtb.read_bytes(), "kaslr-seed") not in (None, chosen(live, "kaslr-seed"))
