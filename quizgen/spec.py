"""What each file quizgen reads may contain: every key, its shape, what it means, an example.

This is the one table both consumers read: `validate.py` takes its key lists,
patterns and the wording of its hints from here, and `schema.py` renders the
same table as JSON Schemas for editors.  A key added here is known to the
validator and offered by the editor at once, described in the same words, so
the two cannot drift apart.  Pure data: no I/O.

Shapes (how `schema.py` renders a key):
  text      a plain string (the same in every language) or a mapping language -> string
  string    one plain string
  id        lowercase letters, digits, '-' and '_'
  boolean   true or false
  number    a positive number such as 2 or 1.5 (`pattern` says which)
  choice    one of `values`
  list      a list of `items` (a shape); `min_items` when there is a floor
  languages a list of language codes
  rules     a list of lint rule names
  mapping   nested keys (`keys`)
  facts     a list of facts
  sources   source id -> source
  whole     a whole number from `low` to `high`
  word      one of `values`, in any case (quiz settings such as `paper: A4`)
  lang      a language code, or `both`
  selector  facts chosen by filters (`keys`); empty means every fact
  values    one value or a non-empty list of them (`items`)
  sections  a list of quiz sections
A list's or values' `items` is one of these shapes, with the key's `values` when it needs them.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import FILTER_KINDS, HEADER_BOXES, NUMBERINGS, PAPERS, ROLES
from .model import TYPES as FACT_TYPES

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
PROJECT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{7,63}$"
LANG_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
URL_PATTERN = r"^https?://\S+$"
CLOZE_PATTERN = r"\{\{c\d+::"
ANKI_GUID_PATTERN = r"^[!-~]{1,100}$"  # printable ASCII, no spaces: what Anki accepts as a GUID


@dataclass(frozen=True)
class Key:
    name: str
    shape: str
    description: str
    example: object = None
    required: bool = False
    values: tuple = ()  # for shape "choice": the allowed words
    items: str = ""  # for shape "list": the shape of one item
    min_items: int = 0
    pattern: str = ""  # for text-like shapes: what each string must match
    keys: tuple = ()  # for shape "mapping": the nested keys
    low: int = 0  # for shape "whole": the smallest and largest allowed
    high: int = 0


def table(*keys: Key) -> dict[str, Key]:
    return {k.name: k for k in keys}


LINT = Key(
    "lint",
    "mapping",
    "Lint settings: `ignore` lists rules that `quizgen check --lint` should not report here.",
    {"ignore": ["option-length"]},
    keys=(Key("ignore", "rules", "Lint rules to silence.", ["option-length"]),),
)

# ---------------------------------------------------------------------------------------
# fact files: decks/**/*.yaml

FACT_FILE = table(
    Key("deck", "string", "The Anki deck name; '::' makes subdecks.", "Biology::Cells", required=True),
    Key("tags", "list", "Tags added to every fact of this file.", ["biology", "week-1"], items="string"),
    Key(
        "description",
        "text",
        "Shown in Anki's deck overview of this deck (text, never markup).",
        {"ko": "세포의 구조", "en": "How cells are built"},
    ),
    Key("facts", "facts", "The facts of this deck, one mapping each.", required=True),
)

FACT = table(
    Key(
        "id",
        "id",
        "The fact's identity forever (its Anki note follows it): lowercase letters, digits, '-' and '_'; "
        "never rename it.",
        "moe-v3-active-params",
        required=True,
    ),
    Key("type", "choice", "What kind of card this fact makes (default basic).", "choice", values=FACT_TYPES),
    Key("question", "text", "The question (basic and choice facts).", {"ko": "질문", "en": "The question?"}),
    Key("answer", "text", "The answer (basic and choice facts).", {"ko": "370억 개", "en": "37 billion"}),
    Key(
        "wrong",
        "list",
        "Wrong options of a choice fact: at least 2, each text.",
        ["Yoshua Bengio", "Yann LeCun"],
        items="text",
        min_items=2,
    ),
    Key(
        "options",
        "list",
        "Instead of `wrong`: every option of a choice fact in print order, the answer among them (written exactly "
        "as `answer`). The order is kept on every card, form and export: for 합답형 items and 'both A and B'.",
        ["ㄱ", "ㄴ", "ㄱ, ㄴ", "ㄱ, ㄷ", "ㄴ, ㄷ"],
        items="text",
        min_items=3,
    ),
    Key(
        "shuffle",
        "boolean",
        "Whether quiz forms shuffle this choice fact's options (default: yes for `wrong`, no for `options`).",
        False,
    ),
    Key(
        "reverse",
        "boolean",
        "A basic fact: also ask it the other way round (answer -> question), as a second card of the same note.",
        True,
    ),
    Key(
        "text",
        "text",
        "A cloze fact's text, with deletions like {{c1::hidden}} or {{c1::hidden::hint}}.",
        "The teacher's softmax is run at a high {{c1::temperature}}.",
        pattern=CLOZE_PATTERN,
    ),
    Key("statement", "text", "A truefalse fact's statement.", {"ko": "문장", "en": "A statement."}),
    Key("explanation", "text", "Shown on the back of the card and in the answer key.", "Why the answer is right."),
    Key("source", "id", "The id of a source in decks/sources.yaml.", "deepseek-v3"),
    Key(
        "quote",
        "string",
        "The exact passage of the source that supports the fact (checked by `quizgen check --quotes`).",
        "...",
    ),
    Key(
        "cite",
        "list",
        "Instead of source/quote (never both): every source this fact cites, each with its role: "
        "evidence backs the answer (at least one), claim shows what an article claimed.",
        [{"source": "reuters-2025", "quote": "...", "role": "claim"}, {"source": "deepseek-v3", "quote": "..."}],
        items="mapping",
        min_items=1,
        keys=(
            Key("source", "id", "The id of a source in decks/sources.yaml.", "deepseek-v3", required=True),
            Key("quote", "string", "The exact passage of that source.", "..."),
            Key(
                "role",
                "choice",
                "evidence (the default) backs the answer; claim is what was claimed.",
                "claim",
                values=ROLES,
            ),
        ),
    ),
    Key("tags", "list", "Tags of this fact (added to the file's tags).", ["numbers"], items="string"),
    Key("image", "string", "An image shown on the card: a path relative to the project.", "images/moe.png"),
    Key(
        "anki_guid",
        "string",
        "The GUID of the Anki note this fact continues (written by `quizgen import`): the built note keeps it, so "
        "learners who have that note get it updated instead of a second copy. Never edit it.",
        "f]K3#b9x!Q",
        pattern=ANKI_GUID_PATTERN,
    ),
    Key(
        "points",
        "number",
        "What this fact is worth in a quiz (a positive number); overrides the quiz section's points.",
        2,
        pattern=r"^\d{1,6}(\.\d{1,4})?$",
    ),
    LINT,
)
CITE = table(*FACT["cite"].keys)
TRUEFALSE_ANSWER = Key("answer", "boolean", "Whether the statement is true: true or false, unquoted.", True)

# Type -> (keys it requires, description). Every other fact key above is common to all types.
FACT_TYPE_KEYS = {
    "basic": (("question", "answer"), "A question and its answer."),
    "choice": (
        ("question", "answer"),
        "A question, its answer, and either wrong options (`wrong`, shuffled) or every option in print order "
        "(`options`).",
    ),
    "cloze": (("text",), "A text with hidden parts, one card per deletion number."),
    "truefalse": (("statement", "answer"), "A statement and whether it is true."),
}
# Type -> keys only that type may have, not required (beyond FACT_TYPE_KEYS).
FACT_TYPE_OPTIONAL = {"choice": ("wrong", "options", "shuffle"), "basic": ("reverse",)}
# Type -> keys of which exactly one is required.
FACT_TYPE_ONE_OF = {"choice": ("wrong", "options")}
COMMON_FACT_KEYS = tuple(
    n
    for n in FACT
    if not any(n in keys for keys, _ in FACT_TYPE_KEYS.values())
    and not any(n in keys for keys in FACT_TYPE_OPTIONAL.values())
)
POINTS_PATTERN = FACT["points"].pattern

# ---------------------------------------------------------------------------------------
# decks/sources.yaml

SOURCE = table(
    Key(
        "title", "string", "The source's title, as cited on every card.", "DeepSeek-V3 Technical Report", required=True
    ),
    Key(
        "url",
        "string",
        "Where to read it: http:// or https://.",
        "https://arxiv.org/abs/2412.19437",
        pattern=URL_PATTERN,
    ),
    Key("date", "string", "Publication date, printed as written.", "2024-12-27"),
    Key("publisher", "string", "Who published it.", "DeepSeek-AI"),
    Key("file", "string", "The source's text copy, relative to the folder given to `--quotes`.", "deepseek-v3.txt"),
)
SOURCES_DESCRIPTION = "decks/sources.yaml: source id -> the source (every fact's `source` names one)."

# ---------------------------------------------------------------------------------------
# quizgen.yaml

CONFIG = table(
    Key(
        "id",
        "string",
        "This course's identity in learners' Anki, part of every card's id: 8 to 64 letters, digits, '-' or '_', "
        "random, written once by `quizgen init` and never changed. Required to build.",
        "k3v9x2q8m4w7",
        pattern=PROJECT_ID_PATTERN,
    ),
    Key("title", "string", "The project's title (shown on the HTML index).", "Example course"),
    Key("languages", "languages", "Language codes of the texts; the first is the primary one.", ["ko", "en"]),
    Key(
        "anki",
        "mapping",
        "Anki packages: `lang` (a project language, or both) and `package` (per-deck, or one for the whole "
        "project); the build's --lang and --apkg win over them.",
        {"lang": "ko", "package": "one"},
        keys=(
            Key(
                "lang",
                "string",
                "The language on the cards: a project language, or both.",
                "ko",
                pattern=r"^(both|[a-z]{2,3}(-[A-Za-z0-9]{2,8})*)$",
            ),
            Key(
                "package",
                "choice",
                "per-deck (one .apkg per top-level deck) or one.",
                "one",
                values=("per-deck", "one"),
            ),
        ),
    ),
    LINT,
)
ANKI = table(*CONFIG["anki"].keys)
APKG_MODES = CONFIG["anki"].keys[1].values
CONFIG_DESCRIPTION = "quizgen.yaml: project settings (optional)."
FACT_FILE_DESCRIPTION = "A quizgen fact file: one deck and its facts."


def hint(key: Key) -> str:
    """The parenthesis of a 'missing required key' message: the key's description and example."""
    text = key.description.rstrip(".")
    text = text[0].lower() + text[1:]
    return f"{text}, e.g. {key.example!r}" if isinstance(key.example, str) else text


