"""Hostile GRUB scripts: budgets count bytes and work, not only commands.

Each case keeps the entries read before the cap, names the cap in its
diagnostic, and stays small: the interpreter never builds the huge value,
and commands that touch files are charged by the work they do.
"""

from __future__ import annotations

import resource

from bootd.parsers.grub.interpreter import Limits
from tests.unit.grub.conftest import Run

BEFORE = "menuentry Before { linux /before }\n"
AFTER = "menuentry After { linux /after }\n"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _names(out: object) -> list[str]:
    return [o.name for o in out.options]  # type: ignore[attr-defined]


def _messages(out: object) -> str:
    return "\n".join(d.message for d in out.diagnostics)  # type: ignore[attr-defined]


def test_memory_bomb_stops_at_the_value_cap(run: Run) -> None:
    # 380 bytes that would ask for 10 GB: each line multiplies the value by ten.
    bomb = "set a=x\n" + 'set a="$a$a$a$a$a$a$a$a$a$a"\n' * 10
    before = _rss_mb()
    out = run(BEFORE + bomb + AFTER)
    assert _names(out) == ["Before"]
    assert "max_value" in _messages(out)
    assert _rss_mb() - before < 50


def test_value_cap_applies_to_plain_assignments_too(run: Run) -> None:
    out = run(BEFORE + "a=xxxxxxxxxxxxxxxx\n" + "a=$a$a$a$a$a$a$a$a\n" * 8 + AFTER)
    assert _names(out) == ["Before"]
    assert "max_value" in _messages(out)


def test_long_word_is_never_built(run: Run) -> None:
    # one word of 100,000 references to a 60 KiB value: 6 GB if it were joined
    setup = "set a=x\n" + 'set a="$a$a$a$a$a$a$a$a$a$a"\n' * 4 + 'set a="$a$a$a$a$a$a"\n'
    before = _rss_mb()
    out = run(BEFORE + setup + "echo " + "$a" * 100_000 + "\n" + AFTER)
    assert _names(out) == ["Before"]
    assert "a word is longer than 65536 bytes (the max_value cap)" in _messages(out)
    assert _rss_mb() - before < 50


def test_long_command_line_stops_at_the_line_cap(run: Run) -> None:
    setup = "set a=x\n" + 'set a="$a$a$a$a$a$a$a$a$a$a"\n' * 4 + 'set a="$a$a$a$a$a$a"\n'
    out = run(BEFORE + setup + "echo " + "$a " * 10_000 + "\n" + AFTER)
    assert _names(out) == ["Before"]
    assert "a command line is longer than 262144 bytes (the max_line cap)" in _messages(out)


def test_many_variables_stop_at_the_byte_budget(run: Run) -> None:
    setup = "set a=x\n" + 'set a="$a$a$a$a$a$a$a$a$a$a"\n' * 4 + 'set a="$a$a$a$a$a$a"\n'
    loop = 'for i in 1 2 3 4 5 6 7 8 9; do for j in 1 2 3 4 5 6 7 8 9; do set "v$i$j$k=$a"; done; done\n'
    looped = f"for k in 1 2 3 4 5 6 7 8 9; do {loop}; done\n"
    before = _rss_mb()
    out = run(BEFORE + setup + looped + AFTER, limits=Limits(max_bytes=4 * 1024 * 1024))
    assert _names(out) == ["Before"]
    assert "max_bytes" in _messages(out)
    assert _rss_mb() - before < 50


def test_echo_output_is_bounded_by_the_byte_budget(run: Run) -> None:
    setup = "set a=x\n" + 'set a="$a$a$a$a$a$a$a$a$a$a"\n' * 4 + 'set a="$a$a$a$a$a$a"\n'
    out = run(BEFORE + setup + "while true; do echo $a $a $a; done\n" + AFTER)
    assert _names(out) == ["Before"]
    assert "max_bytes" in _messages(out)
    assert sum(len(" ".join(e)) for e in out.echoes) <= Limits().max_bytes


def test_entry_with_a_huge_value_is_dropped_and_the_others_kept(run: Run) -> None:
    bomb = "set a=x; " + 'set a="$a$a$a$a$a$a$a$a$a$a"; ' * 8
    out = run(BEFORE + "menuentry Bomb { " + bomb + "linux /k $a }\n" + AFTER)
    assert _names(out) == ["Before", "After"]
    assert "Bomb" in _messages(out)
    assert "max_value" in _messages(out)


def _bls(n: int) -> dict[str, str | bytes]:
    files: dict[str, str | bytes] = {f"/loader/entries/e{i:04}.conf": f"title e{i}\n" for i in range(n)}
    files["/loader/entries/bad.conf"] = "title no kernel\n"
    return files


