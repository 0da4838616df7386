"""Printable HTML: quiz papers and their answer keys, deck quizzes, study sheets, an index.

For each quiz file (`quizzes/<stem>.yaml`) this writes, under `quizzes/<stem>/`, one
student paper per form (`<stem>-A.html`, `<stem>-B.html`, …) and the answer key
(`<stem>-key.html`).  For each fact file it writes the deck quiz (`<stem>-quiz.html`, or
`<stem>-quiz-A.html` … with `--forms`), its key (`<stem>-key.html`) and a study sheet.
The answer key is always its own file: printed double-sided, a paper never carries the
answers on its back.

The pages themselves are built by quizgen/papers.py, which the PDF writer prints too.
A project may override any template (quiz.html.j2, key.html.j2, study.html.j2,
index.html.j2, _base.html.j2, _macros.html.j2, quiz.css, extra.css) in its templates/.
"""

from __future__ import annotations

import os

from .. import ids
from ..model import Project
from ..papers import Pages, deck_parts, deck_quiz_pages, guess_lang, quiz_pages
from ..papers import css_string as css_string  # noqa: F401  (part of this module's interface for tests)
from ..present import output_stems, points_text
from ..quiz import assemble
from . import Options

FORMAT = "html"
DESCRIPTION = "Printable HTML quiz papers with separate answer keys, study sheets and an index"

PARALLEL_MIN_FACTS = 5000  # below this, forking workers costs more than rendering
_JOB: dict = {}  # what forked workers read: set just before the pool starts (copy-on-write, never pickled)


def save(out: str, name: str, data: bytes) -> None:
    path = os.path.join(out, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data)


def render_file(index: int) -> tuple[list[str], dict]:
    """Write one fact file's quiz form(s), key and study sheet; return the names and its index entry."""
    job = _JOB
    pages, out, project = job["pages"], job["out"], job["project"]
    fact_file = job["files"][index]
    stem = job["stems"][fact_file.path]
    names, quizzes = [], []
    for name, data in deck_quiz_pages(pages, fact_file, stem, job["forms"], job["seed"]):
        save(out, name, data)
        names.append(name)
        if not name.endswith("-key.html"):
            form = name[len(stem) + len("-quiz-") : -len(".html")] if job["forms"] > 1 else ""
            quizzes.append({"href": name, "form": form, "label": pages.lang.label("form", form) if form else []})
    key = f"{stem}-key.html"
    study = f"{stem}-study.html"
    save(out, study, pages.study(fact_file))
    names.append(study)
    package = ids.slug(fact_file.deck.split("::")[0]) + ".apkg"
    entry = {
        "deck": fact_file.deck,
        "deck_parts": deck_parts(fact_file.deck),
        "deck_lang": guess_lang(fact_file.deck, project.languages),
        "path": fact_file.path,
        "count": pages.lang.label("facts", len(fact_file.facts)),
        "quizzes": quizzes,
        "key": key,
        "study": study,
        "package": package if job["apkg_built"] or os.path.exists(os.path.join(out, package)) else "",
    }
    return names, entry


def quiz_entry(pages: Pages, project: Project, quiz, written: list[str], pdf: bool) -> dict:
    """The index's line for one quiz file: title, questions and points, each form's paper and the key."""
    form = assemble(project, quiz)[0]
    qs = pages.quiz_set(quiz)
    base = f"quizzes/{quiz.stem}/{quiz.stem}"
    links = [
        {
            "href": f"{base}-{letter}.html",
            "label": qs.lang.label("form", letter),
            "pdf": f"{base}-{letter}.pdf" if pdf else "",
        }
        for letter in quiz.letters
    ]
    return {
        "title": qs.title_texts(),
        "path": quiz.path,
        "date": quiz.date,
        "count": pages.lang.label("questions", len(form.questions)),
        "points": points_text(form.total),
        "forms": links,
        "key": f"{base}-key.html",
        "key_pdf": f"{base}-key.pdf" if pdf else "",
    }


def write(project: Project, out: str, options: Options) -> list[str]:
    files = sorted(project.files, key=lambda f: (f.deck, f.path))
    pages = Pages(project, options.lang or "both", options.epoch)
    options.report.setdefault("warnings", []).extend(pages.warnings)
    formats = options.extra.get("formats") or ()
    # Link each deck's Anki package when this build writes one: the apkg writer either ran already
    # (--format all runs it first) or the build says it will (options.extra["formats"]).
    _JOB.update(
        pages=pages,
        out=out,
        project=project,
        files=files,
        stems=output_stems(project.files),
        forms=max(1, options.forms),
        seed=options.seed,
        apkg_built="apkg" in formats,
    )
    try:
        written: list[str] = []
        quizzes = []
        for quiz in project.quizzes:
            if options.progress:
                options.progress(f"html: {quiz.path}")
            for name, data, _paper in quiz_pages(pages, quiz):
                save(out, name, data)
                written.append(name)
            quizzes.append(quiz_entry(pages, project, quiz, written, "pdf" in formats))
        workers = min(os.cpu_count() or 1, len(files))
        if workers > 1 and sum(len(f.facts) for f in files) >= PARALLEL_MIN_FACTS:
            from concurrent.futures import ProcessPoolExecutor
            from multiprocessing import get_context

            with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork")) as pool:
                results = list(pool.map(render_file, range(len(files))))
        else:
            results = []
            for i, fact_file in enumerate(files):
                if options.progress:
                    options.progress(f"html: {fact_file.path}")
                results.append(render_file(i))
        written += [name for names, _ in results for name in names]
        save(out, "index.html", pages.index(quizzes, [entry for _, entry in results]))
        return written + ["index.html"]
    finally:
        _JOB.clear()
