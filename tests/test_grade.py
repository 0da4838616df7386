"""Answer sheets and `quizgen grade`, proven on real printed sheets marked and scanned badly.

The sheet is printed by real headless Chromium and rasterised by pdfium (once
per module and resolution), then filled in by `omr.Pen` with pen and pencil
scribbles, ticks, crosses and erased smudges, and distorted like a copier
would.  Every test asserts exact scores, student numbers and forms, computed
here from the answers drawn, never copied from the grader's output.
"""

from __future__ import annotations

import csv
import json
import os
import random
import re
import shutil
from pathlib import Path

import pytest

cv2 = pytest.importorskip("cv2", reason="the grade extra is not installed: pip install 'quizgen[grade]'")
np = pytest.importorskip("numpy")
pytest.importorskip("pypdfium2")

import omr  # noqa: E402
from conftest import run  # noqa: E402

from quizgen import sheet as sheets  # noqa: E402
from quizgen.errors import QuizgenError  # noqa: E402
from quizgen.grade import grade_scans, items, score  # noqa: E402
from quizgen.grade import scan as scanner  # noqa: E402
from quizgen.writers import sheet as sheet_writer  # noqa: E402

INSTALL = "apt-get install chromium fonts-nanum poppler-utils"


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    reason = f"Chromium not installed: {INSTALL}"
    if os.environ.get("QUIZGEN_REQUIRE_CHROMIUM") == "1":
        pytest.fail(reason + " (required because QUIZGEN_REQUIRE_CHROMIUM=1)")
    pytest.skip(reason)


class Printed:
    """One quiz's sheet, printed once; page images per dpi on demand (copies, so tests can draw)."""

    def __init__(self, quiz, folder: Path, exe: str):
        self.quiz = quiz
        self.sheet = sheets.layout(quiz)
        sheet_writer.write_sheet(self.sheet, str(folder), quiz.name)
        html = folder / "quizzes" / quiz.name / f"{quiz.name}-sheet.html"
        self.pdf = omr.print_pdf(exe, str(html), str(folder / f"{quiz.name}-sheet.pdf"), str(folder / "profile"))
        self.exe = exe
        self._images: dict[int, np.ndarray] = {}

    def image(self, dpi: int = 150) -> np.ndarray:
        if dpi not in self._images:
            self._images[dpi] = omr.render(self.pdf, dpi)
        return self._images[dpi].copy()


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    exe = chromium_path()
    folder = tmp_path_factory.mktemp("sheet")
    return Printed(omr.make_quiz(forms=2, choice=8, truefalse=3, open_=1, seed=3), folder, exe)


@pytest.fixture(scope="module")
def other_quiz(tmp_path_factory):
    exe = chromium_path()
    quiz = omr.make_quiz(forms=2, choice=8, truefalse=3, open_=1, seed=3, name="final")
    return Printed(quiz, tmp_path_factory.mktemp("other"), exe)


def student_answers(quiz, form: str, rnd: random.Random, right: float = 0.6):
    """Random answers on `form` (about `right` of them correct, a few blank) and the expected score."""
    answers, scores, total = {}, {}, 0.0
    for item in quiz.form(form):
        if item.kind == "open":
            given = rnd.randint(0, int(item.points))
            scores[item.number] = str(given)
            total += given
            continue
        values = [str(i + 1) for i in range(item.options)] if item.kind == "choice" else ["O", "X"]
        roll = rnd.random()
        value = item.key if roll < right else "" if roll > 0.93 else rnd.choice([v for v in values if v != item.key])
        answers[item.number] = value
        total += item.points if value == item.key else 0
    return answers, scores, total


def save(image, folder: Path, name: str) -> str:
    path = folder / name
    assert cv2.imwrite(str(path), image)
    return str(path)


def read_csv(path: Path) -> list[dict]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), f"{path.name} has no UTF-8 BOM (Excel would garble Korean)"
    return list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))


# ---------------------------------------------------------------------------
# the layout (pure)


def test_marker_patterns_are_opencv_aruco_markers():
    dictionary = cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50)
    for marker_id, rows in enumerate(sheets.MARKER_BITS):
        image = cv2.aruco.generateImageMarker(dictionary, marker_id, 6)
        bits = ["".join("1" if v > 127 else "0" for v in row[1:5]) for row in image[1:5]]
        assert tuple(bits) == rows


