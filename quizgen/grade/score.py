"""Measured marks + the quiz's keys -> graded sheets and a review list.  No image code here.

Never a silent guess: a fill between the empty and the marked threshold, two
marks on one question, an unreadable or duplicate student number, a missing
form, another quiz's sheet: each becomes a review row (`Issue`), and a sheet
with an open issue that touches its score gets no score until the teacher
decides (`--fix review.csv`).  Decisions are keyed by file, page and what they
are about, so re-grading the same scans with the filled-in review list
applies each one to exactly the sheet it was written for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..sheet import SheetQuiz, format_points

MARKED = 0.30  # fill at or above: a mark (a tick covers ~0.4, a full fill ~1)
EMPTY = 0.10  # fill at or below: nothing (an erased smudge and the printed label stay near 0)
BLANK_WORDS = ("-", "blank", "none", "empty", "없음")
SKIP = "skip"


@dataclass
class Issue:
    """One row of review.csv."""

    file: str
    page: int
    reason: str
    measured: str = ""
    question: int | None = None
    student: str = ""
    about: str = "page"  # page | code | scale | blank | student | form | duplicate | question
    blocking: bool = True  # False: a note (the sheet is graded as it is)
    decision: str = ""

    def key(self) -> tuple:
        return (self.file, self.page, self.about, self.question or 0)


@dataclass
class Graded:
    """One graded page (one row of results.csv)."""

    file: str
    page: int
    student: str = ""
    form: str = ""
    answers: dict[int, str] = field(default_factory=dict)  # number -> value read ("" nothing, "?" undecided)
    score: float | None = None
    max: float = 0.0
    issues: list[Issue] = field(default_factory=list)
    upside_down: bool = False

    @property
    def needs_review(self) -> bool:
        return any(i.blocking and not i.decision for i in self.issues)


def fmt(value: float) -> str:
    return format_points(round(value, 4))


def state(fill: float) -> str:
    return "marked" if fill >= MARKED else "empty" if fill <= EMPTY else "uncertain"


def measured(group: list[tuple[dict, float]]) -> str:
    return " ".join(f"{b['value']}={f:.2f}" for b, f in group)


def read_group(group: list[tuple[dict, float]]) -> tuple[str, list[str]]:
    """('one'|'none'|'several'|'uncertain', marked values) for the bubbles of one question or digit."""
    marked = [b["value"] for b, f in group if state(f) == "marked"]
    if any(state(f) == "uncertain" for _, f in group):
        return "uncertain", marked
    if len(marked) > 1:
        return "several", marked
    return ("one", marked) if marked else ("none", [])


class Decisions:
    """The teacher's decisions from a filled-in review.csv, by (file, page, about, question)."""

    def __init__(self, rows: list[Issue] | None = None):
        self.by_key: dict[tuple, str] = {}
        self.by_name: dict[tuple, str] = {}  # the same by file name, when the scans moved folders
        for row in rows or ():
            if row.decision.strip():
                self.by_key[row.key()] = row.decision.strip()
                self.by_name[(basename(row.file), *row.key()[1:])] = row.decision.strip()
        self.used: set[tuple] = set()

    def get(self, file: str, page: int, about: str, question: int | None = None) -> str:
        key = (file, page, about, question or 0)
        value = self.by_key.get(key)
        if value is None:
            value = self.by_name.get((basename(file), page, about, question or 0), "")
        if value:
            self.used.add(key)
        return value


