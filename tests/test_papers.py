"""Quiz papers, answer keys and their PDFs, printed by quizgen itself in real Chromium and read back with poppler.

Without Chromium or poppler these tests skip with the reason, unless QUIZGEN_REQUIRE_CHROMIUM=1 (set in
CI) makes the absence a failure.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import time
from pathlib import Path

import pytest
from conftest import run, write_project
from test_html import Page, pdf_fonts, pdf_info, pdf_pages, require

from quizgen import pdfengine, present
from quizgen.project import load_project
from quizgen.quiz import assemble

SOURCES = """\
paper:
  title: "QUIZ-SOURCE-TITLE: A paper"
  url: https://example.org/paper
"""

CHIPS = ["H800", "H100", "A100", "H20", "B200", "V100", "T4", "L40", "A800", "H200"]


def short_choice(n: int) -> str:
    """A choice fact with short, language-neutral options, a unique explanation and a unique quote."""
    options = [CHIPS[(n + k) % len(CHIPS)] for k in range(5)]
    return (
        f"  - id: chip-q{n:02d}\n    type: choice\n"
        f"    question: {{ko: {n}번째 모델은 어떤 GPU로 학습했나?, en: Which GPU trained model number {n}?}}\n"
        f"    answer: {options[0]}\n    wrong: [{', '.join(options[1:])}]\n"
        f"    explanation: {{ko: EXPL-KO-{n:02d} 해설입니다., en: EXPL-EN-{n:02d} explained.}}\n"
        f'    source: paper\n    quote: "QUOTE-{n:02d} verbatim"\n'
    )


BANK = 'deck: "Course::Chips"\nfacts:\n' + "".join(short_choice(n) for n in range(1, 41))

OTHER = """\
deck: "Course::Other"
facts:
  - id: hab-order
    type: choice
    question: {ko: "옳은 것만을 있는 대로 고른 것은?\\nㄱ. 가\\nㄴ. 나\\nㄷ. 다", en: "Which are true?"}
    answer: "ㄱ, ㄷ"
    options: ["ㄱ", "ㄴ", "ㄱ, ㄴ", "ㄱ, ㄷ", "ㄴ, ㄷ"]
    explanation: EXPL-HAB
    source: paper
  - id: basic-one
    question: {ko: 스타게이트의 투자 규모는?, en: How large is the Stargate investment?}
    answer: {ko: ANSWER-BASIC-KO, en: ANSWER-BASIC-EN}
    explanation: EXPL-BASIC
    source: paper
  - id: cloze-one
    type: cloze
    text: {ko: "딥시크는 {{c1::HIDDEN-CLOZE}} 칩을 썼다.", en: "DeepSeek used {{c1::HIDDEN-CLOZE}} chips."}
    source: paper
  - id: tf-one
    type: truefalse
    statement: {ko: 딥시크-V3는 MoE 모델이다., en: DeepSeek-V3 is an MoE model.}
    answer: true
    explanation: EXPL-TF
    source: paper
"""

MIDTERM = """\
title: {ko: 반도체 중간고사, en: Chips midterm}
date: 2026-12-15
minutes: 45
instructions: {ko: 알맞은 답을 고르세요., en: Choose the best answer.}
forms: 2
seed: midterm-2026
sections:
  - title: {ko: 객관식, en: Multiple choice}
    from: {decks: [Course::Chips]}
    pick: 30
    points: 2
"""

MIXED = """\
title: {ko: 종합 쪽지 시험, en: Mixed quiz}
forms: 2
seed: mixed
sections:
  - from: {decks: [Course::Other]}
    points: 3
  - from: {ids: [chip-q01, chip-q02]}
