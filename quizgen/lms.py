"""What every LMS export shares: a fact turned into a plain, format-neutral question.

Moodle XML, GIFT, QTI 1.2 and QTI 2.1 differ in syntax, not in what a question *is*: a
prompt in the shown languages, options in their fixed or stable order with the right one
marked, accepted answers for typed responses, blanks for a cloze, points, feedback (the
explanation, then every citation with its role and quote) and at most one image.  This
module builds that once, from the validated model, so the four writers cannot disagree
and each only has to escape and lay out text for its own format.

Everything here is plain text (never markup); each writer escapes it.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

from . import cloze
from .model import NEUTRAL, Fact, FactFile, Project, Text
from .present import option_order, role_words, shuffles, truth_words


@dataclass(frozen=True)
class Blank:
    """One gap of a cloze: its deletion number and the answers accepted in it."""

    n: int
    answers: tuple[str, ...]


@dataclass(frozen=True)
class Item:
    id: str  # the fact id
    type: str  # basic | choice | cloze | truefalse
    name: str  # a short title for the LMS question bank
    prompt: tuple[tuple[str, str], ...]  # (lang, text) in the shown languages, primary first
    options: tuple[tuple[tuple[tuple[str, str], ...], bool], ...] = ()  # choice: (texts, correct)
    fixed_order: bool = False  # choice: the LMS must not shuffle (the fact says shuffle: false / options:)
    answers: tuple[str, ...] = ()  # basic: every accepted answer, primary first
    truth: bool | None = None  # truefalse
    # cloze: the primary language's text as segments, str for text and Blank for a gap, and
    # the other languages' texts with the gaps shown as numbered markers
    segments: tuple = ()
    others: tuple[tuple[str, str], ...] = ()
    feedback: tuple[str, ...] = ()  # paragraphs: explanation (per language), then citations
    points: float = 1.0
    image: str = ""  # project-relative path
    media_name: str = ""  # content-addressed file name for the image inside a package
    deck: str = ""
    path: str = ""  # fact file, for warnings
    line: int = 0
    languages: tuple[str, ...] = field(default_factory=tuple)


def shown(text: Text | None, languages: tuple[str, ...], lang: str) -> tuple[tuple[str, str], ...]:
    """(lang, text) for the shown languages in project order; a neutral or repeated text once.

    `lang` is a project language or "both"; a text missing the chosen language falls back to what
    there is rather than to nothing."""
    if text is None:
        return ()
    pairs = [(k, v.strip()) for k, v in text.in_order(languages) if lang == "both" or k in (lang, NEUTRAL)]
    if not pairs:
        pairs = [(k, v.strip()) for k, v in text.in_order(languages)][:1]
    out: list[tuple[str, str]] = []
    for k, v in pairs:
        if all(v != w for _, w in out):
            out.append((k, v))
    return tuple(out)


def ident(*parts: str) -> str:
    """A stable XML identifier for LMS packages (an NCName: it starts with a letter)."""
    return "g" + hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:24]


def joined(pairs) -> str:
    """Texts of several languages on one line (for places that hold one plain string)."""
    return " / ".join(v for _, v in pairs)


def media_name(project: Project, rel: str) -> str:
    with open(os.path.join(project.root, rel), "rb") as fh:
        digest = hashlib.sha256(fh.read()).hexdigest()[:20]
    return f"qg-{digest}{os.path.splitext(rel)[1].lower()}"


def _cloze(fact: Fact, languages, lang) -> tuple[tuple, tuple[tuple[str, str], ...]]:
    texts = shown(fact.text, languages, lang)
    primary_lang = texts[0][0]
    hidden: dict[int, dict[str, None]] = {}  # ordered sets: linear however many deletions
    for _, value in texts:
        for d in cloze.scan(value):
            hidden.setdefault(d.number, {})[d.hidden.strip()] = None
    segments: list = [
        part if isinstance(part, str) else Blank(part.number, tuple(hidden[part.number]))
        for part in cloze.segments(texts[0][1])
    ]
    others = []
    for k, v in texts[1:]:
        others.append((k, cloze.replace(v, lambda d: f"[{d.number}]")))
    del primary_lang
    return tuple(segments), tuple(others)


def feedback(project: Project, fact: Fact, languages, lang) -> tuple[str, ...]:
    paragraphs = [v for _, v in shown(fact.explanation, languages, lang)]
    words_langs = languages if lang == "both" else (lang,)
    for citation in fact.citations:
        source = project.sources.get(citation.source)
        if source is None:
            continue
        parts = [source.title] + [x for x in (source.publisher, source.date) if x]
        line = f"{role_words(citation.role, words_langs)}: " + " · ".join(parts)
        if source.url:
            line += f" ({source.url})"
        paragraphs.append(line)
        if citation.quote:
            paragraphs.append(f"“{citation.quote.strip()}”")
    return tuple(paragraphs)


def item(project: Project, fact: Fact, lang: str = "both", points: float | None = None, options=None) -> Item:
    """The neutral question for `fact`; `options` overrides the stable option order (a quiz form's)."""
    languages = project.languages
    fields: dict = {
        "id": fact.id,
        "type": fact.type,
        "prompt": shown(fact.prompt, languages, lang),
        "feedback": feedback(project, fact, languages, lang),
        "points": float(points if points is not None else fact.points or 1),
        "image": fact.image,
        "media_name": media_name(project, fact.image) if fact.image else "",
        "deck": fact.deck,
        "path": fact.path,
        "line": fact.line,
        "languages": languages if lang == "both" else (lang,),
    }
    if fact.type == "choice":
        order = options if options is not None else option_order(fact)
        fields["options"] = tuple((shown(text, languages, lang), correct) for text, correct in order)
        fields["fixed_order"] = not shuffles(fact)
    elif fact.type == "basic":
        answers = [v for _, v in shown(fact.answer, languages, lang)]
        for alt in getattr(fact, "alternatives", ()) or ():
            answers += [v for _, v in shown(alt, languages, lang)]
        fields["answers"] = tuple(dict.fromkeys(answers))
    elif fact.type == "truefalse":
        fields["truth"] = bool(fact.truth)
    elif fact.type == "cloze":
        fields["segments"], fields["others"] = _cloze(fact, languages, lang)
        fields["prompt"] = ()
    if fields["prompt"]:
        name = fields["prompt"][0][1]
    else:
        name = "".join(s if isinstance(s, str) else "___" for s in fields["segments"])
    name = " ".join(name.split())
    fields["name"] = name if len(name) <= 80 else name[:79] + "…"
    return Item(**fields)


def truth_label(truth: bool, languages) -> str:
    return " / ".join(dict.fromkeys(truth_words(lang)[0 if truth else 1] for lang in languages))


def items_for_file(project: Project, fact_file: FactFile, lang: str) -> list[Item]:
    return [item(project, fact, lang) for fact in fact_file.facts]


def category(deck: str) -> list[str]:
    """A deck name's parts, for an LMS category path ('DeepSeek::MoE' -> ['DeepSeek', 'MoE'])."""
    return [part.strip() for part in deck.split("::") if part.strip()]


@dataclass(frozen=True)
class Export:
    """One thing to export: a deck file or a quiz, as titled sections of items plus quiz settings."""

    key: str  # what identifiers derive from: the fact file's or quiz file's path
    name: str  # output file name without extension, e.g. "moe" or "quizzes/midterm/midterm"
    title: str
    category: tuple[str, ...]  # Moodle/GIFT category path
    sections: tuple[tuple[str, tuple[Item, ...]], ...]
    numbering: str = "circled-digits"
    minutes: int | None = None
    instructions: str = ""
    lang: str = "both"

    @property
    def items(self) -> list[Item]:
        return [item for _, items in self.sections for item in items]


def default_numbering(project: Project, lang: str) -> str:
    primary = project.languages[0] if lang == "both" else lang
    return "circled-digits" if primary == "ko" else "letters"


def exports(project: Project, lang: str) -> list[Export]:
    """Every deck file (in `lang`) and every quiz (in its own `lang`), in a stable order.

    A quiz exports form A's questions with their points; the LMS shuffles where the facts allow."""
    from .present import output_stems
    from .quiz import assemble

    out = []
    stems = output_stems(project.files)
    for fact_file in sorted(project.files, key=lambda f: f.path):
        title = fact_file.deck.split("::")[-1].strip()
        out.append(
            Export(
                key=fact_file.path,
                name=stems[fact_file.path],
                title=title,
                category=tuple(category(fact_file.deck)),
                sections=((title, tuple(items_for_file(project, fact_file, lang))),),
                numbering=default_numbering(project, lang),
                lang=lang,
            )
        )
    for quiz in getattr(project, "quizzes", ()):
        form = assemble(project, quiz)[0]
        title = joined(shown(quiz.title, project.languages, quiz.lang))
        sections = []
        for index, section in enumerate(quiz.sections):
            items = tuple(
                item(project, q.fact, quiz.lang, points=q.points, options=q.options or None)
                for q in form.questions
                if q.section == index
            )
            s_title = joined(shown(section.title, project.languages, quiz.lang)) if section.title else title
            sections.append((s_title, items))
        out.append(
            Export(
                key=quiz.path,
                name=f"quizzes/{quiz.stem}/{quiz.stem}",
                title=title,
                category=("Quizzes", title),
                sections=tuple(sections),
                numbering=quiz.numbering,
                minutes=quiz.minutes,
                instructions="\n".join(v for _, v in shown(quiz.instructions, project.languages, quiz.lang)),
                lang=quiz.lang,
            )
        )
    return out


def output_path(out: str, export: Export, suffix: str) -> tuple[str, str]:
    """(absolute path, relative name) for `export` with `suffix`, creating its folder."""
    rel = f"{export.name}{suffix}"
    full = os.path.join(out, rel)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    return full, rel
