"""Quiz files (`quizzes/*.yaml`): what a quiz is, checked like a fact file, and assembled into forms.

This module is the one place that says what a quiz is.  Printed papers, answer keys, answer
sheets and LMS exports all take their questions from `assemble(project, quiz)`, so they can
never disagree about which fact is question 7 on form B, what it is worth, or which option is ③.

A quiz file is validated with the same `Checker` as fact files: every problem in one run,
each at its line, with a did-you-mean for keys, deck names, tags, types, ids and files.
Which facts a section may ask is settled here, at validation (`Section.facts`), so a filter
that matches nothing or a `pick` larger than what matches is an error before anything is
written, and assembly is a pure, seeded function of the validated model:

- `pick` draws once per quiz (seeded by `seed` and the section), so every form asks the same
  questions; forms differ only in question order within each section and in option order.
- A fact matched by two sections belongs to the first (it is asked once, there).
- A one-form quiz keeps file order (the project's order: fact files by path, facts as written)
  and the facts' stable option order, the same as the Anki cards.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from . import ids, spec
from .errors import Problem
from .loader import inside, load_yaml
from .model import (
    FILTER_KINDS,
    HEADER_BOXES,
    NEUTRAL,
    NUMBERINGS,
    PAPERS,
    TYPES,
    Fact,
    FactFile,
    Project,
    Quiz,
    Section,
    Selector,
    Text,
)
from .present import LETTERS, default_numbering, option_order, shuffled_options
from .validate import Checker, did_you_mean, kind, line_of, parse_points

__all__ = ["Form", "Question", "Quiz", "Section", "Selector", "assemble", "deck_quiz", "draw", "load_quizzes"]

QUIZ_DIR = "quizzes"
QUIZ_SUFFIXES = (".yaml", ".yml")
# The keys and limits come from spec.py, which the quiz file's JSON Schema is rendered from too.
QUIZ_KEYS = tuple(spec.QUIZ)
SECTION_KEYS = tuple(spec.QUIZ_SECTION)
MAX_FORMS = spec.QUIZ["forms"].high  # forms are lettered A-Z
MAX_MINUTES = spec.QUIZ["minutes"].high
MAX_DIGITS = spec.QUIZ["student_digits"].high


# ---------------------------------------------------------------------------
# finding quiz files


def quiz_paths(root: str) -> tuple[list[str], list[Problem]]:
    """Every quiz file under quizzes/ (subfolders, .yaml and .yml), sorted; links out of the project refused."""
    found, problems = [], []
    base = os.path.join(root, QUIZ_DIR)
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if name.startswith(".") or not name.endswith(QUIZ_SUFFIXES):
                continue
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            if not inside(root, full):
                problems.append(Problem(rel, 0, "is a link to a file outside the project; refusing to read it"))
                continue
            found.append(rel)
    return sorted(found), problems


def quiz_stem(rel: str) -> str:
    """quizzes/midterm.yaml -> 'midterm'; quizzes/unit1/test.yml -> 'unit1-test' (the output folder and names)."""
    inner = rel[len(QUIZ_DIR) + 1 :] if rel.startswith(QUIZ_DIR + "/") else rel
    return ids.slug(os.path.splitext(inner)[0].replace("/", "-")) or "quiz"


# ---------------------------------------------------------------------------
# what filters can refer to


class Bank:
    """The project's facts as quiz filters see them: known names, and fast membership tests."""

    def __init__(self, files: tuple[FactFile, ...] | list[FactFile]):
        self.facts: list[Fact] = [fact for f in files for fact in f.facts]
        self.decks = sorted({part for f in files for part in deck_prefixes(f.deck)})
        self.files = sorted(f.path for f in files)
        self.tags = sorted({t for fact in self.facts for t in fact.tags})
        self.ids = [fact.id for fact in self.facts]
        self.known = {
            "decks": set(self.decks),
            "files": set(self.files),
            "tags": set(self.tags),
            "types": set(TYPES),
            "ids": set(self.ids),
        }

    def names(self, kind: str) -> list[str]:
        return {"decks": self.decks, "files": self.files, "tags": self.tags, "types": list(TYPES), "ids": self.ids}[
            kind
        ]


