"""Hostile media through ``bootd scan`` (the in-process path the CLI keeps):
each attack ends with the entries read before it, a message naming the cap,
bounded CPU time (the unfixed code took from 24 s to unbounded, or gigabytes)
and bounded memory."""

from __future__ import annotations

import json
import resource
import time
from pathlib import Path

import pytest

from bootd.__main__ import main
from tests.unit.parsers.helpers import make_view

GOOD = "menuentry Good { linux /good }\n"
GRUB = "/boot/grub/grub.cfg"
BLS = {f"/loader/entries/e{i:03}.conf": f"title e{i}\n" for i in range(300)}

CASES: dict[str, tuple[dict[str, str], str]] = {
    "memory bomb": ({GRUB: GOOD + "set a=x\n" + 'set a="$a$a$a$a$a$a$a$a$a$a"\n' * 10}, "max_value"),
    "long word": ({GRUB: GOOD + "set a=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\necho " + "$a" * 200_000 + "\n"}, "max_value"),
    "blscfg loop": ({GRUB: GOOD + "while true; do blscfg; done\n", **BLS}, "steps"),
    "test -f loop": ({GRUB: GOOD + "while true; do test -f " + "/a" * 2000 + "; done\n"}, "steps"),
    "configfile cycle": ({GRUB: GOOD + "menuentry Again { configfile /boot/grub/grub.cfg }\n"}, "configfile cycle"),
    "dense file": ({GRUB: GOOD + "source /boot/grub/dense.cfg\n", "/boot/grub/dense.cfg": "a\n" * 500_000}, "too many"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_scan_of_hostile_media(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files, cap = CASES[case]
    view = make_view(tmp_path, dict(files))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.process_time()
    rc = main(["scan", "--json", str(view.root)])
    spent = time.process_time() - start
    out, err = capsys.readouterr()
    assert rc == 0
    assert [o["name"] for o in json.loads(out)["options"]] == ["Good"]
    assert cap in err or (cap == "steps" and "cpu_seconds" in err)  # the CPU cap behind the steps
    assert "Traceback" not in out + err
    assert spent < 2.0, f"{spent:.2f} s of CPU"
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024 < 100


def test_scan_with_a_glob_of_thirty_thousand_brackets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = {
        "/loader/loader.conf": "default " + "[" * 30_000 + "\n",
        "/loader/entries/a.conf": "title A\nlinux /a\n",
    }
    view = make_view(tmp_path, files)
    start = time.process_time()
    rc = main(["scan", "--json", str(view.root)])
    spent = time.process_time() - start
    out, err = capsys.readouterr()
    assert rc == 0 and spent < 2.0
    assert [o["name"] for o in json.loads(out)["options"]] == ["A"]
    assert "too long" in err
