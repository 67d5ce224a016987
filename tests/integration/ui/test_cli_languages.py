"""The client commands in German and Simplified Chinese, chosen by ``LANG``:
messages, errors and the scan's text output come from bootd/po; lines that
scripts read (``state: …``, ``KEY = VALUE``) stay as they are."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.daemon.helpers import ROOT
from tests.integration.ui.conftest import Stack, needs_tools

pytestmark = needs_tools

EXPECTED = {
    "de_DE.UTF-8": {
        "cancel": "Autostart abgebrochen",
        "unknown": "bootd settings: unbekannte Einstellung 'colour' (bekannt: ",
        "empty": "    (keine Starteinträge: keine Bootloader-Konfiguration mit Einträgen gefunden)",
        "missing": "bootd scan: {path}: Datei oder Verzeichnis nicht gefunden",
        "nothing": "bootd scan: mindestens eine QUELLE oder --url URL angeben",
        "no options": "bootd boot: die Quellen bieten keine Starteinträge (warum, zeigt `bootd scan QUELLE`)",
    },
    "zh_CN.UTF-8": {
        "cancel": "自动启动已取消",
        "unknown": "bootd settings: 未知的设置 'colour'（已知：",
        "empty": "    （没有启动项：未找到含有条目的引导加载程序配置）",
        "missing": "bootd scan: {path}：没有那个文件或目录",
        "nothing": "bootd scan: 请至少给出一个来源（SOURCE）或 --url URL",
        "no options": "bootd boot: 这些来源没有提供启动项（原因见 `bootd scan 来源`）",
    },
}


@pytest.mark.parametrize("lang", sorted(EXPECTED))
def test_the_client_commands_speak_the_language_of_lang(
    stack: Stack, locale_dir: Path, tmp_path: Path, lang: str
) -> None:
    want = EXPECTED[lang]
    env = dict(os.environ, BOOTD_BUS=stack.bus.address, LANG=lang, BOOTD_LOCALEDIR=str(locale_dir))
    for key in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "BOOTD_PASSWORD"):
        env.pop(key, None)

    def bootd(*args: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "bootd", *args]
        return subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)

    r = bootd("cancel")
    assert r.returncode == 0 and r.stdout.strip() == want["cancel"], r.stderr
    r = bootd("settings", "get", "colour")
    assert r.returncode == 1 and r.stderr.startswith(want["unknown"]), r.stderr
    r = bootd("status")
    assert r.returncode == 0 and r.stdout.startswith("state: "), "lines that scripts read stay as they are"
    r = bootd("settings")
    assert "timeout = " in r.stdout

    empty = tmp_path / "empty"
    empty.mkdir()
    r = bootd("scan", str(empty))
    assert r.returncode == 0 and r.stdout.splitlines()[1] == want["empty"], r.stdout
    r = bootd("scan", str(tmp_path / "missing"))
    assert r.returncode == 1 and r.stderr.strip() == want["missing"].format(path=tmp_path / "missing"), r.stderr
    r = bootd("scan")
    assert r.returncode == 1 and r.stderr.strip() == want["nothing"], r.stderr
    r = bootd("boot", "--scan", str(empty), "--dry-run")
    assert r.returncode == 1 and r.stderr.strip().splitlines()[-1] == want["no options"], r.stderr
