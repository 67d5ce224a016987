"""Parser diagnostics people read carry their template: through the parse
workers' JSON, inside the daemon's ``{device}: {diagnostic}`` status, and on
``bootd scan``'s stderr, translated with the real catalogues (German, Chinese)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bootd.cli.scan import directory_view, parse_source, scan_views
from bootd.jsoncodec import diagnostic_from_json, diagnostic_to_json
from bootd.model import N_, Severity, Text
from tests.unit.core.test_argparse_languages import env_for, locale_dir  # noqa: F401  # a fixture
from tests.unit.ui.test_translations import ROOT, catalogue

CONFIG = "DEFAULT linux\nTIMEOUT soon\nLABEL linux\n  KERNEL /vmlinuz\n"


def _in(lang: str, folder: str = "ui") -> Callable[[str], str]:
    table = catalogue(lang, folder)
    return lambda m: table.get(m) or m


def _scan(tmp_path: Path) -> Text:
    (tmp_path / "syslinux.cfg").write_text(CONFIG)
    (tmp_path / "vmlinuz").write_bytes(b"kernel")
    _devices, _options, diags = scan_views([directory_view(parse_source(str(tmp_path)), set())])
    [(device, diag)] = [(d, x) for d, x in diags if x.severity is Severity.WARNING]
    assert diag.template == "TIMEOUT {value} is not a number"
    back = diagnostic_from_json(diagnostic_to_json(diag))
    assert back == diag, "the parse workers' JSON keeps the template"
    return Text.of(N_("{device}: {diagnostic}"), device=device, diagnostic=back.text())


@pytest.mark.parametrize("folder", ["ui", "bootd"])
def test_a_parsers_warning_in_the_daemons_status_is_translated(tmp_path: Path, folder: str) -> None:
    status = _scan(tmp_path)
    assert status.text.endswith(": warning: /syslinux.cfg:2: TIMEOUT 'soon' is not a number")
    assert status.translated(_in("de", folder)).endswith(": warning: /syslinux.cfg:2: TIMEOUT 'soon' ist keine Zahl")
    assert status.translated(_in("zh_CN", folder)).endswith("：warning：/syslinux.cfg:2: TIMEOUT 'soon' 不是数字")


@pytest.mark.parametrize(("lang", "said"), [("de_DE.UTF-8", "ist keine Zahl"), ("zh_CN.UTF-8", "不是数字")])
def test_bootd_scan_prints_diagnostics_in_its_language(
    tmp_path: Path,
    locale_dir: Path,  # noqa: F811
    lang: str,
    said: str,
) -> None:
    stderr = _scan_stderr(tmp_path, CONFIG, lang, locale_dir)
    assert f"TIMEOUT 'soon' {said}" in stderr and "is not a number" not in stderr, stderr


def _scan_stderr(tmp_path: Path, config: str, lang: str, locales: Path, name: str = "syslinux.cfg") -> str:
    """What ``bootd scan`` of a directory holding ``config`` at ``name`` (and a
    kernel) prints on stderr in ``lang``."""
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_text(config)
    (tmp_path / "vmlinuz").write_bytes(b"kernel")
    r = subprocess.run(
        [sys.executable, "-m", "bootd", "scan", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env_for(lang, locales),
        cwd=ROOT,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    return r.stderr


INFO_CONFIG = (
    "DEFAULT linux\nLABEL linux\n  KERNEL /vmlinuz\nLABEL hdt\n  COM32 hdt.c32\nLABEL old\n  KERNEL /memtest.bin\n"
)


def _info(tmp_path: Path) -> list[tuple[str, Text]]:
    (tmp_path / "syslinux.cfg").write_text(INFO_CONFIG)
    (tmp_path / "vmlinuz").write_bytes(b"kernel")
    (tmp_path / "loader" / "entries").mkdir(parents=True)
    (tmp_path / "loader" / "entries" / "a.conf").write_text("title A\n")  # a BLS entry without a kernel
    _devices, _options, diags = scan_views([directory_view(parse_source(str(tmp_path)), set())])
    infos = [(d, x) for d, x in diags if x.severity is Severity.INFO]
    assert infos and all(x.template for _d, x in infos), "every INFO diagnostic carries its template"
    return [(d, diagnostic_from_json(diagnostic_to_json(x)).text()) for d, x in infos]


@pytest.mark.parametrize("folder", ["ui", "bootd"])
def test_the_other_parsers_info_diagnostics_are_translated(tmp_path: Path, folder: str) -> None:
    said = {t.text: t for _d, t in _info(tmp_path)}
    com32 = said["info: /syslinux.cfg:4: label 'hdt' skipped: a COM32 module"]
    assert com32.translated(_in("de", folder)) == "info: /syslinux.cfg:4: Label 'hdt' übersprungen: ein COM32-Modul"
    assert com32.translated(_in("zh_CN", folder)) == "info：/syslinux.cfg:4: 标签 'hdt' 已跳过：COM32 模块"
    boot_sector = said["info: /syslinux.cfg:6: label 'old' skipped: /memtest.bin is a boot sector"]
    assert boot_sector.translated(_in("de", folder)).endswith(
        "Label 'old' übersprungen: /memtest.bin ist ein Bootsektor"
    )
    bls = said["info: /loader/entries/a.conf: entry skipped: no 'linux' line"]
    assert bls.translated(_in("zh_CN", folder)).endswith("条目已跳过：没有 'linux' 行")


@pytest.mark.parametrize(
    ("lang", "said"), [("de_DE.UTF-8", "übersprungen: ein COM32-Modul"), ("zh_CN.UTF-8", "已跳过：COM32 模块")]
)
def test_bootd_scan_prints_info_diagnostics_in_its_language(
    tmp_path: Path,
    locale_dir: Path,  # noqa: F811
    lang: str,
    said: str,
) -> None:
    stderr = _scan_stderr(tmp_path, INFO_CONFIG, lang, locale_dir)
    assert said in stderr and "skipped" not in stderr, stderr


GRUB_CONFIG = """set default=missing
menuentry 'Windows' {
    chainloader /EFI/Microsoft/Boot/bootmgfw.efi
}
menuentry 'Debian' {
    linux /vmlinuz root=/dev/sda2
}
submenu {
    echo untitled
}
"""


def _grub(tmp_path: Path) -> dict[str, Text]:
    (tmp_path / "boot" / "grub").mkdir(parents=True)
    (tmp_path / "boot" / "grub" / "grub.cfg").write_text(GRUB_CONFIG)
    (tmp_path / "vmlinuz").write_bytes(b"kernel")
    _devices, _options, diags = scan_views([directory_view(parse_source(str(tmp_path)), set())])
    assert diags and all(x.template for _d, x in diags), "every GRUB diagnostic here carries its template"
    return {x.message: diagnostic_from_json(diagnostic_to_json(x)).text() for _d, x in diags}


@pytest.mark.parametrize("folder", ["ui", "bootd"])
def test_grubs_diagnostics_are_translated(tmp_path: Path, folder: str) -> None:
    said = _grub(tmp_path)
    chain = said[
        "'Windows' starts another boot loader (chainloader); bootd boots Linux kernels with kexec and cannot"
        " start it, so it is not offered"
    ]
    assert chain.translated(_in("de", folder)).replace("\n", " ") == (
        "info: 'Windows' startet einen anderen Bootloader (chainloader); bootd startet Linux-Kernel mit kexec"
        " und kann ihn nicht starten, daher wird er nicht angeboten"
    )
    untitled = said["submenu without a title; ignored"]
    assert untitled.translated(_in("zh_CN", folder)).endswith("没有标题的 submenu；已忽略")


@pytest.mark.parametrize(
    ("lang", "said"), [("de_DE.UTF-8", "startet einen anderen Bootloader"), ("zh_CN.UTF-8", "会启动另一个引导加载程序")]
)
def test_bootd_scan_prints_grubs_diagnostics_in_its_language(
    tmp_path: Path,
    locale_dir: Path,  # noqa: F811
    lang: str,
    said: str,
) -> None:
    stderr = _scan_stderr(tmp_path, GRUB_CONFIG, lang, locale_dir, name="boot/grub/grub.cfg")
    assert said in stderr and "starts another boot loader" not in stderr, stderr


@pytest.mark.parametrize("folder", ["ui", "bootd"])
def test_a_grub_limit_is_translated_inside_the_diagnostic_that_names_it(tmp_path: Path, folder: str) -> None:
    (tmp_path / "boot" / "grub").mkdir(parents=True)
    (tmp_path / "boot" / "grub" / "grub.cfg").write_text(
        "while true; do true; done\nmenuentry 'Late' { linux /vmlinuz }\n"
    )
    _devices, _options, diags = scan_views([directory_view(parse_source(str(tmp_path)), set())])
    [stop] = [x for _d, x in diags if x.message.endswith("; later entries are missing")]  # CPU time or steps
    said = diagnostic_from_json(diagnostic_to_json(stop)).text()
    assert said.translated(_in("de", folder)).endswith(" abgebrochen (cpu_seconds); spätere Einträge fehlen") or (
        said.translated(_in("de", folder)).endswith("(Endlosschleife?); spätere Einträge fehlen")
    )
    assert said.translated(_in("zh_CN", folder)).endswith("；后面的条目缺失")


@pytest.mark.parametrize("folder", ["ui", "bootd"])
def test_grubs_syntax_notes_are_translated(tmp_path: Path, folder: str) -> None:
    (tmp_path / "boot" / "grub").mkdir(parents=True)
    (tmp_path / "boot" / "grub" / "grub.cfg").write_text("}\nmenuentry 'A' {\n  linux /vmlinuz\necho 'open\n")
    _devices, _options, diags = scan_views([directory_view(parse_source(str(tmp_path)), set())])
    said = {x.message: diagnostic_from_json(diagnostic_to_json(x)).text() for _d, x in diags}
    stray = said["unexpected '}'; ignored"]
    assert stray.translated(_in("de", folder)).endswith("unerwartetes '}'; ignoriert")
    quote = said["unterminated single quote"]
    assert quote.translated(_in("zh_CN", folder)).endswith("单引号未闭合")


def test_a_fifo_grub_sources_is_named_in_german(tmp_path: Path) -> None:
    (tmp_path / "boot" / "grub").mkdir(parents=True)
    (tmp_path / "boot" / "grub" / "grub.cfg").write_text("source /boot/grub/pipe\nmenuentry 'A' { linux /vmlinuz }\n")
    os.mkfifo(tmp_path / "boot" / "grub" / "pipe")
    _devices, _options, diags = scan_views([directory_view(parse_source(str(tmp_path)), set())])
    [note] = [x for _d, x in diags if "not a regular file" in x.message]
    said = diagnostic_from_json(diagnostic_to_json(note)).text().translated(_in("de"))
    assert said.endswith("/boot/grub/pipe: keine reguläre Datei; übersprungen"), said