def test_blscfg_in_an_endless_loop_is_charged_by_its_work(run: Run) -> None:
    # Every round reads 300 entry files: charged by those reads, the budget
    # ends the loop after a handful of rounds, not 250,000.
    out = run(BEFORE + "while true; do blscfg; echo round; done\n", files=_bls(300))
    assert _names(out) == ["Before"]
    assert "steps" in _messages(out) or "cpu_seconds" in _messages(out)
    assert len(out.echoes) < 100


def test_file_tests_in_a_loop_are_charged_by_path_length(run: Run) -> None:
    deep = "/a" * 2000
    out = run(BEFORE + f"while true; do test -f {deep}; echo round; done\n")
    assert _names(out) == ["Before"]
    assert len(out.echoes) < 200


def test_search_in_a_loop_is_charged_per_device(run: Run, other: object) -> None:
    others = {f"d{i}": other(f"d{i}", {"/x": ""}) for i in range(20)}  # type: ignore[operator]
    limits = Limits(steps=100_000)  # counted as commands: 25,000 rounds
    out = run(BEFORE + "while true; do search -f /nothing/here; echo round; done\n", others=others, limits=limits)
    assert _names(out) == ["Before"]
    assert len(out.echoes) < 500


def test_configfile_cycle_inside_an_entry(run: Run) -> None:
    # The entry's configfile opens the menu it is in: GRUB shows the same
    # menu again; bootd keeps every entry once and says why the cycle is empty.
    out = run(BEFORE + "menuentry Again { configfile /boot/grub/grub.cfg }\n" + AFTER)
    assert _names(out) == ["Before", "After"]
    assert "configfile cycle" in _messages(out)


def test_configfile_cycle_through_two_files_inside_entries(run: Run) -> None:
    files = {"/boot/grub/b.cfg": "menuentry Back { configfile /boot/grub/grub.cfg }\nmenuentry InB { linux /b }\n"}
    out = run(BEFORE + "menuentry ToB { configfile /boot/grub/b.cfg }\n" + AFTER, files=files)
    assert _names(out) == ["Before", "InB", "After"]
    assert "configfile cycle" in _messages(out)


def test_configfile_chain_deeper_than_the_menu_depth(run: Run) -> None:
    files: dict[str, str | bytes] = {
        f"/boot/grub/m{i}.cfg": f"menuentry Next{i} {{ configfile /boot/grub/m{i + 1}.cfg }}\n"
        f"menuentry In{i} {{ linux /k{i} }}\n"
        for i in range(100)
    }
    out = run(BEFORE + "menuentry Deep { configfile /boot/grub/m0.cfg }\n" + AFTER, files=files)
    names = _names(out)
    assert names[0] == "Before" and names[-1] == "After"
    assert len(names) == 2 + Limits().menu_depth - 1
    assert "menu_depth" in _messages(out)


def test_deep_submenus_do_not_recurse(run: Run) -> None:
    depth = 60
    cfg = "submenu S { " * depth + "menuentry Inner { linux /k }" + " }" * depth + "\n"
    out = run(BEFORE + cfg + AFTER)
    assert _names(out) == ["Before", "After"]
    assert "menu_depth" in _messages(out)


def test_a_file_of_too_many_words_is_not_parsed(run: Run) -> None:
    # 1 MiB of one-word commands: a million tokens, seconds of parsing and
    # hundreds of MB of syntax tree; charged before parsing, it is refused.
    files: dict[str, str | bytes] = {"/boot/grub/dense.cfg": "a\n" * 500_000}
    before = _rss_mb()
    out = run(BEFORE + "source /boot/grub/dense.cfg\n" + AFTER, files=files)
    assert _names(out) == ["Before"]
    assert "/boot/grub/dense.cfg: too many words to parse in the work left (steps)" in _messages(out)
    assert _rss_mb() - before < 50


def test_a_large_generated_config_still_fits(run: Run) -> None:
    entries = [
        f"menuentry 'Entry {i}' --class gnu-linux --id e-{i} {{\n\tinsmod gzio\n"
        f"\tlinux /boot/vmlinuz-{i} root=/dev/sda2 ro quiet\n\tinitrd /boot/initrd.img-{i}\n}}\n"
        for i in range(3000)
    ]
    out = run("set default=0\n" + "".join(entries))
    assert len(out.options) == 3000
    assert not out.diagnostics


def test_a_word_of_many_pieces_is_charged_by_its_pieces(run: Run) -> None:
    # expanding 100,000 empty variables makes nothing, but takes time
    out = run(BEFORE + 'while true; do echo "' + "$a" * 100_000 + '"; done\n')
    assert _names(out) == ["Before"]
    assert len(out.echoes) < 50


def test_cpu_time_caps_what_the_step_count_misses(run: Run) -> None:
    out = run(BEFORE + "while true; do test -f x; done\n", limits=Limits(steps=10**9, cpu_seconds=0.05))
    assert _names(out) == ["Before"]
    assert "stopped after 0.05 s of CPU (cpu_seconds)" in _messages(out)
