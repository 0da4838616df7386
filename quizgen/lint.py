"""Teaching-quality lint: warnings about questions that do not teach well.

Each rule has a name; a fact silences one with `lint: {ignore: [rule]}` and a
project with `lint: {ignore: [rule]}` in quizgen.yaml.  `quizgen check --lint`
prints the warnings; `--strict` makes them errors.  The rules are heuristics
chosen to have few false alarms on real decks (the shipped decks pass --strict).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import defaultdict

from . import cloze
from .errors import Problem
from .model import NEUTRAL, Fact, Project
from .present import shuffles

RULES = {
    "answer-in-question": "the answer or a wrong option appears verbatim in the question",
    "duplicate-distractor": "two wrong options are the same or nearly the same",
    "distractor-like-answer": "a wrong option differs from the answer only in spacing or case",
    "option-length": "the answer is much longer or shorter than every wrong option",
    "all-of-the-above": "'all/none of the above' makes sense only in a fixed order (`options:`)",
    "near-duplicate-fact": "another fact asks the same thing in other words",
    "not-nfc": "text is not in Unicode NFC (composed Hangul)",
    "mixed-width-punctuation": "full-width and half-width punctuation mixed in one text",
    "quote-missing-answer": "the quote does not contain the key term of the answer",
    "missing-language": "a text lacks one of the project's languages",
}

ABOVE = re.compile(
    r"\b(all|none|both|neither) of the (above|options)\b|위의? 모두|모두 정답|모두 맞|정답 없음|위 보기 모두|해당 없음",
    re.I,
)
FULL_WIDTH_PUNCT = re.compile(r"[\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65\u3001\u3002]")
HALF_WIDTH_PUNCT = re.compile(r"[!-/:-@\[-`{-~]")
WORD = re.compile(r"[\w\u00b7.-]+", re.U)
STOPWORDS = frozenset(
    "the a an of to in on for and or is are was were be been does do did has have had which what who whom whose "
    "when where why how its it this that these those with by from as at into than then so not no".split()
)


def squash(text: str) -> str:
    """Case, spacing and thousands separators do not make two options different."""
    return re.sub(r"[\s,]+", "", unicodedata.normalize("NFC", text)).casefold()


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFC", text).casefold()
    return re.sub(r"\s+", " ", re.sub(r"(?<=\d),(?=\d{3})", "", text)).strip()


class Haystack:
    """A text prepared once for many `appears` look-ups: normalised, its spaces dropped, and a map
    from the spaceless text back to the normalised one for the word-boundary checks."""

    __slots__ = ("norm", "flat", "pos")

    def __init__(self, text: str):
        self.norm = _norm(text)
        self.pos = [i for i, ch in enumerate(self.norm) if ch != " "]
        self.flat = self.norm.replace(" ", "")


_WORD_CHAR = re.compile(r"\w")


def appears(needle: str, haystack: str | Haystack) -> bool:
    """`needle` occurs in `haystack` as a word (Latin letters, digits) or as a substring (Hangul,
    where particles attach to the word: 전문가 in 전문가를).  Case, spacing and thousands separators
    are ignored.

    Linear: a plain substring search over the spaceless text (no regex built per needle, and
    the haystack prepared once per fact), then the boundary checks at each occurrence."""
    if not isinstance(haystack, Haystack):
        haystack = Haystack(haystack)
    n = _norm(needle)
    flat = n.replace(" ", "")
    if len(flat) < 2:
        return False
    left = n[0].isascii() and n[0].isalnum()
    right = n[-1].isascii() and n[-1].isalnum()
    norm, pos = haystack.norm, haystack.pos
    k = haystack.flat.find(flat)
    while k >= 0:
        i, j = pos[k], pos[k + len(flat) - 1]
        if (not left or i == 0 or not _WORD_CHAR.match(norm[i - 1])) and (
            not right or j + 1 >= len(norm) or norm[j + 1] not in _ASCII_ALNUM
        ):
            return True
        k = haystack.flat.find(flat, k + 1)
    return False


_ASCII_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
NEAR_MAX_CHARS = 300  # difflib's ratio is quadratic: longer options are compared for equality only


def near(a: str, b: str) -> bool:
    """Nearly the same words; options that differ in their numbers are different answers."""
    return (
        6 < len(a) <= NEAR_MAX_CHARS
        and len(b) <= NEAR_MAX_CHARS
        and re.findall(r"\d+", a) == re.findall(r"\d+", b)
        and difflib.SequenceMatcher(None, squash(a), squash(b)).ratio() >= 0.9
    )


def plain(text: str) -> str:
    """Cloze markers removed: `{{c1::term::hint}}` reads as `term`."""
    return cloze.replace(text, lambda d: d.hidden)


class Linter:
    def __init__(self, project: Project):
        self.project = project
        self.problems: list[Problem] = []

    def warn(self, fact: Fact, key: str, rule: str, message: str) -> None:
        self.warn_at(fact, fact.line_of(key), rule, message)

    def warn_at(self, fact: Fact, line: int, rule: str, message: str) -> None:
        if rule in fact.lint_ignore or rule in self.project.lint_ignore:
            return
        self.problems.append(Problem(fact.path, line, message, rule=rule, severity="warning"))

    # -- per fact ---------------------------------------------------------------------

    def fact(self, fact: Fact) -> None:
        self.text_rules(fact)
        if fact.type in ("basic", "choice"):
            self.answer_in_question(fact)
        if fact.type == "choice":
            self.options(fact)
        if fact.type == "cloze":
            self.cloze_visible(fact)
        if any(c.quote for c in fact.evidence):
            self.quote_supports(fact)

    def text_rules(self, fact: Fact) -> None:
        langs = self.project.languages
        for name, text in fact.texts():
            key = name.split("[")[0]
            for lang, value in text.items:
                if unicodedata.normalize("NFC", value) != value:
                    self.warn(fact, key, "not-nfc", f"{name}: text is not NFC-normalized; save it composed (NFC)")
                if FULL_WIDTH_PUNCT.search(value) and HALF_WIDTH_PUNCT.search(plain(value)):
                    ch = FULL_WIDTH_PUNCT.search(value).group(0)
                    where = f"{name}.{lang}" if lang else name
                    self.warn(
                        fact,
                        key,
                        "mixed-width-punctuation",
                        f"{where}: full-width {ch!r} mixed with half-width punctuation",
                    )
            present = text.langs()
            if NEUTRAL not in present and len(langs) > 1:
                missing = [lang for lang in langs if lang not in present]
                if missing:
                    self.warn(fact, key, "missing-language", f"{name}: no {', '.join(missing)} text")
        for citation in fact.citations:
            if citation.quote and unicodedata.normalize("NFC", citation.quote) != citation.quote:
                self.warn_at(
                    fact, citation.line, "not-nfc", "quote: text is not NFC-normalized; save it composed (NFC)"
                )

    def answer_in_question(self, fact: Fact) -> None:
        candidates = [("answer", fact.answer)] + [(f"wrong[{i}]", w) for i, w in enumerate(fact.wrong)]
        for lang, asked in fact.question.items:  # type: ignore[union-attr]
            question = Haystack(asked)
            for name, text in candidates:
                value = text.get(lang) if lang else text.values()[0]
                if value and appears(value, question):
                    what = "the answer" if name == "answer" else f"a wrong option ({name})"
                    self.warn(
                        fact,
                        "question",
                        "answer-in-question",
                        f"question{'.' + lang if lang else ''}: contains {what} {value!r} verbatim",
                    )
                    break

    def cloze_visible(self, fact: Fact) -> None:
        for lang, value in fact.text.items:  # type: ignore[union-attr]
            outside = Haystack(cloze.replace(value, lambda d: " "))
            for hidden in dict.fromkeys(d.hidden for d in cloze.scan(value)):
                if appears(hidden, outside):
                    self.warn(
                        fact,
                        "text",
                        "answer-in-question",
                        f"text{'.' + lang if lang else ''}: the hidden {hidden!r} is also visible",
                    )

    def options(self, fact: Fact) -> None:
        langs = self.project.languages
        where = "options" if fact.options else "wrong"  # the line of the list the author wrote
        for lang in langs:
            answer = fact.answer.get(lang) or ""  # type: ignore[union-attr]
            wrong = [w.get(lang) or "" for w in fact.wrong]
            for i, w in enumerate(wrong):
                if w != answer and squash(w) == squash(answer):
                    self.warn(
                        fact,
                        where,
                        "distractor-like-answer",
                        f"wrong[{i}].{lang}: {w!r} differs from the answer only in spacing or case",
                    )
                for j in range(i):
                    if squash(w) == squash(wrong[j]) or near(w, wrong[j]):
                        self.warn(
                            fact,
                            where,
                            "duplicate-distractor",
                            f"wrong[{i}].{lang}: nearly the same as wrong[{j}] ({w!r} / {wrong[j]!r})",
                        )
            for text in [answer, *wrong] if shuffles(fact) else ():  # a fixed order may say "all of the above"
                if ABOVE.search(text):
                    self.warn(
                        fact,
                        where,
                        "all-of-the-above",
                        f"{lang}: {text!r}: options are shuffled, so 'all/none of the above' has no meaning",
                    )
            lengths = [len(w) for w in wrong if w]
            if lengths and len(answer) >= 12 and len(answer) > 1.7 * max(lengths):
                self.warn(
                    fact,
                    "answer",
                    "option-length",
                    f"answer.{lang}: {len(answer)} characters against at most {max(lengths)} for the wrong "
                    "options; the longest option is easy to guess",
                )
            elif lengths and min(lengths) >= 12 and len(answer) * 2.5 < min(lengths):
                self.warn(
                    fact,
                    "answer",
                    "option-length",
                    f"answer.{lang}: {len(answer)} characters against at least {min(lengths)} for the wrong "
                    "options; the odd one out is easy to guess",
                )
            if all(t.langs() == (NEUTRAL,) for t in [fact.answer, *fact.wrong]):
                break  # language-neutral options: one pass is enough

    def quote_supports(self, fact: Fact) -> None:
        """An evidence quote must contain a key term (a word of two or more characters) of the answer.

        Claim quotes are exempt: a correction card quotes the article saying something else.
        """
        terms: list[str] = []
        if fact.type in ("basic", "choice"):
            terms = [v for v in fact.answer.values()]  # type: ignore[union-attr]
        elif fact.type == "cloze":
            terms = [d.hidden for v in fact.text.values() for d in cloze.scan(v)]  # type: ignore[union-attr]
        if not terms:
            return
        words = [w for t in terms for w in WORD.findall(t)]
        quotes = [c for c in fact.evidence if c.quote]
        haystacks = [Haystack(c.quote) for c in quotes]
        if not any(appears(w, h) for w in dict.fromkeys(words) for h in haystacks):
            shown = " / ".join(dict.fromkeys(terms))
            self.warn_at(
                fact,
                quotes[0].line,
                "quote-missing-answer",
                f"quote: does not contain the answer's key term ({shown!r}); does it support the fact?",
            )

    # -- across facts -----------------------------------------------------------------

    def near_duplicates(self, facts: list[Fact]) -> None:
        """Same question in other words: token-set overlap, found through an index of rare tokens."""
        lang = self.project.languages[-1]
        tokens: dict[str, frozenset[str]] = {}
        index: dict[str, list[int]] = defaultdict(list)
        for i, fact in enumerate(facts):
            text = plain(fact.prompt.get(lang) or "")
            toks = frozenset(
                w for w in (x.casefold().strip(".-") for x in WORD.findall(text)) if len(w) > 1 and w not in STOPWORDS
            )
            tokens[fact.id] = toks
            for t in toks:
                index[t].append(i)
        limit = max(20, len(facts) // 50)
        seen: set[tuple[int, int]] = set()
        for postings in index.values():
            if len(postings) > limit:
                continue
            for a in range(len(postings)):
                for b in range(a):
                    i, j = postings[b], postings[a]
                    if (i, j) in seen:
                        continue
                    seen.add((i, j))
                    ta, tb = tokens[facts[i].id], tokens[facts[j].id]
                    if len(ta) >= 4 and len(tb) >= 4 and len(ta & tb) / len(ta | tb) >= 0.75:
                        self.warn(
                            facts[j],
                            "id",
                            "near-duplicate-fact",
                            f"asks nearly the same as {facts[i].id!r} ({facts[i].path}:{facts[i].line})",
                        )


def lint(project: Project) -> list[Problem]:
    linter = Linter(project)
    facts = project.facts
    for fact in facts:
        linter.fact(fact)
    linter.near_duplicates(facts)
    problems = linter.problems
    for rule in set(project.lint_ignore).union(*(f.lint_ignore for f in facts)) - set(RULES):
        problems.append(
            Problem(
                "quizgen.yaml",
                0,
                f"unknown lint rule {rule!r} in lint.ignore (rules: {', '.join(RULES)})",
                rule="unknown-rule",
                severity="warning",
            )
        )
    return sorted(problems, key=Problem.sort_key)
