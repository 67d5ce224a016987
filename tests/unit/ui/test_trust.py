"""Signed boot's verdict in the menu: a mark on the option's row, the reason in
the entry's screen (the editor, which shows the entry's details)."""

from __future__ import annotations

from dataclasses import replace

from bootd.model import Trust
from tests.unit.ui import helpers as h
from tests.unit.ui.sample import ADVANCED, UBUNTU
from tests.unit.ui.test_app import daemon, started
from ui.views.editor import EditorView

REASON = "initrd /boot/initrd.img: BAD signature by bootd owner: the file is not what was signed"


async def test_the_row_carries_the_mark_and_the_editor_the_reason() -> None:
    tampered = replace(UBUNTU, trust=Trust.TAMPERED, trust_reason=REASON)
    verified = replace(ADVANCED, trust=Trust.VERIFIED, trust_reason="signed by 1234ABCD (bootd owner)")
    app = await started(daemon(options=[tampered, verified]))
    text = h.screen(app.chrome)
    assert "Ubuntu  [TAMPERED]" in text and "Ubuntu, with Linux 6.8  [verified]" in text
    h.press(app.chrome, "e")
    view = app.stack[-1]
    assert isinstance(view, EditorView)
    shown = " ".join(h.screen(app.chrome).split())
    assert f"Signature: [TAMPERED] {REASON}" in shown


async def test_unchecked_options_look_as_before() -> None:
    app = await started(daemon())
    h.press(app.chrome, "e")
    assert "Signature:" not in h.screen(app.chrome)
