"""Citations: `cite:` lists a fact's sources with roles (the article's claim, the evidence for the answer).

A correction card must show both: what the article said (quoted verbatim) and the primary source
that proves the answer.  `source:`/`quote:` stays the one-evidence form, unchanged in every output.
"""

from __future__ import annotations

from conftest import run

from quizgen.project import load_project

SOURCES = """\
article:
  title: 블로그 글
  publisher: 맹꽁이와 곰도리
  date: "2025-02-03"
  file: article.txt
paper:
  title: DeepSeek-V3 Technical Report
  url: https://arxiv.org/abs/2412.19437
  date: "2024-12"
  file: paper.txt
"""

ARTICLE = "딥시크는 상대적으로 성능이 낮은 엔비디아 H800 칩을 사용했다.\n"
PAPER = "DeepSeek-V3, trained on 2,048 NVIDIA H800 GPUs.\n"

CORRECTION = """\
deck: "Test::Deck"
facts:
  - id: correction
    type: truefalse
    statement: {ko: "V3는 H800 2,048개로 학습했다.", en: "V3 was trained on 2,048 H800s."}
    answer: true
    cite:
      - source: article
        quote: "상대적으로 성능이 낮은 엔비디아 H800 칩"
        role: claim
      - source: paper
        quote: "trained on 2,048 NVIDIA H800 GPUs"
"""


def cited(project, facts: str):
    return project({"decks/a.yaml": facts, "article.txt": ARTICLE, "paper.txt": PAPER}, SOURCES)


# --- the model -------------------------------------------------------------------------


def test_cite_builds_citations_and_the_primary_evidence(project):
    fact = load_project(cited(project, CORRECTION)).facts[0]
    assert [(c.source, c.role) for c in fact.citations] == [("article", "claim"), ("paper", "evidence")]
    assert fact.citations[0].quote == "상대적으로 성능이 낮은 엔비디아 H800 칩"
    assert fact.citations[0].line == 9 and fact.citations[1].line == 12  # the quote's line
    # writers that know only source/quote see the evidence, never the claim
    assert (fact.source, fact.quote) == ("paper", "trained on 2,048 NVIDIA H800 GPUs")
    assert not fact.single_source


def test_role_defaults_to_evidence_and_quote_is_optional(project):
    facts = CORRECTION.replace('        quote: "trained on 2,048 NVIDIA H800 GPUs"\n', "")
    fact = load_project(cited(project, facts)).facts[0]
    assert fact.citations[1].role == "evidence" and fact.citations[1].quote == ""
    assert fact.citations[1].line == 11  # no quote: the citation's own line
    assert fact.source == "paper" and fact.quote == ""


def test_source_and_quote_are_one_evidence_citation(project):
    root = cited(
        project, 'deck: D\nfacts:\n  - id: a\n    question: Q\n    answer: A\n    source: paper\n    quote: "H800"\n'
    )
    fact = load_project(root).facts[0]
    assert [(c.source, c.quote, c.role, c.line) for c in fact.citations] == [("paper", "H800", "evidence", 7)]
    assert fact.single_source and fact.cite == ()


# --- validation: located, every problem at once, with suggestions ------------------------


def check_output(project, facts: str) -> str:
    result = run("check", cited(project, facts))
    assert result.exit_code == 1, result.output
    return result.output


def test_both_forms_in_one_fact_is_a_located_error(project):
    facts = CORRECTION.replace("    answer: true\n", "    answer: true\n    source: paper\n")
    out = check_output(project, facts)
    assert "decks/a.yaml:7: source: a fact cites either with source/quote or with a cite list, not both" in out


def test_a_claim_alone_is_not_enough(project):
    facts = CORRECTION.replace("      - source: paper\n", "      - role: claim\n        source: paper\n")
    out = check_output(project, facts)
    assert "decks/a.yaml:8: cite: needs at least one evidence citation" in out


