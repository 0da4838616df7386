"""Item analysis: how each question did, by fact, and the warnings that feed back into the fact bank.

Per fact (whatever its number on each form): the share correct, the
discrimination index (share correct in the top 27% of the class by score
minus that of the bottom 27%, the classic Kelley split), and how often each
option was chosen, counted in the fact's own option order so that forms with
shuffled options add up.  Warnings point at the fact file, as lint does:

- miskey: the top group chose one distractor more often than the key;
- negative-discrimination: the weaker students did better than the stronger;
- unused-distractor: nobody chose a distractor (it distracts no one).

The last two need a class of at least MIN_SHEETS, the first a top group of at
least MIN_GROUP, so that a handful of sheets does not cry wolf.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import Problem
from ..sheet import SheetQuiz

GROUP_SHARE = 0.27
MIN_SHEETS = 10
MIN_GROUP = 3


@dataclass
class ItemStats:
    fact: str
    path: str
    line: int
    kind: str
    points: float
    numbers: dict[str, int]  # form -> number on that form
    options: list[str] = field(default_factory=list)  # the fact's own options ("O"/"X" for truefalse)
    key: int | None = None  # index into options
    counts: list[int] = field(default_factory=list)
    blank: int = 0
    answered: int = 0  # sheets that had this question
    correct: float = 0.0  # share correct (open: mean share of the points)
    discrimination: float | None = None


def response(item, value: str) -> int | None:
    """The canonical option index of a printed answer, or None (blank or open)."""
    if not value or item.kind == "open":
        return None
    if item.kind == "truefalse":
        return {"O": 0, "X": 1}.get(value)
    position = int(value) - 1
    return item.order[position] if item.order and position < len(item.order) else position


def credit(item, value: str) -> float:
    if item.kind == "open":
        return min(float(value), item.points) / item.points if value else 0.0
    return 1.0 if value == item.key else 0.0


def analyse(graded: list, quiz: SheetQuiz) -> tuple[list[ItemStats], list[Problem]]:
    """Item statistics over the sheets that have a score, and the warnings they raise."""
    forms = dict(quiz.forms)
    sheets = [g for g in graded if g.score is not None and g.form in forms]
    ranked = sorted(sheets, key=lambda g: -g.score)
    k = max(1, round(GROUP_SHARE * len(ranked))) if ranked else 0
    upper, lower = {id(g) for g in ranked[:k]}, {id(g) for g in ranked[-k:]} if k else set()

    stats: dict[str, ItemStats] = {}
    per_group: dict[str, dict[str, list]] = {}
    for letter, items in quiz.forms:
        for item in items:
            fact = item.fact or f"{letter}{item.number}"
            if fact not in stats:
                options = (
                    ["O", "X"]
                    if item.kind == "truefalse"
                    else list(item.option_texts) or [str(i + 1) for i in range(item.options)]
                )
                stats[fact] = ItemStats(
                    fact, item.path, item.line, item.kind, item.points, {}, options,
                    counts=[0] * len(options) if item.kind != "open" else [],
                )  # fmt: skip
                if item.kind != "open":
                    stats[fact].key = response(item, item.key)
                per_group[fact] = {"upper": [], "lower": [], "upper_choice": []}
            stats[fact].numbers[letter] = item.number
    sums: dict[str, float] = {}
    for g in sheets:
        for item in forms[g.form]:
            fact = item.fact or f"{g.form}{item.number}"
            s = stats[fact]
            value = g.answers.get(item.number, "")
            s.answered += 1
            sums[fact] = sums.get(fact, 0.0) + credit(item, value)
            choice = response(item, value)
            if choice is None and item.kind != "open":
                s.blank += 1
            elif choice is not None and choice < len(s.counts):
                s.counts[choice] += 1
            if id(g) in upper:
                per_group[fact]["upper"].append(credit(item, value))
                per_group[fact]["upper_choice"].append(choice)
            if id(g) in lower:
                per_group[fact]["lower"].append(credit(item, value))

    warnings = []
    for fact, s in stats.items():
        if not s.answered:
            continue
        s.correct = sums.get(fact, 0.0) / s.answered
        groups = per_group[fact]
        if groups["upper"] and groups["lower"]:
            s.discrimination = sum(groups["upper"]) / len(groups["upper"]) - sum(groups["lower"]) / len(groups["lower"])
        warnings += item_warnings(s, groups, len(sheets), quiz)
    return list(stats.values()), warnings


def item_warnings(s: ItemStats, groups: dict, n_sheets: int, quiz: SheetQuiz) -> list[Problem]:
    lines = option_lines(s, quiz)
    where = s.path or quiz.path
    out = []
    numbers = ", ".join(f"{form}{n}" if len(s.numbers) > 1 else f"{n}" for form, n in s.numbers.items())
    label = f"{quiz.name} question {numbers}"
    if s.kind != "open" and s.key is not None and len(groups["upper"]) >= MIN_GROUP:
        top = [0] * len(s.options)
        for choice in groups["upper_choice"]:
            if choice is not None and choice < len(top):
                top[choice] += 1
        rival = max((i for i in range(len(top)) if i != s.key), key=lambda i: top[i], default=None)
        if rival is not None and top[rival] > top[s.key]:
            out.append(
                Problem(
                    where,
                    lines.get(s.key, s.line),
                    f"{label}: the top {len(groups['upper'])} students chose {s.options[rival]!r} ({top[rival]}) "
                    f"more often than the key {s.options[s.key]!r} ({top[s.key]}); is the key right?",
                    "miskey",
                    "warning",
                )
            )
    if n_sheets >= MIN_SHEETS and s.discrimination is not None and s.discrimination < 0:
        out.append(
            Problem(
                where,
                s.line,
                f"{label}: negative discrimination {s.discrimination:+.2f} (the weaker students did better)",
                "negative-discrimination",
                "warning",
            )
        )
    if n_sheets >= MIN_SHEETS and s.kind == "choice":
        for i, count in enumerate(s.counts):
            if i != s.key and count == 0:
                out.append(
                    Problem(
                        where,
                        lines.get(i, s.line),
                        f"{label}: nobody chose the distractor {s.options[i]!r}",
                        "unused-distractor",
                        "warning",
                    )
                )
    return out


def option_lines(s: ItemStats, quiz: SheetQuiz) -> dict[int, int]:
    for _, items in quiz.forms:
        for item in items:
            if item.fact == s.fact and item.option_lines:
                return {i: line for i, line in enumerate(item.option_lines) if line}
    return {}
