"""`quizgen check --lint`: each rule fires on a real file, points at the line, and can be silenced."""

from __future__ import annotations

import unicodedata

import pytest
from conftest import run

HEAD = 'deck: "L::D"\nfacts:\n'

CASES = [
    ("answer-in-question", "  - id: a\n    question: Which chip, the H800?\n    answer: H800\n", 4),
    (
        "answer-in-question",
        "  - id: a\n    type: choice\n    question: Is it A100 or something else?\n"
        "    answer: H800\n    wrong: [A100, H20]\n",
        5,
    ),
    ("answer-in-question", "  - id: a\n    type: cloze\n    text: 'The {{c1::router}} is a router network.'\n", 5),
    (
        "duplicate-distractor",
        "  - id: a\n    type: choice\n    question: Which?\n    answer: Oracle\n"
        "    wrong: [Microsoft Azure, microsoft  azure, Google]\n",
        7,
    ),
    (
        "duplicate-distractor",
        "  - id: a\n    type: choice\n    question: Which?\n    answer: Oracle\n"
        "    wrong: [The routed experts, The routed expert, Google]\n",
        7,
    ),
    (
        "distractor-like-answer",
        "  - id: a\n    type: choice\n    question: Which?\n    answer: SoftBank\n    wrong: [Soft Bank, Oracle]\n",
        7,
    ),
    (
        "option-length",
        "  - id: a\n    type: choice\n    question: Which?\n"
        "    answer: A much longer and very detailed right answer\n    wrong: [Short one, Another]\n",
        6,
    ),
    (
        "all-of-the-above",
        "  - id: a\n    type: choice\n    question: Which?\n    answer: A\n    wrong: [B, All of the above]\n",
        7,
    ),
    (
        "all-of-the-above",
        "  - id: a\n    type: choice\n    question: 어느 것?\n    answer: 가\n    wrong: [나, 모두 정답]\n",
        7,
    ),
    ("not-nfc", "  - id: a\n    question: " + unicodedata.normalize("NFD", "전문가란?") + "\n    answer: x y\n", 4),
    ("mixed-width-punctuation", "  - id: a\n    question: 무엇인가？ (what?)\n    answer: x y\n", 4),
    ("missing-language", "  - id: a\n    question: {ko: 질문}\n    answer: x y\n", 4),
    (
        "quote-missing-answer",
        "  - id: a\n    question: Which chip?\n    answer: H800\n    source: src\n    quote: 엔비디아 칩이 사용됐다\n",
        7,
    ),
]


@pytest.mark.parametrize("rule,facts,line", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_rule_fires_and_can_be_silenced(project, tmp_path, rule, facts, line):
    root = project({"decks/a.yaml": HEAD + facts})
    result = run("check", root, "--lint")
    assert result.exit_code == 0, result.output
    hits = [ln for ln in result.stderr.splitlines() if ln.endswith(f"[{rule}]")]
    assert hits and hits[0].startswith(f"decks/a.yaml:{line}: warning:"), result.stderr
    strict = run("check", root, "--lint", "--strict")
    assert strict.exit_code == 1 and f"[{rule}]" in strict.stderr

    # per fact
    (root / "decks/a.yaml").write_text(HEAD + facts + f"    lint: {{ignore: [{rule}]}}\n", encoding="utf-8")
    assert f"[{rule}]" not in run("check", root, "--lint").stderr
    # per project
    (root / "decks/a.yaml").write_text(HEAD + facts, encoding="utf-8")
    (root / "quizgen.yaml").write_text(f"id: test-course-0001\nlint: {{ignore: [{rule}]}}\n")
    assert f"[{rule}]" not in run("check", root, "--lint").stderr


def test_near_duplicate_facts_across_files(project):
    root = project(
        {
            "decks/a.yaml": HEAD
            + "  - id: a\n    question: How many routed experts does each DeepSeek-V3 MoE layer have?\n"
            "    answer: '256'\n",
            "decks/b.yaml": HEAD + "  - id: b\n    question: Each DeepSeek-V3 MoE layer has how many routed experts?\n"
            "    answer: '256'\n"
            "  - id: c\n    question: Which company announced Stargate with SoftBank and Oracle?\n"
            "    answer: OpenAI\n",
        }
    )
    result = run("check", root, "--lint")
    hits = [ln for ln in result.stderr.splitlines() if "[near-duplicate-fact]" in ln]
    assert len(hits) == 1 and hits[0].startswith("decks/b.yaml:3:") and "'a'" in hits[0]


def test_clean_facts_give_no_warnings(project):
    root = project(
        {
            "decks/a.yaml": HEAD
            + (
                "  - id: a\n    type: choice\n    question: {ko: V3를 학습한 GPU는?, en: Which GPU trained V3?}\n"
                "    answer: H800\n    wrong: [H100, A100, H20]\n"
                "  - id: b\n    type: cloze\n    text: {ko: '라우터가 {{c1::2}}개를 고른다', en: 'A router network picks {{c1::two}}'}\n"
            )
        }
    )
    result = run("check", root, "--lint", "--strict")
    assert result.exit_code == 0, result.stderr
    assert "0 warnings" in result.stdout


def test_unknown_rule_in_ignore_is_reported(project):
    root = project(
        {"decks/a.yaml": HEAD + "  - id: a\n    question: q\n    answer: x y\n    lint: {ignore: [no-such-rule]}\n"}
    )
    assert "unknown lint rule 'no-such-rule'" in run("check", root, "--lint").stderr
