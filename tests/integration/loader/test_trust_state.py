"""Each option's trust state ahead of any boot (bootd.loader.trust), against
real gpgv: verified, unsigned, bad signature, tampered, each with its reason;
checked when the option is discovered and again when the policy changes; a
rescan keeps the verdict; discovery never waits for a check."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from bootd.inventory import EventKind, Inventory, InventoryEvent
from bootd.loader.trust import AT_BOOT, TrustChecker, assess
from bootd.loader.verify import Memo, Policy
from bootd.model import BootOption, Device, Resource, Trust
from bootd.platform.run import Result, Runner
from tests.integration.loader.test_signed_boot import Keys, arm64, disk, keys, sign

__all__ = ["keys"]


async def verdict(tmp_path: Path, opt: BootOption, devices: dict[str, Device], policy: Policy) -> tuple[Trust, str]:
    return await assess(arm64(tmp_path), policy, opt, devices, tmp_path / "trust")


async def test_a_correctly_signed_option_is_verified(tmp_path: Path, keys: Keys, arm64_dtb: bytes) -> None:
    opt, devices, _root = disk(tmp_path, arm64_dtb, keys)
    trust, reason = await verdict(tmp_path, opt, devices, Policy("warn", str(keys.keyring)))
    assert trust is Trust.VERIFIED, reason
    assert "signed by" in reason and "bootd owner" in reason


async def test_a_missing_signature_is_unsigned(tmp_path: Path, keys: Keys, arm64_dtb: bytes) -> None:
    opt, devices, root = disk(tmp_path, arm64_dtb, keys)
    (root / "boot/initrd.sig").unlink()
    trust, reason = await verdict(tmp_path, opt, devices, Policy("enforce", str(keys.keyring)))
    assert trust is Trust.UNSIGNED
    assert reason.startswith("initrd /boot/initrd: no usable signature") and "no such file" in reason


async def test_a_signature_by_another_key_is_a_bad_signature(tmp_path: Path, keys: Keys, arm64_dtb: bytes) -> None:
    opt, devices, root = disk(tmp_path, arm64_dtb, keys)
    sign(keys.stranger, root / "boot/board.dtb")
    trust, reason = await verdict(tmp_path, opt, devices, Policy("enforce", str(keys.keyring)))
    assert trust is Trust.BAD_SIGNATURE
    assert reason.startswith("device tree /boot/board.dtb: signed by key") and "not in the keyring" in reason


@pytest.mark.parametrize("what", ["boot/vmlinuz", "boot/initrd", "boot/board.dtb"])
async def test_one_changed_byte_is_tampered(tmp_path: Path, keys: Keys, arm64_dtb: bytes, what: str) -> None:
    opt, devices, root = disk(tmp_path, arm64_dtb, keys)
    data = bytearray((root / what).read_bytes())
    data[len(data) // 2] ^= 1
    (root / what).write_bytes(bytes(data))
    trust, reason = await verdict(tmp_path, opt, devices, Policy("enforce", str(keys.keyring)))
    assert trust is Trust.TAMPERED
    assert f"/{what}: BAD signature" in reason and "not what was signed" in reason


async def test_a_command_line_that_is_not_the_signed_one_is_tampered(
    tmp_path: Path, keys: Keys, arm64_dtb: bytes
) -> None:
    opt, devices, _root = disk(tmp_path, arm64_dtb, keys)
    changed = replace(opt, args=opt.args + " init=/bin/sh")
    trust, reason = await verdict(tmp_path, changed, devices, Policy("enforce", str(keys.keyring)))
    assert trust is Trust.TAMPERED and reason.startswith("command line 'root=/dev/vda2 ro init=/bin/sh': BAD")


async def test_the_worst_failure_names_the_state_and_every_failure_is_in_the_reason(
    tmp_path: Path, keys: Keys, arm64_dtb: bytes
) -> None:
    opt, devices, root = disk(tmp_path, arm64_dtb, keys)
    (root / "boot/initrd.sig").unlink()
    (root / "boot/vmlinuz").write_bytes(b"KERNEL" * 99)
    trust, reason = await verdict(tmp_path, opt, devices, Policy("warn", str(keys.keyring)))
    assert trust is Trust.TAMPERED
    assert "kernel /boot/vmlinuz: BAD signature" in reason and "initrd /boot/initrd: no usable signature" in reason


async def test_off_network_files_and_no_keyring(tmp_path: Path, keys: Keys, arm64_dtb: bytes) -> None:
    opt, devices, _root = disk(tmp_path, arm64_dtb, keys)
    assert await verdict(tmp_path, opt, devices, Policy("off", str(keys.keyring))) == (Trust.UNCHECKED, "")
    web = replace(opt, kernel=Resource.remote("http://127.0.0.1:9/vmlinuz"))
    assert await verdict(tmp_path, web, devices, Policy("enforce", str(keys.keyring))) == (Trust.UNCHECKED, AT_BOOT)
    trust, reason = await verdict(tmp_path, opt, devices, Policy("enforce", str(tmp_path / "none.gpg")))
    assert trust is Trust.ERROR and reason.endswith("the keyring does not exist")


async def test_the_checker_follows_discovery_and_the_policy(tmp_path: Path, keys: Keys, arm64_dtb: bytes) -> None:
    opt, devices, root = disk(tmp_path, arm64_dtb, keys)
    policy = Policy("off", str(keys.keyring))
    inventory = Inventory()
    events: list[InventoryEvent] = []
    inventory.subscribe(events.append)
    checker = TrustChecker(arm64(tmp_path), inventory, lambda: policy, work_dir=tmp_path / "trust")
    try:
        inventory.add_device(devices["vda2"])
        inventory.set_options("vda2", [opt])
        await checker.settled(30)
        assert inventory.option(opt.id) == opt, "off: nothing is checked"

        policy = Policy("warn", str(keys.keyring))
        checker.policy_changed()
        await checker.settled(30)
        seen = inventory.option(opt.id)
        assert seen is not None and seen.trust is Trust.VERIFIED

        # a rescan that finds the same entry keeps the verdict, with no event
        events.clear()
        inventory.set_options("vda2", [opt])
        await checker.settled(30)
        assert events == [] and inventory.option(opt.id) == seen

        # discovery does not wait: the new option is listed at once, its verdict follows
        (root / "boot/vmlinuz").write_bytes(b"KERNEL" * 99)
        renamed = replace(opt, name="Demo 2")
        inventory.set_options("vda2", [renamed])
        added = [e.option for e in events if e.kind is EventKind.OPTION_CHANGED]
        assert added and added[0] is not None and added[0].trust is Trust.UNCHECKED
        await checker.settled(30)
        now = inventory.option(opt.id)
        assert now is not None and now.trust is Trust.TAMPERED and now.name == "Demo 2"

        policy = Policy("off", str(keys.keyring))
        checker.policy_changed()
        await checker.settled(30)
        assert inventory.option(opt.id) == renamed, "off again: the verdict is gone"
    finally:
        await checker.stop()


@dataclass
class CountingRunner:
    """The platform's runner, counting the gpgv runs (each reads and hashes a file)."""

    inner: Runner
    gpgv: int = 0

    async def run(self, argv: Sequence[str], **kw: Any) -> Result:
        self.gpgv += argv[0] == "gpgv"
        return await self.inner.run(argv, **kw)

    def run_sync(self, argv: Sequence[str], **kw: Any) -> Result:
        return self.inner.run_sync(argv, **kw)


