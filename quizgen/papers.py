"""Pages, built once for every writer that prints them: view models and rendering into bytes.

The HTML writer saves these pages and the PDF writer prints the very same bytes, so a
PDF can never show something its HTML does not (writers never import each other; this
module is their shared, neutral ground, like present.py).

Every page is one file that needs nothing else: the CSS is inlined, images are data URIs,
and a Content-Security-Policy forbids scripts and every network request, so a handout
opened from a USB stick prints the same as on the build machine.  Fact text is data,
never markup: the templates are rendered with Jinja2 autoescaping, and text reaches them
as plain strings (cloze blanks as structured segments, not HTML).

A student paper is built from a view model that holds no answer at all: no correct flag
on an option, no answer text, explanation, source or fact id (ids often name the answer).
So no template, shipped or a project's own, can leak the key into a student's file.

Output bytes depend only on the project, the options and SOURCE_DATE_EPOCH: question and
option order come from quiz.assemble (seeded), never from the clock.
"""

from __future__ import annotations

import base64
import datetime
import mimetypes
import os
import re

import jinja2
from markupsafe import Markup

from . import cloze, templating
from .errors import QuizgenError
from .model import NEUTRAL, Fact, FactFile, Project, Quiz, Text
from .present import (
    LABELS,
    TRUTH_LABELS,
    default_numbering,
    display_width,
    option_label,
    option_order,
    points_text,
    truth_words,
)
from .quiz import Form, Question, assemble, deck_quiz

_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_CSS_UNSAFE = re.compile(r'[\\"<>&\x00-\x1f\x7f]')


# ---------------------------------------------------------------------------
# small helpers


def css_string(value: str) -> Markup:
    """A quoted CSS string for generated rules (running page headers): data cannot end the string or the style."""
    body = _CSS_UNSAFE.sub(lambda m: f"\\{ord(m.group(0)):x} ", str(value))
    return Markup(f'"{body}"')


def guess_lang(text: str, languages: tuple[str, ...]) -> str:
    """A language for untagged strings (quotes, source titles): Korean when it has Hangul."""
    if "ko" in languages and _HANGUL.search(text):
        return "ko"
    return ""


IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
    ".avif": "image/avif",
    ".bmp": "image/bmp",
}


def data_uri(path: str) -> str:
    """The image inline (an <img> never runs scripts, even in an SVG)."""
    ext = os.path.splitext(path)[1].lower()
    mime = IMAGE_TYPES.get(ext) or mimetypes.guess_type(path)[0] or "application/octet-stream"
    with open(path, "rb") as fh:
        return f"data:{mime};base64,{base64.b64encode(fh.read()).decode('ascii')}"


# ---------------------------------------------------------------------------
# languages


class Lang:
    """Which languages a page shows, and in what order (the first is the primary one)."""

    def __init__(self, project: Project, choice: str):
        if choice != "both" and choice not in project.languages:
            raise QuizgenError(f"--lang {choice!r} is not a project language ({', '.join(project.languages)})")
        self.project_languages = project.languages
        self.shown = project.languages if choice == "both" else (choice,)
        self.primary = self.shown[0]

    def texts(self, text: Text | None) -> list[dict]:
        """[{lang, text, cls}] for the shown languages; a neutral text once, without a lang attribute."""
        if text is None:
            return []
        pairs = [
            (lang, value)
            for lang, value in text.in_order(self.project_languages)
            if lang == NEUTRAL or lang in self.shown
        ]
        if not pairs:  # the chosen language is missing here: show what there is rather than nothing
            pairs = text.in_order(self.project_languages)[:1]
        unique = []  # the same words in two languages (a name, a number) are shown once, as on the cards
        for lang, value in pairs:
            if all(value.strip() != v.strip() for _, v in unique):
                unique.append((lang, value))
        pairs = unique
        return [
            {"lang": lang, "text": value.strip(), "cls": "l1" if i == 0 else "l2"}
            for i, (lang, value) in enumerate(pairs)
        ]

    def label(self, key: str, *args) -> list[dict]:
        """An interface word in every shown language that has one (English otherwise)."""
        out, seen = [], set()
        for lang in self.shown:
            if lang in LABELS:
                word = LABELS[lang][key].format(*args)
                if word not in seen:
                    seen.add(word)
                    out.append({"lang": lang, "text": word, "cls": "l1" if not out else "l2"})
        return out or [{"lang": "en", "text": LABELS["en"][key].format(*args), "cls": "l1"}]

    def label_text(self, key: str, *args, sep: str = " · ") -> str:
        return sep.join(item["text"] for item in self.label(key, *args))

    def truth(self, value: bool) -> list[dict]:
        out, seen = [], set()
        for lang in self.shown:
            word = truth_words(lang)[0 if value else 1]
            if word not in seen:
                seen.add(word)
                out.append(
                    {"lang": lang if lang in TRUTH_LABELS else "en", "text": word, "cls": "l1" if not out else "l2"}
                )
        return out

    def labels(self) -> dict[str, list[dict]]:
        words = {key: self.label(key) for key in LABELS["en"] if "{}" not in LABELS["en"][key]}
        words["true"], words["false"] = self.truth(True), self.truth(False)  # the Anki cards' words
        return words


