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
    "options",
    "shuffle",
    "reverse",
    "points",
    "text",
    "statement",
    "explanation",
    "source",
    "quote",
    "cite",
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


ROLES = ("claim", "evidence")  # a citation backs the answer (evidence) or shows what an article claimed (claim)


@dataclass(frozen=True, slots=True)
class Citation:
    """One cited source: an id from sources.yaml, an optional verbatim quote, and its role.

    A correction card needs two: the article's claim (role "claim", quoted as the article
    says it) and the primary source that proves the answer (role "evidence").  `line` is
    where the citation is written (its quote's line when it has one), for later messages.
    """

    source: str
    quote: str = ""
    role: str = "evidence"
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
    wrong: tuple[Text, ...] = ()  # choice: the options that are not the answer
    options: tuple[Text, ...] = ()  # choice written with `options:`: every option in print order, the answer among them
    shuffle: bool | None = None  # choice: `shuffle:` as written; None means the default (see present.shuffles)
    reverse: bool = False  # basic: a second card asks answer -> question
    points: int | float | None = None  # `points:` as written: overrides a quiz section's points
    text: Text | None = None  # cloze
    statement: Text | None = None  # truefalse
    truth: bool | None = None  # truefalse
    explanation: Text | None = None
    source: str = ""  # the primary evidence: `source:` as written, or the first evidence citation of `cite:`
    quote: str = ""  # that citation's quote
    cite: tuple[Citation, ...] = ()  # `cite:` as written; empty for a fact written with source/quote
    tags: tuple[str, ...] = ()  # file tags then fact tags
    image: str = ""  # project-relative path, already checked to exist inside the project
    anki_guid: str = ""  # an imported note's GUID: the Anki writer uses it instead of the derived one
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
    def citations(self) -> tuple[Citation, ...]:
        """Every citation in order; a `source:`/`quote:` fact has exactly one, the evidence.

        Derived rather than stored for such facts: at 100,000 facts a tuple and a Citation
        each would cost megabytes to say what `source` and `quote` already say.
        """
        if self.cite:
            return self.cite
        if self.source or self.quote:
            line = self.line_of("quote") if self.quote else self.line_of("source")
            return (Citation(self.source, self.quote, "evidence", line),)
        return ()

    @property
    def evidence(self) -> tuple[Citation, ...]:
        return tuple(c for c in self.citations if c.role == "evidence")

    @property
    def single_source(self) -> bool:
        """True when the fact cites one evidence source only: it shows exactly as a `source:` fact always has."""
        c = self.citations
        return len(c) <= 1 and all(x.role == "evidence" for x in c)

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
    description: Text | None = None  # shown in Anki's deck overview


# ---------------------------------------------------------------------------
# quizzes (quizzes/*.yaml): built by quiz.py, assembled into forms by quiz.assemble

FILTER_KINDS = ("decks", "files", "tags", "types", "ids")
HEADER_BOXES = ("name", "class", "number", "date", "score")
NUMBERINGS = ("circled-digits", "letters")
PAPERS = ("a4", "letter")


@dataclass(frozen=True)
class Selector:
    """A `from:` or `exclude:` mapping: values per filter kind ('decks', 'files', 'tags', 'types', 'ids').

    Under `from`, every kind given must match (and any value within a kind); under `exclude`,
    a fact that matches any kind is left out.  A deck includes its subdecks."""

    decks: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()

    def given(self) -> tuple[str, ...]:
        """The filter kinds this selector uses, in the fixed FILTER_KINDS order."""
        return tuple(k for k in FILTER_KINDS if getattr(self, k))


@dataclass(frozen=True)
class Section:
    """One section of a quiz: which facts may be asked, how many, and for how many points each."""

    title: Text | None
    filters: Selector  # `from:`
    exclude: Selector
    pick: int | None  # a seeded sample of this many; None asks every matching fact
    points: int | float  # per question, unless the fact says `points:`
    line: int = 0
    facts: tuple[str, ...] = ()  # ids of the facts this section may ask, in project order (after exclude and
    # after earlier sections took theirs): computed once at validation so assembly needs no matching


@dataclass(frozen=True)
class Quiz:
    """One quiz file: what a teacher prints (title, paper, header) and which questions it asks.

    `forms`, `seed` and the sections fully determine every form (see quiz.assemble)."""

    path: str  # quizzes/midterm.yaml, relative to the project
    stem: str  # midterm: the output folder and file names
    title: Text
    sections: tuple[Section, ...]
    date: str = ""
    minutes: int | None = None
    instructions: Text | None = None
    lang: str = "both"  # a project language or "both"
    paper: str = "a4"
    forms: int = 1
    seed: str = ""
    numbering: str = "circled-digits"
    header: tuple[str, ...] = ("name", "class", "number", "score")
    student_digits: int = 5  # digits of the student number on the answer sheet
    line: int = 1
    lines: tuple[tuple[str, int], ...] = ()  # (key, line) for each top-level key written

    def line_of(self, key: str) -> int:
        return dict(self.lines).get(key, self.line)

    @property
    def letters(self) -> str:
        return "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[: self.forms]


@dataclass(frozen=True)
class Project:
    root: str  # absolute path
    languages: tuple[str, ...]
    sources: dict[str, Source]
    files: tuple[FactFile, ...]
    title: str = ""
    lint_ignore: tuple[str, ...] = ()
    id: str = ""  # the project identity from quizgen.yaml: part of every Anki GUID, never changed
    quizzes: tuple[Quiz, ...] = ()  # quizzes/*.yaml, sorted by path
    anki_lang: str = "both"  # quizgen.yaml `anki: {lang}`: the language on the cards (--lang wins)
    anki_package: str = "per-deck"  # quizgen.yaml `anki: {package}`: per-deck or one (--apkg wins)

    def fact(self, fact_id: str) -> Fact | None:
        """The fact with this id (ids are unique in a valid project)."""
        index = self.__dict__.get("_by_id")
        if index is None:
            index = {f.id: f for f in self.facts}
            object.__setattr__(self, "_by_id", index)
        return index.get(fact_id)

    @property
    def facts(self) -> list[Fact]:
        return [fact for f in self.files for fact in f.facts]

    def top_decks(self) -> dict[str, list[FactFile]]:
        """Fact files grouped by top-level deck name (one .apkg each), in sorted order."""
        groups: dict[str, list[FactFile]] = {}
        for f in sorted(self.files, key=lambda f: (f.deck, f.path)):
            groups.setdefault(f.deck.split("::")[0], []).append(f)
        return groups
