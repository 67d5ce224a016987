"""A rescan of an unchanged GRUB script reuses its parsed tree; the cache stays bounded."""

from __future__ import annotations

from bootd.parsers.grub import parser
from bootd.parsers.grub.parser import CACHE_ENTRIES, CACHE_TEXT, parse_script

CFG = "set timeout=5\nmenuentry 'Debian' {\n  linux /vmlinuz root=/dev/sda1\n}\nif [ x ]; then\n"


def test_the_same_text_gives_the_same_tree_and_issues() -> None:
    first = parse_script(CFG)
    again = parse_script(str(CFG))
    assert again is first
    assert again.issues == first.issues and first.issues  # the unclosed if is still reported
    assert parse_script(CFG + "\n") is not first


def test_the_cache_is_bounded_in_entries_and_text() -> None:
    for i in range(CACHE_ENTRIES * 2):
        parse_script(f"set n={i}\n")
    assert len(parser._cache) <= CACHE_ENTRIES
    big = "set x=1\n" * (CACHE_TEXT // 8 + 1)
    assert parse_script(big) is not parse_script(big)