# ---------------------------------------------------------------------------
# view models: plain dicts and strings, never markup


def cloze_segments(text: str, numbered: bool) -> list[dict]:
    """Cloze text as segments: {'text': ...} and {'blank': n, 'hint': ..., 'width': em}."""
    out = []
    for part in cloze.segments(text):
        if isinstance(part, str):
            out.append({"kind": "text", "text": part})
            continue
        width = min(max(4.0, display_width(part.hidden) * 0.55 + 2), 16.0)
        out.append(
            {
                "kind": "blank",
                "n": part.number if numbered else 0,
                "hint": (part.hint or "").strip(),
                "width": f"{width:.1f}",
            }
        )
    return out


def cloze_numbers(fact: Fact) -> set[int]:
    return {d.number for _, v in fact.text.items for d in cloze.scan(v)}  # type: ignore[union-attr]


def cloze_answers(fact: Fact, lang: Lang) -> list[dict]:
    """[{n, texts}] for each deletion number, the hidden words in each shown language.

    One scan per language, grouped by number: looking up each number's deletions by a
    fresh scan made 10,000 deletions cost 106 s."""
    shown = lang.texts(fact.text)
    hidden_by_lang: list[dict[int, dict[str, None]]] = []
    for item in shown:
        groups: dict[int, dict[str, None]] = {}
        for d in cloze.scan(item["text"]):
            groups.setdefault(d.number, {})[d.hidden.strip()] = None
        hidden_by_lang.append(groups)
    out = []
    for n in sorted(cloze_numbers(fact)):
        per_lang = []
        for item, groups in zip(shown, hidden_by_lang):
            if n in groups:
                per_lang.append({**item, "text": " … ".join(groups[n])})
        for i, item in enumerate(per_lang):
            item["cls"] = "l1" if i == 0 else "l2"
        # the same words in both languages (a name, a number) are shown once
        if len(per_lang) > 1 and len({p["text"] for p in per_lang}) == 1:
            per_lang = per_lang[:1]
        out.append({"n": n, "texts": per_lang})
    return out


def source_view(project: Project, source_id: str) -> dict | None:
    source = project.sources.get(source_id)
    if source is None:
        return None
    url = source.url.strip()
    return {
        "id": source.id,
        "title": source.title,
        "title_lang": guess_lang(source.title, project.languages),
        "publisher": source.publisher,
        "publisher_lang": guess_lang(source.publisher, project.languages),
        "date": source.date,
        "url": url,
        "href": url if re.match(r"^https?://", url) else "",
    }


def citation_views(project: Project, fact: Fact, lang: Lang) -> list[dict]:
    """Every citation with its role words, source and quote, in the order the author wrote them."""
    return [
        {
            "role": c.role,
            "role_label": lang.label(c.role),
            "source": source_view(project, c.source),
            "quote": c.quote.strip(),
            "quote_lang": guess_lang(c.quote, project.languages),
        }
        for c in fact.citations
        if c.source in project.sources
    ]