def test_layout_has_the_documented_shape():
    quiz = omr.make_quiz(forms=2, choice=6, truefalse=2, open_=1, seed=2, digits=7)
    sheet = sheets.layout(quiz)
    assert sheet["page"] == {"width_mm": 210.0, "height_mm": 297.0}
    assert [m["id"] for m in sheet["markers"]] == [0, 1, 2, 3] and all(m["size_mm"] == 10 for m in sheet["markers"])
    kinds = {b["kind"] for b in sheet["bubbles"]}
    assert kinds == {"answer", "student", "form", "score"}
    student = [b for b in sheet["bubbles"] if b["kind"] == "student"]
    assert sorted({b["digit"] for b in student}) == list(range(1, 8))
    assert all(sorted(b["value"] for b in student if b["digit"] == d) == list("0123456789") for d in range(1, 8))
    assert sorted(b["value"] for b in sheet["bubbles"] if b["kind"] == "form") == ["A", "B"]
    for item in quiz.form("A"):
        row = {b["value"] for b in sheet["bubbles"] if b.get("question") == item.number}
        if item.kind == "choice":  # as many as the form with the most options at this number
            most = max(dict(quiz.forms)[f][item.number - 1].options for f in "AB")
            assert row == {str(i + 1) for i in range(most)}
        elif item.kind == "truefalse":
            assert row == {"O", "X"}
        else:
            assert row == {str(i) for i in range(int(item.points) + 1)}
            assert all(b["kind"] == "score" for b in sheet["bubbles"] if b.get("question") == item.number)
    # every bubble on the page, clear of the markers, and no two bubbles touching
    points = np.array([(b["x_mm"], b["y_mm"]) for b in sheet["bubbles"]])
    assert points[:, 0].min() > 20 and points[:, 0].max() < 190 and points[:, 1].min() > 20 and points[:, 1].max() < 280
    distances = np.linalg.norm(points[:, None] - points[None], axis=2) + np.eye(len(points)) * 99
    assert distances.min() >= 2 * sheets.BUBBLE_R + 0.5
    assert re.fullmatch(r"[0-9a-f]{6}", sheet["code"]) and len(sheet["code_cells"]) == 24


def test_one_form_has_no_form_row_and_letter_paper_fits():
    quiz = omr.make_quiz(forms=1, choice=40, truefalse=10, open_=3, paper="letter")
    sheet = sheets.layout(quiz)
    assert sheet["page"] == {"width_mm": 215.9, "height_mm": 279.4}
    assert not [b for b in sheet["bubbles"] if b["kind"] == "form"]
    assert max(b["y_mm"] for b in sheet["bubbles"]) < 279.4 - 22
    assert {b["question"] for b in sheet["bubbles"] if "question" in b} == set(range(1, 54))


def test_too_many_questions_is_a_located_problem():
    quiz = omr.make_quiz(forms=1, choice=200, truefalse=0, open_=0)
    with pytest.raises(QuizgenError) as err:
        sheets.layout(quiz)
    assert "quizzes/midterm.yaml" in err.value.format_message() and "holds" in err.value.format_message()


def test_code_names_quiz_and_geometry_but_not_keys():
    base = omr.make_quiz(forms=2, choice=5, truefalse=1, open_=0)
    code = sheets.layout(base)["code"]
    assert sheets.layout(omr.make_quiz(forms=2, choice=5, truefalse=1, open_=0))["code"] == code
    assert sheets.layout(omr.make_quiz(forms=2, choice=5, truefalse=1, open_=0, name="final"))["code"] != code
    assert sheets.layout(omr.make_quiz(forms=2, choice=6, truefalse=1, open_=0))["code"] != code
    rekeyed = base.forms[0][1][0].__class__(**{**base.forms[0][1][0].__dict__, "key": "3"})
    changed = sheets.SheetQuiz(
        base.name, base.title, ((base.forms[0][0], (rekeyed, *base.forms[0][1][1:])), base.forms[1]), project_id="t"
    )
    assert sheets.layout(changed)["code"] == code


