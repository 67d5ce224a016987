"""Every string of the menu (ui/) and the client commands (bootd/cli/,
bootd/__main__.py) that reads like prose is marked for translation, or is
listed below with the reason it stays as it is.

A string "reads like prose" when it holds two words of letters.  Not counted:
docstrings; strings inside ``_()``, ``N_()`` or ``ngettext()``; arguments of
logging calls (for the log, not for people) and of programmer errors
(TypeError, ValueError, AssertionError, RuntimeError, KeyError); strings compared
with ``==``/``in``/``startswith`` (keys, not output).  A new unmarked message
fails here with its file and line, so it is marked (and translated: see
test_translations.py) or added to ALLOWED with its reason."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PROSE = re.compile(r"[A-Za-z]{2,}[^\n]*\s[A-Za-z]{2,}")
MARKERS = {"_", "N_", "ngettext"}
LOGGING = {"debug", "info", "warning", "error", "exception", "critical"}
PROGRAMMER_ERRORS = {"TypeError", "ValueError", "AssertionError", "RuntimeError", "KeyError"}

ALLOWED: dict[str, str] = {
    # urwid's names: palette entries, colours and keys
    **{
        s: "urwid attribute, colour or key name"
        for s in (
            "dark blue",
            "light cyan,bold",
            "light cyan",
            "light gray",
            "light red,bold",
            "dark gray",
            "dark green",
            "field focus",
            "pg normal",
            "pg complete",
        )
    },
    # lines that scripts read, and names of commands and properties
    "kexec load:": "the kexec command's name, a label of the boot plan",
    "kexec exec:": "the kexec command's name, a label of the boot plan",
    "kexec load: ": "the kexec command's name, a label of the boot plan",
    "kexec exec: ": "the kexec command's name, a label of the boot plan",
    "kexec execute:": "the kexec command's name, a label of the boot summary",
    "; booting {} in {} s": "bootd status's state line, read by scripts",
    "; next boot: {}": "bootd status's state line, read by scripts",
    "PCR {} sha256:{}": "bootd pcr's output, read by scripts",
    "event PCR {} sha256:{} {}": "bootd pcr's output, read by scripts",
    "{} option {}: {}{} [{}] kernel {}": "bootd watch's event lines, read by scripts",
    "{} {}x{}, {} bpp {}, stride {}, {} bytes at 0x{} -> {}": "the framebuffer's technical values",
    # the program's name before a message that is itself translated
    "bootd boot: {}": "program name prefix",
    "bootd boot: {}: {}": "program name prefix",
    "bootd scan: {}\n": "program name prefix",
    # the daemon's English, matched, not shown
    "Autoboot now boots {name}: {reason}": "the daemon's template, matched against a Status signal's",
    "Boot cancelled": "the daemon's English status, matched (its translation is shown)",
    # files for programs
    '<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"': "the demo bus's config",
}

FILES = ("ui", "bootd/cli", "bootd/__main__.py")


def _name(call: ast.Call) -> tuple[str, str]:
    """(object, attribute) or ("", function name) of a call."""
    f = call.func
    if isinstance(f, ast.Name):
        return "", f.id
    if isinstance(f, ast.Attribute):
        base = f.value
        return (base.id if isinstance(base, ast.Name) else getattr(base, "attr", "")), f.attr
    return "", ""


def _exempt(chain: list[ast.AST]) -> bool:
    for parent, child in zip(chain, chain[1:], strict=False):
        if isinstance(parent, ast.Expr) and isinstance(parent.value, ast.Constant):
            return True  # a docstring
        if isinstance(parent, ast.Compare):
            return True
        if isinstance(parent, ast.Call) and child is not parent.func:
            obj, name = _name(parent)
            if name in MARKERS or name in PROGRAMMER_ERRORS or name in ("startswith", "endswith"):
                return True
            if name in LOGGING and obj in ("log", "logger", "logging", "_log"):
                return True
    return False


def unmarked(path: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text())

    def walk(node: ast.AST, chain: list[ast.AST]) -> Iterator[tuple[int, str]]:
        chain = [*chain, node]
        text: str | None = None
        if isinstance(node, ast.JoinedStr):
            text = "".join(str(v.value) if isinstance(v, ast.Constant) else "{}" for v in node.values)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        if text is not None:
            if PROSE.search(text) and not _exempt(chain):
                yield getattr(node, "lineno", 0), text
            return  # the parts of an f-string are not strings of their own
        for child in ast.iter_child_nodes(node):
            yield from walk(child, chain)

    yield from walk(tree, [])


def _allowed(text: str) -> bool:
    return text in ALLOWED or any(text.startswith(k) for k in ALLOWED if k.startswith("<!DOCTYPE"))


def test_every_prose_string_of_the_menu_and_the_cli_is_marked() -> None:
    found = []
    for entry in FILES:
        where = ROOT / entry
        for path in [where] if where.is_file() else sorted(where.rglob("*.py")):
            found += [
                f"{path.relative_to(ROOT)}:{line}: {text!r}" for line, text in unmarked(path) if not _allowed(text)
            ]
    assert found == [], "mark these with _() or N_() (or list them in ALLOWED with a reason):\n" + "\n".join(found)


def test_the_check_sees_an_unmarked_message(tmp_path: Path) -> None:
    """The check itself: an unmarked message is found; a marked one, a log line,
    a docstring and a compared key are not."""
    src = tmp_path / "m.py"
    src.write_text(
        '"""A docstring of several words."""\n'
        "def f(name):\n"
        '    print(f"cannot open {name} now")\n'
        '    print(_("a marked message"))\n'
        '    log.info("a log line for %s", name)\n'
        '    if name == "some key here":\n'
        '        raise TypeError("a programmer error")\n'
        '    status("the boot has failed")\n'
    )
    assert [t for _line, t in unmarked(src)] == ["cannot open {} now", "the boot has failed"]


def test_every_allowed_string_still_exists() -> None:
    """An entry of ALLOWED that no file holds any more is removed, so the list stays honest."""
    seen: set[str] = set()
    for entry in FILES:
        where = ROOT / entry
        for path in [where] if where.is_file() else sorted(where.rglob("*.py")):
            seen |= {text for _line, text in unmarked(path)}
    stale = [k for k in ALLOWED if not any(s == k or (k.startswith("<!DOCTYPE") and s.startswith(k)) for s in seen)]
    assert stale == []
