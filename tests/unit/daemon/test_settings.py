"""Settings: layers, validation, corrupt files, atomic writes, passwords, NVRAM."""

from __future__ import annotations

import logging
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from bootd import settings, settings_write
from bootd.errors import ConfigError

ROOT = Path(__file__).resolve().parents[3]


def paths(tmp_path: Path) -> settings.Paths:
    return settings.Paths(tmp_path)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_documented_defaults_are_the_built_in_ones() -> None:
    data = tomllib.loads((ROOT / "config/bootd.toml").read_text())
    tables = {s.name for s in settings.TABLE if s.structured}
    assert set(data) == set(settings.KEYS) - tables, "config/bootd.toml documents every key, and only those"
    assert all(f"# [{name}]" in (ROOT / "config/bootd.toml").read_text() for name in tables), "tables in comments"
    assert settings.merge([settings.Layer("config/bootd.toml", data)]) == settings.DEFAULTS


def test_no_files_means_defaults(tmp_path: Path) -> None:
    assert settings.load(paths(tmp_path)) == settings.DEFAULTS


def test_layers_in_order(tmp_path: Path) -> None:
    p = paths(tmp_path)
    write(p.vendor, 'timeout = 3\nconsole = "hvc0"\nboot_order = ["disk"]\n')
    write(p.main, "timeout = 7\n")
    write(p.dropin_dir / "20-b.toml", "autoboot = false\n")
    write(p.dropin_dir / "10-a.toml", "autoboot = true\nscan_loop_devices = true\n")
    write(p.dropin_dir / "ignored.conf", "timeout = 99\n")
    s = settings.load(p, nvram={"timeout": "5", "console": "ttyS0", "boot_order": ["usb"]})
    assert s.timeout == 7, "/etc beats NVRAM and /usr/lib"
    assert s.console == "ttyS0", "NVRAM beats /usr/lib"
    assert s.boot_order == ("usb",)
    assert s.autoboot is False, "drop-ins apply in name order"
    assert s.scan_loop_devices is True


def test_corrupt_file_means_defaults_and_a_loud_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    p = paths(tmp_path)
    write(p.main, "timeout = [unterminated\n")
    warnings: list[str] = []
    with caplog.at_level(logging.WARNING):
        s = settings.load(p, warn=lambda t: warnings.append(t.text))
    assert s == replace(settings.DEFAULTS, password=settings.LOCKED)  # nothing records the protection: locked
    assert warnings and str(p.main) in warnings[0] and "unreadable" in warnings[0]
    assert any("unreadable" in r.getMessage() for r in caplog.records)


def test_binary_and_huge_files_are_refused(tmp_path: Path) -> None:
    p = paths(tmp_path)
    p.main.parent.mkdir(parents=True)
    p.main.write_bytes(b"\xff\xfe\x00garbage")
    write(p.dropin_dir / "big.toml", "# " + "x" * (settings.MAX_FILE + 10) + "\n")
    warnings: list[str] = []
    loaded = settings.load(p, warn=lambda t: warnings.append(t.text))
    assert loaded == replace(settings.DEFAULTS, password=settings.LOCKED)
    assert len(warnings) == 3 and "no password is accepted" in warnings[-1]


def test_invalid_values_are_skipped_one_by_one(tmp_path: Path) -> None:
    p = paths(tmp_path)
    write(p.main, 'timeout = -1\nrestrict = "nobody"\nboot_order = ["floppy"]\nconsole = "hvc1"\ncolour = "red"\n')
    warnings: list[str] = []
    s = settings.load(p, warn=lambda t: warnings.append(t.text))
    assert s.console == "hvc1"
    assert (s.timeout, s.restrict, s.boot_order) == (10, "changes", ("any",))
    assert s.password == settings.LOCKED  # an invalid restrict is broken protection, not "no protection"
    assert len(warnings) == 5
    assert any("unknown setting 'colour'" in w for w in warnings)


@pytest.mark.parametrize(
    ("key", "raw", "value"),
    [
        ("timeout", "0", 0),
        ("timeout", 30, 30),
        ("autoboot", "no", False),
        ("boot_order", "usb, network disk", ("usb", "network", "disk")),
        (
            "boot_order",
            ["UUID:ab-cd", "mac:52:54:00:AA:BB:CC", "cdrom"],
            ("uuid:ab-cd", "mac:52:54:00:aa:bb:cc", "optical"),
        ),
        ("restrict", "all", "all"),
        ("signed_boot", "enforce", "enforce"),
        ("signed_boot_keyring", "/boot/keys.gpg", "/boot/keys.gpg"),
        ("measured_boot", "yes", True),
    ],
)
def test_validation(key: str, raw: object, value: object) -> None:
    assert settings.validate(key, raw) == value


