"""The line scanner (a line of common words in one match) gives what the
piece-by-piece lexer gives: the same tokens and the same syntax tree (on the
corpus, the real-GRUB oracle's configs and fuzzed text)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bootd.parsers.grub import parser
from bootd.parsers.grub.lexer import Tok, scan, tokenize
from bootd.parsers.grub.parser import Issue, Simple
from tests.conftest import DATA
from tests.unit.grub.helpers import GRUB_CORPUS


def _tree(text: str, lines: bool) -> tuple[object, list[Issue]]:
    tokens, lex_issues = scan(text, lines=lines)
    p = parser._Parser(tokens)
    p.issues.extend(Issue(i.line, i.message) for i in lex_issues)
    return p.top(), sorted(p.issues, key=lambda i: i.line)


def _same(text: str) -> None:
    assert tokenize(text) == scan(text, lines=False)
    assert _tree(text, True) == _tree(text, False)


def _corpus_texts() -> list[str]:
    texts = []
    for path in sorted(GRUB_CORPUS.glob("*.json")) + sorted((GRUB_CORPUS.parent / "petitboot").glob("*.json")):
        case = json.loads(path.read_text())
        if isinstance(case.get("script"), str):
            texts.append(case["script"])
        files = case.get("files", {})
        texts.extend(v for k, v in files.items() if k.endswith((".cfg", ".conf")) and not k.startswith("base64:"))
    oracle = DATA / "grub-oracle"
    texts.extend(p.read_text() for p in sorted((oracle / "probes").glob("*.cfg")))
    for path in sorted((oracle / "mkconfig").glob("*.json")) + sorted((oracle / "stubs").glob("*.json")):
        case = json.loads(path.read_text())
        if isinstance(case.get("config"), str):
            texts.append(case["config"])
    return texts


@pytest.mark.parametrize("index", range(len(_corpus_texts())))
def test_corpus_configs_scan_alike(index: int) -> None:
    _same(_corpus_texts()[index])


def test_lines_become_one_token_and_keywords_stay_words() -> None:
    tokens, _ = scan("insmod gzio\nif true; then x; fi\nmenuentry 'A b' $id {\n  linux /k ro\n}\n")
    kinds = [t.kind for t in tokens]
    assert kinds[:2] == [Tok.LINE, Tok.NEWLINE]
    assert Tok.HEAD in kinds and kinds[kinds.index(Tok.HEAD) + 1] is Tok.LBRACE
    assert [t.plain for t in tokens if t.kind is Tok.WORD][:2] == ["if", "true"]


@pytest.mark.parametrize(
    "text",
    [
        "a b \\\n c d\n",  # a continued line is not a line of its own
        "echo 'x\ny' z\nw\n",  # nor is the rest of a quote
        "echo a#b # c\n",
        "foo bar {\n}\n",  # a '{' after a command that is not a menu
        "menuentry\n{\n}\n",
        "for x in\na b\ndo\ndone\n",
        'echo ${x} ${ $ "$y" \'\' ""\n',
        "menuentry x {" * 70 + "\n",  # nested past the parser's cap
        "x\r\ny\r\n",
        # blanks to str.split() but word characters to GRUB: a plain line is not split there
        "insmod a\xa0b c\nlinux /k\x1cx\u3000y\n",
        "  }  \n}\nset x=1",  # block ends taken whole; a last line without its newline
        "if\nfi\n",
    ],
)
def test_edge_cases_scan_alike(text: str) -> None:
    _same(text)


WORDS = st.sampled_from(
    ["menuentry", "submenu", "if", "then", "fi", "for", "in", "do", "done", "{", "}", ";", "\n", "\\\n"]
    + ["'a b'", '"c $d"', "$e", "${f}", "x#y", "#", "\\", "'", '"', "$", "plain", "-x", "\t", "\r"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(WORDS, max_size=40).map(" ".join))
def test_fuzz_words_scan_alike(text: str) -> None:
    _same(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab $'\"\\{};#\n\t\r=")), max_size=200))
def test_fuzz_text_scan_alike(text: str) -> None:
    _same(text)


def test_literal_commands_are_expanded_once() -> None:
    script = parser.parse_script("linux /k 'a b' c\"d\"\necho $x\n")
    first, second = script.body
    assert isinstance(first, Simple) and first.argv == ("linux", "/k", "a b", "cd")
    assert isinstance(second, Simple) and second.argv is None