def test_sheet_html_is_drawn_from_the_json(tmp_path):
    quiz = omr.make_quiz(forms=3, choice=4, truefalse=2, open_=1)
    quiz = sheets.SheetQuiz(quiz.name, (("en", "<script>alert(1)</script> & Co"),), quiz.forms, project_id="t")
    written = sheet_writer.write_sheet(sheets.layout(quiz), str(tmp_path), quiz.name)
    assert written == ["quizzes/midterm/midterm-sheet.json", "quizzes/midterm/midterm-sheet.html"]
    sheet = json.loads((tmp_path / written[0]).read_text(encoding="utf-8"))
    html = (tmp_path / written[1]).read_text(encoding="utf-8")
    circles = [tuple(map(float, m)) for m in re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)" r="([\d.]+)"', html)]
    assert circles == [(b["x_mm"], b["y_mm"], b["r_mm"]) for b in sheet["bubbles"]]
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html
    assert "@page { size: 210mm 297mm; margin: 0; }" in html


# ---------------------------------------------------------------------------
# the printed sheet (Chromium) read back


def test_printed_sheet_matches_its_layout(printed):
    """Markers where the JSON says at 200 dpi, and every printed ring centred on its layout bubble."""
    image = printed.image(200)
    assert abs(image.shape[0] - 297 / 25.4 * 200) < 2 and abs(image.shape[1] - 210 / 25.4 * 200) < 2  # A4
    found = scanner.find_markers(image, printed.sheet)
    assert sorted(found) == [0, 1, 2, 3]
    px = 200 / 25.4
    for marker in printed.sheet["markers"]:
        centre = found[marker["id"]].mean(axis=0) / px
        assert np.allclose(centre, (marker["x_mm"], marker["y_mm"]), atol=0.2), (marker, centre)
    reading = scanner.read_page(image, printed.sheet, keep_image=True)
    assert reading.status == "ok" and reading.code == printed.sheet["code"]
    assert max(reading.fills) < score.EMPTY  # the printed labels inside the bubbles read as empty
    page = reading.upright.astype(float)
    for b in printed.sheet["bubbles"][::7]:  # the ring is dark exactly at r, the centre of the disc is not
        ring = scanner.disc_mean(page, b["x_mm"], b["y_mm"], b["r_mm"] + 0.1, lambda p: p) - scanner.disc_mean(
            page, b["x_mm"], b["y_mm"], b["r_mm"] - 0.25, lambda p: p
        )
        assert ring < 0, b


SCANS = [  # (name, dpi, distortion)
    ("clean-150", 150, lambda im, rnd, dpi: im),
    ("rotated-plus-10", 200, lambda im, rnd, dpi: omr.rotate(im, 10)),
    ("rotated-minus-7-jpeg50", 150, lambda im, rnd, dpi: omr.jpeg(omr.rotate(im, -7), 50)),
    ("upside-down-300", 300, lambda im, rnd, dpi: omr.rotate(im, 180)),
    ("scaled-95-blur-noise", 200, lambda im, rnd, dpi: omr.noise(omr.blur(omr.scale(im, 0.95), 1.2), rnd)),
    ("scaled-110", 200, lambda im, rnd, dpi: omr.scale(im, 1.1)),
    ("perspective", 200, lambda im, rnd, dpi: omr.perspective(im, rnd, 0.015)),
    ("cut-corner-jpeg", 150, lambda im, rnd, dpi: omr.jpeg(omr.cut_corner(omr.rotate(im, 3), dpi, "top-right"), 60)),
]


def test_marked_sheets_grade_exactly_through_every_distortion(printed, tmp_path):
    rnd = random.Random(11)
    expected = {}
    for i, (name, dpi, distort) in enumerate(SCANS):
        form = "AB"[i % 2]
        student = f"{20260 + i:05d}"
        answers, scores, total = student_answers(printed.quiz, form, rnd)
        image = omr.fill_in(printed.image(dpi), printed.sheet, dpi, rnd, student, form, answers, scores, erase=0.3)
        path = save(distort(image, rnd, dpi), tmp_path, f"{name}.{'jpg' if 'jpeg' in name else 'png'}")
        expected[path] = (student, form, total, answers)
    out = tmp_path / "out"
    summary = grade_scans(printed.quiz, sorted(expected), str(out))
    results = read_csv(out / "results.csv")
    review = read_csv(out / "review.csv")
    assert [r for r in review if r["about"] not in ("scale",)] == []
    assert len(results) == len(SCANS) and summary.review == 0
    for row in results:
        student, form, total, answers = expected[row["file"]]
        assert (row["student"], row["form"], float(row["score"])) == (student, form, total), row["file"]
        assert row["status"] == "ok"
        assert float(row["max"]) == sum(item.points for item in printed.quiz.form(form))
        for n, value in answers.items():
            assert row[f"q{n}"] == value, (row["file"], n)
    scale_notes = {r["file"] for r in review if r["about"] == "scale"}
    assert scale_notes == {p for p in expected if "scaled" in p}  # "fit to page" is said, not silent