def deck_prefixes(deck: str) -> list[str]:
    """'A::B::C' -> ['A', 'A::B', 'A::B::C']: a deck filter includes the subdecks."""
    parts = deck.split("::")
    return ["::".join(parts[: i + 1]) for i in range(len(parts))]


def accepts(fact: Fact, kind: str, values: frozenset[str]) -> bool:
    """True when `fact` matches one of `values` of one filter kind (sets: no quadratic blow-up)."""
    if kind == "decks":
        return any(p in values for p in deck_prefixes(fact.deck))
    if kind == "files":
        return fact.path in values
    if kind == "tags":
        return any(t in values for t in fact.tags)
    if kind == "types":
        return fact.type in values
    return fact.id in values


# ---------------------------------------------------------------------------
# validation = construction


class QuizChecker(Checker):
    """Checker with the scalar kinds a quiz file has: whole numbers in a range, one word of a list."""

    def whole(self, node: Node, field: str, low: int, high: int) -> int | None:
        value = node.value.strip() if isinstance(node, ScalarNode) else None
        if value is not None and value.isdigit() and len(value) <= 9 and low <= int(value) <= high:
            return int(value)
        shown = node.value if isinstance(node, ScalarNode) else kind(node)
        self.error(node, f"{field}: must be a whole number from {low} to {high} (found {shown!r})")
        return None

    def word(self, node: Node, field: str, choices, what: str = "") -> str | None:
        value = self.scalar(node, field)
        if value is None:
            return None
        value = value.strip()
        if value in choices:
            return value
        if value.lower() in choices:
            return value.lower()
        listed = ", ".join(choices)
        self.error(
            node, f"{field}: unknown {what or field} {value!r} (use one of: {listed}){did_you_mean(value, choices)}"
        )
        return None

    def values(self, node: Node, field: str) -> list[tuple[str, Node]] | None:
        """A filter's values: a list, or one value written alone; each with its node for messages."""
        if isinstance(node, ScalarNode):
            value = self.scalar(node, field)
            return None if value is None else [(value.strip(), node)]
        if not isinstance(node, SequenceNode):
            self.error(node, f"{field}: expected a list, found {kind(node)}")
            return None
        if not node.value:
            self.error(node, f"{field}: the list is empty")
            return None
        out = []
        for i, item in enumerate(node.value):
            value = self.scalar(item, f"{field}[{i}]")
            if value is not None:
                out.append((value.strip(), item))
        return out


FILTER_WORDS = {"decks": "deck", "files": "fact file", "tags": "tag", "types": "type", "ids": "fact id"}


def normalise_file(value: str) -> str:
    value = value.replace("\\", "/")
    while value.startswith("./"):
        value = value[2:]
    return value


def parse_selector(c: QuizChecker, node: Node, field: str, bank: Bank | None):
    """`from:` / `exclude:` -> (Selector, [(kind, values, line)] in written order), or None.

    With a bank, every value must name something that exists (with a did-you-mean)."""
    if isinstance(node, ScalarNode) and not node.value.strip() and node.style in (None, ""):
        return Selector(), []  # `from:` left empty: every fact
    if not isinstance(node, MappingNode):
        c.error(node, f"{field}: expected a mapping of filters ({', '.join(FILTER_KINDS)}), found {kind(node)}")
        return None
    keys = c.mapping(node, FILTER_KINDS, field)
    ok = len(keys) == len(node.value)
    written = []
    fields: dict[str, tuple[str, ...]] = {}
    for name, (key, value) in keys.items():
        found = c.values(value, f"{field}.{name}")
        if found is None:
            ok = False
            continue
        if name == "files":
            found = [(normalise_file(v), n) for v, n in found]
        if name == "types":
            for v, n in found:
                if v not in TYPES:
                    c.error(
                        n,
                        f"{field}.types: unknown fact type {v!r} (use one of: {', '.join(TYPES)})"
                        + did_you_mean(v, TYPES),
                    )
                    ok = False
        elif bank is not None:
            for v, n in found:
                if v not in bank.known[name]:
                    c.error(
                        n,
                        f"{field}.{name}: unknown {FILTER_WORDS[name]} {v!r}" + did_you_mean(v, bank.names(name)),
                    )
                    ok = False
        values = tuple(dict.fromkeys(v for v, _ in found))
        fields[name] = values
        written.append((name, frozenset(values), line_of(key)))
    if not ok:
        return None
    return Selector(**fields), written