def question_view(
    project: Project, fact: Fact, number: int, lang: Lang, options_order, numbering: str = "letters"
) -> dict:
    q: dict = {
        "number": number,
        "id": fact.id,
        "type": fact.type,
        "prompt": [],
        "options": [],
        "image": data_uri(os.path.join(project.root, fact.image)) if fact.image else "",
        "explanation": lang.texts(fact.explanation),
        "source": source_view(project, fact.source),  # the primary evidence, as before `cite:` existed
        "quote": fact.quote.strip(),
        "quote_lang": guess_lang(fact.quote, project.languages),
        "single_source": fact.single_source,  # shown exactly as a source/quote fact always was
        "citations": citation_views(project, fact, lang),
        "answer": [],
        "answer_letter": "",
        "blanks": [],
        "truth": None,
    }
    if fact.type == "cloze":
        numbered = len(cloze_numbers(fact)) > 1
        q["prompt"] = [{**item, "segments": cloze_segments(item["text"], numbered)} for item in lang.texts(fact.text)]
        q["blanks"] = cloze_answers(fact, lang)
    else:
        q["prompt"] = [
            {**item, "segments": [{"kind": "text", "text": item["text"]}]} for item in lang.texts(fact.prompt)
        ]
    if fact.type in ("basic", "choice"):
        q["answer"] = lang.texts(fact.answer)
    if fact.type == "choice":
        order = options_order(fact)
        q["options"] = [
            {"letter": option_label(i, numbering), "texts": lang.texts(text), "correct": correct}
            for i, (text, correct) in enumerate(order)
        ]
        q["answer_letter"] = option_label([c for _, c in order].index(True), numbering)
        longest = max((display_width(t["text"]) for o in q["options"] for t in o["texts"]), default=0)
        q["options_layout"] = "grid" if longest <= 28 and len(order) % 2 == 0 else "list"
    if fact.type == "truefalse":
        q["truth"] = bool(fact.truth)
        q["answer"] = lang.truth(bool(fact.truth))
    return q


def deck_parts(deck: str) -> list[str]:
    return [part.strip() for part in deck.split("::") if part.strip()] or [deck]


# ---------------------------------------------------------------------------
# papers: a student's form and the answer key, from quiz.assemble

# Printed widths in half-em units of the body text (CJK characters count two): an A4 or
# Letter page holds about 100 across its text width, a column of a two-column paper 46.
FULL_WIDTH = 96
COLUMN_WIDTH = 44
OPTION_GAP = 5  # the option's number and the space after it
SHORT_PROMPT = 150  # a prompt up to this wide reads well in a column (about three lines)
SHORT_OPTION = 40  # an option up to this wide fits a column's line


def texts_width(items: list[dict]) -> int:
    """The widest line of some shown texts (a text may hold line breaks)."""
    return max((display_width(line) for t in items for line in t["text"].splitlines() or [""]), default=0)


def option_columns(widths: list[int], room: int) -> int:
    """1, 2 or 4 columns of options: as many as fit their widest option on one line.

    Five short options that fit side by side go on one line (5), as Korean exams print ① … ⑤,
    rather than four and a lonely fifth."""
    widest = max(widths, default=0) + OPTION_GAP
    if len(widths) == 5 and widest * 5 <= room:
        return 5
    for columns in (4, 2):
        if len(widths) >= columns and widest * columns <= room:
            return columns
    return 1


def points_label(lang: Lang, points, key: str = "points_each") -> str:
    """'[2점]' or '[2 pts]' in the primary language: what a question is worth, after its prompt."""
    text = points_text(points)
    word = LABELS.get(lang.primary, LABELS["en"])[key].format(text)
    return word.replace("1 pts", "1 pt").replace("1 points", "1 point") if text == "1" else word


def count_label(lang: Lang, questions: int, total) -> list[dict]:
    """'20문항 · 40점' in each shown language."""
    out, seen = [], set()
    for item in lang.label("questions", questions):
        table = LABELS.get(item["lang"], LABELS["en"])
        points = table["points"].format(points_text(total))
        if points_text(total) == "1":
            points = points.replace("1 points", "1 point")
        words = f"{item['text']} · {points}"
        if questions == 1:
            words = words.replace("1 questions", "1 question")
        if words not in seen:
            seen.add(words)
            out.append({**item, "text": words})
    return out


ROMAN = "Ⅰ Ⅱ Ⅲ Ⅳ Ⅴ Ⅵ Ⅶ Ⅷ Ⅸ Ⅹ".split()