@pytest.mark.parametrize(
    ("key", "raw"),
    [
        ("timeout", True),
        ("timeout", 10**9),
        ("console", "a\nb"),
        ("boot_order", ["uuid:"]),
        ("password", "plain"),
        ("signed_boot", "on"),
        ("signed_boot", True),
        ("signed_boot_keyring", "keyring.gpg"),
        ("measured_boot", "tpm"),
    ],  # fmt: skip
)
def test_invalid(key: str, raw: object) -> None:
    with pytest.raises(ConfigError):
        settings.validate(key, raw)


def test_write_is_atomic_and_keeps_other_keys(tmp_path: Path) -> None:
    p = paths(tmp_path)
    write(p.main, '# mine\nconsole = "hvc0"\n')
    settings_write.write_setting(p, "boot_order", "usb disk")
    settings_write.write_setting(p, "timeout", 0)
    data = tomllib.loads(p.main.read_text())
    assert data == {"console": "hvc0", "boot_order": ["usb", "disk"], "timeout": 0}
    assert not list(p.main.parent.glob(".*.tmp")), "no temporary file left behind"
    assert settings.load(p).boot_order == ("usb", "disk")


def test_a_write_over_a_corrupt_file_is_refused_and_the_file_kept(tmp_path: Path) -> None:
    p = paths(tmp_path)
    write(p.main, "timeout = = 3")
    with pytest.raises(ConfigError, match="cannot be read.*repair or remove it first: nothing was written"):
        settings_write.write_setting(p, "timeout", 4)
    assert p.main.read_text() == "timeout = = 3"


def test_write_refused_when_a_dropin_decides(tmp_path: Path) -> None:
    p = paths(tmp_path)
    write(p.dropin_dir / "50-site.toml", "timeout = 2\n")
    with pytest.raises(ConfigError, match="50-site.toml"):
        settings_write.write_setting(p, "timeout", 9)
    with pytest.raises(ConfigError, match="unknown setting"):
        settings_write.write_setting(p, "colour", "red")


@given(st.text(max_size=200))
@hsettings(max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_strings_survive_the_toml_writer(tmp_path: Path, text: str) -> None:
    if "\n" in text or "\0" in text or "\r" in text or len(text) > 1024:
        return
    p = paths(tmp_path)
    settings_write.write_setting(p, "console", text)
    assert settings.load(p).console == text


@given(st.binary(max_size=300))
@hsettings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_fuzzed_files_never_crash(tmp_path: Path, data: bytes) -> None:
    p = paths(tmp_path)
    p.main.parent.mkdir(parents=True, exist_ok=True)
    p.main.write_bytes(data)
    assert isinstance(settings.load(p), settings.Settings)


def test_passwords() -> None:
    h = settings.hash_password("s3cret")
    assert settings.is_password_hash(h) and "s3cret" not in h
    assert settings.check_password(h, "s3cret")
    assert not settings.check_password(h, "s3cret ")
    assert settings.hash_password("s3cret") != h, "salted"
    assert settings.check_password("", "anything"), "no password set"
    assert not settings.check_password("scrypt$1$1$1$!!$!!", "x")
    assert settings.validate("password", h) == h


def test_nvram_keys() -> None:
    text = (
        "common\nauto-boot?=false\npetitboot,timeout=5\npetitboot,bootdevs=uuid:1234-abcd network cdrom any\n"
        "petitboot,console=/ibm,opal/consoles/serial@0\nunrelated=1\n"
    )
    values = settings.parse_nvram(text)
    s = settings.merge([settings.Layer("nvram", values)])
    assert s.autoboot is False and s.timeout == 5
    assert s.boot_order == ("uuid:1234-abcd", "network", "optical", "any")
    assert s.console == "/ibm,opal/consoles/serial@0"
    assert settings.parse_nvram("") == {}


def test_language_is_a_gettext_code_and_petitboots_encoding_is_dropped() -> None:
    assert settings.validate("language", "de") == "de"
    assert settings.validate("language", "en_US.utf8") == "en_US"
    assert settings.validate("language", "") == ""
    for bad in ("German", "de-DE", "../../etc", "de_de", ".utf8"):
        with pytest.raises(ConfigError, match="language must be a language code"):
            settings.validate("language", bad)