"""

# What no student file may contain: explanations, quotes, sources, ids, the key's words, hidden answers.
SECRETS = ["EXPL-", "QUOTE-", "QUIZ-SOURCE-TITLE", "chip-q", "hab-order", "basic-one", "cloze-one", "tf-one",
           "ANSWER-BASIC", "HIDDEN-CLOZE", "정답", "Answer key", "해설", "Explanation"]  # fmt: skip


@pytest.fixture(scope="module")
def browser() -> str:
    exe = pdfengine.find_browser()
    if exe is None:
        require("chromium")  # skips, or fails under QUIZGEN_REQUIRE_CHROMIUM=1
    for tool in ("pdfinfo", "pdftotext", "pdffonts"):
        require(tool)
    return exe  # type: ignore[return-value]


def course(root: Path, midterm: str = MIDTERM) -> Path:
    return write_project(
        root,
        {
            "quizgen.yaml": "title: 반도체 수업\nlanguages: [ko, en]\n",
            "decks/chips.yaml": BANK,
            "decks/other.yaml": OTHER,
            "quizzes/midterm.yaml": midterm,
            "quizzes/mixed.yaml": MIXED,
        },
        SOURCES,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory, browser):
    """The course built once with every format, with a fixed SOURCE_DATE_EPOCH; timed per printed page."""
    tmp = tmp_path_factory.mktemp("papers")
    root = course(tmp / "course")
    out = tmp / "out"
    started = time.perf_counter()
    result = run_env({"SOURCE_DATE_EPOCH": "1765756800"}, "build", root, "--out", out)  # 2025-12-15T00:00:00Z
    assert result.exit_code == 0, result.output
    elapsed = time.perf_counter() - started
    return root, out, elapsed


def folder(out: Path, stem: str) -> Path:
    return out / "quizzes" / stem


def test_every_quiz_gets_papers_a_key_and_pdfs_and_the_index_lists_them(built):
    root, out, _ = built
    names = {p.name for p in folder(out, "midterm").iterdir()}
    mine = {"midterm-A.html", "midterm-A.pdf", "midterm-B.html", "midterm-B.pdf", "midterm-key.html", "midterm-key.pdf"}
    assert names >= mine and not {n for n in names - mine if n.endswith(".html") and "-sheet" not in n}
    index = Page((out / "index.html").read_text(encoding="utf-8"))
    hrefs = {a["href"] for a in index.tags("a")}
    for stem in ("midterm", "mixed"):
        for name in (f"{stem}-A.html", f"{stem}-B.html", f"{stem}-key.html", f"{stem}-A.pdf", f"{stem}-key.pdf"):
            assert f"quizzes/{stem}/{name}" in hrefs
    assert "반도체 중간고사" in index.text and "Chips midterm" in index.text
    # deck quizzes too: the paper and its key in separate files
    assert (out / "chips-quiz.html").exists() and (out / "chips-key.html").exists()
    assert "EXPL-KO-01" not in (out / "chips-quiz.html").read_text(encoding="utf-8")
    assert "EXPL-KO-01" in (out / "chips-key.html").read_text(encoding="utf-8")


def test_a_student_file_holds_no_answer_not_even_in_its_source(built):
    _, out, _ = built
    for stem in ("midterm", "mixed"):
        for form in "AB":
            html = (folder(out, stem) / f"{stem}-{form}.html").read_text(encoding="utf-8")
            text = "\n".join(pdf_pages(folder(out, stem) / f"{stem}-{form}.pdf"))
            for secret in SECRETS:
                assert secret not in html, f"{stem}-{form}.html contains {secret!r}"
                assert secret not in text, f"{stem}-{form}.pdf contains {secret!r}"
            assert "correct" not in html and "data-" not in html
    # and the key has all of it
    key = (folder(out, "mixed") / "mixed-key.html").read_text(encoding="utf-8")
    for secret in ("EXPL-HAB", "ANSWER-BASIC-KO", "HIDDEN-CLOZE", "QUIZ-SOURCE-TITLE", "EXPL-TF", "QUOTE-01"):
        assert secret in key


def test_the_paper_header_and_korean_numbering(built):
    root, out, _ = built
    pages = pdf_pages(folder(out, "midterm") / "midterm-B.pdf")
    first = pages[0]
    for words in ("반도체 중간고사", "Chips midterm", "B형 / Form B", "이름 / Name", "반 / Class", "번호 / No.",
                  "점수 / Score", "2026-12-15", "45분", "30문항 · 60점", "알맞은 답을 고르세요."):  # fmt: skip
        assert words in first, words
    whole = "\n".join(pages)
    for label in "①②③④⑤":  # Korean exams number the options ①–⑤
        assert whole.count(label) == 30, label
    assert not re.search(r"[ⒶⒷⒸ]", whole)
    assert "[2점]" not in whole  # every question is worth the same: no points after the prompts
    mixed = "\n".join(pdf_pages(folder(out, "mixed") / "mixed-A.pdf"))
    assert "[3점]" in mixed and "[1점]" in mixed  # points differ: shown after each prompt
    fonts = pdf_fonts(folder(out, "midterm") / "midterm-A.pdf")
    assert fonts and all(embedded for _, embedded in fonts)


def test_thirty_short_choice_questions_fit_on_four_a4_pages_and_none_is_split(built):
    _, out, _ = built
    for form in "AB":
        pdf = folder(out, "midterm") / f"midterm-{form}.pdf"
        info = pdf_info(pdf)
        assert "A4" in info["Page size"]
        pages = pdf_pages(pdf)
        assert len(pages) <= 4, f"{pdf.name}: {len(pages)} pages"
        numbers = [int(n) for text in pages for n in re.findall(r"(?m)^\s*(\d+)\.\s", text)]
        assert sorted(set(numbers)) == list(range(1, 31))
        for text in pages[1:]:  # every page after the first starts with a whole question
            lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
            body = [
                ln
                for ln in lines
                if not ln.startswith(("반도체 중간고사", f"{form}형")) and not re.fullmatch(r"\d+ / \d+", ln)
            ]
            assert re.match(r"\d+\.", body[0]), body[:2]
    key = pdf_info(folder(out, "midterm") / "midterm-key.pdf")
    assert "A4" in key["Page size"]


def test_the_key_grid_lists_every_question_on_every_form_with_points_and_total(built):
    root, out, _ = built
    project = load_project(str(root))
    quiz = next(q for q in project.quizzes if q.stem == "midterm")
    forms = assemble(project, quiz)
    grid = poppler_layout(folder(out, "midterm") / "midterm-key.pdf", page=1)
    rows = set(re.findall(r"(?<!\d)(\d{1,2})\s+([①-⑳])\s+([①-⑳])\s+(\d+)(?!\d)", grid))
    expected = {
        (
            str(n + 1),
            present.option_label(a.answer_index, "circled-digits"),
            present.option_label(b.answer_index, "circled-digits"),
            "2",
        )
        for n, (a, b) in enumerate(zip(forms[0].questions, forms[1].questions))
    }
    assert rows == expected
    assert re.search(r"합계 / Total\s+60", grid)
    assert "A형 / Form A" in grid.replace("\n", " ") or ("A형" in grid and "Form A" in grid)
    # then each form's answers explained, with sources and quotes
    text = "\n".join(pdf_pages(folder(out, "midterm") / "midterm-key.pdf"))
    for q in forms[1].questions:
        assert f"EXPL-KO-{q.fact.id[-2:]}" in text
    assert "QUOTE-" in text and "QUIZ-SOURCE-TITLE" in text


def poppler_layout(pdf: Path, page: int) -> str:
    proc = subprocess.run(
        ["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(pdf), "-"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def pdf_raw(pdf: Path) -> str:
    """The text in the order it is drawn (the page's order: columns do not interleave)."""
    proc = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_an_options_fact_keeps_its_order_on_every_form(built):
    _, out, _ = built
    for form in "AB":
        text = re.sub(r"\s+", "", pdf_raw(folder(out, "mixed") / f"mixed-{form}.pdf"))
        assert "①ㄱ②ㄴ③ㄱ,ㄴ④ㄱ,ㄷ⑤ㄴ,ㄷ" in text, form
        key = re.sub(r"\s+", "", (folder(out, "mixed") / "mixed-key.html").read_text(encoding="utf-8"))
        assert '<spanclass="opt-label">④</span><spanclass="tl1">ㄱ,ㄷ</span>' in key


def test_pdfs_are_reproducible_dated_from_source_date_epoch_and_a_new_seed_draws_anew(built, tmp_path, browser):
    root, out, _ = built
    pdf = folder(out, "midterm") / "midterm-A.pdf"
    info = pdf_info(pdf)
    assert (
        "2025" in info["CreationDate"] and "Dec 15" in info["CreationDate"] and info["ModDate"] == info["CreationDate"]
    )
    # the same inputs in another place: byte-identical PDFs and pages
    again = course(tmp_path / "again")
    env = {"SOURCE_DATE_EPOCH": "1765756800"}
    result = run_env(env, "build", again, "--out", tmp_path / "again-out", "--format", "pdf")
    assert result.exit_code == 0, result.output
    for name in ("midterm-A.pdf", "midterm-B.pdf", "midterm-key.pdf"):
        assert (folder(tmp_path / "again-out", "midterm") / name).read_bytes() == (
            folder(out, "midterm") / name
        ).read_bytes(), name
    # without SOURCE_DATE_EPOCH the dates are left out, so the PDF is still the same every time
    undated = run_env({"SOURCE_DATE_EPOCH": None}, "build", again, "--out", tmp_path / "undated", "--format", "pdf")
    assert undated.exit_code == 0
    info = pdf_info(folder(tmp_path / "undated", "midterm") / "midterm-A.pdf")
    assert "CreationDate" not in info and "ModDate" not in info
    # another seed draws other questions
    other = course(tmp_path / "other", MIDTERM.replace("midterm-2026", "final-2026"))
    result = run_env(env, "build", other, "--out", tmp_path / "other-out", "--format", "html")
    first = set(
        re.findall(r"model number (\d+)\?", (folder(out, "midterm") / "midterm-A.html").read_text(encoding="utf-8"))
    )
    second = set(
        re.findall(
            r"model number (\d+)\?",
            (folder(tmp_path / "other-out", "midterm") / "midterm-A.html").read_text(encoding="utf-8"),
        )
    )
    assert len(first) == len(second) == 30 and first != second


def run_env(env: dict, *args):
    saved = {k: os.environ.get(k) for k in env}
    try:
        for k, v in env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        return run(*args)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def counting_browser(tmp_path: Path, real: str) -> tuple[Path, Path]:
    """A browser wrapper that logs each run, then runs the real one."""
    log = tmp_path / "runs.log"
    script = tmp_path / "browser.sh"
    script.write_text(f'#!/bin/sh\necho "run $*" >> "{log}"\nexec "{real}" "$@"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script, log


def test_unchanged_pages_are_not_printed_again(tmp_path, browser, monkeypatch):
    root = course(tmp_path / "c")
    script, log = counting_browser(tmp_path, browser)
    monkeypatch.setenv(pdfengine.ENV_VAR, str(script))
    out = tmp_path / "out"
    assert run("build", root, "--out", out, "--format", "pdf").exit_code == 0
    first = len(log.read_text().splitlines())
    assert first == 6  # midterm A, B, key; mixed A, B, key
    before = {p.name: p.read_bytes() for p in out.rglob("*.pdf")}
    # a fact that no quiz asks changes: the build runs, but no page of a quiz changed, so nothing is printed
    project = load_project(str(root))
    asked = {q.fact.id for quiz in project.quizzes for f in assemble(project, quiz) for q in f.questions}
    unasked = next(f"EXPL-EN-{n:02d}" for n in range(1, 41) if f"chip-q{n:02d}" not in asked)
    other = (root / "decks" / "chips.yaml").read_text(encoding="utf-8").replace(unasked, unasked + " (edited)")
    (root / "decks" / "chips.yaml").write_text(other, encoding="utf-8")
    result = run("build", root, "--out", out, "--format", "pdf")
    assert result.exit_code == 0 and "up to date" not in result.output
    assert len(log.read_text().splitlines()) == first
    assert {p.name: p.read_bytes() for p in out.rglob("*.pdf")} == before
    # a change a paper shows: that quiz's pages are printed again
    (root / "quizzes" / "midterm.yaml").write_text(MIDTERM.replace("minutes: 45", "minutes: 50"), encoding="utf-8")
    assert run("build", root, "--out", out, "--format", "pdf").exit_code == 0
    assert len(log.read_text().splitlines()) == first + 3


def test_without_a_browser_pdf_fails_and_all_skips_it(tmp_path, monkeypatch):
    root = course(tmp_path / "c")
    monkeypatch.setenv(pdfengine.ENV_VAR, str(tmp_path / "no-such-browser"))
    result = run("build", root, "--out", tmp_path / "pdf", "--format", "pdf")
    assert result.exit_code == 1 and "QUIZGEN_BROWSER" in result.stderr and not (tmp_path / "pdf").exists()
    monkeypatch.setattr(pdfengine, "NAMES", ())
    monkeypatch.setattr(pdfengine, "FOLDERS", ())
    monkeypatch.delenv(pdfengine.ENV_VAR)
    result = run("build", root, "--out", tmp_path / "pdf", "--format", "pdf")
    assert result.exit_code == 1 and "apt-get install chromium" in result.stderr
    result = run("build", root, "--out", tmp_path / "all", "--format", "all")
    assert result.exit_code == 0 and "warning: pdf skipped" in result.stderr
    assert (tmp_path / "all" / "quizzes" / "midterm" / "midterm-A.html").exists()
    assert not list((tmp_path / "all").rglob("*.pdf"))


def test_a_hung_browser_is_stopped_at_the_time_limit(tmp_path):
    script = tmp_path / "hang.sh"
    script.write_text("#!/bin/sh\nsleep 60\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    (tmp_path / "p.html").write_text("<p>x</p>")
    started = time.perf_counter()
    with pytest.raises(pdfengine.EngineError, match="took longer than 1 s"):
        pdfengine.print_pdf(
            str(script), str(tmp_path / "p.html"), str(tmp_path / "p.pdf"), str(tmp_path / "prof"), timeout=1
        )
    assert time.perf_counter() - started < 10


def test_fix_dates_keeps_every_offset():
    data = b"%PDF-1.4\n1 0 obj\n<</Producer (Skia/PDF m156)\n/CreationDate (D:20261201092812+00'00')\n/ModDate (D:20261201092812+00'00')>>\nendobj\n"
    fixed = pdfengine.fix_dates(data, 0)
    assert len(fixed) == len(data) and b"D:19700101000000+00'00'" in fixed and b"2026" not in fixed
    stripped = pdfengine.fix_dates(data, None)
    assert len(stripped) == len(data) and b"CreationDate" not in stripped and b"ModDate" not in stripped