class QuizSet:
    """One quiz as printed: its forms (assembled once), the language shown, and page facts."""

    def __init__(self, project: Project, quiz: Quiz, lang: Lang, deck: FactFile | None = None):
        self.project = project
        self.quiz = quiz
        self.lang = lang
        self.deck = deck  # the fact file of a deck quiz, for its title
        self.forms = assemble(project, quiz)
        self.points_vary = len({q.points for q in self.forms[0].questions}) > 1
        self.titled_sections = len(quiz.sections) > 1 or any(s.title for s in quiz.sections)

    @property
    def lettered(self) -> bool:
        return len(self.forms) > 1

    def form_label(self, form: Form) -> list[dict]:
        return self.lang.label("form", form.letter) if self.lettered else []

    def two_columns(self) -> bool:
        """Two text columns when questions are short: short prompts and options that fit a column."""
        questions = self.forms[0].questions
        short = 0
        for q in questions:
            prompt = texts_width(self.lang.texts(q.fact.prompt))
            options = max((texts_width(self.lang.texts(t)) for t, _ in q.options), default=0)
            if prompt <= SHORT_PROMPT and options <= SHORT_OPTION and not q.fact.image:
                short += 1
        return len(questions) >= 4 and short >= 0.75 * len(questions)

    def title_texts(self) -> list[dict]:
        return self.lang.texts(self.quiz.title)

    def title_text(self) -> str:
        return " / ".join(t["text"] for t in self.title_texts())

    def sections(self) -> list[dict]:
        out = []
        for i, section in enumerate(self.quiz.sections):
            out.append(
                {
                    "index": i,
                    "mark": ROMAN[i] if i < len(ROMAN) else str(i + 1),
                    "title": self.lang.texts(section.title),
                    "each": points_label(self.lang, section.points, "points_per"),
                }
            )
        return out


def paper_question(project: Project, q: Question, qs: QuizSet, room: int) -> dict:
    """What a student's paper shows of one question: never the answer, its explanation, sources or id."""
    fact, lang = q.fact, qs.lang
    view: dict = {
        "number": q.number,
        "type": fact.type,
        "section": q.section,
        "image": data_uri(os.path.join(project.root, fact.image)) if fact.image else "",
        "points": points_label(lang, q.points) if qs.points_vary else "",
        "options": [],
        "columns": 1,
    }
    if fact.type == "cloze":
        numbered = len(cloze_numbers(fact)) > 1
        view["prompt"] = [{**t, "segments": cloze_segments(t["text"], numbered)} for t in lang.texts(fact.text)]
    else:
        view["prompt"] = [{**t, "segments": [{"kind": "text", "text": t["text"]}]} for t in lang.texts(fact.prompt)]
    if fact.type == "choice":
        texts = [lang.texts(text) for text, _ in q.options]
        view["options"] = [{"label": option_label(i, qs.quiz.numbering), "texts": t} for i, t in enumerate(texts)]
        view["columns"] = option_columns([texts_width(t) for t in texts], room)
    return view


def answer_label(q: Question, qs: QuizSet) -> str:
    """The answer as the grid shows it: ③, ○ or ×, or the answer's words."""
    fact = q.fact
    if fact.type == "choice":
        return option_label(q.answer_index or 0, qs.quiz.numbering)
    if fact.type == "truefalse":
        return "○" if fact.truth else "×"
    if fact.type == "cloze":
        blanks = cloze_answers(fact, qs.lang)
        first = [b["texts"][0]["text"] for b in blanks if b["texts"]]
        if len(first) == 1:
            return first[0]
        return " ".join(f"({b['n']}) {t}" for b, t in zip(blanks, first))
    texts = qs.lang.texts(fact.answer)
    return texts[0]["text"] if texts else ""


def key_question(project: Project, q: Question, qs: QuizSet) -> dict:
    """One question in the detailed key: the answer, why, and where it comes from."""
    fact, lang = q.fact, qs.lang
    view = question_view(project, fact, q.number, lang, lambda _fact: list(q.options), qs.quiz.numbering)
    view["image"] = ""  # the key explains; the picture is on the paper
    view["points"] = points_label(lang, q.points, "points")
    view["prompt_brief"] = view["prompt"][:1]
    if fact.type == "choice":
        view["answer_label"] = option_label(q.answer_index or 0, qs.quiz.numbering)
    return view


def grid_view(qs: QuizSet) -> dict:
    """The compact answer grid: per question number, the answer on every form, its points, the total."""
    forms = qs.forms
    rows = []
    vary = False
    for i in range(len(forms[0].questions)):
        cells = [{"text": answer_label(f.questions[i], qs), "kind": f.questions[i].fact.type} for f in forms]
        points = [points_text(f.questions[i].points) for f in forms]
        vary = vary or len(set(points)) > 1
        rows.append({"number": i + 1, "cells": cells, "points": points})
    size = 10 if len(rows) > 12 else len(rows) or 1
    blocks = [rows[i : i + size] for i in range(0, len(rows), size)]
    wide = any(len(c["text"]) > 6 for r in rows for c in r["cells"])
    return {
        "forms": [{"letter": f.letter, "label": qs.lang.label("form", f.letter)} for f in forms],
        "blocks": blocks,
        "points_per_form": vary,
        "total": points_text(forms[0].total),
        "wide": wide,
    }


