"""Presentation that several writers share: option order, option labels, truth words, interface words.

Writers never import each other; what a card, a paper and an LMS export must agree on
(the order of a choice fact's options, how options are numbered, what "true" is called
in each language) lives here, in one neutral place.  Nothing here knows about any
output format.
"""

from __future__ import annotations

import random
import re

from . import ids
from .model import Fact, FactFile, Text

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# Interface words, per language.  Languages without an entry fall back to English.
LABELS = {
    "ko": {
        "name": "이름", "class": "반", "date": "날짜",
        "key": "정답", "explanation": "해설", "source": "출처",
        "form": "{}형", "questions": "{}문항", "quiz": "퀴즈", "study": "학습지",
        "sources": "출처 목록", "package": "Anki 덱", "facts": "{}개 사실", "contents": "목차",
        "built": "만든 날짜", "claim": "기사의 주장", "evidence": "근거",
        "number": "번호", "score": "점수", "points": "{}점", "points_each": "[{}점]",
        "points_per": "(각 {}점)", "minutes": "{}분",
        "time": "시간", "total": "합계", "pts": "배점", "grid": "빠른 정답표", "form_key": "{}형 해설",
        "answers": "정답과 해설", "papers": "시험지", "decks": "덱별 퀴즈와 학습지",
    },
    "en": {
        "name": "Name", "class": "Class", "date": "Date",
        "key": "Answer key", "explanation": "Explanation", "source": "Source",
        "form": "Form {}", "questions": "{} questions", "quiz": "Quiz", "study": "Study sheet",
        "sources": "Sources", "package": "Anki deck", "facts": "{} facts", "contents": "Contents",
        "built": "Built", "claim": "Article's claim", "evidence": "Evidence",
        "number": "No.", "score": "Score", "points": "{} points", "points_each": "[{} pts]",
        "points_per": "({} pts each)", "minutes": "{} minutes",
        "time": "Time", "total": "Total", "pts": "Points", "grid": "Answers at a glance",
        "form_key": "Form {}: answers explained",
        "answers": "Answers and explanations", "papers": "Papers",
        "decks": "Decks: quizzes and study sheets",
    },
}  # fmt: skip

TRUTH_LABELS = {
    "ko": ("참", "거짓"),
    "en": ("True", "False"),
    "ja": ("正しい", "誤り"),
    "zh": ("对", "错"),
    "fr": ("Vrai", "Faux"),
    "de": ("Wahr", "Falsch"),
    "es": ("Verdadero", "Falso"),
}

_WIDE = re.compile(r"[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]")


def truth_words(lang: str) -> tuple[str, str]:
    """(true, false) in `lang`, English when quizgen has no words for it."""
    return TRUTH_LABELS.get(lang, TRUTH_LABELS["en"])


def role_words(role: str, languages) -> str:
    """A citation's role ("claim" or "evidence") in each of `languages`, joined as "기사의 주장 · Article's claim"."""
    words = [LABELS.get(lang, LABELS["en"])[role] for lang in languages if lang]
    return " · ".join(dict.fromkeys(words))


def option_order(fact: Fact) -> list[tuple[Text, bool]]:
    """A choice fact's options as (text, correct), in its one stable order.

    That is the order of `options:` as written when the fact lists them (합답형 items, "both A
    and B"), else an order seeded by the fact id.  Cards, one-form papers and exports all use
    this order, so a learner and a class see the same options in the same places."""
    if fact.options:
        return [(text, text == fact.answer) for text in fact.options]
    options = [(fact.answer, True)] + [(w, False) for w in fact.wrong]
    random.Random(f"quizgen-options:{fact.id}").shuffle(options)
    return options  # type: ignore[return-value]


def shuffles(fact: Fact) -> bool:
    """Whether a form may reorder this fact's options: `shuffle:` when written, else not for `options:`."""
    return fact.shuffle if fact.shuffle is not None else not fact.options


def shuffled_options(fact: Fact, seed: str) -> list[tuple[Text, bool]]:
    """The options in an order drawn from `seed` (a form of a printed quiz), or the stable order
    for a fact that does not shuffle."""
    options = option_order(fact)
    if shuffles(fact):
        random.Random(seed).shuffle(options)
    return options


# Option numbering on papers, keys and exports: ① ② ③ (Korean exams) or Ⓐ Ⓑ Ⓒ.
CIRCLED_DIGITS = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
CIRCLED_LETTERS = "".join(chr(0x24B6 + i) for i in range(26))  # Ⓐ … Ⓩ


def default_numbering(lang: str) -> str:
    """circled-digits for a Korean primary language (as Korean exams number choices), else letters."""
    return "circled-digits" if lang == "ko" else "letters"


def option_label(index: int, numbering: str) -> str:
    """The printed label of option `index` (0-based): ③ or Ⓒ; past the circled set, (21) or (AA)."""
    if numbering == "circled-digits":
        return CIRCLED_DIGITS[index] if index < len(CIRCLED_DIGITS) else f"({index + 1})"
    if index < len(CIRCLED_LETTERS):
        return CIRCLED_LETTERS[index]
    return f"({LETTERS[index // 26 - 1]}{LETTERS[index % 26]})"


def points_text(points: float) -> str:
    """2 -> '2', 1.5 -> '1.5', 0.1 + 0.2 -> '0.3': points as a teacher writes them."""
    value = round(float(points), 4)
    return str(int(value)) if value.is_integer() else f"{value:g}"


def display_width(text: str) -> int:
    """Rough printed width in half-em units: CJK characters count twice."""
    return len(text) + len(_WIDE.findall(text))


def output_stems(files: tuple[FactFile, ...]) -> dict[str, str]:
    """Fact file path -> output stem: 'decks/moe.yaml' -> 'moe', 'decks/unit/a.yaml' -> 'unit-a'; never two alike."""
    stems: dict[str, str] = {}
    used: set[str] = set()
    last: dict[str, int] = {}  # per base, the number tried last: many equal stems stay linear
    for f in sorted(files, key=lambda f: f.path):
        base = ids.file_stem(f.path)  # project.check_page_names bounds its length
        stem, n = base, last.get(base, 1)
        while stem in used:
            n += 1
            stem = f"{base}-{n}"
        last[base] = n
        used.add(stem)
        stems[f.path] = stem
    return stems