async def test_files_the_entries_of_a_menu_share_are_verified_once(
    tmp_path: Path, keys: Keys, arm64_dtb: bytes
) -> None:
    opt, devices, root = disk(tmp_path, arm64_dtb, keys)
    recovery = replace(opt, id="vda2/bls/recovery", name="Demo (recovery)", args=opt.args + " single")
    platform = arm64(tmp_path)
    counting = CountingRunner(platform.runner)
    platform = replace(platform, runner=counting)
    policy = Policy("warn", str(keys.keyring))
    memo: Memo = {}
    first = await assess(platform, policy, opt, devices, tmp_path / "trust", memo)
    assert first[0] is Trust.VERIFIED and counting.gpgv == 4  # kernel, initrd, device tree, command line
    second = await assess(platform, policy, recovery, devices, tmp_path / "trust", memo)
    assert counting.gpgv == 5, "only the other command line is checked again"
    assert second[0] is Trust.TAMPERED and second[1].startswith("command line 'root=/dev/vda2 ro single': BAD")

    (root / "boot/initrd").write_bytes(b"INITRD" * 99)  # changed: only it is checked again, and found out
    third = await assess(platform, policy, opt, devices, tmp_path / "trust", memo)
    assert counting.gpgv == 6 and third[0] is Trust.TAMPERED and "initrd /boot/initrd: BAD" in third[1]
