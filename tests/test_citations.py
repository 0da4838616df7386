"""Citations: `cite:` lists a fact's sources with roles (the article's claim, the evidence for the answer).

A correction card must show both: what the article said (quoted verbatim) and the primary source
that proves the answer.  `source:`/`quote:` stays the one-evidence form, unchanged in every output.
"""

from __future__ import annotations

import html
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from conftest import REPO, run, write_project

from quizgen.project import load_project

BASE = "0b7fca55edee50b15cf6125829887e5bce06a43d"  # main before `cite:` existed: single-source output must not change from it

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


# --- what learners and teachers see ----------------------------------------------------

CLAIM_LABEL, EVIDENCE_LABEL = "기사의 주장 · Article's claim", "근거 · Evidence"


def test_anki_card_shows_the_claim_and_the_evidence(project, tmp_path):
    anki = pytest.importorskip("anki.collection", reason="the official 'anki' package is in the test extras")
    root = cited(project, CORRECTION)
    assert run("build", root, "--out", tmp_path / "out", "--format", "apkg").exit_code == 0
    col = anki.Collection(str(tmp_path / "learner.anki2"))
    try:
        request = anki.ImportAnkiPackageRequest(
            package_path=str(tmp_path / "out" / "test.apkg"), options=anki.ImportAnkiPackageOptions()
        )
        col.import_anki_package(request)
        (nid,) = col.find_notes('"FactId:correction"')
        note = col.get_note(nid)
        back = html.unescape(note.cards()[0].answer())
        assert set(note.tags) >= {"source::article", "source::paper"}
    finally:
        col.close()
    claim, evidence = back.index(CLAIM_LABEL), back.index(EVIDENCE_LABEL)
    assert claim < back.index("블로그 글") < back.index("상대적으로 성능이 낮은 엔비디아 H800 칩") < evidence
    assert evidence < back.index("DeepSeek-V3 Technical Report") < back.index("trained on 2,048 NVIDIA H800 GPUs")
    assert 'href="https://arxiv.org/abs/2412.19437"' in back and "맹꽁이와 곰도리 · 2025-02-03" in back


def test_citation_text_is_escaped_on_cards(project, tmp_path):
    sources = SOURCES.replace("title: 블로그 글", 'title: "<b>블로그</b> & co"')
    root = project({"decks/a.yaml": CORRECTION.replace("낮은 엔비디아", "낮은 <i>엔비디아</i>")}, sources)
    from quizgen.writers.anki import note_fields

    proj = load_project(root)
    fields = "".join(note_fields(proj.facts[0], proj, ""))
    assert "&lt;b&gt;블로그&lt;/b&gt; &amp; co" in fields and "&lt;i&gt;엔비디아&lt;/i&gt;" in fields
    assert "<b>" not in fields and "<i>" not in fields


def test_answer_key_and_study_sheet_show_every_citation(project, tmp_path):
    root = cited(project, CORRECTION + PLAIN)
    out = tmp_path / "out"
    assert run("build", root, "--out", out, "--format", "html").exit_code == 0
    key = html.unescape((out / "a-key.html").read_text(encoding="utf-8")).split('id="key-A"')[1]
    claim = key.index("기사의 주장")
    assert claim < key.index("블로그 글") < key.index("“상대적으로 성능이 낮은 엔비디아 H800 칩”")
    assert key.index("근거") < key.index("“trained on 2,048 NVIDIA H800 GPUs”")
    assert "Article's claim" in key and "Evidence" in key
    study = html.unescape((out / "a-study.html").read_text(encoding="utf-8"))
    facts, sources = study.split('class="sources"')
    assert re.search(r"기사의 주장.*\[1\].*근거.*\[2\]", facts, re.S)
    assert sources.index("[1]") < sources.index("블로그 글") < sources.index("[2]") < sources.index("DeepSeek-V3")
    # the fact with one source shows no role words: it is shown as it always was
    plain = facts.split("A plain question")[1]
    assert "기사의 주장" not in plain and "근거" not in plain