def test_bad_citations_are_each_reported_with_line_and_suggestion(project):
    facts = """\
    deck: D
    facts:
      - id: a
        question: Q
        answer: A
        cite:
          - source: papr
          - {source: article, role: claimm}
          - {source: paper, qoute: "x"}
          - {quote: "x"}
          - just text
      - id: b
        question: Q
        answer: A
        cite: paper
      - id: c
        question: Q
        answer: A
        cite: []
      - id: d
        question: Q
        answer: A
        cite:
          - {source: paper, quote: "H800"}
          - {source: paper, quote: "H800"}
    """
    out = check_output(project, facts)
    expected = [
        "decks/a.yaml:7: cite[0].source: unknown source id 'papr' (not in decks/sources.yaml); did you mean 'paper'?",
        "decks/a.yaml:8: cite[1].role: unknown role 'claimm' (use claim or evidence); did you mean 'claim'?",
        "decks/a.yaml:9: unknown key 'qoute' in a citation (cite[2]); did you mean 'quote'?",
        "decks/a.yaml:10: cite[3]: missing required key 'source'",
        "decks/a.yaml:11: cite[4]: expected a mapping",
        "decks/a.yaml:15: cite: expected a list of citations",
        "decks/a.yaml:19: cite: the list is empty",
        "decks/a.yaml:25: cite[1]: repeats cite[0]",
    ]
    for line in expected:
        assert line in out, (line, out)


def test_did_you_mean_for_the_cite_key_itself(project):
    facts = CORRECTION.replace("    cite:\n", "    cites:\n")
    assert "unknown key 'cites' in a fact; did you mean 'cite'?" in check_output(project, facts)


# --- the quote check and lint ----------------------------------------------------------


def test_quote_check_checks_the_claim_quote_too(project, tmp_path):
    root = cited(project, CORRECTION)
    assert run("check", root, "--quotes", root).exit_code == 0
    (root / "decks/a.yaml").write_text(CORRECTION.replace("성능이 낮은", "성능이 나쁜"), encoding="utf-8")
    result = run("check", root, "--quotes", root)
    assert result.exit_code == 1
    assert "decks/a.yaml:9: quote: not found verbatim in article.txt (source 'article')" in result.output
    assert "a.yaml:12" not in result.output  # the evidence quote is fine


def test_quote_missing_answer_looks_at_evidence_quotes_only(project):
    facts = """\
    deck: D
    facts:
      - id: a
        question: {ko: V3를 학습한 GPU는?, en: Which GPU trained V3?}
        answer: H800
        cite:
          - {source: article, quote: "딥시크는 상대적으로", role: claim}
          - {source: paper, quote: "trained on 2,048 NVIDIA H800 GPUs"}
      - id: b
        question: {ko: V3를 학습한 GPU 수는?, en: How many GPUs trained V3?}
        answer: "2,048"
        cite:
          - {source: article, quote: "엔비디아 H800 칩", role: claim}
          - {source: paper, quote: "DeepSeek-V3, trained on"}
    """
    result = run("check", cited(project, facts), "--lint")
    warnings = [line for line in result.output.splitlines() if "[quote-missing-answer]" in line]
    # a: the claim quote lacks the answer, the evidence has it: fine.  b: the evidence lacks it.
    assert len(warnings) == 1 and warnings[0].startswith("decks/a.yaml:14: "), result.output


# --- stats -----------------------------------------------------------------------------


def test_stats_counts_every_cited_source(project):
    facts = CORRECTION + "  - id: plain\n    question: Q\n    answer: A\n    source: paper\n"
    result = run("stats", cited(project, facts))
    assert result.exit_code == 0, result.output
    section = result.output.split("facts per source:")[1].split("\n\n")[0]
    counts = {line.split()[0]: int(line.split()[1]) for line in section.strip().splitlines()}
    assert counts == {"paper": 2, "article": 1}
