"""Bad input is normal input: randomly damaged fact files never crash quizgen, and every error is located."""

from __future__ import annotations

import random
import re

from conftest import REPO, run, write_project

TOKENS = [
    ":",
    "-",
    " ",
    "\n",
    "{",
    "}",
    "[",
    "]",
    "'",
    '"',
    "&a ",
    "*a",
    "!!str ",
    "!x ",
    "#",
    "|",
    ">",
    "\t",
    "{{c1::",
    "}}",
    "~",
    "?",
    ",",
    "\x00",
    "\ufeff",
    "가",
    "true",
    "type: cloze",
    "id: x",
    "  ",
    "\r\n",
    "%YAML 1.1\n",
    "---\n",
    "...\n",
    "<<: *a",
    "\udcff",
]
LOCATED = re.compile(r"^(decks/[\w./-]+|quizgen\.yaml)(:\d+)?: |^\d+ problems? found$")


def mutate(text: str, rng: random.Random) -> str:
    for _ in range(rng.randint(1, 6)):
        pos = rng.randrange(len(text))
        op = rng.random()
        if op < 0.4:
            text = text[:pos] + rng.choice(TOKENS) + text[pos:]
        elif op < 0.7:
            text = text[:pos] + text[pos + rng.randint(1, 30) :]
        else:
            j = rng.randrange(len(text))
            text = text[:pos] + text[j : j + rng.randint(1, 40)] + text[pos:]
    return text


def test_damaged_files_give_located_errors(tmp_path):
    base = (REPO / "decks" / "moe.yaml").read_text(encoding="utf-8")[:2500]
    sources = (REPO / "decks" / "sources.yaml").read_text(encoding="utf-8")
    rng = random.Random(20251125)
    outcomes = {0: 0, 1: 0}
    for i in range(120):
        root = write_project(tmp_path / f"p{i}", {}, sources)
        (root / "decks" / "a.yaml").write_bytes(mutate(base, rng).encode("utf-8", "surrogateescape"))
        result = run("check", root, "--lint")  # run() fails the test on any exception or traceback
        assert result.exit_code in (0, 1), result.output
        outcomes[result.exit_code] += 1
        if result.exit_code == 1:
            unlocated = [ln for ln in result.stderr.splitlines() if not LOCATED.match(ln)]
            assert not unlocated, unlocated
    assert outcomes[1] > 60  # most mutations break the file; the test would be idle otherwise