def test_every_ambiguous_sheet_lands_in_review(printed, other_quiz, tmp_path):
    rnd = random.Random(5)
    quiz, sheet = printed.quiz, printed.sheet
    a_items = quiz.form("A")
    choice = [i for i in a_items if i.kind == "choice"]
    pages = {}

    def sheet_with(name, student="12345", form="A", answers=None, extra=None, base=None):
        base = base if base is not None else printed
        image = omr.fill_in(
            base.image(150), base.sheet, 150, rnd, student, form, answers or {}, {12: "1"} if base is printed else {}
        )
        if extra:
            extra(omr.Pen(image, 150, rnd))
        pages[name] = save(image, tmp_path, f"{name}.png")

    q1, q2 = choice[0], choice[1]
    sheet_with(
        "half-mark",
        "10001",
        answers={q1.number: q1.key},
        extra=lambda pen: pen.half(omr.bubble(sheet, "answer", "3" if q1.key != "3" else "2", question=q1.number)),
    )
    sheet_with(
        "double-mark",
        "10002",
        answers={q2.number: "1"},
        extra=lambda pen: pen.fill(omr.bubble(sheet, "answer", "2", question=q2.number)),
    )
    sheet_with("incomplete-number", "100")
    sheet_with("duplicate-1", "10009")
    sheet_with("duplicate-2", "10009")
    sheet_with("no-form", "10003", form="")
    sheet_with("unscored-open", "10004", extra=None)
    sheet_with("another-quiz", "10005", base=other_quiz)
    pages["not-a-sheet"] = save(
        np.where(np.random.default_rng(1).random((1754, 1240)) < 0.3, 0, 255).astype(np.uint8),
        tmp_path,
        "not-a-sheet.png",
    )
    pages["blank-back"] = save(omr.noise(np.full((1754, 1240), 246, np.uint8), rnd, 3), tmp_path, "blank-back.png")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not really a jpeg")
    pages["broken"] = str(broken)
    # the unscored open question: remove the teacher's score mark by printing afresh
    image = omr.fill_in(printed.image(150), sheet, 150, rnd, "10004", "A", {})
    pages["unscored-open"] = save(image, tmp_path, "unscored-open.png")

    out = tmp_path / "out"
    grade_scans(quiz, sorted(pages.values()), str(out))
    review = read_csv(out / "review.csv")
    results = {Path(r["file"]).stem: r for r in read_csv(out / "results.csv")}
    reasons = {}
    for row in review:
        reasons.setdefault(Path(row["file"]).stem, []).append(row)

    def only(name, about, pattern, question=None):
        rows = [r for r in reasons.get(name, []) if r["about"] == about]
        assert len(rows) == 1 and re.search(pattern, rows[0]["reason"]), (name, reasons.get(name))
        if question is not None:
            assert rows[0]["question"] == str(question)
        return rows[0]

    row = only("half-mark", "question", "uncertain", q1.number)
    assert re.search(r"=0\.[12]\d", row["measured"])
    only("double-mark", "question", r"two marks \(1, 2\)", q2.number)
    only("incomplete-number", "student", "incomplete")
    only("duplicate-1", "duplicate", "used twice")
    only("duplicate-2", "duplicate", "used twice")
    only("no-form", "form", "form not marked")
    only("unscored-open", "question", "not scored", 12)
    only("another-quiz", "code", "wrong quiz code")
    only("not-a-sheet", "page", "markers not found")
    only("broken", "page", "unreadable")
    assert [r["about"] for r in reasons["blank-back"]] == ["blank"]
    # nothing uncertain got a score; sheets only missing an identity keep theirs
    for name in ("half-mark", "double-mark", "no-form", "unscored-open"):
        assert results[name]["score"] == "" and results[name]["status"] == "review"
    assert results["incomplete-number"]["student"] == "" and results["incomplete-number"]["status"] == "review"
    assert results["half-mark"][f"q{q1.number}"] == "?"
    assert {"another-quiz", "not-a-sheet", "blank-back", "broken"}.isdisjoint(results)


