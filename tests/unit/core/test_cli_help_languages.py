"""``bootd --help`` and each sub-command's ``--help`` in German and Simplified
Chinese (real ``bootd`` processes, the ``bootd`` catalogues compiled with
msgfmt as ``make locale`` does), within 80 columns; in C and English they
stay English and load no catalogue, and the man page and the shell
completion, built from the same parser, stay English whatever the locale."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from bootd.__main__ import COMMANDS, build_parser
from tests.unit.parsers.helpers import ROOT

SYSTEM_PYTHON = "/usr/bin/python3"

WORDS = {
    "de_DE.UTF-8": {
        "": [
            "Aufruf: bootd",
            "Positionsargumente:",
            "Optionen:",
            "diese Hilfe zeigen und beenden",
            "den Daemon ausführen",
            "Bootmenü-Daemon: Startoptionen finden",
        ],
        "boot": [
            "Aufruf: bootd boot",
            "eine Option starten (aus einer durchsuchten Quelle",
            "aus dieser Quelle starten, ohne den Daemon",
            "(Vorgabe: /etc/bootd/keyring.gpg)",
        ],
        "dtb": ["einen Gerätebaum (DTB) zeigen", "einen Gerätebaum als .dts-ähnlichen Text ausgeben"],
        "demo": ["Zeit zum Umsehen; 0 startet sofort", "(Vorgabe: 30,"],
    },
    "zh_CN.UTF-8": {
        "": ["用法：bootd", "位置参数", "选项", "显示此帮助信息并退出", "运行守护进程", "启动菜单守护进程"],
        "boot": [
            "用法：bootd boot",
            "启动一个选项",
            "从此来源启动，不经过守护进程",
            "（默认：/etc/bootd/keyring.gpg）",
        ],
        "dtb": ["显示设备树二进制文件", "以类似 .dts 的文本打印设备树"],
        "demo": ["自动启动倒计时（默认：30，"],
    },
}


def columns(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


@pytest.fixture(scope="module")
def locale_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not shutil.which("msgfmt"):
        pytest.skip("needs msgfmt (gettext)")
    out = tmp_path_factory.mktemp("locale")
    for po in sorted((ROOT / "bootd" / "po").glob("*.po")):
        dest = out / po.stem / "LC_MESSAGES"
        dest.mkdir(parents=True)
        subprocess.run(["msgfmt", "--check-format", "-o", str(dest / "bootd.mo"), str(po)], check=True, timeout=60)
    return out


def env_for(lang: str, locale_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    return {**env, "LANG": lang, "BOOTD_LOCALEDIR": str(locale_dir), "COLUMNS": "80"}


def bootd_help(lang: str, locale_dir: Path, *command: str, python: str = sys.executable) -> str:
    proc = subprocess.run(
        [python, "-m", "bootd", *command, "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env_for(lang, locale_dir),
        timeout=60,
        check=True,
    )
    return proc.stdout


@pytest.mark.parametrize("lang", sorted(WORDS))
def test_help_is_translated_and_fits_80_columns(locale_dir: Path, lang: str) -> None:
    for command, words in WORDS[lang].items():
        text = bootd_help(lang, locale_dir, *([command] if command else []))
        flat = "".join(text.split())  # the words as wrapped across lines
        for w in words:
            assert "".join(w.split()) in flat, (lang, command, w, text)
        assert "show this help message and exit" not in text, text
        assert all(columns(line) <= 80 for line in text.splitlines()), text


@pytest.mark.parametrize("lang", sorted(WORDS))
def test_every_sub_commands_help_is_translated(locale_dir: Path, lang: str) -> None:
    english = {name: help_text for name, _module, help_text in COMMANDS}
    for name in sorted(english):
        text = bootd_help(lang, locale_dir, name)
        assert english[name] not in text, (name, text)
        assert "--help" in text and "usage:" not in text, text
        assert all(columns(line) <= 80 for line in text.splitlines()), (name, text)


@pytest.mark.parametrize("lang", ["C", "C.UTF-8", "en_US.UTF-8"])
def test_in_c_and_english_help_stays_english_and_loads_no_catalogue(locale_dir: Path, lang: str) -> None:
    code = (
        "import atexit, runpy, sys\n"
        "atexit.register(lambda: print('MODULES', *sorted(sys.modules), file=sys.stderr))\n"
        "sys.argv[0] = 'bootd'\n"
        "runpy.run_module('bootd', run_name='__main__', alter_sys=True)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env_for(lang, locale_dir),
        timeout=60,
        check=True,
    )
    assert "usage: bootd" in proc.stdout and "show this help message and exit" in proc.stdout
    modules = proc.stderr.split("MODULES", 1)[1].split()
    assert "bootd.cli.i18n" not in modules and "logging" not in modules


def test_a_german_help_imports_no_logging_nor_anything_heavy(locale_dir: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "bootd", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env_for("de_DE.UTF-8", locale_dir),
        timeout=60,
        check=True,
    )
    assert "Optionen:" in proc.stdout
    names = {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "logging" not in names and "bootd.model" not in names
    assert not names & {"dbus_fast", "pyudev", "urwid", "tomlkit", "asyncio", "ssl", "socket"}


def test_the_parser_itself_stays_english_in_any_locale(locale_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What argparse-manpage and shtab read: format_usage/format_help and the
    actions' help, which no --help printing translated."""
    for key, value in env_for("de_DE.UTF-8", locale_dir).items():
        monkeypatch.setenv(key, value)
    parser = build_parser()
    assert parser.format_usage().startswith("usage: bootd")
    text = parser.format_help()
    assert "show this help message and exit" in text and "run the daemon" in text and "Optionen" not in text


@pytest.mark.skipif(
    subprocess.run([SYSTEM_PYTHON, "-c", "import build_manpages, shtab"], capture_output=True).returncode != 0,
    reason="needs Debian's python3-argparse-manpage and python3-shtab",
)
@pytest.mark.parametrize("lang", sorted(WORDS))
def test_man_page_and_completion_stay_english(locale_dir: Path, lang: str) -> None:
    env = {**env_for(lang, locale_dir), "PYTHONPATH": str(ROOT)}
    page = subprocess.run(
        [SYSTEM_PYTHON, "debian/manpage.py", "bootd.__main__", "build_parser", "boot menu daemon"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=True,
    ).stdout
    assert "run the daemon" in page and "more log output (repeatable)" in page
    assert "Optionen" not in page and "选项" not in page and "Aufruf" not in page and "用法" not in page
    completion = subprocess.run(
        [SYSTEM_PYTHON, "-m", "shtab", "--shell=zsh", "bootd.__main__.build_parser"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=True,
    ).stdout
    assert "run the daemon" in completion and "den Daemon" not in completion and "守护进程" not in completion


def test_a_chinese_usage_lines_up_under_its_first_option(locale_dir: Path) -> None:
    lines = bootd_help("zh_CN.UTF-8", locale_dir, "boot").splitlines()
    assert lines[0].startswith("用法：bootd boot [-h]") and lines[1].strip().startswith("[")
    indent = len(lines[1]) - len(lines[1].lstrip())
    assert indent == columns("用法：bootd boot "), lines[:3]
