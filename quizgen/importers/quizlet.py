"""Quizlet exports in: one card per line, term TAB definition (Quizlet's default export settings).

The term becomes the question and the definition the answer of a basic fact.
There is no header row.  A line without a TAB, or with nothing on one side of
it, is reported at its line; blank lines are skipped.
"""

from __future__ import annotations

import os

from ..errors import Problem
from .draft import MAX_FIELD_CHARS, Draft, clean
from .plan import Batch
from .table import decode, read_bytes

SUFFIXES = (".txt",)
MAX_LINES = 200_000


def read(path: str, display: str, *, deck: str | None, lang: str | None, languages) -> Batch:
    batch = Batch(languages=(lang,) if lang else ())
    data, problems = read_bytes(path, display)
    text, encoding, more = decode(data, display) if data is not None else (None, "", [])
    if problems or more:
        batch.problems += problems + more
        return batch
    if encoding != "UTF-8":
        batch.notes.append(f"{display}: read as {encoding} text")
    deck_name = deck or os.path.splitext(os.path.basename(path))[0]
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if number > MAX_LINES:
            batch.problems.append(Problem(display, number, f"more than {MAX_LINES:,} lines; split the file"))
            break
        if "\t" not in line:
            batch.problems.append(
                Problem(
                    display,
                    number,
                    "no TAB between term and definition (export with 'Between term and definition: Tab')",
                )
            )
            continue
        term, definition = (clean(part) for part in line.split("\t", 1))
        missing = [name for name, value in (("term", term), ("definition", definition)) if not value]
        if missing:
            batch.problems.append(Problem(display, number, f"the {' and '.join(missing)} is empty"))
            continue
        if max(len(term), len(definition)) > MAX_FIELD_CHARS:
            batch.problems.append(Problem(display, number, f"longer than the limit of {MAX_FIELD_CHARS:,} characters"))
            continue
        fields = {"question": {lang: term} if lang else term, "answer": {lang: definition} if lang else definition}
        batch.drafts.append(Draft(deck=deck_name, fields=fields, origin=Problem(display, number, "")))
    return batch
