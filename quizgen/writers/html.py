"""Printable HTML quizzes: one self-contained page per fact file, an answer key, study sheets, an index.

Every page is one file that needs nothing else: the CSS is inlined, images are
data URIs, and a Content-Security-Policy forbids scripts and every network
request, so a handout opened from a USB stick prints the same as on the build
machine.  Fact text is data, never markup: the templates are rendered with
Jinja2 autoescaping, and text reaches them as plain strings (cloze blanks as
structured segments, not HTML), so the writer itself never builds markup
from fact text.

A project may override any template (quiz.html.j2, study.html.j2,
index.html.j2, _base.html.j2, _macros.html.j2, quiz.css) by putting a file of
the same name in its own templates/ folder.

Output bytes depend only on the project, the options and SOURCE_DATE_EPOCH:
question and option order come from seeded `random.Random` instances (string
seeds hash through SHA-512, the same on every platform and Python version).
"""

from __future__ import annotations

import base64
import datetime
import mimetypes
import os
import random
import re

import jinja2
from markupsafe import Markup

from .. import ids, templating
from ..errors import QuizgenError
from ..model import CLOZE_RE, NEUTRAL, Fact, FactFile, Project, Text
from ..present import (
    LABELS,
    LETTERS,
    TRUTH_LABELS,
    display_width,
    option_order,
    output_stems,
    shuffled_options,
    truth_words,
)
from . import Options

FORMAT = "html"
DESCRIPTION = "Printable HTML quizzes with answer keys, study sheets and an index"


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
    out, pos = [], 0
    for m in CLOZE_RE.finditer(text):
        if m.start() > pos:
            out.append({"kind": "text", "text": text[pos : m.start()]})
        hidden = m.group(2)
        width = min(max(4.0, display_width(hidden) * 0.55 + 2), 16.0)
        out.append(
            {
                "kind": "blank",
                "n": int(m.group(1)) if numbered else 0,
                "hint": (m.group(3) or "").strip(),
                "width": f"{width:.1f}",
            }
        )
        pos = m.end()
    if pos < len(text):
        out.append({"kind": "text", "text": text[pos:]})
    return out


def cloze_numbers(fact: Fact) -> set[int]:
    return {int(m.group(1)) for _, v in fact.text.items for m in CLOZE_RE.finditer(v)}  # type: ignore[union-attr]


def cloze_answers(fact: Fact, lang: Lang) -> list[dict]:
    """[{n, texts}] for each deletion number, the hidden words in each shown language."""
    numbers = sorted(cloze_numbers(fact))
    out = []
    for n in numbers:
        per_lang = []
        for item in lang.texts(fact.text):
            hidden = [m.group(2).strip() for m in CLOZE_RE.finditer(item["text"]) if int(m.group(1)) == n]
            if hidden:
                per_lang.append({**item, "text": " … ".join(dict.fromkeys(hidden))})
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


def question_view(project: Project, fact: Fact, number: int, lang: Lang, options_order) -> dict:
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
            {"letter": LETTERS[i], "texts": lang.texts(text), "correct": correct}
            for i, (text, correct) in enumerate(order)
        ]
        q["answer_letter"] = LETTERS[[c for _, c in order].index(True)]
        longest = max((display_width(t["text"]) for o in q["options"] for t in o["texts"]), default=0)
        q["options_layout"] = "grid" if longest <= 28 and len(order) % 2 == 0 else "list"
    if fact.type == "truefalse":
        q["truth"] = bool(fact.truth)
        q["answer"] = lang.truth(bool(fact.truth))
    return q


def deck_parts(deck: str) -> list[str]:
    return [part.strip() for part in deck.split("::") if part.strip()] or [deck]


# ---------------------------------------------------------------------------
# rendering


def environment(project: Project) -> jinja2.Environment:
    env = templating.environment(project.root)
    env.filters["css_string"] = css_string
    return env