def parse_section(c: QuizChecker, node: Node, number: int, languages, bank: Bank | None, taken: set[str]):
    """One section; with a bank, also which facts it may ask (`taken`: ids matched by earlier sections)."""
    where = f"section {number}"
    if not isinstance(node, MappingNode):
        c.error(
            node,
            f"{where}: expected a mapping with 'from' (and title, exclude, pick, points), found {kind(node)}",
        )
        return None
    start = len(c.problems)
    keys = c.mapping(node, SECTION_KEYS, f"{where}")
    title = c.text(keys["title"][1], "title", languages) if "title" in keys else None
    filters = parse_selector(c, keys["from"][1], "from", bank) if "from" in keys else (Selector(), [])
    exclude = parse_selector(c, keys["exclude"][1], "exclude", bank) if "exclude" in keys else (Selector(), [])
    pick = c.whole(keys["pick"][1], "pick", 1, spec.QUIZ_SECTION["pick"].high) if "pick" in keys else None
    points = parse_points(c, keys["points"][1], "points") if "points" in keys else 1
    if len(c.problems) > start or filters is None or exclude is None or points is None:
        return None
    chosen: tuple[str, ...] = ()
    if bank is not None:
        pool = bank.facts
        for name, values, line in filters[1]:
            narrowed = [f for f in pool if accepts(f, name, values)]
            if not narrowed:
                before = " together with the filters above it" if pool is not bank.facts else ""
                c.error(line, f"{where}: from.{name}: no fact matches {sorted(values)}{before}")
                return None
            pool = narrowed
        for name, values, _line in exclude[1]:
            pool = [f for f in pool if not accepts(f, name, values)]
        if not pool:
            c.error(keys["exclude"][0] if "exclude" in keys else node, f"{where}: exclude leaves no fact to ask")
            return None
        fresh = [f for f in pool if f.id not in taken]
        taken.update(f.id for f in pool)
        if not fresh:
            c.error(node, f"{where}: every fact it matches is already asked by an earlier section")
            return None
        if pick is not None and pick > len(fresh):
            more = len(pool) - len(fresh)
            also = f" ({more} more are asked by earlier sections)" if more else ""
            match = "facts match" if len(fresh) != 1 else "fact matches"
            c.error(keys["pick"][1], f"{where} picks {pick}, but only {len(fresh)} {match}{also}")
            return None
        chosen = tuple(f.id for f in fresh)
    return Section(
        title=title,
        filters=filters[0],
        exclude=exclude[0],
        pick=pick,
        points=points,
        line=line_of(node),
        facts=chosen,
    )


