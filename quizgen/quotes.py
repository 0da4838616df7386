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
from .model import Citation, Project

_SPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def check_quotes(project: Project, quotes_dir: str) -> list[Problem]:
    """Every quote of every citation (claim quotes too: a claim misquoted is still a misquote)."""
    problems: list[Problem] = []
    texts: dict[str, str | None] = {}
    for fact in project.facts:
        for citation in fact.citations:
            if citation.quote:
                problem = check_one(project, fact.path, citation, quotes_dir, texts)
                if problem is not None:
                    problems.append(problem)
    return problems


def check_one(project: Project, path: str, citation: Citation, quotes_dir: str, texts: dict) -> Problem | None:
    line = citation.line
    source = project.sources.get(citation.source)
    if source is None and citation.source:
        return None  # only in a partial project (`check` with a broken sources.yaml), reported there
    if source is None:
        return Problem(path, line, "quote: the fact has no source to check the quote against")
    if not source.file:
        return Problem(path, line, f"quote: source {source.id!r} has no 'file' (a local copy to check quotes against)")
    if source.file not in texts:
        full = os.path.join(quotes_dir, source.file)
        if not inside(quotes_dir, full) or not os.path.isfile(full):
            texts[source.file] = None
        else:
            raw, _ = read_text(full, source.file)
            texts[source.file] = normalize(raw) if raw is not None else None
    haystack = texts[source.file]
    if haystack is None:
        return Problem(path, line, f"quote: source file {source.file!r} not found in {quotes_dir}")
    if normalize(citation.quote) not in haystack:
        return Problem(path, line, f"quote: not found verbatim in {source.file} (source {source.id!r})")
    return None
