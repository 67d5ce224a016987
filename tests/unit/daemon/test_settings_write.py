"""Settings writes keep the admin's file (tomlkit), are all or nothing and
checked against the reader's limits; broken settings never turn protection off."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from bootd import settings, settings_write
from bootd.errors import ConfigError

ADMIN = """\
# Fleet defaults for rack 7 -- managed by hand, keep this header.
timeout = 5   # seconds; the BMC console is slow

# Boot USB rescue sticks first.
boot_order = ["usb", "disk"]
site_tag = "rack7"          # not a bootd key: ours

[network]
# Static addresses only on this rack.
enabled = true
bring_up = false

[network.proxy]
http = "http://proxy.example:3128"
"""


def paths(tmp_path: Path) -> settings.Paths:
    return settings.Paths(tmp_path)


def admin_file(tmp_path: Path, text: str = ADMIN) -> settings.Paths:
    p = paths(tmp_path)
    p.main.parent.mkdir(parents=True, exist_ok=True)
    p.main.write_text(text)
    return p


def without(text: str, keys: set[str]) -> list[str]:
    return [line for line in text.splitlines() if line.split("=", 1)[0].strip() not in keys]


def test_a_write_keeps_comments_tables_order_and_unknown_keys(tmp_path: Path) -> None:
    p = admin_file(tmp_path)
    settings_write.write_setting(p, "timeout", 7)
    new = p.main.read_text()
    assert without(new, {"timeout"}) == without(ADMIN, {"timeout"})
    assert "timeout = 7   # seconds; the BMC console is slow" in new.splitlines()
    settings_write.write_setting(p, "autoboot", False)
    new = p.main.read_text()
    assert without(new, {"timeout", "autoboot"}) == without(ADMIN, {"timeout"})
    assert new.index("autoboot = false") < new.index("[network]")  # a top-level key, not one of [network]
    assert tomllib.loads(new)["network"]["proxy"]["http"] == "http://proxy.example:3128"


def test_a_refused_item_leaves_every_other_change_unwritten(tmp_path: Path) -> None:
    p = admin_file(tmp_path)
    with pytest.raises(ConfigError, match="floppy"):
        settings_write.write_settings(p, {"timeout": 9, "boot_order": ["usb", "floppy"]})
    assert p.main.read_text() == ADMIN


def test_a_boot_order_the_reader_would_refuse_is_never_written(tmp_path: Path) -> None:
    p = admin_file(tmp_path)
    with pytest.raises(ConfigError, match=r"40000 items; at most 64"):
        settings_write.write_setting(p, "boot_order", ["disk"] * 40_000)
    assert p.main.read_text() == ADMIN


def test_a_file_over_the_readers_size_cap_is_never_written(tmp_path: Path) -> None:
    big = ADMIN + "# " + "x" * (settings.MAX_FILE - len(ADMIN) - 40) + "\n"
    p = admin_file(tmp_path, big)
    assert settings.load(p).timeout == 5
    with pytest.raises(ConfigError, match="more than the 262144 bytes bootd reads back: nothing was written"):
        settings_write.write_setting(p, "console", "x" * 200)
    assert p.main.read_text() == big


def test_broken_settings_keep_the_password_and_restrict_last_in_force(tmp_path: Path) -> None:
    p = paths(tmp_path)
    hashed = settings.hash_password("sesame")
    settings_write.write_settings(p, {"password": hashed, "restrict": "all", "autoboot": False})
    assert settings.load(p).password == hashed  # an intact load records the protection
    p.main.write_text(p.main.read_text() + "\nboot_order = [")  # now corrupt
    warnings: list[str] = []
    state = settings.load_state(p, warn=lambda t: warnings.append(t.text))
    assert (state.settings.password, state.settings.restrict) == (hashed, "all")
    assert state.settings.autoboot is True  # the rest falls back to the defaults, with a warning
    assert any("stay in force" in w for w in warnings) and state.problems
    assert settings.check_password(state.settings.password, "sesame")


def test_a_malformed_password_hash_does_not_remove_the_password(tmp_path: Path) -> None:
    p = paths(tmp_path)
    hashed = settings.hash_password("sesame")
    settings_write.write_setting(p, "password", hashed)
    assert settings.load(p).password == hashed
    p.main.write_text('password = "plain-text"\n')
    assert settings.load(p).password == hashed


def test_broken_settings_with_no_record_accept_no_password(tmp_path: Path) -> None:
    p = admin_file(tmp_path, 'password = "scrypt$broken\n')
    s = settings.load(p)
    assert s.password == settings.LOCKED
    assert not settings.check_password(s.password, "") and not settings.check_password(s.password, "anything")


# -- properties ------------------------------------------------------------------------
_unknown = st.from_regex(r"x_[a-z]{1,8}", fullmatch=True)
_comment = st.from_regex(r"# [ -~]{0,30}", fullmatch=True)
_line = st.one_of(
    _comment,
    st.just(""),
    st.builds(lambda k, v: f'{k} = "{v}"', _unknown, st.from_regex(r"[a-z0-9 ]{0,12}", fullmatch=True)),
    st.builds(lambda v: f"timeout = {v}  # t", st.integers(0, 99)),
    st.builds(lambda v: f"autoboot = {'true' if v else 'false'}", st.booleans()),
)
_changes = st.dictionaries(
    st.sampled_from(["timeout", "autoboot", "console", "boot_order", "allow_shell", "auth_timeout"]),
    st.none(),
    min_size=1,
    max_size=3,
)


def _value(key: str, rnd: random.Random) -> object:
    return {
        "timeout": rnd.randint(0, 600),
        "autoboot": rnd.random() < 0.5,
        "console": rnd.choice(["hvc0", "ttyS0,115200", "tty0", ""]),
        "boot_order": rnd.sample(["usb", "disk", "network", "optical"], rnd.randint(1, 3)),
        "allow_shell": rnd.random() < 0.5,
        "auth_timeout": rnd.randint(0, 900),
    }[key]


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(_line, max_size=12), tail=st.lists(_comment, max_size=3), keys=_changes, seed=st.integers())
def test_random_files_round_trip_apart_from_the_keys_written(
    tmp_path: Path, lines: list[str], tail: list[str], keys: dict[str, None], seed: int
) -> None:
    seen: set[str] = set()
    body = []
    for line in lines:  # TOML allows each key once
        key = line.split("=", 1)[0].strip() if "=" in line and not line.startswith("#") else None
        if key is None or key not in seen:
            body.append(line)
            seen.add(key or "")
    text = "\n".join([*body, "[network]", *tail, "enabled = true"]) + "\n"
    p = admin_file(tmp_path / str(abs(seed)), text)
    rnd = random.Random(seed)
    changes = {k: _value(k, rnd) for k in keys}
    settings_write.write_settings(p, changes)
    new = p.main.read_text()
    # Every line but the written keys' is kept, in order; a key new to a file that
    # starts with a table may bring one blank line to set it off from the table.
    kept, before = without(new, set(changes)), without(text, set(changes))
    assert [line for line in kept if line] == [line for line in before if line]
    added = sum(1 for k in changes if k not in tomllib.loads(text))
    assert len(before) <= len(kept) <= len(before) + added
    assert settings.load(p) == settings.merge([settings.Layer("want", {**tomllib.loads(text), **changes})])


def test_a_thousand_api_writes_keep_the_admins_lines(tmp_path: Path) -> None:
    p = admin_file(tmp_path)
    rnd = random.Random(7)
    written: set[str] = set()
    keys = ["timeout", "autoboot", "console", "boot_order", "allow_shell", "auth_timeout"]
    for _ in range(1000):
        key = rnd.choice(keys)
        settings_write.write_setting(p, key, _value(key, rnd))
        written.add(key)
    assert without(p.main.read_text(), written) == without(ADMIN, written)


WRITER = """
import random, sys
from pathlib import Path
from bootd import settings, settings_write
p = settings.Paths(Path(sys.argv[1]))
rnd = random.Random(int(sys.argv[2]))
print("ready", flush=True)
while True:
    settings_write.write_settings(p, {"timeout": rnd.randint(0, 600), "console": "x" * rnd.randint(0, 900)})
"""


def test_a_save_killed_at_any_point_leaves_the_old_or_the_new_file(tmp_path: Path) -> None:
    p = admin_file(tmp_path)
    rnd = random.Random(3)
    for round_ in range(12):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path), str(round_)],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])},
        )
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
            time.sleep(rnd.uniform(0.0, 0.15))
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        text = p.main.read_text()
        data = tomllib.loads(text)  # whole: parses, with every line of the admin's
        assert without(text, {"timeout", "console"}) == without(ADMIN, {"timeout", "console"})
        assert 0 <= data["timeout"] <= 600
