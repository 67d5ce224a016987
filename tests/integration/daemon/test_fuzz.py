"""Hostile callers: random arguments to the daemon's methods and settings get
clear org.bootd.Error.* replies, never an internal error, and the daemon stays up."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import pytest
from dbus_fast import DBusError, Message, MessageType, Variant
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bootd.app import read_nvram
from bootd.dbus import names, service
from bootd.dbus.transport import connect_bus
from bootd.platform.linux import linux_platform
from tests.integration.daemon.helpers import DaemonProcess, PrivateBus

# D-Bus strings are valid UTF-8 without NUL; the wire format cannot carry anything else.
text = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\0"), max_size=30)
values = st.one_of(
    st.builds(lambda s: Variant("s", s), text),
    st.builds(lambda b: Variant("b", b), st.booleans()),
    st.builds(lambda i: Variant("u", i), st.integers(0, 2**32 - 1)),
    st.builds(lambda v: Variant("as", v), st.lists(text, max_size=4)),
)
keys = st.one_of(st.sampled_from(["kernel", "initrds", "dtb", "args", "device", "name"]), text)
specs = st.dictionaries(keys, values, max_size=5)
ids = st.one_of(st.sampled_from(["sda1/bls/6.1", "sdb1/bls/rescue"]), text)
setting = st.sampled_from(sorted(names.SETTING_PROPERTIES.values()))


def call(bus_address: str, messages: list[Message]) -> list[Message]:
    async def run() -> list[Message]:
        bus = await connect_bus(bus_address)
        try:
            replies = []
            for m in messages:
                reply = await bus.call(m)
                assert reply is not None
                replies.append(reply)
            return replies
        finally:
            bus.disconnect()

    return asyncio.run(run())


def manager(member: str, signature: str, body: list[object]) -> Message:
    return Message(
        destination=names.BUS_NAME,
        path=names.ROOT_PATH,
        interface=names.MANAGER_IFACE,
        member=member,
        signature=signature,
        body=body,
    )


def assert_clear(reply: Message) -> None:
    if reply.message_type == MessageType.ERROR:
        assert reply.error_name is not None and reply.error_name.startswith("org.bootd.Error."), reply.error_name
        assert reply.error_name != names.INTERNAL_ERROR, reply.body
        assert reply.body and len(str(reply.body[0])) > 5


@given(spec=specs, overrides=specs, option=ids, console=text, prop=setting, value=values)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_random_calls_get_clear_answers(
    serve: DaemonProcess,
    system_bus: PrivateBus,
    spec: dict[str, Variant],
    overrides: dict[str, Variant],
    option: str,
    console: str,
    prop: tuple[str, str],
    value: Variant,
) -> None:
    path = names.option_path(option)
    replies = call(
        system_bus.address,
        [
            manager("Boot", "osa{sv}", [path, console, overrides]),
            manager("BootCustom", "a{sv}s", [spec, console]),
            manager("SetNextBoot", "o", [path]),
            Message(
                destination=names.BUS_NAME,
                path=names.ROOT_PATH,
                interface=names.PROPERTIES_IFACE,
                member="Set",
                signature="ssv",
                body=[names.SETTINGS_IFACE, prop[0], value],
            ),
            manager("SetNextBoot", "o", ["/"]),
        ],
    )
    for reply in replies[:3] + replies[4:]:
        assert_clear(reply)
    set_reply = replies[3]
    if set_reply.message_type == MessageType.ERROR and set_reply.error_name is not None:
        # a wrong variant type is refused by the library before the service sees it
        assert set_reply.error_name in ("org.freedesktop.DBus.Error.InvalidSignature",) or (
            set_reply.error_name.startswith("org.bootd.Error.") and set_reply.error_name != names.INTERNAL_ERROR
        ), set_reply.error_name
    assert serve.process.poll() is None


async def test_unexpected_errors_become_internal_once(caplog: pytest.LogCaptureFixture) -> None:
    class Gate:
        total = 0
        in_flight: dict[str, int] = {}

    async def broken(sender: str) -> None:
        raise KeyError("boom")

    token = service.SENDER.set(":1.7")
    try:
        with pytest.raises(DBusError) as err:
            await service.guarded(Gate(), "Thing", broken, trusted=False)  # type: ignore[arg-type]
    finally:
        service.SENDER.reset(token)
    assert err.value.type == names.INTERNAL_ERROR and "internal error in Thing: KeyError" in err.value.text
    assert "boom" not in err.value.text, "no internals leak to callers"
    assert [r.getMessage() for r in caplog.records].count("internal error in Thing") == 1


async def test_nvram_keys_are_read_through_the_tool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tool = tmp_path / "nvram"
    tool.write_text(
        "#!/bin/sh\n"
        '[ "$1" = "--print-config" ] || exit 2\n'
        "echo 'petitboot,timeout=3'\necho 'petitboot,bootdevs=network disk'\necho 'auto-boot?=true'\n"
    )
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    values = await read_nvram(linux_platform())
    assert values == {"timeout": "3", "boot_order": ["network", "disk"], "autoboot": "true"}
