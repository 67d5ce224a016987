"""Words, quoting and tokens: GRUB's lexical rules."""

from __future__ import annotations

import json

import pytest

from bootd.parsers.grub.lexer import Lit, Tok, Var, tokenize
from bootd.parsers.grub.loaders import quote_cmdline
from tests.unit.grub.conftest import Run
from tests.unit.grub.helpers import GRUB_CORPUS


def echoes(run: Run, script: str) -> list[list[str]]:
    return run(script).echoes


def test_quoting_rules(run: Run) -> None:
    script = r"""
set v="a  b"
echo 'single $v \n' "double $v" plain$v"joined"'x' \$v \"q\" "" ''
echo "back\\slash \$ \" \x"
echo a\
b
"""
    assert echoes(run, script) == [
        ["single $v \\n", "double a  b", "plaina", "bjoinedx", "$v", '"q"', "", ""],
        ['back\\slash $ " \\x'],
        ["ab"],
    ]


def test_variables_forms_and_splitting(run: Run) -> None:
    script = """
set a=1 ; set long_name=x
echo $a ${a}b ${long_name} $undefined "$undefined" end
set spaced="  p  q  "
echo [$spaced] "[$spaced]"
"""
    assert echoes(run, script) == [
        ["1", "1b", "x", "", "end"],
        ["[", "p", "q", "]", "[  p  q  ]"],
    ]


def test_comments_only_where_a_word_starts(run: Run) -> None:
    assert echoes(run, "echo a#b # comment\necho '#' \\# \"#\"") == [["a#b"], ["#", "#", "#"]]


def test_hex_escapes_stay_for_the_kernel(run: Run) -> None:
    out = run("menuentry x { linux /k inst.stage2=hd:LABEL=CentOS\\x207\\x20x86_64 }")
    assert out.options[0].args == "inst.stage2=hd:LABEL=CentOS\\x207\\x20x86_64"


def test_tokens_and_pieces() -> None:
    tokens, issues = tokenize('menuentry "T $x" {linux /k;}')
    kinds = [t.kind for t in tokens]
    assert kinds == [Tok.WORD, Tok.WORD, Tok.LBRACE, Tok.WORD, Tok.WORD, Tok.SEMI, Tok.RBRACE, Tok.EOF]
    assert tokens[1].word == (Lit("T ", True), Var("x", True))
    assert not issues


def test_unterminated_quotes_are_reported_not_fatal() -> None:
    tokens, issues = tokenize("echo 'abc\necho \"def")
    assert tokens[-1].kind is Tok.EOF
    assert [i.message for i in issues] == ["unterminated single quote"]


def test_line_numbers() -> None:
    tokens, _ = tokenize("a\n\nb \\\n c\n'x\ny' d")
    lines = {t.line for t in tokens if t.kind is Tok.WORD and t.plain in ("a", "b", "c", "d")}
    assert lines == {1, 3, 4, 6}


ECHO_CASES = sorted(p.stem for p in GRUB_CORPUS.glob("grub_tokenize_*.json"))


@pytest.mark.parametrize("name", ECHO_CASES)
def test_corpus_tokenizer_cases(name: str, run: Run) -> None:
    case = json.loads((GRUB_CORPUS / f"{name}.json").read_text())
    assert run(case["script"]).echoes == case["expect_echo_argv"]


def test_corpus_cmdline_quoting() -> None:
    case = json.loads((GRUB_CORPUS / "grub_cmdline_quote.json").read_text())
    for sub in case["cases"]:
        assert quote_cmdline(sub["argv"]) == sub["want"], sub["desc"]
