"""PDFs of every quiz paper and answer key, printed by the user's Chromium-family browser.

The pages are the very bytes the HTML writer saves (both come from quizgen/papers.py),
printed at each quiz's paper size (`paper: a4 | letter`) through quizgen/pdfengine.py:
a temporary profile, no network, a time limit, and dates fixed from SOURCE_DATE_EPOCH.
Each quiz gets `quizzes/<stem>/<stem>-A.pdf` … and `<stem>-key.pdf` beside its HTML.

A PDF depends only on its HTML and the browser, so the build's content memo keys it by
both: an unchanged page is not printed again (printing is the slow part of a build).
Without a browser, `--format pdf` fails with how to install one; `all` skips this writer
with a warning (see `available`).
"""

from __future__ import annotations

import hashlib
import os

from .. import pdfengine
from ..errors import QuizgenError
from ..model import Project
from ..papers import Pages, quiz_pages
from . import Options

FORMAT = "pdf"
DESCRIPTION = "PDF quiz papers and answer keys, printed with a Chromium-family browser"


def available() -> str | None:
    """None when this writer can run here, else why not (the build warns or fails with it)."""
    return pdfengine.unavailable()


def write(project: Project, out: str, options: Options) -> list[str]:
    pages = Pages(project, options.lang or "both", options.epoch)
    jobs = []
    for quiz in project.quizzes:
        for name, html, _paper in quiz_pages(pages, quiz):
            jobs.append((name[: -len(".html")] + ".pdf", html))
    if not jobs:
        return []
    written = []
    try:
        with pdfengine.Session(epoch=options.epoch) as session:
            for rel, html in jobs:
                if options.progress:
                    options.progress(f"pdf: {rel}")
                key = hashlib.sha256(f"{session.identity}\0{options.epoch}\0".encode() + html).hexdigest()
                data = options.memo_content("pdf", key, lambda html=html: session.print(html))
                path = os.path.join(out, rel)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "wb") as fh:
                    fh.write(data)
                written.append(rel)
            if session.seconds:
                options.report["pdf"] = {
                    "browser": session.browser,
                    "pages": session.pages,
                    "seconds_per_page": sum(session.seconds) / len(session.seconds),
                }
    except pdfengine.EngineError as exc:
        raise QuizgenError(f"pdf: {exc}") from None
    return written