def parse_quiz(
    node: Node, rel: str, languages: tuple[str, ...], bank: Bank | None
) -> tuple[Quiz | None, list[Problem]]:
    """Validate one quiz file and build its `Quiz`.  Without a bank (the facts did not load),
    only the file's own shape is checked: references to facts would give false alarms."""
    c = QuizChecker(rel)
    stem = quiz_stem(rel)
    if not isinstance(node, MappingNode):
        c.error(node, f"a quiz file must be a mapping with 'title' and 'sections', found {kind(node)}")
        return None, c.problems
    keys = c.mapping(node, QUIZ_KEYS, "the quiz file")
    fields: dict = {"path": rel, "stem": stem, "line": line_of(node)}
    fields["lines"] = tuple((name, line_of(k)) for name, (k, _) in keys.items())
    fields["title"] = c.text(keys["title"][1], "title", languages) if "title" in keys else Text(((NEUTRAL, stem),))
    if "date" in keys:
        fields["date"] = (c.scalar(keys["date"][1], "date") or "").strip()
    if "minutes" in keys:
        fields["minutes"] = c.whole(keys["minutes"][1], "minutes", 1, MAX_MINUTES)
    if "instructions" in keys:
        fields["instructions"] = c.text(keys["instructions"][1], "instructions", languages)
    lang = "both"
    if "lang" in keys:
        lang = c.word(keys["lang"][1], "lang", ("both", *languages), "language") or "both"
    fields["lang"] = lang
    if "paper" in keys:
        fields["paper"] = c.word(keys["paper"][1], "paper", PAPERS, "paper size")
    if "forms" in keys:
        fields["forms"] = c.whole(keys["forms"][1], "forms", 1, MAX_FORMS)
    fields["seed"] = stem
    if "seed" in keys:
        fields["seed"] = c.scalar(keys["seed"][1], "seed")
    primary = languages[0] if lang == "both" else lang
    fields["numbering"] = default_numbering(primary)
    if "numbering" in keys:
        fields["numbering"] = c.word(keys["numbering"][1], "numbering", NUMBERINGS)
    if "header" in keys:
        fields["header"] = parse_header(c, keys["header"][1])
    if "student_digits" in keys:
        fields["student_digits"] = c.whole(keys["student_digits"][1], "student_digits", 1, MAX_DIGITS)
    sections: list[Section] = []
    if "sections" not in keys:
        c.error(node, "missing required key 'sections' (a list of sections, each with 'from')")
    else:
        snode = keys["sections"][1]
        if not isinstance(snode, SequenceNode):
            c.error(snode, f"sections: expected a list of sections, found {kind(snode)}")
        elif not snode.value:
            c.error(snode, "sections: the list is empty")
        else:
            taken: set[str] = set()
            for number, item in enumerate(snode.value, 1):
                section = parse_section(c, item, number, languages, bank, taken)
                if section is not None:
                    sections.append(section)
    if c.problems:
        return None, c.problems
    fields["sections"] = tuple(sections)
    return Quiz(**{k: v for k, v in fields.items() if v is not None}), []


def parse_header(c: QuizChecker, node: Node) -> tuple[str, ...] | None:
    if not isinstance(node, SequenceNode):
        c.error(node, f"header: expected a list of boxes ({', '.join(HEADER_BOXES)}), found {kind(node)}")
        return None
    out: list[str] = []
    for i, item in enumerate(node.value):
        box = c.word(item, f"header[{i}]", HEADER_BOXES, "header box")
        if box is None:
            continue
        if box in out:
            c.error(item, f"header[{i}]: {box!r} is listed twice")
            continue
        out.append(box)
    return tuple(out)


def load_quizzes(
    root: str, languages: tuple[str, ...], files: tuple[FactFile, ...] | list[FactFile], facts_ok: bool = True
) -> tuple[tuple[Quiz, ...], list[Problem]]:
    """Load and validate every quiz file; `facts_ok=False` (fact files had problems) skips fact references."""
    paths, problems = quiz_paths(root)
    bank = Bank(files) if facts_ok else None
    quizzes: list[Quiz] = []
    stems: dict[str, str] = {}
    for rel in paths:
        stem = quiz_stem(rel)
        if stem in stems:
            problems.append(
                Problem(rel, 0, f"writes the same files as {stems[stem]} (both are named {stem!r}); rename one")
            )
            continue
        stems[stem] = rel
        loaded = load_yaml(os.path.join(root, rel), rel)
        problems += loaded.problems
        if loaded.node is None or not loaded.complete:  # a partial tree: its missing keys prove nothing
            continue
        quiz, file_problems = parse_quiz(loaded.node, rel, languages, bank)
        problems += file_problems
        if quiz is not None:
            quizzes.append(quiz)
    return tuple(quizzes), problems


