"""The menu's language: ``l`` on this console > the ``language`` setting > the
environment (LANG).  The catalogues are compiled with msgfmt, as ``make locale`` does."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.ui import helpers as h
from tests.unit.ui.fakes import FakeBackend
from tests.unit.ui.sample import CONSOLES, DISK, UBUNTU
from ui import backend as be
from ui import i18n
from ui.app import App
from ui.views.common import Glyphs

ROOT = Path(__file__).resolve().parents[3]
GERMAN_LEGEND = "Enter=Start e=Bearb. n=Neu c=Konfig g=Log i=Info l=Sprache x=Ende h=Hilfe"
ENGLISH_LEGEND = "Enter=boot e=edit n=new c=config g=log i=info l=language x=exit h=help"


@pytest.fixture
def c_locale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """LANG=C and the menu's catalogues in a directory of their own."""
    if not shutil.which("msgfmt"):
        pytest.skip("needs msgfmt (gettext)")
    for po in sorted((ROOT / "ui" / "po").glob("*.po")):
        dest = tmp_path / po.stem / "LC_MESSAGES"
        dest.mkdir(parents=True)
        subprocess.run(["msgfmt", "-o", str(dest / f"{i18n.DOMAIN}.mo"), str(po)], check=True, timeout=60)
    monkeypatch.setenv("BOOTD_LOCALEDIR", str(tmp_path))
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C")
    i18n.use()
    yield
    i18n.use("en")


async def started(language: str) -> tuple[App, FakeBackend]:
    b = FakeBackend(
        options=[UBUNTU],
        devices=[DISK],
        console_list=list(CONSOLES),
        state=be.DaemonState("idle", None, None),
        settings=be.Settings(language=language),
    )
    app = App(b, glyphs=Glyphs(utf8=False), version="0.1.0")
    await app.start()
    return app, b


def legend(app: App) -> str:
    return h.render(app.chrome)[-1].rstrip()


async def test_the_setting_beats_lang_c(c_locale: None) -> None:
    app, _ = await started("de")
    assert legend(app) == GERMAN_LEGEND
    assert "Ubuntu" in h.screen(app.chrome), "entry titles stay as their configs wrote them"


async def test_without_the_setting_the_environment_is_used(c_locale: None) -> None:
    app, _ = await started("")
    assert legend(app) == ENGLISH_LEGEND


async def test_l_on_this_console_beats_the_setting(c_locale: None) -> None:
    app, b = await started("de")
    app.choose_language("en")
    assert legend(app) == ENGLISH_LEGEND
    b.settings = be.Settings(language="zh_CN")
    await app.reload()
    assert legend(app) == ENGLISH_LEGEND, "the person's choice stays"


async def test_a_changed_setting_switches_a_menu_where_nobody_chose(c_locale: None) -> None:
    app, b = await started("")
    b.settings = be.Settings(language="de")
    await app.reload()
    assert legend(app) == GERMAN_LEGEND
    b.settings = be.Settings(language="")
    await app.reload()
    assert legend(app) == ENGLISH_LEGEND, "back to the environment's"


async def test_a_settings_change_event_switches_a_running_menu(c_locale: None) -> None:
    app, b = await started("")
    b.emit(be.SettingsChanged(be.Settings(language="de")))
    assert legend(app) == GERMAN_LEGEND
