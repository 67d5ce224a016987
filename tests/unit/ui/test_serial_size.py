"""bootd-menu on a serial line: the line reports 0x0, the menu draws at 80x24."""

from __future__ import annotations

import os
import termios
from pathlib import Path

from ui.__main__ import terminal


def test_a_terminal_without_a_size_gets_80x24_and_a_known_size_is_kept() -> None:
    for before, after in (((0, 0), (24, 80)), ((50, 132), (50, 132))):
        master, slave = os.openpty()
        try:
            termios.tcsetwinsize(slave, before)
            with terminal(Path(os.ttyname(slave))) as (inp, _):
                assert inp is not None
                assert termios.tcgetwinsize(inp.fileno()) == after
        finally:
            os.close(master)
            os.close(slave)