def deck_quiz(
    fact_file: FactFile, stem: str, languages: tuple[str, ...], forms: int = 1, seed: str = "quizgen"
) -> Quiz:
    """The quiz of one fact file (the deck quizzes every build prints): all its facts, one point each,
    with the quiz defaults for paper, header and numbering.  `--forms` and `--seed` shape it."""
    leaf = fact_file.deck.split("::")[-1].strip() or fact_file.deck
    return Quiz(
        path=fact_file.path,
        stem=stem,
        title=Text(((NEUTRAL, leaf),)),
        sections=(
            Section(
                title=None,
                filters=Selector(files=(fact_file.path,)),
                exclude=Selector(),
                pick=None,
                points=1,
                facts=tuple(f.id for f in fact_file.facts),
            ),
        ),
        forms=forms,
        seed=f"{seed}:{fact_file.path}",
        numbering=default_numbering(languages[0]),
    )


# ---------------------------------------------------------------------------
# assembly


@dataclass(frozen=True)
class Question:
    """One question as a form prints it.

    `section` is the index into `quiz.sections`; `options` is the printed order of a choice
    fact's options on this form as (text, correct), and () for other types."""

    number: int
    fact: Fact
    points: int | float
    section: int
    options: tuple[tuple[Text, bool], ...] = ()

    @property
    def answer_index(self) -> int | None:
        """0-based position of the correct option on this form (③ is 2); None for non-choice questions."""
        for i, (_, correct) in enumerate(self.options):
            if correct:
                return i
        return None


@dataclass(frozen=True)
class Form:
    letter: str
    questions: tuple[Question, ...]

    @property
    def total(self) -> int | float:
        total = round(sum(q.points for q in self.questions), 4)
        return int(total) if float(total).is_integer() else total


def draw(project: Project, quiz: Quiz) -> list[list[Fact]]:
    """The facts each section asks, in project order: `pick` draws once per quiz, seeded by the quiz's seed."""
    out = []
    for index, section in enumerate(quiz.sections):
        facts = [f for f in (project.fact(fid) for fid in section.facts) if f is not None]
        if section.pick is not None and section.pick < len(facts):
            chosen = set(random.Random(f"quizgen-pick:{quiz.seed}:{index}").sample(range(len(facts)), section.pick))
            facts = [f for i, f in enumerate(facts) if i in chosen]
        out.append(facts)
    return out


ATTEMPTS = 8  # reshuffles tried so that no two forms come out identical


def assemble(project: Project, quiz: Quiz) -> tuple[Form, ...]:
    """Every form of `quiz`, numbered and with each choice question's option order.

    Pure and seeded: the same project and quiz give the same forms on every machine."""
    sections = draw(project, quiz)
    if quiz.forms <= 1:
        return (make_form(quiz, "A", sections, lambda fact: option_order(fact)),)
    forms: list[Form] = []
    seen: set[tuple] = set()
    for letter in LETTERS[: quiz.forms]:
        form = None
        for attempt in range(ATTEMPTS):
            salt = f"{quiz.seed}:{letter}" + (f":{attempt}" if attempt else "")
            ordered = []
            for index, facts in enumerate(sections):
                facts = list(facts)
                random.Random(f"quizgen-order:{salt}:{index}").shuffle(facts)
                ordered.append(facts)
            form = make_form(
                quiz,
                letter,
                ordered,
                lambda fact, salt=salt: shuffled_options(fact, f"quizgen-options:{salt}:{fact.id}"),
            )
            signature = tuple((q.fact.id, q.answer_index) for q in form.questions)
            if signature not in seen:
                break
        seen.add(signature)
        forms.append(form)  # type: ignore[arg-type]
    return tuple(forms)


def make_form(quiz: Quiz, letter: str, sections: list[list[Fact]], order) -> Form:
    questions = []
    for index, facts in enumerate(sections):
        points = quiz.sections[index].points
        for fact in facts:
            options = tuple(order(fact)) if fact.type == "choice" else ()
            number = len(questions) + 1
            questions.append(Question(number, fact, fact.points if fact.points is not None else points, index, options))
    return Form(letter, tuple(questions))
