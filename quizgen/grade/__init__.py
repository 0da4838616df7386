"""`quizgen grade`: read a stack of scanned answer sheets and mark them, with item analysis.

The parts, in the order a page goes through them:
- `quizgen.sheet` (outside this package, pure): the sheet layout, the same dict that printed the sheet;
- `scan`: image -> measured fills (markers, perspective, darkness), no quiz knowledge;
- `score`: fills + keys -> graded sheets and a review list, with the teacher's decisions applied;
- `items`: item analysis and the warnings for the fact bank;
- `report`: results.csv, review.csv, items.csv and report.html.

The vision libraries are an optional extra (`pip install 'quizgen[grade]'`) so that a learner's
install stays small; this module imports them only when grading starts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..errors import Problem, QuizgenError

INSTALL = "pip install 'quizgen[grade]'"


def require_extra() -> None:
    """Fail with the install command, not a traceback, when the grade extra is missing."""
    missing = []
    for module, package in (("numpy", "numpy"), ("cv2", "opencv-python-headless"), ("pypdfium2", "pypdfium2")):
        try:
            __import__(module)
        except ImportError:
            missing.append(package)
    if missing:
        raise QuizgenError(
            f"quizgen grade needs {', '.join(missing)}, which is not installed; install the grading extra: {INSTALL}"
        )


@dataclass
class Summary:
    pages: int = 0
    graded: int = 0
    scored: int = 0
    review: int = 0  # open review rows
    files: list[str] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    graded_sheets: list = field(default_factory=list)
    issues: list = field(default_factory=list)


def find_quiz(project, name: str):
    """The project's quiz called `name` (its file stem), as a SheetQuiz."""
    from ..sheet import sheet_quizzes

    quizzes = sheet_quizzes(project)
    for quiz in quizzes:
        if quiz.name == name:
            return quiz
    names = ", ".join(q.name for q in quizzes) or "none (add quizzes/*.yaml)"
    raise QuizgenError(f"--quiz {name}: no such quiz in this project (quizzes: {names})")


def grade_project(project_dir: str, name: str, scans: list[str], out: str, fix: str | None = None) -> Summary:
    """The CLI's `grade`: load and validate PROJECT, then grade the scans against quiz NAME."""
    from ..project import load_project

    require_extra()
    project = load_project(project_dir)
    return grade_scans(find_quiz(project, name), scans, out, fix)


def grade_scans(quiz, scans: list[str], out: str, fix: str | None = None) -> Summary:
    """Grade every page of `scans` against `quiz` (a SheetQuiz) and write the four outputs into `out`."""
    require_extra()
    from ..sheet import layout
    from . import items, report, scan, score

    sheet = layout(quiz)
    decisions = score.Decisions(report.read_review(fix) if fix else None)
    files = scan.scan_files(scans)
    missing = [Problem(f, 0, "no such file") for f in files if not os.path.isfile(f)]
    if missing:
        raise QuizgenError(f"{len(missing)} scan{'s' if len(missing) != 1 else ''} not found", missing)
    if not files:
        raise QuizgenError("no scans given (PDF, PNG or JPEG files, or folders of them)")

    def pages():
        for path in files:
            yield from scan.load_pages(path)

    graded, loose = score.grade_all(pages(), sheet, quiz, lambda image: scan.read_page(image, sheet), decisions)
    order = {path: i for i, path in enumerate(files)}
    issues = loose + [i for g in graded for i in g.issues]
    issues.sort(key=lambda i: (order.get(i.file, len(order)), i.page, i.question or 0))
    stats, warnings = items.analyse(graded, quiz)
    forms = [letter for letter, _ in quiz.forms]
    n_questions = max(len(q) for _, q in quiz.forms)
    title = " · ".join(t for _, t in quiz.title) or quiz.name
    outputs = {
        "results.csv": report.to_csv(report.results_rows(graded, n_questions)),
        "review.csv": report.to_csv(report.review_rows(issues)),
        "items.csv": report.to_csv(report.items_rows(stats, forms)),
        "report.html": report.render_report(title, graded, issues, stats, warnings, forms),
    }
    try:
        os.makedirs(out, exist_ok=True)
        for name, text in outputs.items():
            report.write_text(os.path.join(out, name), text, bom=name.endswith(".csv"))
    except OSError as exc:
        raise QuizgenError(f"cannot write to {out}: {exc.strerror or exc}") from None
    return Summary(
        pages=len(graded) + len(loose),
        graded=len(graded),
        scored=sum(1 for g in graded if g.score is not None),
        review=sum(1 for i in issues if i.blocking and not i.decision),
        files=list(outputs),
        warnings=warnings,
        graded_sheets=graded,
        issues=issues,
    )
