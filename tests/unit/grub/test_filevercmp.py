"""blscfg's entry order (gnulib's filevercmp), checked against coreutils' ``sort -V``, which uses it."""

from __future__ import annotations

import subprocess

from bootd.parsers.grub.filevercmp import newest_first

NAMES = [
    "2f6c-5.14.0-9.el9.x86_64.conf",
    "2f6c-5.14.0-70.el9.x86_64.conf",
    "2f6c-5.14.0-162.el9.x86_64.conf",
    "2f6c-5.14.0-162.el9.x86_64+debug.conf",
    "2f6c-0-rescue-2f6c.conf",
    "2f6c-6.5.6-300.fc39.x86_64.conf",
    "2f6c-6.10.1-300.fc39.x86_64.conf",
    "2f6c-6.10.1~rc1-300.fc39.x86_64.conf",
    "a.conf",
    "a1.conf",
    "a01.conf",
    "A.conf",
    "_x.conf",
    ".hidden.conf",
    "b-1.0.tar.gz.conf",
    "b-1.0.conf",
    "z9.conf",
    "z10.conf",
]


def test_the_order_is_sort_v_reversed() -> None:
    expected = subprocess.run(["sort", "-V"], input="\n".join(NAMES) + "\n", capture_output=True, text=True, check=True)
    assert newest_first(list(NAMES)) == list(reversed(expected.stdout.splitlines()))