# ---------------------------------------------------------------------------------------
# quiz files: quizzes/**/*.yaml

FILTER_DESCRIPTIONS = {
    "decks": ("Deck names; a deck includes its subdecks.", ["DeepSeek::Mixture of Experts"]),
    "files": ("Fact files, project-relative.", ["decks/chips.yaml"]),
    "tags": ("Tags.", ["numbers"]),
    "types": ("Fact types.", ["choice", "truefalse"]),
    "ids": ("Fact ids.", ["moe-v3-active-params"]),
}
SELECTOR = tuple(
    Key(kind, "values", FILTER_DESCRIPTIONS[kind][0] + " One value or a list.", FILTER_DESCRIPTIONS[kind][1],
        items="choice" if kind == "types" else "string", values=FACT_TYPES if kind == "types" else ())
    for kind in FILTER_KINDS
)  # fmt: skip
QUIZ_SECTION = table(
    Key("title", "text", "The section's heading on the paper.", {"ko": "객관식", "en": "Multiple choice"}),
    Key(
        "from",
        "selector",
        "Which facts may be asked: every filter given must match (any value within one). Empty: every fact.",
        {"decks": ["DeepSeek::Mixture of Experts"], "types": ["choice", "truefalse"]},
        keys=SELECTOR,
    ),
    Key(
        "exclude", "selector", "Facts matching any of these filters are left out.", {"tags": ["history"]}, keys=SELECTOR
    ),
    Key(
        "pick",
        "whole",
        "Ask a seeded random sample of this many facts (the same on every form); leave it out to ask every match.",
        10,
        low=1,
        high=1_000_000,
    ),
    Key(
        "points",
        "number",
        "Points per question in this section (default 1); a fact's own `points` wins.",
        2,
        pattern=FACT["points"].pattern,
    ),
)
QUIZ = table(
    Key(
        "title",
        "text",
        "The quiz title, printed in the header (default: the file name).",
        {"ko": "1학기 중간고사", "en": "First-term midterm"},
    ),
    Key("date", "string", "The date printed in the header, as written.", "2026-12-15"),
    Key("minutes", "whole", "The time limit in minutes, printed in the header.", 45, low=1, high=10_000),
    Key(
        "instructions",
        "text",
        "Printed under the header.",
        {"ko": "알맞은 답을 고르세요.", "en": "Choose the best answer."},
    ),
    Key("lang", "lang", "The language printed: a project language, or both (default).", "both"),
    Key("paper", "word", "Paper size (default a4).", "a4", values=PAPERS),
    Key("forms", "whole", "Number of forms A, B, ...: the same questions, shuffled (default 1).", 2, low=1, high=26),
    Key("seed", "string", "The same seed always gives the same quiz (default: the file name).", "midterm-2026"),
    Key(
        "numbering",
        "word",
        "Option labels: circled-digits (① ② ③) or letters (Ⓐ Ⓑ Ⓒ); default circled-digits when Korean is primary.",
        "circled-digits",
        values=NUMBERINGS,
    ),
    Key(
        "header",
        "list",
        "The header's boxes: name 이름, class 반, number 번호, date 날짜, score 점수.",
        ["name", "class", "number", "score"],
        items="word",
        values=HEADER_BOXES,
    ),
    Key("student_digits", "whole", "Digits of the student number on the answer sheet (default 5).", 5, low=1, high=10),
    Key(
        "sections", "sections", "The quiz's sections, in print order; each says which facts it may ask.", required=True
    ),
)
QUIZ_DESCRIPTION = "A quizgen quiz file: which facts to ask, and how the paper looks."