class Pages:
    def __init__(self, project: Project, options: Options):
        self.project = project
        self.options = options
        self.lang = Lang(project, options.lang or "both")
        self.env = environment(project)
        self.css, warnings = templating.stylesheet(self.env)
        options.report.setdefault("warnings", []).extend(warnings)
        self.built = ""
        if options.epoch is not None:
            moment = datetime.datetime.fromtimestamp(options.epoch, tz=datetime.timezone.utc)
            self.built = moment.strftime("%Y-%m-%d")

    def common(self) -> dict:
        return {
            "css": self.css,
            "page_lang": self.lang.primary,
            "langs": list(self.lang.shown),
            "L": self.lang.labels(),
            "project_title": self.project.title,
            "built": self.built,
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

    def render(self, template: str, **context) -> bytes:
        text = templating.render(self.env, template, **self.common(), **context)
        return text.encode("utf-8")

    def quiz(self, fact_file: FactFile, form: str) -> bytes:
        """One quiz page (form '' when there is only one form): questions, then the answer key."""
        facts = list(fact_file.facts)
        if form:
            seed = self.options.seed
            random.Random(f"quizgen-form:{seed}:{form}:{fact_file.path}").shuffle(facts)

            def order(fact: Fact):
                return shuffled_options(fact, f"quizgen-form-options:{seed}:{form}:{fact.id}")
        else:
            order = option_order  # the same order as the Anki cards, so deck and handout agree
        questions = [question_view(self.project, fact, i, self.lang, order) for i, fact in enumerate(facts, 1)]
        form_label = self.lang.label("form", form) if form else []
        deck = self.deck_context(fact_file)
        parts = deck["deck_parts"]
        form_text = self.lang.label_text("form", form) if form else ""
        return self.render(
            "quiz.html.j2",
            **deck,
            form=form,
            form_label=form_label,
            questions=questions,
            count=self.lang.label("questions", len(questions)),
            running_right=form_text,
            running_key=" · ".join(x for x in (form_text, self.lang.label_text("key")) if x),
            title=" · ".join(x for x in (parts[-1], self.lang.label_text("quiz", sep=" / "), form_text) if x),
        )

    def study(self, fact_file: FactFile) -> bytes:
        facts = []
        cited: dict[str, int] = {}
        for i, fact in enumerate(fact_file.facts, 1):
            q = question_view(self.project, fact, i, self.lang, option_order)
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

    def index(self, entries: list[dict]) -> bytes:
        return self.render(
            "index.html.j2", entries=entries, title=self.project.title or self.lang.label_text("contents", sep=" / ")
        )


def filled_segments(text: str) -> list[dict]:
    """Cloze text with the hidden words shown (emphasised) instead of blanks: for study sheets."""
    out, pos = [], 0
    for m in CLOZE_RE.finditer(text):
        if m.start() > pos:
            out.append({"kind": "text", "text": text[pos : m.start()]})
        out.append({"kind": "hidden", "text": m.group(2)})
        pos = m.end()
    if pos < len(text):
        out.append({"kind": "text", "text": text[pos:]})
    return out


PARALLEL_MIN_FACTS = 5000  # below this, forking workers costs more than rendering
_JOB: dict = {}  # what forked workers read: set just before the pool starts (copy-on-write, never pickled)


def render_file(index: int) -> tuple[list[str], dict]:
    """Write one fact file's quiz form(s) and study sheet; return the names and its index entry."""
    job = _JOB
    pages, out, project = job["pages"], job["out"], job["project"]
    fact_file = job["files"][index]
    stem = job["stems"][fact_file.path]
    names, quizzes = [], []

    def save(name: str, data: bytes) -> None:
        with open(os.path.join(out, name), "wb") as fh:
            fh.write(data)
        names.append(name)

    for form in job["forms"]:
        name = f"{stem}-quiz-{form}.html" if form else f"{stem}-quiz.html"
        save(name, pages.quiz(fact_file, form))
        quizzes.append({"href": name, "form": form, "label": pages.lang.label("form", form) if form else []})
    study = f"{stem}-study.html"
    save(study, pages.study(fact_file))
    package = ids.slug(fact_file.deck.split("::")[0]) + ".apkg"
    entry = {
        "deck": fact_file.deck,
        "deck_parts": deck_parts(fact_file.deck),
        "deck_lang": guess_lang(fact_file.deck, project.languages),
        "path": fact_file.path,
        "count": pages.lang.label("facts", len(fact_file.facts)),
        "quizzes": quizzes,
        "study": study,
        "package": package if job["apkg_built"] or os.path.exists(os.path.join(out, package)) else "",
    }
    return names, entry


def write(project: Project, out: str, options: Options) -> list[str]:
    files = sorted(project.files, key=lambda f: (f.deck, f.path))
    # Link each deck's Anki package when this build writes one: the apkg writer either ran already
    # (--format all runs it first) or the build says it will (options.extra["formats"]).
    _JOB.update(
        pages=Pages(project, options),
        out=out,
        project=project,
        files=files,
        stems=output_stems(project.files),
        forms=[""] if options.forms <= 1 else list(LETTERS[: options.forms]),
        apkg_built="apkg" in (options.extra.get("formats") or ()),
    )
    try:
        workers = min(os.cpu_count() or 1, len(files))
        if workers > 1 and sum(len(f.facts) for f in files) >= PARALLEL_MIN_FACTS:
            from concurrent.futures import ProcessPoolExecutor
            from multiprocessing import get_context

            with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork")) as pool:
                results = list(pool.map(render_file, range(len(files))))
        else:
            results = []
            for i, fact_file in enumerate(files):
                if options.progress:
                    options.progress(f"html: {fact_file.path}")
                results.append(render_file(i))
        written = [name for names, _ in results for name in names]
        with open(os.path.join(out, "index.html"), "wb") as fh:
            fh.write(_JOB["pages"].index([entry for _, entry in results]))
        return written + ["index.html"]
    finally:
        _JOB.clear()
