"""Quote checking: a fact's `quote` must occur verbatim in its source's local text copy.

"Verbatim" after two normalisations only: Unicode NFC (a Hangul syllable typed
composed or decomposed is the same text) and runs of whitespace collapsed to one
space (line wrapping in a copy is not a difference in wording).  Nothing else is
forgiven: punctuation, quote marks and spacing inside words must match.
"""

from __future__ import annotations

import os
import re
import unicodedata

from .errors import Problem
from .loader import inside, read_text
from .model import Project

_SPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def check_quotes(project: Project, quotes_dir: str) -> list[Problem]:
    problems: list[Problem] = []
    texts: dict[str, str | None] = {}
    for fact in project.facts:
        if not fact.quote:
            continue
        line = fact.line_of("quote")
        source = project.sources.get(fact.source)
        if source is None and fact.source:
            continue  # only in a partial project (`check` with a broken sources.yaml): reported there
        if source is None:
            problems.append(Problem(fact.path, line, "quote: the fact has no source to check the quote against"))
            continue
        if not source.file:
            problems.append(
                Problem(
                    fact.path, line, f"quote: source {source.id!r} has no 'file' (a local copy to check quotes against)"
                )
            )
            continue
        if source.file not in texts:
            full = os.path.join(quotes_dir, source.file)
            if not inside(quotes_dir, full) or not os.path.isfile(full):
                texts[source.file] = None
            else:
                raw, _ = read_text(full, source.file)
                texts[source.file] = normalize(raw) if raw is not None else None
        haystack = texts[source.file]
        if haystack is None:
            problems.append(Problem(fact.path, line, f"quote: source file {source.file!r} not found in {quotes_dir}"))
        elif normalize(fact.quote) not in haystack:
            problems.append(
                Problem(fact.path, line, f"quote: not found verbatim in {source.file} (source {source.id!r})")
            )
    return problems