def paper_size(paper: str) -> str:
    return {"a4": "A4", "letter": "letter"}.get(paper, "A4")


def environment(project: Project) -> jinja2.Environment:
    env = templating.environment(project.root)
    env.filters["css_string"] = css_string
    return env


class Pages:
    """Renders every page of a build into bytes; both the HTML and the PDF writer use it."""

    def __init__(self, project: Project, lang: str = "both", epoch: int | None = None):
        self.project = project
        self.lang = Lang(project, lang)
        self.choice = lang
        self.env = environment(project)
        self.css, self.warnings = templating.stylesheet(self.env)
        self.built = ""
        if epoch is not None:
            moment = datetime.datetime.fromtimestamp(epoch, tz=datetime.timezone.utc)
            self.built = moment.strftime("%Y-%m-%d")

    def common(self, lang: Lang | None = None, paper: str = "a4") -> dict:
        lang = lang or self.lang
        return {
            "css": self.css,
            "page_lang": lang.primary,
            "langs": list(lang.shown),
            "L": lang.labels(),
            "project_title": self.project.title,
            "built": self.built,
            "paper_size": paper_size(paper),
        }

    def deck_context(self, fact_file: FactFile) -> dict:
        """What every per-deck page shows about its deck (title parts, language, running header)."""
        parts = deck_parts(fact_file.deck)
        return {
            "deck": fact_file.deck,
            "deck_parts": parts,
            "deck_lang": guess_lang(fact_file.deck, self.project.languages),
            "running_left": " › ".join(parts),
        }

    def render(self, template: str, lang: Lang | None = None, paper: str = "a4", **context) -> bytes:
        text = templating.render(self.env, template, **self.common(lang, paper), **context)
        return text.encode("utf-8")

    # -- quizzes ----------------------------------------------------------------------

    def quiz_set(self, quiz: Quiz, deck: FactFile | None = None) -> QuizSet:
        """The quiz with its language: --lang (when not 'both') wins over the quiz file's own `lang`."""
        choice = self.choice if self.choice != "both" else quiz.lang
        lang = self.lang if choice == self.choice else Lang(self.project, choice)
        return QuizSet(self.project, quiz, lang, deck)

    def quiz_context(self, qs: QuizSet) -> dict:
        quiz, lang = qs.quiz, qs.lang
        deck = self.deck_context(qs.deck) if qs.deck is not None else {}
        title = " › ".join(deck["deck_parts"]) if deck else qs.title_text()
        return {
            **deck,
            "is_deck": bool(deck),
            "quiz_title": qs.title_texts(),
            "date": quiz.date,
            "minutes": lang.label("minutes", quiz.minutes) if quiz.minutes else [],
            "instructions": lang.texts(quiz.instructions),
            "count": count_label(lang, len(qs.forms[0].questions), qs.forms[0].total),
            "total": points_text(qs.forms[0].total),
            "header": [{"box": box, "label": lang.label(box)} for box in quiz.header],
            "running_left": title,
        }

    def paper(self, qs: QuizSet, form: Form) -> bytes:
        """A student's paper: header, then the questions; no answer anywhere in the file."""
        two = qs.two_columns()
        room = (COLUMN_WIDTH if two else FULL_WIDTH) - OPTION_GAP
        questions = [paper_question(self.project, q, qs, room) for q in form.questions]
        form_text = qs.lang.label_text("form", form.letter) if qs.lettered else ""
        context = self.quiz_context(qs)
        return self.render(
            "quiz.html.j2",
            lang=qs.lang,
            paper=qs.quiz.paper,
            **context,
            form=form.letter if qs.lettered else "",
            form_label=qs.form_label(form),
            sections=qs.sections() if qs.titled_sections else [],
            questions=questions,
            two_columns=two,
            running_right=form_text,
            title=" · ".join(x for x in (context["running_left"], form_text) if x),
        )

    def key(self, qs: QuizSet) -> bytes:
        """The answer key: the grid of every form's answers first, then each form's answers explained."""
        forms = [
            {
                "letter": f.letter,
                "label": qs.form_label(f),
                "heading": qs.lang.label("form_key", f.letter) if qs.lettered else qs.lang.label("answers"),
                "questions": [key_question(self.project, q, qs) for q in f.questions],
            }
            for f in qs.forms
        ]
        context = self.quiz_context(qs)
        key_text = qs.lang.label_text("key")
        return self.render(
            "key.html.j2",
            lang=qs.lang,
            paper=qs.quiz.paper,
            **context,
            grid=grid_view(qs),
            forms=forms,
            lettered=qs.lettered,
            running_right=key_text,
            title=f"{context['running_left']} · {key_text}",
        )

    # -- study sheets and the index ------------------------------------------------------

    def study(self, fact_file: FactFile) -> bytes:
        facts = []
        cited: dict[str, int] = {}
        for i, fact in enumerate(fact_file.facts, 1):
            q = question_view(self.project, fact, i, self.lang, option_order, default_numbering(self.lang.primary))
            if fact.type == "cloze":
                q["filled"] = [
                    {**item, "segments": filled_segments(item["text"])} for item in self.lang.texts(fact.text)
                ]
            for c in fact.citations:  # numbered in order of first use, claims and evidence alike
                if c.source in self.project.sources:
                    cited.setdefault(c.source, len(cited) + 1)
            q["cite"] = cited.get(fact.source, 0)  # the primary evidence's number, beside the fact
            q["cites"] = [] if fact.single_source else [{**c, "n": cited[c["source"]["id"]]} for c in q["citations"]]
            facts.append(q)
        sources = [{"n": n, **source_view(self.project, sid)} for sid, n in cited.items()]  # type: ignore[dict-item]
        deck = self.deck_context(fact_file)
        study_text = self.lang.label_text("study", sep=" / ")
        return self.render(
            "study.html.j2",
            **deck,
            facts=facts,
            sources=sources,
            count=self.lang.label("facts", len(facts)),
            running_right=study_text,
            title=f"{deck['deck_parts'][-1]} · {study_text}",
        )

    def index(self, quizzes: list[dict], entries: list[dict]) -> bytes:
        return self.render(
            "index.html.j2",
            quizzes=quizzes,
            entries=entries,
            title=self.project.title or self.lang.label_text("contents", sep=" / "),
        )


