"""The answer sheet as data: where every marker, bubble and word sits, in mm from the top-left.

One sheet serves every form of a quiz.  `layout(quiz)` turns an assembled quiz
(a `SheetQuiz`: per form, the numbered questions with their kind, option count,
points and key) into a plain dict that is written as `<stem>-sheet.json`, drawn
as `<stem>-sheet.html` (and so the PDF), and read back by the grader.  Because
the picture and the scanner both come from this one dict, they cannot
disagree; as auto-multiple-choice does with its layout data.

Pure: no I/O, no image library.  The grader's own dependencies (OpenCV) stay
in the optional `grade` extra; the marker bit patterns below are ArUco's
DICT_4X4_50 ids 0-3 (a test proves they match OpenCV's dictionary), so a
scanner finds each corner and knows which one it is, even upside down or with
one corner cut off.

The sheet code (24 bits in a row of small squares at the bottom, also printed
as text) is a digest of the quiz's identity and the sheet's geometry: a scan
of another quiz's sheet, or of an older version of this one, reads a
different code and is refused rather than graded.  Keys are not part of it,
so correcting a miskeyed answer does not invalidate printed sheets.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass

from .errors import Problem, QuizgenError
from .present import display_width

VERSION = 1
PAPERS = {"a4": (210.0, 297.0), "letter": (215.9, 279.4)}
KINDS = ("choice", "truefalse", "open")
FORM_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
MAX_CHOICE_OPTIONS = 5  # ①-⑤ as the issue and Korean exams have them
MAX_OPEN_POINTS = 30  # more score bubbles than this is no longer a row a teacher can mark
TRUTH = (("O", "○"), ("X", "×"))

# Geometry (mm).  Markers: 10 mm ArUco squares, far enough in from the edges that a copier's 110% zoom
# (about the page centre) still keeps them on the paper.
MARKER_SIZE = 10.0
MARKER_X = 16.0  # centre, from the left and right edges
MARKER_Y = 20.0  # centre, from the top and bottom edges
MARKER_BITS = (  # DICT_4X4_50 ids 0..3, rows top to bottom, 1 = white cell
    ("1011", "0101", "0011", "0010"),
    ("0000", "1111", "1001", "1010"),
    ("0011", "0011", "0010", "1101"),
    ("1001", "1001", "0100", "0110"),
)
CORNERS = ("top-left", "top-right", "bottom-right", "bottom-left")  # marker id = index
CODE_BITS = 24
CODE_CELL = 2.6
CODE_PITCH = 3.4
BUBBLE_R = 2.2
BUBBLE_PITCH = 5.6
ROW_PITCH = 6.4
DIGIT_PITCH = 6.0
DIGIT_ROW = 5.4
AREA_LEFT = 14.0  # answer area, inside the markers
AREA_TOP = 104.0
NUMBER_WIDTH = 9.0
COLUMN_GAP = 4.0

LABELS = {
    "ko": {
        "sheet": "답안지",
        "name": "이름",
        "student": "학번",
        "form": "형",
        "score": "채점",
        "fill": "컴퓨터용 사인펜이나 진한 연필로 ●처럼 칸을 채우세요. 고칠 때는 깨끗이 지우세요.",
        "teacher": "채점란은 선생님이 표시합니다.",
        "print": "100% 크기로 인쇄 (페이지에 맞춤 끄기)",
    },
    "en": {
        "sheet": "Answer sheet",
        "name": "Name",
        "student": "Student no.",
        "form": "Form",
        "score": "Score",
        "fill": "Fill each bubble completely ● with a dark pen or pencil; erase cleanly to change.",
        "teacher": "Score boxes are for the teacher.",
        "print": "Print at 100% (fit to page off)",
    },
}


@dataclass(frozen=True)
class Item:
    """One question as printed on one form: what the sheet and the grader need to know of it."""

    number: int  # on this form, from 1
    kind: str  # choice | truefalse | open (basic and cloze: the teacher marks a score)
    points: float = 1
    options: int = 0  # choice: options printed on this form
    key: str = ""  # choice "1".."5", truefalse "O" or "X", open ""
    fact: str = ""  # fact id
    path: str = ""  # fact file, for warnings at path:line
    line: int = 0
    order: tuple[int, ...] = ()  # choice: for each printed option, its index in the fact's own option order
    option_texts: tuple[str, ...] = ()  # choice: the fact's options in its own order (for item analysis)
    option_lines: tuple[int, ...] = ()  # the line of each of those options in the fact file (0: unknown)


@dataclass(frozen=True)
class SheetQuiz:
    """An assembled quiz, reduced to what an answer sheet needs; built from the quiz model by `from_quiz`."""

    name: str  # the quiz file's stem
    title: tuple[tuple[str, str], ...]  # (lang, text), in print order
    forms: tuple[tuple[str, tuple[Item, ...]], ...]  # (letter, items in number order)
    paper: str = "a4"
    student_digits: int = 5
    project_id: str = ""
    path: str = ""  # the quiz file, for problems
    langs: tuple[str, ...] = ("ko", "en")

    def form(self, letter: str) -> tuple[Item, ...]:
        return dict(self.forms)[letter]


def _mm(value: float) -> float:
    return round(value + 0.0, 2)


def answer_values(kinds: dict[str, int]) -> list[tuple[str, str]]:
    """(value, printed label) of the answer bubbles for one sheet row."""
    values: list[tuple[str, str]] = []
    if "choice" in kinds:
        values += [(str(i + 1), str(i + 1)) for i in range(kinds["choice"])]  # the ring makes it ①
    if "truefalse" in kinds:
        values += list(TRUTH)
    return values


def score_values(points: float) -> list[str]:
    """Score bubbles 0, 1, ... points (a fractional maximum gets its own last bubble)."""
    whole = int(math.floor(points + 1e-9))
    values = [str(i) for i in range(whole + 1)]
    if points - whole > 1e-9:
        values.append(format_points(points))
    return values


def format_points(points: float) -> str:
    return str(int(points)) if float(points).is_integer() else f"{points:g}"


def rows_of(quiz: SheetQuiz) -> list[dict]:
    """One row per question number, merging every form: the union of kinds, the most options, the most points."""
    numbers: dict[int, dict] = {}
    for _, items in quiz.forms:
        for item in items:
            row = numbers.setdefault(item.number, {"kinds": {}, "open": 0.0})
            if item.kind == "open":
                row["open"] = max(row["open"], float(item.points))
            else:
                row["kinds"][item.kind] = max(row["kinds"].get(item.kind, 0), item.options)
    return [dict(numbers[n], number=n) for n in sorted(numbers)]


def check(quiz: SheetQuiz) -> list[Problem]:
    problems = []
    if quiz.paper not in PAPERS:
        problems.append(Problem(quiz.path, 0, f"paper {quiz.paper!r} has no answer sheet (a4 or letter)"))
    if not 1 <= quiz.student_digits <= 12:
        problems.append(Problem(quiz.path, 0, "student_digits must be between 1 and 12"))
    if not quiz.forms or len(quiz.forms) > len(FORM_LETTERS):
        problems.append(Problem(quiz.path, 0, "an answer sheet needs 1 to 26 forms"))
    for letter, items in quiz.forms:
        numbers = [item.number for item in items]
        if numbers != list(range(1, len(items) + 1)):
            problems.append(Problem(quiz.path, 0, f"form {letter}: questions must be numbered 1..{len(items)}"))
        for item in items:
            if item.kind not in KINDS:
                problems.append(Problem(item.path or quiz.path, item.line, f"unknown sheet kind {item.kind!r}"))
            elif item.kind == "choice" and not 2 <= item.options <= MAX_CHOICE_OPTIONS:
                problems.append(
                    Problem(
                        item.path or quiz.path,
                        item.line,
                        f"an answer sheet prints 2 to {MAX_CHOICE_OPTIONS} options, not {item.options}",
                    )
                )
            elif item.kind == "open" and not 0 < item.points <= MAX_OPEN_POINTS:
                problems.append(
                    Problem(
                        item.path or quiz.path,
                        item.line,
                        f"an open question on an answer sheet is worth at most {MAX_OPEN_POINTS} points",
                    )
                )
    return problems


def layout(quiz: SheetQuiz) -> dict:
    """The sheet of `quiz` as the JSON-ready dict described in the module docstring."""
    problems = check(quiz)
    if problems:
        raise QuizgenError(f"{quiz.path or quiz.name}: cannot lay out an answer sheet", problems)
    width, height = PAPERS[quiz.paper]
    labels = [LABELS.get(lang, LABELS["en"]) for lang in quiz.langs] or [LABELS["en"]]
    letters = [letter for letter, _ in quiz.forms]
    texts: list[dict] = []
    rects: list[dict] = []
    lines: list[dict] = []
    bubbles: list[dict] = []

    def text(x, y, s, size=3.2, weight="normal", anchor="start", colour="#000", room=None):
        entry = {"x_mm": _mm(x), "y_mm": _mm(y), "size_mm": size, "text": s, "weight": weight, "anchor": anchor}
        if colour != "#000":
            entry["colour"] = colour
        if room is not None and display_width(s) * size * 0.55 > room:
            entry["fit_mm"] = _mm(room)  # squeezed to this width rather than run into the number grid
        texts.append(entry)

    def bubble(x, y, kind, value, label, **where):
        bubbles.append(
            {"x_mm": _mm(x), "y_mm": _mm(y), "r_mm": BUBBLE_R, "kind": kind, **where, "value": value, "label": label}
        )

    def both(key: str) -> str:
        return " · ".join(dict.fromkeys(lab[key] for lab in labels))

    # header, left: title, sheet, name line, form row
    title = " · ".join(t for _, t in quiz.title) or quiz.name
    digits = quiz.student_digits
    grid_right = width - AREA_LEFT - 4
    grid_left = grid_right - digits * DIGIT_PITCH
    room = grid_left - 6 - (AREA_LEFT + 10)
    parts = [t for _, t in quiz.title]
    if len(parts) > 1 and display_width(title) * 5.6 * 0.55 > room:  # one language a line, not one squeezed line
        text(AREA_LEFT + 10, 29, parts[0], size=5.2, weight="bold", room=room)
        text(AREA_LEFT + 10, 35.5, " · ".join(parts[1:]), size=4.2, weight="bold", room=room)
        text(AREA_LEFT + 10, 42, both("sheet"), size=3.4)
    else:
        text(AREA_LEFT + 10, 31, title, size=5.6, weight="bold", room=room)
        text(AREA_LEFT + 10, 38, both("sheet"), size=3.6)
    text(AREA_LEFT + 6, 50, both("name"), size=3.4)
    lines.append({"x1_mm": AREA_LEFT + 6, "y1_mm": 53.0, "x2_mm": 112.0, "y2_mm": 53.0})
    y = 62.0
    if len(letters) > 1:
        text(AREA_LEFT + 6, y + 1.2, both("form"), size=3.4)
        per_row = 13
        for i, letter in enumerate(letters):
            bx = AREA_LEFT + 32 + (i % per_row) * BUBBLE_PITCH
            by = y + (i // per_row) * ROW_PITCH
            bubble(bx, by, "form", letter, letter)
        y += ROW_PITCH * ((len(letters) - 1) // per_row + 1) + 2
    for i, lab in enumerate(dict.fromkeys(lab["fill"] for lab in labels)):
        text(AREA_LEFT + 6, y + 4 + i * 4.2, lab, size=2.7)
    teacher = both("teacher")
    text(AREA_LEFT + 6, y + 4 + 4.2 * len({lab["fill"] for lab in labels}), teacher, size=2.7, colour="#444")

    # header, right: the student-number grid (a box per digit to write in, then 0-9 bubbles)
    text(grid_left, 29.5, both("student"), size=3.0)
    for d in range(digits):
        cx = grid_left + (d + 0.5) * DIGIT_PITCH
        rects.append({"left_mm": _mm(cx - 2.6), "top_mm": 32.0, "width_mm": 5.2, "height_mm": 6.5})
        for v in range(10):
            bubble(cx, 43.5 + v * DIGIT_ROW, "student", str(v), str(v), digit=d + 1)
    rects.append(
        {
            "left_mm": _mm(grid_left - 1.5),
            "top_mm": 39.8,
            "width_mm": _mm(digits * DIGIT_PITCH + 3),
            "height_mm": _mm(10 * DIGIT_ROW + 1.6),
            "thin": True,
        }
    )
    header_bottom = max(y + 14, 43.5 + 9 * DIGIT_ROW + 6)
    top = max(AREA_TOP, header_bottom + 4)

    # answer rows: columns of rows, top to bottom then left to right
    rows = rows_of(quiz)
    score_label = both("score")
    per_line = max(6, max((len(answer_values(r["kinds"])) for r in rows), default=0))
    col_width = NUMBER_WIDTH + per_line * BUBBLE_PITCH + COLUMN_GAP
    columns = max(1, int((width - 2 * AREA_LEFT + COLUMN_GAP) // col_width))
    bottom = height - MARKER_Y - MARKER_SIZE / 2 - 5
    per_column = int((bottom - top) // ROW_PITCH)
    slots = []  # (row, values, lines)
    for row in rows:
        values = answer_values(row["kinds"])
        n_lines = 1
        if row["open"]:
            n_lines = max(1, math.ceil(len(score_values(row["open"])) / per_line)) + (1 if values else 0)
        slots.append((row, n_lines))
    total = sum(n for _, n in slots)
    # balanced columns in blocks of five rows (easier to follow than one full column and a stub)
    target = min(per_column, max(5, math.ceil(math.ceil(total / columns) / 5) * 5))
    places = place(slots, target, columns) or place(slots, per_column, columns)
    if places is None:
        raise QuizgenError(
            f"{quiz.path or quiz.name}: cannot lay out an answer sheet",
            [
                Problem(
                    quiz.path,
                    0,
                    f"the answer sheet holds {columns * per_column} rows on {quiz.paper}, but this quiz needs {total}",
                )
            ],
        )
    for (row, n_lines), (col, line_no) in zip(slots, places):
        x0 = AREA_LEFT + col * col_width
        y0 = top + line_no * ROW_PITCH + ROW_PITCH / 2
        n = row["number"]
        if n % 5 == 0:
            lines.append(
                {
                    "x1_mm": _mm(x0),
                    "y1_mm": _mm(y0 + ROW_PITCH / 2),
                    "x2_mm": _mm(x0 + col_width - COLUMN_GAP),
                    "y2_mm": _mm(y0 + ROW_PITCH / 2),
                    "thin": True,
                }
            )
        text(x0 + NUMBER_WIDTH - 2.2, y0 + 1.1, str(n), size=3.2, weight="bold", anchor="end")
        values = answer_values(row["kinds"])
        for i, (value, label) in enumerate(values):
            bubble(x0 + NUMBER_WIDTH + (i + 0.5) * BUBBLE_PITCH, y0, "answer", value, label, question=n)
        if row["open"]:
            first = 1 if values else 0
            scores = score_values(row["open"])
            rects.append(
                {
                    "left_mm": _mm(x0 + NUMBER_WIDTH - 0.6),
                    "top_mm": _mm(y0 - ROW_PITCH / 2 + first * ROW_PITCH + 0.4),
                    "width_mm": _mm(min(len(scores), per_line) * BUBBLE_PITCH + 1.2),
                    "height_mm": _mm((n_lines - first) * ROW_PITCH - 0.8),
                    "shade": True,
                }
            )
            for i, value in enumerate(scores):
                bx = x0 + NUMBER_WIDTH + (i % per_line + 0.5) * BUBBLE_PITCH
                by = y0 + (first + i // per_line) * ROW_PITCH
                bubble(bx, by, "score", value, value, question=n)
            if not values:
                text(x0 + NUMBER_WIDTH - 2.2, y0 + 3.6, score_label.split(" · ")[0], size=1.8, anchor="end")

    # markers and the sheet code
    markers = []
    for marker_id, corner in enumerate(CORNERS):
        x = MARKER_X if "left" in corner else width - MARKER_X
        y = MARKER_Y if "top" in corner else height - MARKER_Y
        markers.append({"x_mm": _mm(x), "y_mm": _mm(y), "size_mm": MARKER_SIZE, "id": marker_id, "corner": corner})
    sheet = {
        "version": VERSION,
        "quiz": quiz.name,
        "paper": quiz.paper,
        "page": {"width_mm": width, "height_mm": height},
        "forms": letters,
        "student_digits": digits,
        "questions": len(rows),
        "markers": markers,
        "marker_dictionary": "aruco-4x4-50",
        "bubbles": bubbles,
        "texts": texts,
        "rects": rects,
        "lines": lines,
    }
    code = sheet_code(sheet, quiz.project_id)
    code_y = height - MARKER_Y
    code_left = MARKER_X + MARKER_SIZE / 2 + 8
    cells = []
    for i in range(CODE_BITS):
        bit = (int(code, 16) >> (CODE_BITS - 1 - i)) & 1
        cells.append(
            {"x_mm": _mm(code_left + i * CODE_PITCH + CODE_CELL / 2), "y_mm": code_y, "size_mm": CODE_CELL, "bit": bit}
        )
    sheet["code"] = code
    sheet["code_cells"] = cells
    footer_x = code_left + CODE_BITS * CODE_PITCH + 3
    text(footer_x, code_y - 0.6, f"{quiz.name} · {code}", size=2.6, colour="#444")
    text(footer_x, code_y + 2.8, both("print"), size=2.2, colour="#444")
    return sheet


def place(slots: list, per_column: int, columns: int) -> list[tuple[int, int]] | None:
    """(column, line) of each row, filling columns of `per_column` lines in order; None when they don't fit."""
    out, col, line_no = [], 0, 0
    for _, n_lines in slots:
        if line_no + n_lines > per_column:
            col, line_no = col + 1, 0
        if col >= columns or n_lines > per_column:
            return None
        out.append((col, line_no))
        line_no += n_lines
    return out


