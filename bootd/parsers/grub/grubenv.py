"""GRUB environment blocks (``grubenv``): read, and render for tests.

The format: a first line ``# GRUB Environment Block``, then ``name=value``
lines, the rest padded with ``#`` to 1024 bytes.  A backslash escapes the
next character (GRUB writes ``\\\\`` and a backslash before a newline).
Nothing here writes to disk: :func:`render` only builds the bytes.
"""

from __future__ import annotations

from collections.abc import Mapping

HEADER = "# GRUB Environment Block\n"
BLOCK_SIZE = 1024


class EnvBlockError(ValueError):
    """The text is not a GRUB environment block."""


def parse(text: str) -> dict[str, str]:
    """Variables of an environment block, in file order."""
    if not text.startswith(HEADER):
        raise EnvBlockError("not a GRUB environment block (missing '# GRUB Environment Block' header)")
    values: dict[str, str] = {}
    body = text[len(HEADER) :]
    pos = 0
    n = len(body)
    while pos < n:
        if body[pos] == "#":
            end = body.find("\n", pos)
            pos = n if end < 0 else end + 1
            continue
        name_end = body.find("=", pos)
        line_end = body.find("\n", pos)
        if name_end < 0 or (0 <= line_end < name_end):
            pos = n if line_end < 0 else line_end + 1
            continue
        name = body[pos:name_end]
        value: list[str] = []
        i = name_end + 1
        while i < n and body[i] != "\n":
            if body[i] == "\\" and i + 1 < n:
                value.append(body[i + 1])
                i += 2
                continue
            value.append(body[i])
            i += 1
        if name and "\x00" not in name:
            values[name] = "".join(value)
        pos = i + 1
    return values


def render(values: Mapping[str, str]) -> str:
    """An environment block holding ``values`` (as ``grub-editenv`` writes it)."""
    lines = [HEADER]
    for name, value in values.items():
        escaped = value.replace("\\", "\\\\").replace("\n", "\\\n")
        lines.append(f"{name}={escaped}\n")
    text = "".join(lines)
    if len(text.encode()) < BLOCK_SIZE:
        text += "#" * (BLOCK_SIZE - len(text.encode()))
    return text