def test_fix_regrades_with_the_teachers_decisions(printed, tmp_path):
    rnd = random.Random(8)
    quiz, sheet = printed.quiz, printed.sheet
    answers, scores, total = student_answers(quiz, "B", rnd, right=1.0)
    first = next(i for i in quiz.form("B") if i.kind == "choice" and answers[i.number])
    wrong = "1" if first.key != "1" else "2"
    image = omr.fill_in(printed.image(150), sheet, 150, rnd, "777", "B", answers, scores)
    omr.Pen(image, 150, rnd).fill(omr.bubble(sheet, "answer", wrong, question=first.number))  # a double mark
    path = save(image, tmp_path, "fixme.png")
    out = tmp_path / "out"
    grade_scans(quiz, [path], str(out))
    rows = read_csv(out / "review.csv")
    assert sorted(r["about"] for r in rows) == ["question", "student"]
    for r in rows:  # the teacher decides: the key was the intended answer, and the number is 77712
        r["decision"] = first.key if r["about"] == "question" else "77712"
    fix = tmp_path / "review-decided.csv"
    with open(fix, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    grade_scans(quiz, [path], str(out), fix=str(fix))
    result = read_csv(out / "results.csv")[0]
    assert (result["student"], float(result["score"]), result["status"]) == ("77712", total, "ok")
    assert all(r["decision"] for r in read_csv(out / "review.csv"))
    # a decision that is no answer of the question stays open
    for r in rows:
        r["decision"] = "7" if r["about"] == "question" else r["decision"]
    with open(fix, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    grade_scans(quiz, [path], str(out), fix=str(fix))
    assert read_csv(out / "results.csv")[0]["score"] == ""
    assert any("not a possible answer" in r["reason"] for r in read_csv(out / "review.csv"))


def test_a_copier_pdf_with_a_blank_back_page(printed, tmp_path):
    rnd = random.Random(2)
    images, expected = [], []
    for i, form in enumerate("AB"):
        answers, scores, total = student_answers(printed.quiz, form, rnd)
        images.append(omr.fill_in(printed.image(200), printed.sheet, 200, rnd, f"3000{i}", form, answers, scores))
        images.append(np.full_like(images[-1], 250))  # the back of the sheet
        expected.append((f"3000{i}", form, total))
    pdf = omr.images_to_pdf(printed.exe, images, str(tmp_path / "stack.pdf"), str(tmp_path))
    out = tmp_path / "out"
    grade_scans(printed.quiz, [pdf], str(out))
    results = read_csv(out / "results.csv")
    assert [(r["page"], r["student"], r["form"], float(r["score"])) for r in results] == [
        ("1", *expected[0]),
        ("3", *expected[1]),
    ]
    assert [(r["page"], r["about"]) for r in read_csv(out / "review.csv")] == [("2", "blank"), ("4", "blank")]


# ---------------------------------------------------------------------------
# item analysis and the report (no images needed)


def graded_class(quiz, choose):
    """30 Graded sheets on form A: student s (0 strongest) answers question n with choose(s, item)."""
    out = []
    for s in range(30):
        g = score.Graded(f"s{s}.png", 1, student=f"{s:05d}", form="A")
        total = 0.0
        for item in quiz.form("A"):
            value = choose(s, item)
            g.answers[item.number] = value
            if item.kind == "open":
                total += float(value)
            elif value == item.key:
                total += item.points
        g.score, g.max = total, sum(i.points for i in quiz.form("A"))
        out.append(g)
    return out


def test_item_analysis_warns_at_the_fact_lines():
    quiz = omr.make_quiz(forms=1, choice=3, truefalse=1, open_=1)
    miskeyed, reversed_, easy = [i for i in quiz.form("A") if i.kind == "choice"]

    def choose(s, item):
        strong = s < 15
        if item is miskeyed:  # the strong all pick printed option whose canonical index is 1: the key looks wrong
            return str(item.order.index(1) + 1) if strong else item.key
        if item is reversed_:
            return item.key if not strong else str(item.order.index(2) + 1)
        if item is easy:
            return item.key if s % 3 else str(item.order.index(1) + 1)
        if item.kind == "truefalse":
            return item.key
        return "2"

    # give the strong students a higher score elsewhere so that they are the top group
    graded = graded_class(quiz, choose)
    for s, g in enumerate(graded):
        g.score += 100 - s
    stats, warnings = items.analyse(graded, quiz)
    by_fact = {st.fact: st for st in stats}
    assert by_fact[easy.fact].correct == pytest.approx(20 / 30)
    assert by_fact[reversed_.fact].discrimination < 0
    text = [str(w) for w in warnings]
    assert any(
        t.startswith(f"decks/bank.yaml:{miskeyed.option_lines[0]}: warning:") and "[miskey]" in t for t in text
    ), text
    assert any(
        t.startswith(f"decks/bank.yaml:{reversed_.line}: warning:") and "[negative-discrimination]" in t for t in text
    )
    unused = [w for w in warnings if w.rule == "unused-distractor" and w.line in easy.option_lines]
    assert sorted(w.line for w in unused) == [easy.option_lines[k] for k in range(2, easy.options)]
    assert by_fact[easy.fact].counts[:2] == [20, 10]


def test_report_and_csvs_are_escaped_and_excel_ready(tmp_path):
    quiz = omr.make_quiz(forms=1, choice=2, truefalse=0, open_=0)
    quiz = sheets.SheetQuiz(quiz.name, (("en", "<img src=x onerror=alert(1)>"),), quiz.forms, project_id="t")
    graded = graded_class(quiz, lambda s, item: item.key)
    graded[0].file = "=cmd|' /C calc'!A0.png"
    from quizgen.grade import report

    stats, warnings = items.analyse(graded, quiz)
    html = report.render_report("<b>학기</b>", graded, [], stats, warnings, ["A"])
    assert "<b>학기</b>" not in html and "&lt;b&gt;학기&lt;/b&gt;" in html and "<script" not in html
    assert "<svg" in html and html.count("<rect") >= 2
    text = report.to_csv(report.results_rows(graded, 2))
    assert "\n'=cmd|" in text


# ---------------------------------------------------------------------------
# the command line


def test_grade_without_the_extra_says_how_to_install_it(tmp_path, monkeypatch):
    import builtins

    real = builtins.__import__

    def no_cv2(name, *args, **kwargs):
        if name == "cv2":
            raise ImportError("No module named 'cv2'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_cv2)
    (tmp_path / "decks").mkdir()
    result = run("grade", tmp_path, "--quiz", "midterm", tmp_path / "scan.png", "--out", tmp_path / "out")
    assert result.exit_code == 1 and "pip install 'quizgen[grade]'" in result.output


def test_grade_usage_errors_exit_2(tmp_path):
    assert run("grade", tmp_path / "scan.png", "--out", tmp_path / "o").exit_code == 2  # no --quiz
    assert run("grade", "--quiz", "x", "--out", tmp_path / "o").exit_code == 2  # no scan


def test_build_writes_the_sheet_and_grade_marks_it_from_the_command_line(tmp_path):
    """The example project of `quizgen init`: build its sheet and PDF, fill in two, grade with the CLI."""
    chromium_path()
    root = tmp_path / "course"
    assert run("init", root).exit_code == 0
    dist = tmp_path / "dist"
    assert run("build", root, "--out", dist, "--format", "sheet", "--format", "pdf").exit_code == 0
    folder = dist / "quizzes" / "example"
    pdf = str(folder / "example-sheet.pdf")  # printed by the build itself
    sheet = json.loads((folder / "example-sheet.json").read_text(encoding="utf-8"))
    from quizgen.grade import find_quiz
    from quizgen.project import load_project

    quiz = find_quiz(load_project(str(root)), "example")
    assert sheets.layout(quiz) == sheet  # the grader reads the very layout the build wrote
    assert {b["kind"] for b in sheet["bubbles"]} == {"answer", "student", "form", "score"}
    rnd = random.Random(4)
    scans = tmp_path / "scans"
    scans.mkdir()
    expected = {}
    for i, form in enumerate("AB"):
        answers, scores, total = student_answers(quiz, form, rnd)
        image = omr.fill_in(omr.render(pdf, 150), sheet, 150, rnd, f"5000{i}", form, answers, scores)
        expected[f"5000{i}"] = (form, total)
        save(omr.jpeg(omr.rotate(image, 4 - 8 * i), 70), scans, f"{i}.jpg")
    out = tmp_path / "marks"
    result = run("grade", root, "--quiz", "example", scans, "--out", out)
    assert result.exit_code == 0, result.output
    assert "graded 2 of 2 pages (2 scored), 0 to review" in result.stdout
    rows = read_csv(out / "results.csv")
    assert {r["student"]: (r["form"], float(r["score"])) for r in rows} == expected
    items_rows = read_csv(out / "items.csv")
    assert sorted(r["fact"] for r in items_rows) == sorted(f.id for f in load_project(str(root)).facts)
    assert all(r["where"].startswith("decks/example.yaml:") for r in items_rows)
    assert (out / "report.html").read_text(encoding="utf-8").count("<svg") == 1
    bad = run("grade", root, "--quiz", "exmaple", scans, "--out", out)
    assert bad.exit_code == 1 and "no such quiz" in bad.output and "example" in bad.output


def reading_of(sheet, marks: dict, code=None):
    """A Reading as the scanner would give it: fill 1.0 for the marked bubbles, given fills for others."""
    fills = []
    for b in sheet["bubbles"]:
        where = b.get("digit") if b["kind"] == "student" else b.get("question", 0)
        fills.append(marks.get((b["kind"], where, b["value"]), 0.0))
    return scanner.Reading("ok", [0, 1, 2, 3], fills, code or sheet["code"], 1.0)


def test_a_number_that_is_choice_on_one_form_and_truefalse_on_the_other():
    from quizgen.sheet import Item, SheetQuiz

    a = (Item(1, "choice", 2, 4, "3", "c1"), Item(2, "truefalse", 1, 2, "X", "t1"))
    b = (Item(1, "truefalse", 1, 2, "X", "t1"), Item(2, "choice", 2, 4, "1", "c1", order=(2, 0, 1, 3)))
    quiz = SheetQuiz("mixed", (("en", "Mixed"),), (("A", a), ("B", b)))
    sheet = sheets.layout(quiz)
    for n in (1, 2):  # both rows carry ①-④ and ○ ×
        assert [x["value"] for x in sheet["bubbles"] if x.get("question") == n] == ["1", "2", "3", "4", "O", "X"]
    student = {("student", d, "1"): 1.0 for d in range(1, 6)}
    on_b = {**student, ("form", 0, "B"): 1.0, ("answer", 1, "X"): 1.0, ("answer", 2, "1"): 1.0}
    graded = score.grade_reading(reading_of(sheet, on_b), sheet, quiz, "b.png", 1, score.Decisions())
    assert (graded.form, graded.score, graded.max, graded.issues) == ("B", 3, 3, [])
    # an answer bubble this form does not have at that number is not silently ignored
    stray = {**on_b, ("answer", 1, "2"): 1.0}
    graded = score.grade_reading(reading_of(sheet, stray), sheet, quiz, "b.png", 1, score.Decisions())
    assert graded.score is None and [i.reason for i in graded.issues] == ["two marks (2, X)"]
    stray = {**student, ("form", 0, "A"): 1.0, ("answer", 1, "O"): 1.0, ("answer", 2, "O"): 1.0}
    graded = score.grade_reading(reading_of(sheet, stray), sheet, quiz, "a.png", 1, score.Decisions())
    assert [i.reason for i in graded.issues] == ["mark outside this form's options (O)"]
    assert graded.answers == {1: "?", 2: "O"}


def test_a_decision_for_a_form_that_does_not_exist_stays_in_review():
    quiz = omr.make_quiz(forms=2, choice=3, truefalse=0, open_=0)
    sheet = sheets.layout(quiz)
    marks = {("student", d, "4"): 1.0 for d in range(1, 6)}
    graded = score.grade_reading(reading_of(sheet, marks), sheet, quiz, "x.png", 1, score.Decisions())
    assert [i.reason for i in graded.issues] == ["form not marked"] and graded.score is None
    decided = score.Decisions([score.Issue("x.png", 1, "", about="form", decision="C")])
    graded = score.grade_reading(reading_of(sheet, marks), sheet, quiz, "x.png", 1, decided)
    assert graded.issues[0].reason.startswith("unknown form 'C'") and graded.score is None
    decided = score.Decisions([score.Issue("elsewhere/x.png", 1, "", about="form", decision="b")])
    graded = score.grade_reading(reading_of(sheet, marks), sheet, quiz, "x.png", 1, decided)
    assert graded.form == "B" and graded.score == 0 and not graded.needs_review


def test_wrong_code_is_refused_unless_the_teacher_says_grade():
    quiz = omr.make_quiz(forms=1, choice=3, truefalse=0, open_=0)
    sheet = sheets.layout(quiz)
    marks = {("student", d, "2"): 1.0 for d in range(1, 6)}
    result = score.grade_reading(reading_of(sheet, marks, code="abcdef"), sheet, quiz, "x.png", 1, score.Decisions())
    assert isinstance(result, score.Issue) and result.about == "code" and "read abcdef" in result.measured
    decided = score.Decisions([score.Issue("x.png", 1, "", about="code", decision="grade")])
    result = score.grade_reading(reading_of(sheet, marks, code="abcdef"), sheet, quiz, "x.png", 1, decided)
    assert result.student == "22222" and result.score == 0


def test_a_decompression_bomb_is_refused_unopened(tmp_path):
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk + b"\x00" * 100)
    quiz = omr.make_quiz(forms=1, choice=2, truefalse=0, open_=0)
    out = tmp_path / "out"
    summary = grade_scans(quiz, [str(bomb)], str(out))
    assert summary.graded == 0
    (row,) = read_csv(out / "review.csv")
    assert row["about"] == "page" and "100000x100000 pixels" in row["reason"]


def test_a_letter_sheet_prints_at_its_size_and_grades(tmp_path):
    import pypdfium2 as pdfium

    quiz = omr.make_quiz(forms=2, choice=12, truefalse=4, open_=1, paper="letter", digits=8, seed=9)
    printed = Printed(quiz, tmp_path, chromium_path())
    doc = pdfium.PdfDocument(printed.pdf)
    width, height = doc[0].get_size()
    assert len(doc) == 1 and abs(width - 612) < 1.5 and abs(height - 792) < 1.5  # 8.5 x 11 in, one page
    doc.close()
    rnd = random.Random(6)
    answers, scores, total = student_answers(quiz, "B", rnd)
    image = omr.fill_in(printed.image(200), printed.sheet, 200, rnd, "12345678", "B", answers, scores)
    path = save(omr.jpeg(omr.rotate(image, -9), 55), tmp_path, "letter.jpg")
    grade_scans(quiz, [path], str(tmp_path / "out"))
    (row,) = read_csv(tmp_path / "out" / "results.csv")
    assert (row["student"], row["form"], float(row["score"]), row["status"]) == ("12345678", "B", total, "ok")


def test_a_scan_drawn_from_the_layout_json_alone_is_read(tmp_path):
    """Solid squares where the markers are, rings where the bubbles are, nothing else: the fallback reads it."""
    quiz = omr.make_quiz(forms=2, choice=6, truefalse=2, open_=1, seed=4)
    sheet = json.loads(sheets.to_json(sheets.layout(quiz)))
    dpi = 150
    px = dpi / 25.4
    image = np.full((round(297 * px), round(210 * px)), 255, np.uint8)
    for m in sheet["markers"]:
        half = m["size_mm"] / 2
        cv2.rectangle(image, (round((m["x_mm"] - half) * px), round((m["y_mm"] - half) * px)),
                      (round((m["x_mm"] + half) * px), round((m["y_mm"] + half) * px)), 0, -1)  # fmt: skip
    for b in sheet["bubbles"]:
        cv2.circle(image, (round(b["x_mm"] * px), round(b["y_mm"] * px)), round(b["r_mm"] * px), 120, 1, cv2.LINE_AA)
    rnd = random.Random(1)
    answers, scores, total = student_answers(quiz, "A", rnd)
    omr.fill_in(image, sheet, dpi, rnd, "24680", "A", answers, scores, styles=("pen",))
    path = save(omr.rotate(image, 2), tmp_path, "plain.png")
    grade_scans(quiz, [path], str(tmp_path / "out"))
    (row,) = read_csv(tmp_path / "out" / "results.csv")
    assert (row["student"], row["form"], float(row["score"]), row["status"]) == ("24680", "A", total, "ok")
    assert [r["about"] for r in read_csv(tmp_path / "out" / "review.csv")] == ["code"]  # a note, said not hidden