def basename(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def grade_reading(reading, sheet: dict, quiz: SheetQuiz, file: str, page: int, decisions: Decisions) -> Graded | Issue:
    """One page's Reading -> a Graded sheet, or one Issue when the page cannot be graded at all."""
    if reading.status == "blank":
        return Issue(file, page, "blank page (skipped)", about="blank", blocking=False)
    if reading.status != "ok":
        found = ", ".join(str(i) for i in reading.markers) or "none"
        issue = Issue(
            file,
            page,
            "markers not found: fewer than 3 corner markers readable (is it a quizgen answer sheet, fully scanned?)",
            f"markers found: {found}",
        )
        issue.decision = decisions.get(file, page, "page")
        return issue
    graded = Graded(file, page, upside_down=reading.upside_down)
    if reading.code and set(reading.code) == {"0"}:  # no code cell is dark: not printed, or covered
        graded.issues.append(
            Issue(
                file,
                page,
                f"sheet code not found (covered or not printed); graded as {sheet['quiz']}",
                f"expected {sheet['code']}",
                about="code",
                blocking=False,
            )
        )
    elif reading.code and reading.code != sheet["code"]:
        decision = decisions.get(file, page, "code")
        issue = Issue(
            file,
            page,
            f"wrong quiz code: this sheet is not for {sheet['quiz']} as printed now "
            "(another quiz's sheet, or an older version of this one); write 'grade' to grade it anyway",
            f"read {reading.code}, expected {sheet['code']}",
            about="code",
            decision=decision,
        )
        if decision.lower() != "grade":
            return issue
        graded.issues.append(issue)
    if reading.scale is not None and abs(reading.scale - 1) > 0.03:
        graded.issues.append(
            Issue(
                file,
                page,
                f"printed at {reading.scale:.0%} of its size: was 'fit to page' on? Graded from the markers; "
                "print sheets at 100%",
                f"marker distance {reading.scale:.3f} of printed",
                about="scale",
                blocking=False,
            )
        )

    groups: dict[tuple, list[tuple[dict, float]]] = {}
    for bubble, fill in zip(sheet["bubbles"], reading.fills):
        kind = bubble["kind"]
        where = bubble.get("digit") if kind == "student" else bubble.get("question", 0)
        groups.setdefault((kind, where), []).append((bubble, fill))

    read_student(graded, groups, sheet, decisions)
    read_form(graded, groups, quiz, decisions)
    read_answers(graded, groups, quiz, decisions)
    return graded


def read_student(graded: Graded, groups: dict, sheet: dict, decisions: Decisions) -> None:
    digits, problems, notes = [], [], []
    for d in range(1, sheet["student_digits"] + 1):
        group = groups.get(("student", d), [])
        how, marked = read_group(group)
        if how == "one":
            digits.append(marked[0])
        else:
            digits.append("?")
            problems.append(how)
            notes.append(f"digit {d}: {measured([(b, f) for b, f in group if f > EMPTY]) or 'none'}")
    number = "".join(digits)
    if not problems:
        graded.student = number
        return
    decision = decisions.get(graded.file, graded.page, "student")
    if all(p == "none" for p in problems) and len(problems) == sheet["student_digits"]:
        reason = "no student number marked"
    elif "uncertain" in problems:
        reason = f"student number uncertain: {number}"
    elif "several" in problems:
        reason = f"student number has two marks in a column: {number}"
    else:
        reason = f"student number incomplete: {number}"
    issue = Issue(graded.file, graded.page, reason, "; ".join(notes), about="student", decision=decision)
    if decision:
        graded.student = decision
    graded.issues.append(issue)


def read_form(graded: Graded, groups: dict, quiz: SheetQuiz, decisions: Decisions) -> None:
    letters = [letter for letter, _ in quiz.forms]
    if len(letters) == 1:
        graded.form = letters[0]
        return
    group = groups.get(("form", 0), [])
    how, marked = read_group(group)
    if how == "one":
        graded.form = marked[0]
        return
    reason = {
        "none": "form not marked",
        "several": f"form: two forms marked ({', '.join(marked)})",
        "uncertain": "form mark uncertain",
    }[how]
    issue = Issue(graded.file, graded.page, reason, measured(group), about="form")
    issue.decision = decisions.get(graded.file, graded.page, "form")
    if issue.decision:
        letter = issue.decision.strip().upper()
        if letter in letters:
            graded.form = letter
        else:
            issue.reason = f"unknown form {issue.decision!r}: this quiz has forms {', '.join(letters)}"
            issue.decision = ""
    graded.issues.append(issue)


def read_answers(graded: Graded, groups: dict, quiz: SheetQuiz, decisions: Decisions) -> None:
    items = dict(quiz.forms).get(graded.form)
    if items is not None:
        numbers = [item.number for item in items]
    else:
        numbers = sorted({n for (kind, n) in groups if kind in ("answer", "score")})
    total, max_points, complete = 0.0, 0.0, items is not None
    for n in numbers:
        item = items[n - 1] if items is not None else None
        if item is None:  # form unknown: read the row as it is, score nothing
            allowed, group = None, groups.get(("answer", n)) or groups.get(("score", n), [])
        elif item.kind == "open":
            allowed, group = None, groups.get(("score", n), [])
        else:
            allowed, group = allowed_values(item), groups.get(("answer", n), [])
        value, issue = read_question(graded, n, group, allowed, item, decisions)
        graded.answers[n] = value
        if issue is not None:
            graded.issues.append(issue)
        if item is None:
            continue
        max_points += item.points
        if value == "?":
            complete = False
        elif item.kind == "open":
            total += min(float(value), item.points) if value else 0.0
        elif value == item.key:
            total += item.points
    graded.max = max_points
    blocking = any(i.blocking and not i.decision for i in graded.issues if i.about not in ("student", "duplicate"))
    graded.score = total if complete and not blocking else None


def allowed_values(item) -> set[str] | None:
    if item is None:
        return None
    if item.kind == "choice":
        return {str(i + 1) for i in range(item.options)}
    return {"O", "X"}


def read_question(graded: Graded, n: int, group, allowed, item, decisions: Decisions) -> tuple[str, Issue | None]:
    """The value of question n ("" when nothing is marked, "?" when undecided) and its review row, if any."""
    decision = decisions.get(graded.file, graded.page, "question", n)
    how, marked = read_group(group)
    open_question = item is not None and item.kind == "open"
    outside = [v for v in marked if allowed is not None and v not in allowed]
    if how == "one" and not outside:
        return marked[0], None
    if how == "none" and not open_question:
        return "", None
    if how == "none":
        reason = "open question not scored: mark the score bubble"
    elif how == "uncertain":
        reason = "uncertain mark"
    elif how == "several":
        reason = f"two marks ({', '.join(marked)})" if len(marked) == 2 else f"several marks ({', '.join(marked)})"
    else:
        reason = f"mark outside this form's options ({', '.join(outside)})"
    issue = Issue(
        graded.file, graded.page, reason, measured(group), question=n, about="question", student=graded.student
    )
    if decision:
        value = "" if decision.lower() in BLANK_WORDS else decision.strip().upper()
        valid = value == "" or (allowed is not None and value in allowed) or (open_question and is_score(value, item))
        if allowed is None and not open_question:
            valid = True  # form unknown: any bubble of the row
        if valid:
            issue.decision = decision
            return value, issue
        issue.reason = f"{reason}; decision {decision!r} is not a possible answer"
    return "?", issue


def is_score(value: str, item) -> bool:
    try:
        number = float(value)
    except ValueError:
        return False
    return math.isfinite(number) and 0 <= number <= item.points


def check_duplicates(graded: list[Graded], decisions: Decisions) -> None:
    """A student number on two sheets: both go to review (one of them is someone else's)."""
    seen: dict[str, list[Graded]] = {}
    for g in graded:
        if g.student and "?" not in g.student:
            seen.setdefault(g.student, []).append(g)
    for number, sheets in seen.items():
        if len(sheets) < 2:
            continue
        for g in sheets:
            others = ", ".join(f"{o.file} p.{o.page}" for o in sheets if o is not g)
            decision = decisions.get(g.file, g.page, "duplicate")
            issue = Issue(
                g.file,
                g.page,
                f"student number used twice (also {others}); write the right number, or 'ok'",
                number,
                student=number,
                about="duplicate",
                decision=decision,
            )
            if decision and decision.lower() != "ok":
                g.student = decision
            g.issues.append(issue)


def grade_all(pages, sheet: dict, quiz: SheetQuiz, read, decisions: Decisions | None = None):
    """(graded sheets, page-level issues) for every page; `read(image) -> Reading`."""
    decisions = decisions or Decisions()
    graded: list[Graded] = []
    loose: list[Issue] = []
    for page in pages:
        if page.image is None:
            issue = Issue(page.file, page.page, f"unreadable file: {page.error}")
            issue.decision = decisions.get(page.file, page.page, "page")
            loose.append(issue)
            continue
        result = grade_reading(read(page.image), sheet, quiz, page.file, page.page, decisions)
        if isinstance(result, Issue):
            if result.decision.lower() == SKIP and result.blocking:
                result.reason += " (skipped by decision)"
            loose.append(result)
        else:
            graded.append(result)
    check_duplicates(graded, decisions)
    for g in graded:
        for issue in g.issues:
            issue.student = issue.student or g.student
    return graded, loose
