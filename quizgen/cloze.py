"""Cloze deletions (`{{c1::hidden}}`, `{{c2::hidden::hint}}`), found by one linear scan.

Why not a regular expression: the old `\\{\\{c(\\d+)::(.*?)(?:::(.*?))?\\}\\}` backtracks
catastrophically on text with many openings and no closing `}}` (a 6.6 KB fact file
cost 29 s of CPU).  This scanner moves forward only, with `str.find`, so a text of n
characters costs O(n) whatever it holds.  It reads deletions exactly as that regex did
(and as Anki does for the non-nested case): `{{c`, ASCII digits, `::`, then everything
up to the first `}}`; a `::` inside splits off the hint.  Every module that needs
deletions (validate, lint, the writers) uses `scan`, so they can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

OPEN = "{{c"
CLOSE = "}}"
SEP = "::"
# Anki keeps at most 500 cloze cards per note (ordinals 0..499): its card generation folds any
# higher number onto card 500, so {{c501::…}} and up give cards Anki later moves or drops
# (checked with the official `anki` package in tests/test_trust_input.py).
MAX_NUMBER = 500
_DIGITS = 9  # more digits than this is "too large" without converting (int() of a huge string is slow)
TOO_LARGE = 10**_DIGITS


@dataclass(frozen=True, slots=True)
class Deletion:
    """One `{{cN::hidden::hint}}`: its number, texts, and where it sits in the text."""

    number: int  # TOO_LARGE when the digits do not fit; 0 for `c0`
    hidden: str
    hint: str | None
    start: int
    end: int  # just past the closing `}}`
    nested: bool = False  # another `{{c` opens inside the hidden text


def scan(text: str) -> list[Deletion]:
    """Every deletion in `text`, in order, in one left-to-right pass."""
    out: list[Deletion] = []
    if OPEN not in text:
        return out
    pos = 0
    n = len(text)
    while True:
        start = text.find(OPEN, pos)
        if start < 0:
            return out
        i = start + len(OPEN)
        j = i
        while j < n and "0" <= text[j] <= "9":
            j += 1
        if j == i or not text.startswith(SEP, j):
            pos = start + 1
            continue
        body = j + len(SEP)
        close = text.find(CLOSE, body)
        if close < 0:
            return out  # no `}}` after this opening, so none after any later one either
        digits = text[i:j]
        number = int(digits) if len(digits) <= _DIGITS else TOO_LARGE
        inner = text[body:close]
        sep = inner.find(SEP)
        hidden, hint = (inner, None) if sep < 0 else (inner[:sep], inner[sep + len(SEP) :])
        out.append(Deletion(number, hidden, hint, start, close + len(CLOSE), OPEN in hidden))
        pos = close + len(CLOSE)


def numbers(text: str) -> set[int]:
    return {d.number for d in scan(text)}


def segments(text: str) -> list[str | Deletion]:
    """The text cut into plain runs (str) and deletions, in order."""
    out: list[str | Deletion] = []
    pos = 0
    for d in scan(text):
        if d.start > pos:
            out.append(text[pos : d.start])
        out.append(d)
        pos = d.end
    if pos < len(text):
        out.append(text[pos:])
    return out


def replace(text: str, repl) -> str:
    """`text` with each deletion replaced by `repl(deletion)`."""
    return "".join(part if isinstance(part, str) else repl(part) for part in segments(text))