def test_diff_reports_a_changed_claim_quote(project, tmp_path):
    root = cited(project, CORRECTION)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "v1"], check=True)
    facts = CORRECTION.replace('quote: "상대적으로 성능이 낮은 엔비디아 H800 칩"', 'quote: "엔비디아 H800 칩"')
    (root / "decks/a.yaml").write_text(facts, encoding="utf-8")
    result = run("diff", root, "--against", "git:HEAD")
    assert result.exit_code == 0, result.output
    assert "0 added, 1 changed" in result.output
    assert "source: " in result.output and "[-상대적으로 성능이 낮은-]" in result.output


PLAIN = """\
  - id: plain
    question: {ko: 평범한 질문, en: A plain question}
    answer: {ko: 답, en: Answer}
    source: paper
    quote: "H800"
"""


def notes_in(out: Path) -> dict[str, list[tuple]]:
    """Each package's notes and cards as rows: what a learner's collection receives from the facts.

    The notetypes (templates, CSS) are left out: they improve between releases on their own; so are
    the fields the final notetype layout appended after the first 17 (empty for these facts)."""
    import sqlite3
    import zipfile

    found = {}
    for package in sorted(out.glob("*.apkg")):
        db = out / (package.name + ".db")
        db.write_bytes(zipfile.ZipFile(package).read("collection.anki2"))
        conn = sqlite3.connect(db)
        rows = [
            (guid, mid, mod, tags, flds.split("\x1f")[:17])
            for guid, mid, mod, tags, flds in conn.execute("select guid, mid, mod, tags, flds from notes order by id")
        ]
        rows += conn.execute("select id, nid, did, ord, mod, due from cards order by id").fetchall()
        conn.close()
        found[package.name] = rows
    return found


def test_single_source_output_is_what_it_always_was(project, tmp_path):
    """source/quote facts build the same notes and cards as before cite existed (the code at BASE),
    and a cite list holding one evidence citation builds the same as source/quote."""
    base = subprocess.run(["git", "-C", str(REPO), "cat-file", "-e", f"{BASE}^{{commit}}"], capture_output=True)
    if base.returncode != 0:
        pytest.skip(f"commit {BASE} (quizgen before cite) is not in this clone's history")
    old_code = tmp_path / "old"
    old_code.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", BASE, "quizgen", "templates"], capture_output=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(old_code, filter="data") if hasattr(tarfile, "data_filter") else tar.extractall(old_code)
    shutil.move(str(old_code / "templates"), str(old_code / "quizgen" / "templates"))

    facts = CORRECTION.split("    cite:")[0] + '    source: paper\n    quote: "H800"\n' + PLAIN
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}

    def build(code: Path | None, name: str, text: str) -> dict[str, bytes]:
        root = write_project(tmp_path / name, {"decks/a.yaml": text, "paper.txt": PAPER}, SOURCES)
        prog = "import sys; sys.path.insert(0, sys.argv.pop(1)); from quizgen.cli import main; main()"
        cmd = [sys.executable, "-c", prog, str(code or REPO)]
        formats = ["--format", "apkg", "--format", "html"]  # the formats the old code had
        proc = subprocess.run(
            [*cmd, "build", str(root), "--out", str(root / "out"), *formats], env=env, capture_output=True
        )
        assert proc.returncode == 0, proc.stderr
        pages = {p.name: p.read_bytes() for p in sorted((root / "out").glob("*.html"))}
        return notes_in(root / "out"), pages

    old_notes, _ = build(old_code, "old", facts)
    new_notes, new_pages = build(None, "new", facts)
    assert new_notes == old_notes
    as_cite = facts.replace(
        '    source: paper\n    quote: "H800"\n', '    cite:\n      - {source: paper, quote: "H800"}\n'
    )
    # the same code, so the pages too must match byte for byte (the CSS may move on between releases)
    assert build(None, "cite", as_cite) == (old_notes, new_pages) and new_pages
