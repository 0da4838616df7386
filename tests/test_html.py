"""The HTML writer: printable quizzes proven by printing them in real headless Chromium.

The browser tests print with the same flags a CI machine uses, then read the PDF
back with poppler (pdfinfo, pdftotext, pdffonts).  Without Chromium or poppler
they skip with the reason, unless QUIZGEN_REQUIRE_CHROMIUM=1 (set in CI) makes
the absence a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import struct
import subprocess
import threading
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import REPO, run, write_project

from quizgen import present
from quizgen.project import load_project
from quizgen.writers import html as html_writer

TIMEOUT = 120
INSTALL = "apt-get install chromium fonts-nanum poppler-utils"


# ---------------------------------------------------------------------------
# tools


def require(*names: str) -> str:
    """The first of `names` found on PATH; skip (or fail under QUIZGEN_REQUIRE_CHROMIUM=1) when none is."""
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    reason = f"{names[0]} not installed: {INSTALL}"
    if names[0] == "chromium":
        reason = f"Chromium not installed: {INSTALL}"
    if os.environ.get("QUIZGEN_REQUIRE_CHROMIUM") == "1":
        pytest.fail(reason + " (required because QUIZGEN_REQUIRE_CHROMIUM=1)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> str:
    exe = require("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
    for tool in ("pdfinfo", "pdftotext", "pdffonts"):
        require(tool)
    return exe


CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
)  # fmt: skip


def chromium(exe: str, tmp: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp / f"chromium-profile-{os.getpid()}-{len(list(tmp.glob('chromium-profile-*')))}"
    proc = subprocess.run(
        [exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True, timeout=TIMEOUT
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def print_pdf(exe: str, page: Path, tmp: Path, *extra: str) -> Path:
    pdf = tmp / (page.stem + ".pdf")
    chromium(exe, tmp, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", *extra, page.resolve().as_uri())
    assert pdf.exists() and pdf.stat().st_size > 0, f"Chromium wrote no PDF for {page.name}"
    return pdf


def poppler(*args: str) -> str:
    proc = subprocess.run(list(args), capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def pdf_info(pdf: Path) -> dict[str, str]:
    out = {}
    for line in poppler("pdfinfo", str(pdf)).splitlines():
        key, _, value = line.partition(":")
        out[key.strip()] = value.strip()
    return out


def pdf_pages(pdf: Path) -> list[str]:
    """The text of each page."""
    count = int(pdf_info(pdf)["Pages"])
    return [poppler("pdftotext", "-f", str(n), "-l", str(n), str(pdf), "-") for n in range(1, count + 1)]


def pdf_fonts(pdf: Path) -> list[tuple[str, bool]]:
    """(font name, embedded) for each font in the PDF."""
    rows = poppler("pdffonts", str(pdf)).splitlines()[2:]
    out = []
    for row in rows:
        parts = row.split()
        # name type... encoding emb sub uni object-id gen: 'emb' is the 5th field from the end
        out.append((parts[0], parts[-5] == "yes"))
    return out


CJK_FONT = re.compile(r"CJK|Nanum|Noto\w*KR|SourceHan|AppleSDGothic|Malgun|UnDotum|Baekmuk", re.I)


# ---------------------------------------------------------------------------
# a small course with every fact type, two languages, an image and hostile text


def png(width: int = 96, height: int = 48) -> bytes:
    rows = b"".join(
        b"\0" + bytes(v for x in range(width) for v in (x * 2 % 256, y * 5 % 256, 170)) for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


SOURCES = """\
v3:
  title: DeepSeek-V3 Technical Report
  publisher: DeepSeek-AI
  url: https://arxiv.org/abs/2412.19437
  date: "2024-12-27"
joongdo:
  title: "[사이언스칼럼] 딥시크가 촉발한 글로벌 AI 민주화 불길"
  publisher: 중도일보
  date: "2025-02-07"
  url: https://www.joongdo.co.kr/web/list_news.php?ncid=N09_94
