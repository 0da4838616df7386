"""Stage 3: the validated project as plain, frozen data.

No I/O happens here.  Writers receive a `Project` and can trust every field:
ids are valid and unique, sources exist, texts are non-empty.  Each fact keeps
its location so that later stages (lint, diff) can still point at a line.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

TYPES = ("basic", "choice", "cloze", "truefalse")
NEUTRAL = ""  # language key of a plain-string text: the same words in every language

# Keys whose line a fact remembers, in a fixed order: `Fact.lines` packs one line number per
# key into a few bytes (a tuple of (name, line) pairs cost ~800 bytes a fact at 100,000 facts).
LINE_KEYS = (
    "id",
    "type",
    "question",
    "answer",
    "wrong",
    "text",
    "statement",
    "explanation",
    "source",
    "quote",
    "tags",
    "image",
    "lint",
)
_LINES = struct.Struct(f"<{len(LINE_KEYS)}I")


def pack_lines(lines: dict[str, int]) -> bytes:
    return _LINES.pack(*(lines.get(k, 0) for k in LINE_KEYS))


@dataclass(frozen=True)
class Text:
    """A text field: language code -> string, in the author's order.

    A plain YAML string is stored under `NEUTRAL` and shown once in every language.
    """

    items: tuple[tuple[str, str], ...]

    def get(self, lang: str) -> str | None:
        for key, value in self.items:
            if key == lang or key == NEUTRAL:
                return value
        return None

    def langs(self) -> tuple[str, ...]:
        return tuple(k for k, _ in self.items)

    def values(self) -> tuple[str, ...]:
        return tuple(v for _, v in self.items)

    def in_order(self, languages: tuple[str, ...]) -> list[tuple[str, str]]:
        """(lang, text) pairs in the project's language order; a neutral text once."""
        if self.items and self.items[0][0] == NEUTRAL:
            return [(NEUTRAL, self.items[0][1])]
        found = dict(self.items)
        return [(lang, found[lang]) for lang in languages if lang in found]


@dataclass(frozen=True, slots=True)
class Source:
    id: str
    title: str
    url: str = ""
    date: str = ""
    publisher: str = ""
    file: str = ""
    line: int = 0


@dataclass(frozen=True)
class Fact:
    id: str
    type: str
    deck: str
    path: str  # fact file, relative to the project, forward slashes
    line: int
    question: Text | None = None  # basic, choice
    answer: Text | None = None  # basic, choice
    wrong: tuple[Text, ...] = ()  # choice
    text: Text | None = None  # cloze
    statement: Text | None = None  # truefalse
    truth: bool | None = None  # truefalse
    explanation: Text | None = None
    source: str = ""
    quote: str = ""
    tags: tuple[str, ...] = ()  # file tags then fact tags
    image: str = ""  # project-relative path, already checked to exist inside the project
    lint_ignore: tuple[str, ...] = ()
    lines: bytes = b""  # pack_lines(): the line of each key, for messages from later stages

    def line_of(self, key: str) -> int:
        """The line of `key` in the fact file (the fact's first line when absent)."""
        if self.lines and key in LINE_KEYS:
            line = _LINES.unpack(self.lines)[LINE_KEYS.index(key)]
            if line:
                return line
        return self.line

    @property
    def prompt(self) -> Text:
        """What the learner reads first, whatever the type."""
        return self.question or self.text or self.statement  # type: ignore[return-value]

    def texts(self) -> list[tuple[str, Text]]:
        """Every text field with its name, for checks that treat them alike."""
        out = []
        for name in ("question", "answer", "text", "statement", "explanation"):
            value = getattr(self, name)
            if value is not None:
                out.append((name, value))
        out.extend((f"wrong[{i}]", w) for i, w in enumerate(self.wrong))
        return out


@dataclass(frozen=True, slots=True)
class FactFile:
    """One fact file: a deck name, file-wide tags, and its facts in order.

    A file with problems (only `check` sees one) holds just its valid facts, and in
    `rejected_ids` the (id, line) of the others, so that duplicate ids are still found."""

    path: str
    deck: str
    tags: tuple[str, ...]
    facts: tuple[Fact, ...]
    rejected_ids: tuple[tuple[str, int], ...] = ()
    deck_line: int = 0  # the line of `deck:`, for messages about the deck name


@dataclass(frozen=True)
class Project:
    root: str  # absolute path
    languages: tuple[str, ...]
    sources: dict[str, Source]
    files: tuple[FactFile, ...]
    title: str = ""
    lint_ignore: tuple[str, ...] = ()

    @property
    def facts(self) -> list[Fact]:
        return [fact for f in self.files for fact in f.facts]

    def top_decks(self) -> dict[str, list[FactFile]]:
        """Fact files grouped by top-level deck name (one .apkg each), in sorted order."""
        groups: dict[str, list[FactFile]] = {}
        for f in sorted(self.files, key=lambda f: (f.deck, f.path)):
            groups.setdefault(f.deck.split("::")[0], []).append(f)
        return groups
