"""argparse's own messages (usage, errors) for ``bootd`` and ``bootd-menu``,
and ``bootd-menu --help``, in German and Simplified Chinese: real processes
under ``LANG``, the catalogues compiled with msgfmt as ``make locale`` does.
Under C they stay English, and the parsers themselves (what the man pages and
the shell completions are built from) stay English in any locale."""

from __future__ import annotations

import gettext
import os
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from tests.unit.parsers.helpers import ROOT

ERRORS = {
    "de_DE.UTF-8": {
        "usage": "Aufruf: ",
        "error": ": Fehler: ",
        "required": "diese Argumente sind erforderlich: IN, -o/--output",
        "choice": "Argument COMMAND: ungültige Auswahl: 'bogus' (möglich: 'scan', ",
        "unrecognized": "unbekannte Argumente: --bogus",
        "expected": "Argument --tty: ein Argument erwartet",
    },
    "zh_CN.UTF-8": {
        "usage": "用法：",
        "error": ": 错误：",
        "required": "缺少以下必需的参数：IN, -o/--output",
        "choice": "参数 COMMAND：无效的选择：'bogus'（可选：'scan', ",
        "unrecognized": "无法识别的参数：--bogus",
        "expected": "参数 --tty：需要一个参数",
    },
}

MENU_HELP = {
    "de_DE.UTF-8": [
        "Aufruf: bootd-menu [-h]",
        "Das Konsolen-Startmenü von bootd.",
        "Optionen:",
        "diese Hilfe zeigen und beenden",
        "auf diesem Terminalgerät laufen (/dev/hvc0, /dev/tty1)",
        "PROGRAM auf dem Terminal ausführen, wenn die Person zur Shell wechselt",
    ],
    "zh_CN.UTF-8": [
        "用法：bootd-menu [-h]",
        "bootd 的控制台启动菜单。",
        "选项",
        "显示此帮助信息并退出",
        "在此终端设备上运行（/dev/hvc0、/dev/tty1）",
        "用户退出到 shell 时在终端上运行 PROGRAM",
    ],
}


@pytest.fixture(scope="module")
def locale_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not shutil.which("msgfmt"):
        pytest.skip("needs msgfmt (gettext)")
    out = tmp_path_factory.mktemp("locale")
    for folder, domain in (("bootd", "bootd"), ("ui", "bootd-menu")):
        for po in sorted((ROOT / folder / "po").glob("*.po")):
            dest = out / po.stem / "LC_MESSAGES"
            dest.mkdir(parents=True, exist_ok=True)
            argv = ["msgfmt", "--check-format", "-o", str(dest / f"{domain}.mo"), str(po)]
            subprocess.run(argv, check=True, timeout=60)
    return out


def env_for(lang: str, locale_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    return {**env, "LANG": lang, "BOOTD_LOCALEDIR": str(locale_dir), "COLUMNS": "80"}


def run(module: str, lang: str, locale_dir: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env_for(lang, locale_dir),
        timeout=60,
    )


def flat(text: str) -> str:
    return "".join(text.split())


def columns(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


@pytest.mark.parametrize("lang", sorted(ERRORS))
def test_bootds_argparse_errors_are_in_the_language_of_lang(locale_dir: Path, lang: str) -> None:
    words = ERRORS[lang]
    cases = {
        "required": (["dtb", "patch"], "bootd dtb patch"),
        "choice": (["bogus"], "bootd"),
        "unrecognized": (["list", "--bogus"], "bootd"),
    }
    for key, (argv, prog) in cases.items():
        r = run("bootd", lang, locale_dir, *argv)
        assert r.returncode == 2, r
        last = r.stderr.strip().splitlines()[-1]
        assert last.startswith(prog + words["error"]), r.stderr
        assert flat(words[key]) in flat(last), r.stderr
        assert r.stderr.startswith(words["usage"] + prog), r.stderr
        assert "usage:" not in r.stderr and "error:" not in r.stderr, r.stderr
        assert all(columns(line) <= 80 for line in r.stderr.splitlines()[:-1]), r.stderr


@pytest.mark.parametrize("lang", sorted(ERRORS))
def test_bootd_menus_argparse_errors_are_in_the_language_of_lang(locale_dir: Path, lang: str) -> None:
    words = ERRORS[lang]
    r = run("ui", lang, locale_dir, "--tty")
    assert r.returncode == 2, r
    assert r.stderr.startswith(words["usage"] + "bootd-menu"), r.stderr
    assert r.stderr.strip().splitlines()[-1] == "bootd-menu" + words["error"] + words["expected"], r.stderr
    r = run("ui", lang, locale_dir, "--bogus")
    assert r.stderr.strip().splitlines()[-1] == "bootd-menu" + words["error"] + words["unrecognized"], r.stderr


@pytest.mark.parametrize("lang", sorted(MENU_HELP))
def test_bootd_menu_help_is_translated_and_fits_80_columns(locale_dir: Path, lang: str) -> None:
    r = run("ui", lang, locale_dir, "--help")
    assert r.returncode == 0, r.stderr
    for words in MENU_HELP[lang]:
        assert flat(words) in flat(r.stdout), (words, r.stdout)
    assert "show this help message and exit" not in r.stdout and "usage:" not in r.stdout, r.stdout
    assert "run on this terminal device" not in r.stdout, r.stdout
    assert all(columns(line) <= 80 for line in r.stdout.splitlines()), r.stdout


def test_a_chinese_menu_usage_lines_up_under_its_first_option(locale_dir: Path) -> None:
    lines = run("ui", "zh_CN.UTF-8", locale_dir, "--help").stdout.splitlines()
    assert lines[0].startswith("用法：bootd-menu [-h]") and lines[1].strip().startswith("[")
    assert len(lines[1]) - len(lines[1].lstrip()) == columns("用法：bootd-menu "), lines[:3]


@pytest.mark.parametrize("module", ["bootd", "ui"])
@pytest.mark.parametrize("lang", ["C", "C.UTF-8"])
def test_in_c_argparse_stays_english(locale_dir: Path, lang: str, module: str) -> None:
    r = run(module, lang, locale_dir, "--bogus")
    assert "usage: " in r.stderr and ": error: unrecognized arguments: --bogus" in r.stderr, r.stderr
    r = run("ui", lang, locale_dir, "--help")
    assert "show this help message and exit" in r.stdout and "run on this terminal device" in r.stdout


def test_the_menus_parser_itself_stays_english_and_the_domain_is_restored(
    locale_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What argparse-manpage and shtab read (format_help, the actions' help);
    after parsing, the process's gettext domain is what it was."""
    from ui.__main__ import build_parser

    for key, value in env_for("de_DE.UTF-8", locale_dir).items():
        monkeypatch.setenv(key, value)
    before = gettext.textdomain()
    parser = build_parser()
    text = parser.format_help()
    assert text.startswith("usage: bootd-menu") and "show this help message and exit" in text
    assert "run on this terminal device" in text and "Optionen" not in text
    assert parser.parse_args(["--ascii"]).ascii
    with pytest.raises(SystemExit):
        parser.parse_args(["--bogus"])
    assert gettext.textdomain() == before
