"""Size limits on a project's input, each far above any real course and each with a located message.

Why limits at all: project files are untrusted, and every stage's cost grows with
their size.  With these bounds a hostile file can make quizgen slow only in
proportion to its bytes, never quadratically, and every output name stays below
the 255-byte file-name limit of common file systems.  The README lists them
under "Limits"; change both together.
"""

from __future__ import annotations

from .cloze import MAX_NUMBER as MAX_CLOZE_NUMBER  # Anki's own limit, see cloze.py

MAX_FILE_BYTES = 8 * 1024 * 1024  # one YAML file (the 100,000-fact benchmark uses ~300 KB a file)
MAX_FACTS_PER_FILE = 10_000
MAX_TEXT_CHARS = 10_000  # one text value: a question, an option, an explanation, a quote
MAX_NAME_CHARS = 200  # one id, source id, tag, language code, deck name or image path
MAX_OPTIONS = 26  # answer + wrong options of a choice fact: one label each, A to Z
MAX_FILE_NAME_BYTES = 200  # a package or page name before its suffix (room for "-quiz-Z.html")
MAX_PROBLEMS_PER_KIND = 20  # the same kind of problem in one file (e.g. control characters) is summarised

__all__ = [
    "MAX_CLOZE_NUMBER",
    "MAX_FACTS_PER_FILE",
    "MAX_FILE_BYTES",
    "MAX_FILE_NAME_BYTES",
    "MAX_NAME_CHARS",
    "MAX_OPTIONS",
    "MAX_PROBLEMS_PER_KIND",
    "MAX_TEXT_CHARS",
]
