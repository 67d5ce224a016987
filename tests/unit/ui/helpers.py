"""Widget helpers for view tests: find widgets, press keys, read the screen."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

import urwid

W = TypeVar("W", bound=urwid.Widget)
SIZE = (80, 24)


def children(w: Any) -> Iterator[Any]:
    if isinstance(w, urwid.WidgetWrap):
        yield w._w
    if isinstance(w, urwid.WidgetDecoration):
        yield w.original_widget
    if isinstance(w, urwid.ListBox):
        yield from list(w.body)  # type: ignore[call-overload]
    elif isinstance(w, urwid.Frame):
        for part in (w.header, w.body, w.footer):
            if part is not None:
                yield part
    elif hasattr(w, "contents") and isinstance(w, urwid.Pile | urwid.Columns | urwid.GridFlow | urwid.Overlay):
        for child, _opts in w.contents:
            yield child
    elif isinstance(w, urwid.BoxAdapter):
        yield w.original_widget


def walk(w: Any) -> Iterator[Any]:
    yield w
    for c in children(w):
        yield from walk(c)


def find_all(root: urwid.Widget, cls: type[W]) -> list[W]:
    return [w for w in walk(root) if isinstance(w, cls)]


def find_text(root: urwid.Widget, needle: str) -> urwid.Text:
    for w in walk(root):
        if isinstance(w, urwid.Text) and needle in str(w.text):
            return w
    raise AssertionError(f"no text containing {needle!r}")


def press(root: urwid.Widget, *keys: str, size: tuple[int, int] = SIZE) -> list[str | None]:
    """Send keys, render between them as the main loop would; returns what was not handled."""
    rest = []
    for key in keys:
        render(root, size)
        rest.append(root.keypress(size, key))
    return rest


def type_text(root: urwid.Widget, text: str, size: tuple[int, int] = SIZE) -> None:
    press(root, *text, size=size)


def render(root: urwid.Widget, size: tuple[int, int] = SIZE) -> list[str]:
    canvas = root.render(size, focus=True)
    return [line.decode("utf-8", "replace") for line in canvas.text]


def screen(root: urwid.Widget, size: tuple[int, int] = SIZE) -> str:
    return "\n".join(render(root, size))


def focus_line(root: urwid.Widget, size: tuple[int, int] = SIZE) -> str:
    """The line that carries the focus attribute (the cursor bar)."""
    canvas = root.render(size, focus=True)
    for row in canvas.content():
        if any(attr == "focus" for attr, _cs, _text in row):
            return b"".join(text for _a, _cs, text in row).decode("utf-8", "replace")
    raise AssertionError("nothing has the focus")