def sheet_code(sheet: dict, project_id: str = "") -> str:
    """24-bit hex digest of the quiz identity and the geometry (markers, bubbles), never of the keys."""
    geometry = {k: sheet[k] for k in ("version", "quiz", "paper", "page", "forms", "student_digits", "markers")}
    geometry["bubbles"] = sheet["bubbles"]
    payload = json.dumps([project_id, geometry], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[: CODE_BITS // 4]


def to_json(sheet: dict) -> str:
    """The layout file's text: stable key order and formatting, so equal sheets are equal bytes."""
    return json.dumps(sheet, ensure_ascii=False, indent=1) + "\n"


def marker_cells(marker_id: int) -> list[tuple[int, int]]:
    """(row, col) of the black cells of a marker on its 6x6 grid (border included)."""
    bits = MARKER_BITS[marker_id]
    return [(r, c) for r in range(6) for c in range(6) if not (0 < r < 5 and 0 < c < 5 and bits[r - 1][c - 1] == "1")]


def sheet_quizzes(project, options=None) -> list[SheetQuiz]:
    """Every quiz of `project` (quizzes/*.yaml) as a SheetQuiz, in file order."""
    return [from_quiz(quiz, project) for quiz in getattr(project, "quizzes", ())]


def shown_languages(quiz, project) -> tuple[str, ...]:
    return tuple(project.languages) if quiz.lang == "both" else (quiz.lang,)


def text_in(text, langs: tuple[str, ...]) -> str:
    """One text for item analysis and warnings: the first shown language that has it."""
    for lang in langs:
        value = text.get(lang)
        if value is not None:
            return value
    return text.values()[0] if text.values() else ""


def from_quiz(quiz, project) -> SheetQuiz:
    """The assembled quiz (quizgen.quiz.assemble: the same forms the papers print) as a SheetQuiz."""
    from .present import option_order
    from .quiz import assemble

    langs = shown_languages(quiz, project)
    forms = []
    for form in assemble(project, quiz):
        items = []
        for q in form.questions:
            fact = q.fact
            common = {"number": q.number, "points": q.points, "fact": fact.id, "path": fact.path, "line": fact.line}
            if fact.type == "choice":
                canonical = [text for text, _ in option_order(fact)]
                order, used = [], set()
                for text, _ in q.options:  # each printed option's place in the fact's own order
                    index = next(i for i, t in enumerate(canonical) if t == text and i not in used)
                    used.add(index)
                    order.append(index)
                key_line = fact.line_of("options" if fact.options else "answer")
                wrong_line = fact.line_of("options" if fact.options else "wrong")
                lines = tuple(key_line if t == fact.answer else wrong_line for t in canonical)
                items.append(
                    Item(
                        kind="choice",
                        options=len(q.options),
                        key=str(q.answer_index + 1),
                        order=tuple(order),
                        option_texts=tuple(text_in(t, langs) for t in canonical),
                        option_lines=lines,
                        **common,
                    )
                )
            elif fact.type == "truefalse":
                items.append(Item(kind="truefalse", options=2, key="O" if fact.truth else "X", **common))
            else:  # basic and cloze: the teacher marks a score
                items.append(Item(kind="open", **common))
        forms.append((form.letter, tuple(items)))
    title = tuple((lang, value) for lang, value in quiz.title.in_order(project.languages) if not lang or lang in langs)
    return SheetQuiz(
        name=quiz.stem,
        title=title or quiz.title.in_order(project.languages)[:1],
        forms=tuple(forms),
        paper=quiz.paper,
        student_digits=quiz.student_digits,
        project_id=getattr(project, "id", ""),
        path=quiz.path,
        langs=langs,
    )
