"""Every problem, located, at once: one broken thing never hides the others, and YAML mistakes get plain hints."""

from __future__ import annotations

import pytest
from conftest import run

HEAD = 'deck: "T::D"\nfacts:\n'
GOOD = "  - id: good\n    question: q\n    answer: a\n"


def check(root, *args):
    result = run("check", root, *args)
    assert result.exit_code in (0, 1), result.output
    return result


# -- a syntax error hides only what the parser could not read -------------------------------


def test_syntax_error_keeps_the_problems_of_the_facts_above_it(project):
    body = (
        HEAD
        + "  - id: first\n    question: q\n    answr: typo\n"  # 3-5: unknown key, missing answer
        + GOOD  # 6-8
        + "  - id: broken\n    question: 다음 중 옳은 것은: 광합성\n    answer: a\n"  # 9-11: syntax error at 10
    )
    result = check(project({"decks/a.yaml": body}))
    err = result.stderr
    assert "decks/a.yaml:10: YAML syntax error" in err
    assert "decks/a.yaml:5: unknown key 'answr'" in err
    assert "decks/a.yaml:3: missing required key 'answer'" in err
    assert "missing required key 'deck'" not in err and "missing required key 'facts'" not in err


def test_duplicate_ids_found_across_a_file_with_a_syntax_error(project):
    broken = HEAD + "  - id: shared\n    question: q\n    answer: a\n  - id: x\n    question: [보기] q\n"
    other = HEAD + "  - id: shared\n    question: q\n    answer: a\n"
    result = check(project({"decks/a.yaml": broken, "decks/b.yaml": other}))
    assert "decks/a.yaml:7: YAML syntax error" in result.stderr
    assert "decks/b.yaml:3: duplicate id 'shared' (first used at decks/a.yaml:3)" in result.stderr


def test_other_errors_do_not_suppress_the_duplicate_id_check(project):
    body = HEAD + "  - id: dup\n    question: q\n    answer: ''\n  - id: dup\n    question: q\n    answer: a\n"
    result = check(project({"decks/a.yaml": body}))
    assert "decks/a.yaml:5: answer: must not be empty" in result.stderr
    assert "decks/a.yaml:6: duplicate id 'dup' (first used at decks/a.yaml:3)" in result.stderr


def test_a_tab_after_the_indentation_of_a_block_text_is_text(project):
    body = HEAD + "  - id: x\n    question: |\n      line\n      \tmore\n    answer: a\n"
    root = project({"decks/a.yaml": body})
    assert check(root).exit_code == 0
    from quizgen.project import load_project

    assert load_project(str(root)).facts[0].question.get("en") == "line\n\tmore\n"


def test_tab_that_breaks_parsing_reports_the_tab_and_the_facts_above(project):
    body = HEAD + "  - id: a\n    question: q\n    answr: typo\n" + "  - id: b\n\tquestion: q\n"
    result = check(project({"decks/a.yaml": body}))
    assert "decks/a.yaml:7: column 1: tab character in indentation" in result.stderr
    assert "decks/a.yaml:5: unknown key 'answr'" in result.stderr  # the fact above the tab is still checked


def test_errors_anywhere_do_not_suppress_the_quote_check(project, tmp_path):
    quotes = tmp_path / "sources"
    quotes.mkdir()
    (quotes / "a.txt").write_text("The real passage says 37 billion.", encoding="utf-8")
    misquoted = HEAD + "  - id: q1\n    question: q\n    answer: a\n    source: src\n    quote: 'not in the text'\n"
    broken = 'deck: "T::E"\nfacts:\n  - id: q2\n    question: q\n'
    result = check(project({"decks/a.yaml": misquoted, "decks/b.yaml": broken}), "--quotes", quotes)
    assert "decks/b.yaml:3: missing required key 'answer'" in result.stderr
    assert "decks/a.yaml:7: quote: not found verbatim in a.txt" in result.stderr


def test_errors_do_not_suppress_lint_on_the_valid_facts(project):
    lintable = HEAD + "  - id: l1\n    question: Is H800 the GPU?\n    answer: H800\n"
    broken = 'deck: "T::E"\nfacts:\n  - id: q2\n    question: q\n'
    result = check(project({"decks/a.yaml": lintable, "decks/b.yaml": broken}), "--lint")
    assert "decks/a.yaml:4: warning:" in result.stderr and "[answer-in-question]" in result.stderr
    assert "decks/b.yaml:3: missing required key 'answer'" in result.stderr


def test_a_broken_sources_file_gives_no_false_unknown_source_errors(project):
    sources = "src:\n  title: A\nother:\n  title: [unclosed\n"
    body = HEAD + "  - id: a\n    question: q\n    answer: a\n    source: other\n"
    result = check(project({"decks/a.yaml": body}, sources=sources))
    assert result.exit_code == 1 and "decks/sources.yaml:4: YAML syntax error" in result.stderr
    assert "unknown source id" not in result.stderr


def test_build_still_refuses_a_partly_valid_project(project):
    root = project({"decks/a.yaml": HEAD + GOOD, "decks/b.yaml": HEAD + "  - id: b\n    question: [x] y\n"})
    result = run("build", root, "--out", root / "out")
    assert result.exit_code == 1 and not (root / "out").exists()


# -- plain hints for the usual YAML mistakes, at the real line ------------------------------

HINTS = [
    (
        "colon-in-text",
        HEAD + "  - id: a\n    question: 다음 중 옳은 것은: 광합성\n    answer: x\n",
        4,
        "text containing ': ' must be in quotes: question: \"다음 중 옳은 것은: 광합성\"",
    ),
    (
        "starts-with-bracket",
        HEAD + "  - id: a\n    question: [보기] 다음 중 옳은 것은?\n    answer: x\n",
        4,
        "text starting with '[' must be in quotes: question: \"[보기] 다음 중 옳은 것은?\"",
    ),
    (
        "three-space-indent",
        HEAD + "  - id: a\n    question: q\n   answer: x\n",
        5,
        "this line is indented 3 spaces and the line above 4",
    ),
    (
        "no-space-after-colon",
        HEAD + "  - id: a\n    question: 조선의 4대 왕은?\n    answer:세종\n",
        5,
        "put a space after the colon",
    ),
    (
        "starts-with-star",
        HEAD + "  - id: a\n    question: q\n    answer: *bold* x\n",
        5,
        "text starting with '*' must be in quotes",
    ),
    (
        "starts-with-at",
        HEAD + "  - id: a\n    question: q\n    answer: `y`\n",
        5,
        "text starting with '`' must be in quotes",
    ),
    ("unclosed-quote", HEAD + '  - id: a\n    question: "q\n    answer: x\n', 4, "never closed"),
]


@pytest.mark.parametrize("case,body,line,hint", HINTS, ids=[h[0] for h in HINTS])
def test_usual_yaml_mistakes_get_a_plain_hint_at_the_real_line(project, case, body, line, hint):
    result = check(project({"decks/a.yaml": body}))
    assert result.exit_code == 1
    located = [ln for ln in result.stderr.splitlines() if ln.startswith(f"decks/a.yaml:{line}: ")]
    assert located and hint in located[0], result.stderr
    assert line <= len(body.splitlines())


def test_an_error_at_the_end_of_the_file_is_reported_on_its_last_line(project):
    body = HEAD + "  - id: a\n    question: q\n    answer:세종\n\n\n"
    result = check(project({"decks/a.yaml": body}))
    assert "decks/a.yaml:5: YAML syntax error" in result.stderr