"""

PAYLOAD_KO = "<script>document.title='PWNED'</script>무엇이 실행되나요?"
PAYLOAD_EN = "<img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">What runs?"
PAYLOAD_EN_YAML = PAYLOAD_EN.replace('"', '\\"')

UNIT1 = f"""\
deck: "DeepSeek::Unit 1 \\"quoted\\" </style> \\\\ end"
facts:
  - id: params
    question: {{ko: 딥시크-V3의 전체 파라미터 수는?, en: How many total parameters does DeepSeek-V3 have?}}
    answer: {{ko: 6710억 개, en: 671 billion}}
    explanation: {{ko: 토큰마다 370억 개만 활성화됩니다., en: Only 37 billion are active per token.}}
    source: v3
    quote: "671B total parameters"
    image: img/chart.png
  - id: gpu
    type: choice
    question: {{ko: V3 학습에 쓰인 GPU는?, en: Which GPU trained V3?}}
    answer: H800
    wrong: [H100, A100, H20]
    source: v3
  - id: cluster
    type: cloze
    text:
      ko: "V3는 {{{{c1::H800}}}} GPU {{{{c2::2,048::개수}}}}개로 학습했다."
      en: "V3 was trained on {{{{c2::2,048::how many}}}} {{{{c1::H800}}}} GPUs."
    source: v3
  - id: is-moe
    type: truefalse
    statement: {{ko: V3는 전문가 혼합(MoE) 모델이다., en: V3 is a Mixture-of-Experts model.}}
    answer: true
    source: joongdo
    quote: "딥시크는 전문가 혼합 구조를 썼다"
  - id: is-dense
    type: truefalse
    statement: {{ko: V3는 밀집(dense) 모델이다., en: V3 is a dense model.}}
    answer: false
    explanation: {{ko: 토큰마다 일부 전문가만 쓴다., en: Each token uses only some experts.}}
    source: v3
  - id: hostile
    question:
      ko: "{PAYLOAD_KO}"
      en: "{PAYLOAD_EN_YAML}"
    answer: {{ko: "</style><script>alert(1)</script>", en: "\\"><svg onload=alert(1)>"}}
    explanation: "{{{{7*7}}}} &amp; <iframe src=https://example.org/></iframe>"
    source: v3
    quote: "</blockquote><script>alert(2)</script>"
  - id: context-length
    type: choice
    question: {{ko: V3의 최대 문맥 길이는?, en: What is V3's longest context length?}}
    answer: {{ko: 12만 8천 토큰, en: 128K tokens}}
    wrong:
      - {{ko: 3만 2천 토큰, en: 32K tokens}}
      - {{ko: 100만 토큰, en: 1M tokens}}
    source: v3
"""

# Questions whose prompt text appears only on the quiz pages (never in the answer key).
PROMPTS_EN = [
    "How many total parameters does DeepSeek-V3 have?",
    "Which GPU trained V3?",
    "What is V3's longest context length?",
]
PROMPTS_KO = ["딥시크-V3의 전체 파라미터 수는?", "V3 학습에 쓰인 GPU는?", "V3의 최대 문맥 길이는?"]
N_QUESTIONS = 7
DECK_RUNNING = 'DeepSeek › Unit 1 "quoted" </style> \\ end'  # the deck name in the running page header


@pytest.fixture
def course(tmp_path) -> Path:
    return write_project(
        tmp_path / "course",
        {
            "quizgen.yaml": "title: 딥시크 수업 · DeepSeek class\nlanguages: [ko, en]\n",
            "decks/unit1.yaml": UNIT1,
            "img/chart.png": png(),
        },
        SOURCES,
    )


def build(root: Path, out: Path, *args: str) -> Path:
    result = run("build", root, "--out", out, "--format", "html", *args)
    assert result.exit_code == 0, result.output
    return out


def files(folder: Path) -> dict[str, bytes]:
    """The files a build published (not the build's own cache folder)."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file() and not p.name.startswith(".")}


# ---------------------------------------------------------------------------
# static checks of the HTML


class Page(HTMLParser):
    """Every element with its attributes, the text, and the <style> contents of a page."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.styles: list[str] = []
        self.text: list[str] = []
        self._in_style = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, {k: v or "" for k, v in attrs}))
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        (self.styles if self._in_style else self.text).append(data)

    def tags(self, name: str) -> list[dict[str, str]]:
        return [attrs for tag, attrs in self.elements if tag == name]


def external_references(text: str) -> list[str]:
    """Anything a browser would fetch from outside the page (links a reader may click are not fetches)."""
    page = Page(text)
    found = []
    for tag, attrs in page.elements:
        for name, value in attrs.items():
            if name in ("src", "srcset", "poster", "data", "background", "action", "formaction", "ping"):
                if not value.startswith("data:"):
                    found.append(f"<{tag} {name}={value}>")
            if name == "href" and tag != "a":
                found.append(f"<{tag} href={value}>")
            if name == "style" and "url(" in value:
                found.append(f"<{tag} style={value}>")
    for css in page.styles:
        for m in re.finditer(r"url\(\s*['\"]?([^)'\"]*)", css):
            if not m.group(1).startswith("data:"):
                found.append(f"url({m.group(1)})")
        if "@import" in css:
            found.append("@import")
    return found


def test_build_writes_quizzes_study_sheets_and_an_index(course, tmp_path):
    out = build(course, tmp_path / "out")
    assert sorted(files(out)) == ["index.html", "unit1-key.html", "unit1-quiz.html", "unit1-study.html"]
    index = Page((out / "index.html").read_text(encoding="utf-8"))
    assert {a["href"] for a in index.tags("a")} == {"unit1-quiz.html", "unit1-key.html", "unit1-study.html"}
    quiz = (out / "unit1-quiz.html").read_text(encoding="utf-8")
    page = Page(quiz)
    assert page.tags("html")[0]["lang"] == "ko"
    assert [a.get("lang") for a in page.tags("p") if "t" in a.get("class", "").split()][:2] == ["ko", "en"]
    # numbered questions, numbered options (①②③ for a Korean course), blanks, ○/× boxes, the header boxes
    assert [q["id"] for q in page.tags("div") if "q" in q.get("class", "").split()] == [
        f"q{n}" for n in range(1, N_QUESTIONS + 1)
    ]
    labels = [text for text in page.text if text in present.CIRCLED_DIGITS]
    assert labels == list("①②③④") + list("①②③")
    assert len([s for s in page.tags("span") if s.get("class") == "blank"]) == 4
    assert len([s for s in page.tags("span") if s.get("class") == "ox-box"]) == 4
    for label in ("이름", "Name", "반", "Class", "번호", "No.", "점수", "Score"):
        assert label in page.text
    for label in ("정답", "Answer key", "해설"):  # the key is its own file
        assert label not in page.text
    key = Page((out / "unit1-key.html").read_text(encoding="utf-8"))
    assert "정답" in key.text and "Answer key" in key.text
    # self-contained: inline CSS, the image as a data URI, nothing fetched from anywhere
    assert not page.tags("link") and not page.tags("script")
    assert [img["src"][:22] for img in page.tags("img")] == ["data:image/png;base64,"]
    assert external_references(quiz) == []
    csp = [m["content"] for m in page.tags("meta") if m.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in csp[0]
    assert "NanumGothic" in "".join(page.styles) and "Malgun Gothic" in "".join(page.styles)
    # the study sheet states every fact with its source
    study = (out / "unit1-study.html").read_text(encoding="utf-8")
    assert "DeepSeek-V3 Technical Report" in study and external_references(study) == []


def test_index_links_the_anki_packages_built_alongside(course, tmp_path):
    out = tmp_path / "out"
    result = run("build", course, "--out", out, "--format", "all")
    assert result.exit_code == 0, result.output
    hrefs = {a["href"] for a in Page((out / "index.html").read_text(encoding="utf-8")).tags("a")}
    assert hrefs >= {"unit1-quiz.html", "unit1-key.html", "unit1-study.html", "deepseek.apkg"}
    assert (out / "deepseek.apkg").exists()


def test_fact_text_is_data_never_markup(course, tmp_path):
    out = build(course, tmp_path / "out")
    for name in ("unit1-quiz.html", "unit1-key.html", "unit1-study.html", "index.html"):
        text = (out / name).read_text(encoding="utf-8")
        page = Page(text)
        tags = {tag for tag, _ in page.elements}
        assert not tags & {"script", "svg", "iframe", "b"}, name
        assert not [a for _, attrs in page.elements for a in attrs if a.startswith("on")], name
        assert text.count("<style>") == text.count("</style>"), name
    quiz = Page((out / "unit1-quiz.html").read_text(encoding="utf-8"))
    assert PAYLOAD_KO in "".join(quiz.text) and PAYLOAD_EN in "".join(quiz.text)
    key = Page((out / "unit1-key.html").read_text(encoding="utf-8"))
    assert "{{7*7}}" in "".join(key.text)  # not evaluated as a template either (the explanation: in the key)
    # the deck name reaches the running page header as a CSS string that cannot end the style
    css = "".join(quiz.styles)
    assert "</style" not in css and '"quoted"' not in css and "\\22 quoted\\22 " in css


def test_a_project_template_overrides_the_shipped_one_and_is_still_escaped(course, tmp_path):
    (course / "templates").mkdir()
    (course / "templates" / "quiz.css").write_text(
        "/* course house style */ body { color: black; }\n", encoding="utf-8"
    )
    (course / "templates" / "study.html.j2").write_text(
        "{% for f in facts %}<p>{{ f.prompt[0].text }}</p>{% endfor %}\n", encoding="utf-8"
    )
    out = build(course, tmp_path / "out")
    quiz = (out / "unit1-quiz.html").read_text(encoding="utf-8")
    assert "course house style" in quiz and "NanumGothic" not in quiz
    study = (out / "unit1-study.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;document.title=" in study and "<script>" not in study


def test_lang_chooses_the_languages_shown(course, tmp_path):
    ko = Page((build(course, tmp_path / "ko", "--lang", "ko") / "unit1-quiz.html").read_text(encoding="utf-8"))
    en = Page((build(course, tmp_path / "en", "--lang", "en") / "unit1-quiz.html").read_text(encoding="utf-8"))
    assert ko.tags("html")[0]["lang"] == "ko" and en.tags("html")[0]["lang"] == "en"

    def fact_langs(page: Page) -> set[str]:  # the lang of every fact text (untagged: language-neutral)
        return {a.get("lang", "") for _, a in page.elements if "t" in a.get("class", "").split()}

    assert fact_langs(ko) == {"ko", ""} and fact_langs(en) == {"en", ""}
    ko_text, en_text = " ".join(ko.text), " ".join(en.text)
    assert all(p in ko_text for p in PROMPTS_KO) and not any(p in ko_text for p in PROMPTS_EN)
    assert all(p in en_text for p in PROMPTS_EN) and not any(p in en_text for p in PROMPTS_KO)
    assert "H800" in ko_text and "H800" in en_text  # a language-neutral text shows in every language
    ko_key = " ".join(Page((tmp_path / "ko" / "unit1-key.html").read_text(encoding="utf-8")).text)
    en_key = " ".join(Page((tmp_path / "en" / "unit1-key.html").read_text(encoding="utf-8")).text)
    assert "Answer key" not in ko_key and "정답" in ko_key and "Answer key" in en_key
    result = run("build", course, "--out", tmp_path / "fr", "--format", "html", "--lang", "fr")
    assert result.exit_code != 0 and "not a project language" in result.output


def test_forms_are_shuffled_deterministically_from_the_seed(course, tmp_path):
    a1 = files(build(course, tmp_path / "a1", "--forms", "2", "--seed", "midterm"))
    a2 = files(build(course, tmp_path / "a2", "--forms", "2", "--seed", "midterm"))
    b = files(build(course, tmp_path / "b", "--forms", "2", "--seed", "final"))
    assert sorted(a1) == ["index.html", "unit1-key.html", "unit1-quiz-A.html", "unit1-quiz-B.html", "unit1-study.html"]
    assert a1 == a2  # byte-identical
    assert a1["unit1-quiz-A.html"] != b["unit1-quiz-A.html"] or a1["unit1-quiz-B.html"] != b["unit1-quiz-B.html"]
    assert a1["unit1-quiz-A.html"] != a1["unit1-quiz-B.html"]
    index = Page(a1["index.html"].decode())
    assert {a["href"] for a in index.tags("a")} >= {"unit1-quiz-A.html", "unit1-quiz-B.html", "unit1-key.html"}
    key = a1["unit1-key.html"].decode()
    orders = []
    for form in "AB":
        text = a1[f"unit1-quiz-{form}.html"].decode()
        page = Page(text)
        words = " ".join(page.text)
        assert f"{form}형" in words and f"Form {form}" in words  # in the header
        css = "".join(page.styles)
        assert f"{form}형 · Form {form}" in css  # and in the running header of every printed page
        # the key's section for this form lists every question, and its answer is this form's correct option
        section = key.split(f'id="key-{form}"')[1].split('<section class="sheet key"')[0]
        ids = re.findall(r'<div class="a-id">([^<]+)</div>', section)
        assert sorted(ids) == sorted(["params", "gpu", "cluster", "is-moe", "is-dense", "hostile", "context-length"])
        orders.append(ids)
        options = re.search(r'<div class="q q-choice" id="q(\d+)">.*?</ol>', text, re.S)
        number = int(options.group(1))
        shown = re.findall(
            r'<span class="opt-label">(.)</span><span class="opt-text">(.*?)</span></li>', options.group(0)
        )
        answers = re.findall(
            r'<li class="a a-choice">\s*<div class="a-num">(\d+)\.</div>.*?<span class="opt-label">(.)</span>',
            section,
            re.S,
        )
        label = dict((int(n), l) for n, l in answers)[number]
        correct = dict(shown)[label]
        assert "H800" in correct or "128K" in correct or "12만 8천" in correct
    assert orders[0] != orders[1]


def test_one_form_keeps_the_anki_option_order(course, tmp_path):
    out = build(course, tmp_path / "out")
    text = (out / "unit1-quiz.html").read_text(encoding="utf-8")
    project = load_project(str(course))
    fact = next(f for f in project.facts if f.id == "gpu")
    expected = [t.get("ko") for t, _ in present.option_order(fact)]
    block = re.search(r'<div class="q q-choice" id="q2">.*?</ol>', text, re.S).group(0)
    assert re.findall(r'<span class="t l1">([^<]+)</span>', block) == expected


def test_output_is_reproducible_and_dated_only_by_source_date_epoch(course, tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    first = files(build(course, tmp_path / "one"))
    second = files(build(course, tmp_path / "two"))
    assert first == second
    assert not any(b"Built" in data or "만든 날짜".encode() in data for data in first.values())
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1735689600")  # 2025-01-01T00:00:00Z
    dated = files(build(course, tmp_path / "dated"))
    assert b"2025-01-01" in dated["index.html"] and b"2025-01-01" in dated["unit1-quiz.html"]
    assert dated == files(build(course, tmp_path / "dated-again"))


def test_writer_rejects_a_language_the_project_lacks(course, tmp_path):
    from quizgen.errors import QuizgenError
    from quizgen.writers import Options

    with pytest.raises(QuizgenError, match="not a project language"):
        html_writer.write(load_project(str(course)), str(tmp_path), Options(lang="ja"))


def test_css_strings_cannot_escape():
    assert html_writer.css_string('a"b\\c</style>\n') == '"a\\22 b\\5c c\\3c /style\\3e \\a "'


# ---------------------------------------------------------------------------
# printed in real Chromium


def check_printed_paper(pdf: Path, n_questions: int, korean: list[str], running_left: str, form: str = "") -> list[str]:
    """The assertions every printed student paper must pass; returns the text of each page."""
    pages = pdf_pages(pdf)
    # sane page count: at least one page, at most a page per question
    assert 1 <= len(pages) <= n_questions, f"{pdf.name}: {len(pages)} pages"
    # Korean text comes back out of the PDF, set in an embedded CJK font (compared without whitespace:
    # a column may wrap a line where the text has no space, e.g. before "(")
    whole = re.sub(r"\s+", "", "\n".join(pages))
    for sentence in korean:
        assert re.sub(r"\s+", "", sentence) in whole, f"{pdf.name}: {sentence!r} not extractable"
    fonts = pdf_fonts(pdf)
    assert any(CJK_FONT.search(name) and embedded for name, embedded in fonts), f"{pdf.name}: fonts {fonts}"
    assert all(embedded for _, embedded in fonts), f"{pdf.name}: a font is not embedded: {fonts}"
    # no answer key in a student's paper
    assert "Answerkey" not in whole and "정답" not in whole, f"{pdf.name}: the key is printed on the paper"
    # every question number
    for n in range(1, n_questions + 1):
        assert re.search(rf"(?m)^\s*{n}\.(\s|$)", "\n".join(pages)), f"{pdf.name}: question {n} missing"
    # no question is split across pages: every later page starts with a number (or a section title)
    form_text = f"{form}형 · Form {form}" if form else ""
    running = {running_left, form_text}
    for i, text in enumerate(pages):
        if i == 0:
            continue
        lines = [
            ln.strip()
            for ln in text.splitlines()
            if ln.strip() and ln.strip() not in running and not re.fullmatch(r"\d+\s*/\s*\d+", ln.strip())
        ]
        assert lines and re.match(r"(\d+\.|[ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ]\.)(\s|$)", lines[0]), (
            f"{pdf.name}: page {i + 1} starts mid-question: {lines[:2]}"
        )
    if form:  # the form letter on every printed page
        for i, text in enumerate(pages, 1):
            assert f"Form {form}" in text, f"{pdf.name}: page {i} lacks 'Form {form}'"
    return pages


def test_printed_quiz_in_chromium(browser, course, tmp_path):
    out = build(course, tmp_path / "out", "--forms", "2", "--seed", "print")
    pdf = print_pdf(browser, out / "unit1-quiz-B.html", tmp_path)
    assert "A4" in pdf_info(pdf)["Page size"]  # the deck quizzes follow the quiz default: A4
    pages = check_printed_paper(pdf, N_QUESTIONS, PROMPTS_KO, DECK_RUNNING, form="B")
    assert "B형 / Form B" in pages[0] and "이름 / Name" in pages[0] and "점수 / Score" in pages[0]
    assert any("○" in p and "×" in p for p in pages)
    # the key is its own file: the grid of both forms' answers, then each form explained
    key = pdf_pages(print_pdf(browser, out / "unit1-key.html", tmp_path))
    assert "정답 · Answer key" in key[0] and "Form A" in key[0] and "Form B" in key[0]
    assert all(sentence not in "\n".join(key[:1]) for sentence in PROMPTS_KO)
    # A quiz file that asks for Letter paper gets it.
    (course / "quizzes").mkdir()
    (course / "quizzes" / "letter.yaml").write_text("paper: letter\nsections:\n  - from: {decks: [DeepSeek]}\n")
    out = build(course, tmp_path / "letter")
    pdf = print_pdf(browser, out / "quizzes" / "letter" / "letter-A.html", tmp_path)
    assert "letter" in pdf_info(pdf)["Page size"].lower()
    check_printed_paper(pdf, N_QUESTIONS, PROMPTS_KO, "letter")


def test_script_payloads_run_nothing_in_chromium(browser, course, tmp_path):
    out = build(course, tmp_path / "out")
    # Prove the escaping itself, not just the Content-Security-Policy: print without it.
    text = (out / "unit1-quiz.html").read_text(encoding="utf-8")
    text, removed = re.subn(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", text)
    assert removed == 1
    bare = tmp_path / "bare.html"
    bare.write_text(text, encoding="utf-8")
    for page in (out / "unit1-quiz.html", bare, out / "unit1-key.html", out / "unit1-study.html"):
        dom = chromium(browser, tmp_path, "--virtual-time-budget=2000", "--dump-dom", page.resolve().as_uri()).stdout
        assert "<body" in dom, dom[:500]
        assert "PWNED" not in re.search(r"<title>(.*?)</title>", dom, re.S).group(1)
        assert "data-pwned" not in dom.replace("data-pwned&#39;", "").replace("'data-pwned'", "")
        parsed = Page(dom)
        assert not {tag for tag, _ in parsed.elements} & {"script", "svg", "iframe"}, page.name
        assert not [a for _, attrs in parsed.elements for a in attrs if a.startswith("on")], page.name
        assert "&lt;script&gt;document.title=" in dom


class RecordingProxy:
    """A proxy on localhost that records the host of every request a browser sends it, and answers none."""

    def __init__(self):
        self.hosts: list[str] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                try:
                    line = conn.recv(4096).split(b"\r\n", 1)[0].decode("latin-1")  # CONNECT h:443 / GET http://h/
                    target = line.split(" ")[1] if " " in line else line
                    self.hosts.append(re.sub(r"^\w+://", "", target).split("/")[0].rsplit(":", 1)[0])
                    conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                except OSError:
                    pass

    def close(self):
        self.sock.close()


# Chromium talks to these for itself (sign-in, search preconnect, network time, components) whatever the
# page, and no flag silences all of them; the test also measures them on an empty page.  No quizgen page
# may reference any host at all (checked statically below), so ignoring these hides nothing of ours.
CHROMIUM_OWN_HOSTS = {
    "accounts.google.com",
    "www.google.com",
    "clients2.google.com",
    "redirector.gvt1.com",
    "update.googleapis.com",
    "optimizationguide-pa.googleapis.com",
}


def test_printed_pages_make_no_network_request(browser, course, tmp_path):
    out = build(course, tmp_path / "out")
    (tmp_path / "empty.html").write_text("<!DOCTYPE html><p>x</p>", encoding="utf-8")
    (tmp_path / "control.html").write_text(
        '<!DOCTYPE html><p>x</p><img src="http://quiz-image.invalid/x.png">', encoding="utf-8"
    )
    proxy = RecordingProxy()
    try:
        route = (
            f"--proxy-server=http://127.0.0.1:{proxy.port}",
            "--proxy-bypass-list=<-loopback>",
            "--disable-features=NetworkTimeServiceQuerying",
        )
        print_pdf(browser, tmp_path / "empty.html", tmp_path, *route)
        ambient = CHROMIUM_OWN_HOSTS | set(proxy.hosts)
        print_pdf(browser, tmp_path / "control.html", tmp_path, *route)
        assert "quiz-image.invalid" in proxy.hosts, f"the proxy saw no page request: the check is blind {proxy.hosts}"
        proxy.hosts.clear()
        for name in ("unit1-quiz.html", "unit1-key.html", "unit1-study.html", "index.html"):
            print_pdf(browser, out / name, tmp_path, *route)
        assert set(proxy.hosts) - ambient == set()
    finally:
        proxy.close()
    for page in out.glob("*.html"):
        assert external_references(page.read_text(encoding="utf-8")) == [], page.name


def test_every_shipped_quiz_prints(browser, tmp_path):
    """The decks in this repository, printed one after another (copied first: a build may write a lock)."""
    root = tmp_path / "shipped"
    shutil.copytree(REPO / "decks", root / "decks")
    for extra in ("quizgen.yaml", "quizgen.lock"):
        if (REPO / extra).exists():
            shutil.copy(REPO / extra, root / extra)
    for folder in ("img", "images", "media"):  # images facts may point at (the top-level templates/ is quizgen's own)
        if (REPO / folder).is_dir():
            shutil.copytree(REPO / folder, root / folder)
    out = build(root, tmp_path / "out")
    project = load_project(str(root))
    stems = html_writer.output_stems(project.files)
    assert project.files
    for fact_file in project.files:
        page = out / f"{stems[fact_file.path]}-quiz.html"
        assert external_references(page.read_text(encoding="utf-8")) == [], page.name
        pdf = print_pdf(browser, page, tmp_path)
        korean = [
            f.prompt.get("ko").strip()
            for f in fact_file.facts[:3]
            if f.type in ("basic", "choice") and f.prompt.get("ko")
        ]
        check_printed_paper(pdf, len(fact_file.facts), korean, " › ".join(html_writer.deck_parts(fact_file.deck)))
        assert (out / f"{stems[fact_file.path]}-key.html").exists()