def filled_segments(text: str) -> list[dict]:
    """Cloze text with the hidden words shown (emphasised) instead of blanks: for study sheets."""
    return [
        {"kind": "text", "text": part} if isinstance(part, str) else {"kind": "hidden", "text": part.hidden}
        for part in cloze.segments(text)
    ]


# ---------------------------------------------------------------------------
# which pages a quiz makes, and where they go


QUIZZES_DIR = "quizzes"


def quiz_page_names(quiz: Quiz) -> list[tuple[str, str]]:
    """[(kind, path)] of a quiz file's pages, relative to --out: each form's paper, then the key."""
    folder = f"{QUIZZES_DIR}/{quiz.stem}"
    names = [(f"paper:{letter}", f"{folder}/{quiz.stem}-{letter}.html") for letter in quiz.letters]
    return names + [("key", f"{folder}/{quiz.stem}-key.html")]


def quiz_pages(pages: Pages, quiz: Quiz) -> list[tuple[str, bytes, str]]:
    """[(path, bytes, paper)] of a quiz file: `<stem>-A.html` … and `<stem>-key.html`, under quizzes/<stem>/."""
    qs = pages.quiz_set(quiz)
    out = []
    names = dict(quiz_page_names(quiz))
    for form in qs.forms:
        out.append((names[f"paper:{form.letter}"], pages.paper(qs, form), quiz.paper))
    out.append((names["key"], pages.key(qs), quiz.paper))
    return out


def deck_quiz_of(pages: Pages, fact_file: FactFile, stem: str, forms: int, seed: str) -> QuizSet:
    quiz = deck_quiz(fact_file, stem, pages.project.languages, forms, seed)
    return pages.quiz_set(quiz, deck=fact_file)


def deck_quiz_pages(pages: Pages, fact_file: FactFile, stem: str, forms: int, seed: str) -> list[tuple[str, bytes]]:
    """A deck's quiz: `<stem>-quiz.html` (or `-quiz-A.html` … with forms) and its key `<stem>-key.html`."""
    qs = deck_quiz_of(pages, fact_file, stem, forms, seed)
    out = []
    for form in qs.forms:
        name = f"{stem}-quiz-{form.letter}.html" if qs.lettered else f"{stem}-quiz.html"
        out.append((name, pages.paper(qs, form)))
    out.append((f"{stem}-key.html", pages.key(qs)))
    return out
