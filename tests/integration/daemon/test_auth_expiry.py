"""Authentication ends: after ``auth_timeout`` seconds without a gated call
(on the daemon's clock, moved by the test), never with 0, and after each boot
that needed the password."""

from __future__ import annotations

import pytest

from bootd.errors import AuthenticationRequired
from tests.integration.daemon.test_cancel_boot import Running, running  # noqa: F401 -- the fixture
from tests.unit.daemon.helpers import ManualClock

RESCUE = "sdb1/bls/rescue"


def clock(r: Running) -> ManualClock:
    c = r.daemon.clock
    assert isinstance(c, ManualClock)
    return c


async def test_authentication_expires_after_the_timeout_without_use(running: Running) -> None:  # noqa: F811
    r, c = running, running.client
    await c.set_setting("auth_timeout", 60)
    await c.set_setting("password", "hunter2")
    await c.authenticate("hunter2")
    clock(r).t += 50
    await c.set_setting("timeout", 4)  # used within the timeout: the period starts again
    clock(r).t += 50
    await c.set_setting("timeout", 5)
    clock(r).t += 61
    with pytest.raises(AuthenticationRequired, match="expired after 60 s without use: authenticate again"):
        await c.set_setting("timeout", 6)
    with pytest.raises(AuthenticationRequired, match="authenticate first"):
        await c.set_setting("timeout", 6)
    assert (await c.get_settings()).timeout == 5
    await c.authenticate("hunter2")
    await c.set_setting("timeout", 6)
    assert (await c.get_settings()).timeout == 6


async def test_auth_timeout_zero_lasts_until_the_connection_closes(running: Running) -> None:  # noqa: F811
    r, c = running, running.client
    await c.set_setting("auth_timeout", 0)
    assert (await c.get_settings()).auth_timeout == 0
    await c.set_setting("password", "hunter2")
    await c.authenticate("hunter2")
    clock(r).t += 10 * 24 * 3600
    await c.set_setting("timeout", 7)
    assert (await c.get_settings()).timeout == 7


async def test_a_boot_that_needed_the_password_ends_the_authentication(running: Running) -> None:  # noqa: F811
    c = running.client
    assert (await c.get_settings()).auth_timeout == 300, "the default"
    await c.set_setting("password", "hunter2")
    await c.authenticate("hunter2")
    await c.boot(RESCUE)  # unchanged: no password needed, the authentication stays
    await c.set_setting("timeout", 3)
    await c.boot(RESCUE, args="single")  # changed arguments: needed the password
    assert "--append=single" in (await c.get_state()).last_boot.kexec_load
    with pytest.raises(AuthenticationRequired):
        await c.boot(RESCUE, args="single")
    with pytest.raises(AuthenticationRequired):
        await c.set_setting("timeout", 4)
    await c.authenticate("hunter2")
    await c.boot_custom(kernel="/vmlinuz-rescue", device="sdb1")
    with pytest.raises(AuthenticationRequired):
        await c.boot_custom(kernel="/vmlinuz-rescue", device="sdb1")


async def test_cli_shows_and_sets_auth_timeout(running: Running) -> None:  # noqa: F811
    import asyncio
    import os
    import sys

    from tests.integration.daemon.test_cancel_boot import ROOT

    env = dict(os.environ, BOOTD_BUS=running.bus.address)

    async def bootd(*args: str) -> str:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bootd", *args, env=env, cwd=ROOT, stdout=asyncio.subprocess.PIPE
        )
        out, _ = await proc.communicate()
        assert proc.returncode == 0
        return out.decode()

    assert "auth_timeout = 300" in await bootd("settings")
    assert (await bootd("settings", "set", "auth_timeout", "45")).strip() == "auth_timeout = 45"
    assert (await running.client.get_settings()).auth_timeout == 45
