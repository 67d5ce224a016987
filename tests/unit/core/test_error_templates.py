"""Errors a person reads carry their template to the client that shows them:
loader, settings and editor errors made with ``BootdError.of``, an error inside
a status message or inside another error, and the daemon's D-Bus error reply
(``s message, s template, a{ss} args``) read back by the client.  Translated
with the real catalogues (ui/po and bootd/po as written)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from dbus_fast import Message, MessageType

from bootd import errors, settings
from bootd.dbus.gate import reply_error
from bootd.dbus.reply_errors import error_from_reply
from bootd.discovery.mounts import Mounter
from bootd.discovery.scanner import _source_label
from bootd.loader.resources import find_device
from bootd.model import MAX_TEXT_ARGS, N_, Resource, Text
from bootd.platform import parse_pool
from bootd.platform.block import BlockDevice
from bootd.platform.machine import load_machine
from bootd.platform.run import RecordingRunner
from bootd.platform.sandbox_block import SandboxBlock
from bootd.platform.sockets import network_error
from bootd.settings_types import _proxy
from tests.unit.core.test_argparse_languages import env_for, locale_dir  # noqa: F401  # a fixture
from tests.unit.ui.test_translations import ROOT, catalogue
from ui.controllers.edit import parse_resource


def _in(lang: str, folder: str = "ui") -> Callable[[str], str]:
    table = catalogue(lang, folder)
    return lambda m: table.get(m) or m


def _missing_device() -> errors.ResourceError:
    with pytest.raises(errors.ResourceError) as info:
        find_device(Resource.local("/vmlinuz", device="sda9"), "sda9", {})
    return info.value


@pytest.mark.parametrize("folder", ["ui", "bootd"])
def test_a_loader_error_inside_a_status_message_is_translated_inside_and_out(folder: str) -> None:
    e = _missing_device()
    assert str(e) == "(sda9)/vmlinuz: device sda9 is not present"
    message = Text.of(N_("Boot of {name} failed: {error}"), name="Fedora", error=e)
    assert message.text == "Boot of Fedora failed: (sda9)/vmlinuz: device sda9 is not present"
    assert message.translated(_in("de", folder)) == (
        "Start von Fedora fehlgeschlagen: (sda9)/vmlinuz: Gerät sda9 ist nicht vorhanden"
    )
    assert message.translated(_in("zh_CN", folder)) == "启动 Fedora 失败：(sda9)/vmlinuz：设备 sda9 不存在"


def test_an_error_inside_an_error_keeps_its_template() -> None:
    e = errors.AuthenticationRequired.of(
        N_("a password is set: authenticate first to {what}"), what=Text.of(N_("boot with changed arguments"))
    )
    assert str(e) == "a password is set: authenticate first to boot with changed arguments"
    said = Text.of_error(e).translated(_in("de"))
    assert said == "ein Passwort ist gesetzt: erst anmelden, um mit geänderten Argumenten zu starten"
    assert Text.of_error(e).translated(_in("zh_CN", "bootd")) == "已设置密码：请先认证才能以更改后的参数启动"


def test_the_daemons_error_reply_carries_its_template_and_the_client_keeps_it() -> None:
    e = _missing_device()
    call = Message(destination="org.bootd", path="/org/bootd", member="Boot", serial=7, sender=":1.5")
    reply = reply_error(e)._as_message(call)
    assert reply.message_type is MessageType.ERROR and reply.error_name == "org.bootd.Error.ResourceFailed"
    assert reply.signature == "ssa{ss}" and reply.body[0] == str(e), "busctl and gdbus read the first argument"
    back = error_from_reply(str(reply.error_name), reply.body[0], reply.body)
    assert type(back) is errors.ResourceError and str(back) == str(e)
    assert Text.of_error(back).translated(_in("de")) == "(sda9)/vmlinuz: Gerät sda9 ist nicht vorhanden"


def test_an_error_without_a_template_is_a_plain_reply() -> None:
    call = Message(destination="org.bootd", path="/org/bootd", member="Boot", serial=7, sender=":1.5")
    reply = reply_error(errors.NotFound("no option x"))._as_message(call)
    assert reply.signature == "s" and reply.body == ["no option x"]


@pytest.mark.parametrize(
    "body",
    [
        ["text"],
        ["text", 5, {}],
        ["text", "{error}", ["not", "a", "dict"]],
    ],
)
def test_a_reply_without_usable_template_arguments_stays_english(body: list[object]) -> None:
    e = error_from_reply("org.bootd.Error.Failed", "text", body)
    assert Text.of_error(e).translated(_in("de")) == "text"


def test_a_template_from_the_bus_is_only_a_catalogue_key_and_its_arguments_are_capped() -> None:
    args = {f"k{i}": "v" for i in range(100)}
    e = error_from_reply("org.bootd.Error.Failed", "shown as sent", ["shown as sent", "{k0.__class__} {k1}", args])
    assert len(e.template_args) == MAX_TEXT_ARGS
    assert Text.of_error(e).translated(_in("de")) == "shown as sent", "no catalogue knows it: the English text"
    e = error_from_reply("org.bootd.Error.Failed", "wrong password", ["wrong password", "wrong password", {"x": "1"}])
    assert Text.of_error(e).translated(_in("zh_CN")) == "密码错误"


def test_the_editors_path_errors_are_translated() -> None:
    with pytest.raises(errors.InvalidArgument) as info:
        parse_resource("vmlinuz")
    assert str(info.value) == "'vmlinuz': a path on the device starts with /"
    assert Text.of_error(info.value).translated(_in("de")) == "'vmlinuz': ein Pfad auf dem Gerät beginnt mit /"
    with pytest.raises(errors.InvalidArgument) as info:
        parse_resource("(sda2")
    assert Text.of_error(info.value).translated(_in("zh_CN")) == "'(sda2'：请写 (设备)/路径、以 / 开头的路径或 URL"


@pytest.mark.parametrize("folder", ["ui", "bootd"])
def test_a_rarer_settings_validator_is_translated(folder: str) -> None:
    with pytest.raises(errors.ConfigError) as info:
        _proxy("network.proxy", "ftp://x")
    assert str(info.value) == "network.proxy must be an http:// or https:// URL, not 'ftp://x'"
    said = Text.of_error(info.value).translated(_in("de", folder))
    assert said == "network.proxy muss eine http://- oder https://-URL sein, nicht 'ftp://x'"


def _mount_refusal(tmp_path: Path, fstype: str) -> errors.MountError:
    machine = tmp_path / "machine"
    machine.mkdir(parents=True)
    (machine / "machine.toml").write_text('[machine]\narch = "x86_64"\nfirmware = "bios"\n')
    block = SandboxBlock(load_machine(machine), RecordingRunner(), tmp_path / "state")
    with pytest.raises(errors.MountError) as info:
        asyncio.run(Mounter(block, tmp_path / "mnt").mount(BlockDevice(name="sdb2", fstype=fstype)))
    return info.value


@pytest.mark.parametrize("folder", ["ui", "bootd"])
def test_a_mount_refusal_in_the_status_line_and_the_scanners_report_is_translated(tmp_path: Path, folder: str) -> None:
    e = _mount_refusal(tmp_path, "swap")
    assert str(e) == "sdb2: swap is not a filesystem bootd can read"
    status = Text.of(N_("{device}: {error}"), device="sdb2", error=e)  # the daemon's status line
    assert status.translated(_in("de", folder)) == "sdb2: sdb2: swap ist kein Dateisystem, das bootd lesen kann"
    assert status.translated(_in("zh_CN", folder)) == "sdb2：sdb2：swap 不是 bootd 能读取的文件系统"
    where = _source_label(Path("disk.img"), "/dev/loop9p2", "/dev/loop9")
    report = Text.of(N_("{where}: {error}; skipped"), where=where, error=_mount_refusal(tmp_path / "2", ""))
    assert report.text == "disk.img partition 2 (/dev/loop9p2): sdb2: no filesystem found; skipped"
    assert report.translated(_in("de", folder)) == (
        "disk.img Partition 2 (/dev/loop9p2): sdb2: kein Dateisystem gefunden; übersprungen"
    )
    assert report.translated(_in("zh_CN", folder)) == "disk.img 第 2 分区（/dev/loop9p2）：sdb2：未找到文件系统；已跳过"


@pytest.mark.parametrize("folder", ["ui", "bootd"])
def test_an_unreadable_settings_file_says_why_around_the_librarys_words(tmp_path: Path, folder: str) -> None:
    p = settings.Paths(tmp_path)
    p.main.parent.mkdir(parents=True)
    p.main.write_text("timeout = = 3\n")
    warnings: list[Text] = []
    settings.load(p, warn=warnings.append)
    w = warnings[0]
    assert w.text.startswith(f"settings file {p.main} is unreadable (not valid TOML: ")
    de = w.translated(_in("de", folder))
    assert de.startswith(f"Einstellungsdatei {p.main} ist nicht lesbar (kein gültiges TOML: "), de
    zh = w.translated(_in("zh_CN", folder))
    assert "不是有效的 TOML：" in zh, zh


@pytest.mark.parametrize("folder", ["ui", "bootd"])
def test_the_platforms_fetch_command_and_parse_worker_errors_are_translated(folder: str) -> None:
    refused = network_error("http://10.0.0.1/boot.cfg", ConnectionRefusedError(111, "Connection refused"), 5.0)
    assert str(refused) == "cannot fetch http://10.0.0.1/boot.cfg: connection refused"
    assert Text.of_error(refused).translated(_in("de", folder)) == (
        "http://10.0.0.1/boot.cfg kann nicht geholt werden: Verbindung abgewiesen"
    )
    failed = errors.CommandError(["ipmitool", "chassis", "bootdev", "disk"], 1)
    assert str(failed) == "ipmitool failed: exit status 1"
    assert Text.of_error(failed).translated(_in("zh_CN", folder)) == "ipmitool 失败：退出状态 1"
    said = errors.CommandError(["ipmitool"], 1, "", "Error: Unable to establish IPMI v2 / RMCP+ session\n")
    assert Text.of_error(said).translated(_in("de", folder)) == (
        "ipmitool fehlgeschlagen: Error: Unable to establish IPMI v2 / RMCP+ session"
    ), "the tool's own words stay as they are"
    stop = parse_pool._death(-signal.SIGKILL, parse_pool.WorkerLimits())
    assert stop.text == "its parser was killed (SIGKILL); its options are not shown"
    assert (
        stop.translated(_in("de", folder)) == "sein Parser wurde beendet (SIGKILL); seine Optionen werden nicht gezeigt"
    )


@pytest.mark.parametrize(
    ("lang", "said"), [("de_DE.UTF-8", "ist keine Sandbox-Maschine"), ("zh_CN.UTF-8", "不是沙箱机器")]
)
def test_bootd_serve_says_a_wrong_sandbox_machine_in_its_language(
    tmp_path: Path,
    locale_dir: Path,  # noqa: F811
    lang: str,
    said: str,
) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "bootd", "serve", "--bus", f"unix:path={tmp_path}/nobus", "--sandbox", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env_for(lang, locale_dir),
        cwd=ROOT,
        timeout=60,
    )
    assert r.returncode != 0
    assert f"bootd serve: {tmp_path} {said}" in r.stderr and "is not a sandbox machine" not in r.stderr, r.stderr
