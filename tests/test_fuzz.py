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
# The hostile kind: control characters raw and escaped, deep nesting, huge numbers, odd Unicode.
HOSTILE = [
    "\x1f",
    "\x07",
    "\x85",
    "\u2028",
    "\x7f",
    '"\\x1f"',
    '"a\\0b"',
    '"\\u0000"',
    '"\\e\\N"',
    "[" * 1200,
    "{a: " * 300,
    "- " * 400,
    "{{c0::x}}",
    "{{c501::x}}",
    "{{c" + "9" * 5000 + "::x}}",
    "{{c1::" * 200,
    "9" * 5000,
    "1e99999",
    "\U0001f600",
    "\u0301\u0301",
    "\u202e",
    "\ufffe",
    "가" * 300,
    "&x ",
    "! ",
    "!!str ",
    "? ",
    "wrong: [" + "w, " * 40 + "]",
    "\t",
]
LOCATED = re.compile(r"^(decks/[\w./-]+|quizgen\.yaml)(:\d+)?: |^\d+ problems? found$")
LINE = re.compile(r"^(decks/[\w./-]+|quizgen\.yaml):(\d+): ")


def mutate(text: str, rng: random.Random, tokens=TOKENS) -> str:
    for _ in range(rng.randint(1, 6)):
        pos = rng.randrange(len(text))
        op = rng.random()
        if op < 0.4:
            text = text[:pos] + rng.choice(tokens) + text[pos:]
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


def test_hostile_mutations_never_crash_and_stay_inside_the_file(tmp_path):
    """Control characters, deep nesting, huge numbers and odd Unicode: exit 0 or 1, never 3, no
    traceback, every message located, and every line it names exists in the file it names.
    What passes `check` must also build (nothing Anki or the file system refuses gets through)."""
    base = (REPO / "decks" / "korea.yaml").read_text(encoding="utf-8")[:3000]
    sources = (REPO / "decks" / "sources.yaml").read_text(encoding="utf-8")
    rng = random.Random(11_2026)
    outcomes = {0: 0, 1: 0}
    built = 0
    for i in range(120):
        root = write_project(tmp_path / f"p{i}", {}, sources)
        data = mutate(base, rng, TOKENS + HOSTILE * 2).encode("utf-8", "surrogateescape")
        (root / "decks" / "a.yaml").write_bytes(data)
        result = run("check", root, "--lint")
        assert result.exit_code in (0, 1), result.output
        outcomes[result.exit_code] += 1
        lines = {"decks/a.yaml": data.count(b"\n") + (not data.endswith(b"\n"))}
        for ln in result.stderr.splitlines():
            assert LOCATED.match(ln), ln
            m = LINE.match(ln)
            if m and m.group(1) in lines:
                assert 1 <= int(m.group(2)) <= lines[m.group(1)], (ln, lines)
        if result.exit_code == 0 and built < 8:
            built += 1
            build = run("build", root, "--out", root / "out", "--format", "apkg")
            assert build.exit_code == 0, build.output
    assert outcomes[1] > 60
