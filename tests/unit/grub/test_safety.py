"""The interpreter is a sandbox: bounded, never raises, keeps what it found."""

from __future__ import annotations

import time
from pathlib import Path, PurePosixPath

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bootd.model import Device
from bootd.parsers import ParseContext
from bootd.parsers.grub import interpret, parse, parse_limited
from bootd.parsers.grub.interpreter import Limits
from bootd.parsers.grub.lexer import tokenize
from bootd.parsers.grub.parser import parse_script
from bootd.parsers.view import DirectoryView
from tests.unit.grub.conftest import Run

BEFORE = "menuentry Before { linux /before }\n"


def test_endless_loop_stops_at_the_step_budget(run: Run) -> None:
    start = time.monotonic()
    out = run(BEFORE + "while true; do; done\nmenuentry After { linux /after }")
    assert [o.name for o in out.options] == ["Before"]
    # the step budget, or the CPU-time cap behind it on a slow or busy machine
    assert any("steps" in d.message or "cpu_seconds" in d.message for d in out.diagnostics)
    assert out.steps <= Limits().steps + 100  # plus the entry bodies (and their copies of the variables)
    assert time.monotonic() - start < 30


def test_small_budget_is_respected(run: Run) -> None:
    out = run(BEFORE + "while true; do echo x; done", limits=Limits(steps=500))
    assert out.steps <= 600  # plus the entry body and its copy of the variables
    assert [o.name for o in out.options] == ["Before"]


def test_recursion_bomb(run: Run) -> None:
    out = run(BEFORE + "function f { f; f; }\nf\nmenuentry After { linux /after }", limits=Limits(steps=20_000))
    assert [o.name for o in out.options][:1] == ["Before"]
    assert any("nested deeper" in d.message for d in out.diagnostics)


def test_deep_recursion_without_budget_exhaustion(run: Run) -> None:
    out = run(BEFORE + "function f { f; }\nf\nmenuentry After { linux /after }")
    assert [o.name for o in out.options] == ["Before", "After"]


def test_source_cycle(run: Run) -> None:
    files = {"/boot/grub/a.cfg": "source /boot/grub/b.cfg\n", "/boot/grub/b.cfg": "source /boot/grub/a.cfg\n"}
    out = run(BEFORE + "source /boot/grub/a.cfg\nmenuentry After { linux /after }", files=files)
    assert [o.name for o in out.options] == ["Before", "After"]
    assert any("cycle" in d.message for d in out.diagnostics)


def test_configfile_cycle(run: Run) -> None:
    out = run(BEFORE + "configfile /boot/grub/grub.cfg\n")
    assert [o.name for o in out.options] == ["Before"]


def test_runaway_entry_body_does_not_lose_the_others(run: Run) -> None:
    out = run("menuentry Loop { linux /loop; while true; do; done }\nmenuentry Fine { linux /fine }")
    assert [o.name for o in out.options] == ["Fine"]
    assert any("Loop" in d.message for d in out.diagnostics)


def test_option_count_cap(run: Run) -> None:
    out = run('for i in 1 2 3 4 5 6 7 8 9; do menuentry "E$i" { linux /k }; done', limits=Limits(max_entries=5))
    assert [o.name for o in out.options] == ["E1", "E2", "E3", "E4", "E5"]
    assert any("more than 5" in d.message for d in out.diagnostics)


def test_file_size_cap(tmp_path: Path) -> None:
    big = "# padding\n" * 110_000 + "menuentry Big { linux /big }\n"
    root = tmp_path / "d"
    (root / "boot/grub").mkdir(parents=True)
    (root / "boot/grub/grub.cfg").write_text(big)
    (root / "boot/grub/small.cfg").write_text("menuentry Small { linux /s }\n")
    (root / "grub.cfg").write_text("source /boot/grub/grub.cfg\nsource /boot/grub/small.cfg\n")
    view = DirectoryView(root, Device(id="d"))
    result = parse(view, ParseContext())
    assert [o.name for o in result.options] == ["Small"]
    assert any("limit" in d.message for d in result.diagnostics)


def test_nesting_cap(run: Run) -> None:
    out = run(BEFORE + "{ " * 200 + "echo deep" + " }" * 200 + "\nmenuentry After { linux /after }")
    assert [o.name for o in out.options] == ["Before", "After"]
    assert any("nested deeper" in d.message for d in out.diagnostics)


GRUB_WORDS = st.sampled_from(
    [
        "if",
        "then",
        "elif",
        "else",
        "fi",
        "for",
        "in",
        "do",
        "done",
        "while",
        "until",
        "function",
        "menuentry",
        "submenu",
        "hiddenentry",
        "{",
        "}",
        ";",
        "\n",
        "[",
        "]",
        "set",
        "x=1",
        "$x",
        "${x}",
        '"',
        "'",
        "\\",
        "$",
        "$@",
        "$1",
        "break",
        "continue",
        "return",
        "source",
        "configfile",
        "/boot/grub/grub.cfg",
        "linux",
        "initrd",
        "/vmlinuz",
        "search",
        "--set=root",
        "-f",
        "regexp",
        "(.*)*",
        "load_env",
        "save_env",
        "blscfg",
        "echo",
        "test",
        "-n",
        "-o",
        "!",
        "(",
        ")",
        "f",
        "default=1>0",
        "--id",
        "#",
        "export",
        "x",
    ]
)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(GRUB_WORDS, max_size=60).map(" ".join))
def test_fuzz_grammar_words(tmp_path: Path, text: str) -> None:
    _bounded(tmp_path, text)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=400))
def test_fuzz_any_text(tmp_path: Path, text: str) -> None:
    tokenize(text)
    parse_script(text)
    _bounded(tmp_path, text)


def _bounded(tmp_path: Path, text: str) -> None:
    root = tmp_path / "fuzz"
    (root / "boot/grub").mkdir(parents=True, exist_ok=True)
    (root / "boot/grub/grub.cfg").write_text(text, errors="replace")
    view = DirectoryView(root, Device(id="fuzz"))
    limits = Limits(steps=5_000, entry_steps=1_000)
    # interpret() has no safety net: any exception here is a bug.
    out = interpret(view, PurePosixPath("/boot/grub/grub.cfg"), ParseContext(), limits=limits)
    assert out.steps <= 2 * limits.steps + 1
    assert sum(1 for o in out.options if o.default) == (1 if out.options else 0)
    result = parse_limited(view, ParseContext(), limits)
    assert not [d for d in result.diagnostics if "not understood" in d.message]


def test_huge_and_odd_numbers_are_not_errors(run: Run) -> None:
    big = "9" * 5000
    script = (
        f"set default={big}\nset timeout={big}\n"
        f"echo ${{{big}}} ${{²}}\n"
        f"if [ {big} -gt 1 ]; then echo gt; fi\n"
        f"for i in 1; do break {big}; done\n"
        f"regexp -s {big}:x a a\necho $?\n"
        "set default=²\n"
        "menuentry A { linux /a }\n"
    )
    out = run(script)
    assert [o.name for o in out.options] == ["A"] and out.options[0].default
    assert out.timeout is None
    assert out.echoes[0] == []


def test_a_big_file_sourced_in_a_loop_is_read_once(run: Run) -> None:
    big = "# comment line of a large sourced file\n" * 25_000  # about 1 MB
    start = time.monotonic()
    out = run(
        BEFORE + "for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do source /big.cfg; done",
        files={"/big.cfg": big},
    )
    assert [o.name for o in out.options] == ["Before"]
    assert time.monotonic() - start < 20
