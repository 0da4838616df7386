"""The JSON Schemas, checked with a real validator (jsonschema) over real and bad files.

Files are read the way an editor reads them: yaml-language-server parses YAML 1.2,
where `2048` is a number, `true` a boolean and `2024-12-27` a string.  The schemas
must accept every file quizgen accepts (no false squiggles) and reject the
structural mistakes that `quizgen check` rejects.
"""

from __future__ import annotations

import json
import re
import textwrap

import jsonschema
import pytest
import yaml
from conftest import BASIC, REPO, SOURCES, run
from test_validate import CASES

from quizgen import schema, spec, validate

# ---------------------------------------------------------------------------
# an editor's view of YAML: the 1.2 core schema


class Yaml12Loader(yaml.CSafeLoader):
    """PyYAML with YAML 1.2 core-schema scalars (what yaml-language-server uses), not 1.1's."""


Yaml12Loader.yaml_implicit_resolvers = {}
for tag, regexp, first in (
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("null", r"^(?:~|null|Null|NULL|)$", "~nN"),
    ("int", r"^(?:[-+]?[0-9]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        "float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$",
        "-+0123456789.",
    ),
):
    Yaml12Loader.add_implicit_resolver(f"tag:yaml.org,2002:{tag}", re.compile(regexp), list(first))
Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^$"), [""])
Yaml12Loader.add_constructor(
    "tag:yaml.org,2002:bool", lambda loader, node: loader.construct_scalar(node).lower() == "true"
)
Yaml12Loader.add_constructor(
    "tag:yaml.org,2002:int", lambda loader, node: int(loader.construct_scalar(node), 0 if "x" in node.value else 10)
)


def editor_load(text: str):
    return yaml.load(text, Loader=Yaml12Loader)


def test_editor_loader_reads_yaml_1_2():
    data = editor_load("a: yes\nb: 3.10\nc: 2048\nd: true\ne: 2024-12-27\nf: ~\ng: 0x1F\n")
    assert data == {"a": "yes", "b": 3.1, "c": 2048, "d": True, "e": "2024-12-27", "f": None, "g": 31}


def errors(kind: str, text: str) -> list[str]:
    validator = jsonschema.Draft7Validator(schema.schema(kind))
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(editor_load(text))]


def kind_of_fixture(rel: str) -> str:
    return schema.kind_of(rel) or pytest.fail(f"no schema kind for {rel}")


# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", schema.KINDS)
def test_each_schema_is_valid_draft_07_and_printed_by_the_cli(kind):
    jsonschema.Draft7Validator.check_schema(schema.schema(kind))
    result = run("schema", "--kind", kind)
    assert result.exit_code == 0
    assert json.loads(result.stdout) == schema.schema(kind)


SHIPPED = sorted(
    p.relative_to(REPO).as_posix() for top in ("decks", "quizzes") for p in (REPO / top).rglob("*.y*ml")
) + ["quizgen.yaml"]


@pytest.mark.parametrize("rel", SHIPPED)
def test_every_shipped_file_is_accepted(rel):
    assert errors(kind_of_fixture(rel), (REPO / rel).read_text(encoding="utf-8")) == []


def test_init_writes_the_schemas_and_points_each_example_file_at_its_own(tmp_path):
    root = tmp_path / "course"
    assert run("init", root).exit_code == 0
    for kind in schema.KINDS:
        assert (root / "schemas" / f"{kind}.schema.json").read_text(encoding="utf-8") == run(
            "schema", "--kind", kind
        ).stdout
    examples = sorted(p for p in root.rglob("*.y*ml"))
    assert {p.relative_to(root).as_posix() for p in examples} >= {
        "quizgen.yaml",
        "decks/sources.yaml",
        "decks/example.yaml",
    }
    for path in examples:
        rel = path.relative_to(root).as_posix()
        first, _, body = path.read_text(encoding="utf-8").partition("\n")
        target = first.removeprefix("# yaml-language-server: $schema=")
        assert target != first, f"{rel}: first line is {first!r}"
        assert (path.parent / target).resolve() == (root / "schemas" / f"{schema.kind_of(rel)}.schema.json")
        assert errors(schema.kind_of(rel), body) == [], rel
    assert run("check", root).exit_code == 0  # the modeline is a comment to quizgen


def test_positive_fixtures_are_accepted():
    assert errors("facts", BASIC) == []
    assert errors("sources", SOURCES) == []
    every_type = """\
    deck: "A::B"
    tags: [t]
    facts:
      - id: b1
        answer: 2048
        question: {ko: 몇 대?, en: How many?}
        explanation: plain
        tags: [x, 2025]
        lint: {ignore: [option-length]}
      - id: c1
        type: choice
        question: q
        answer: Yes
        wrong: [No, 3.10]
      - id: z1
        type: cloze
        text: {ko: "{{c1::가}}", en: "{{c1::a::hint}}"}
      - id: t1
        type: truefalse
        statement: s
        answer: false
        quote: exact words
        source: src
    """
    assert errors("facts", textwrap.dedent(every_type)) == []
    assert errors("config", "title: T\nlanguages: [ko, en, zh-Hant]\nlint: {ignore: [not-nfc]}\n") == []


# Cases of test_validate.py that are structural: the schema alone must reject them.
STRUCTURAL = {
    "unknown-key-fact", "unknown-key-file", "unknown-key-source", "unknown-key-config", "text-is-list",
    "text-is-mapping-of-lists", "tags-not-list", "empty-text", "empty-text-lang", "unknown-type", "malformed-id",
    "missing-id", "missing-answer", "choice-too-few-wrong", "cloze-without-deletion", "truefalse-not-bool",
    "truefalse-quoted-bool", "empty-file", "not-a-mapping", "facts-not-list", "bad-lang-config",
    "source-without-title", "source-bad-url",
}  # fmt: skip
# Cases that need the project (other files, languages, the disk): each file alone is well-formed.
NEEDS_PROJECT = {"unknown-language", "unknown-source", "duplicate-id", "image-missing", "image-escapes", "choice-answer-in-wrong", "cloze-numbers-differ"}  # fmt: skip
BY_NAME = {case[0]: case for case in CASES}


@pytest.mark.parametrize("name", sorted(STRUCTURAL))
def test_structural_mistakes_are_rejected_by_the_schema(name):
    _, files, where, _ = BY_NAME[name]
    rel = where.split(":")[0]
    found = errors(kind_of_fixture(rel), files[rel])
    assert found, f"{name}: the schema accepted what quizgen check rejects at {where}"


@pytest.mark.parametrize("name", sorted(NEEDS_PROJECT))
def test_mistakes_that_need_the_project_are_left_to_check(name):
    _, files, _, _ = BY_NAME[name]
    for rel, text in files.items():
        assert errors(kind_of_fixture(rel), text) == [], (name, rel)


def test_an_empty_value_is_flagged():
    assert errors("facts", "deck: D\nfacts:\n  - id: x\n    question: q\n    answer:\n")


FACT_EXAMPLES = {
    "answer": "a",
    "question": "q",
    "wrong": ["b", "c"],
    "options": ["a", "b", "c"],
    "text": "{{c1::x}}",
    "statement": "s",
}


@pytest.mark.parametrize("ftype", spec.FACT_TYPE_KEYS)
def test_schema_and_validator_allow_the_same_keys_per_type(project, ftype):
    """For each type and each key (and a made-up one), quizgen and the schema agree on whether it is allowed."""
    one_of = spec.FACT_TYPE_ONE_OF.get(ftype, ())
    needed = spec.FACT_TYPE_KEYS[ftype][0] + one_of[:1]  # a choice fact needs `wrong` or `options`
    for key in [*spec.FACT, "bogus"]:
        if key in needed or key in ("id", "type") or key in one_of:  # the alternatives have their own test
            continue
        fact = {"id": "x", "type": ftype, **{k: FACT_EXAMPLES[k] for k in needed}}
        if ftype == "truefalse":
            fact["answer"] = True
        example = spec.FACT[key].example if key in spec.FACT else "v"
        fact[key] = FACT_EXAMPLES.get(key, example)
        text = yaml.safe_dump({"deck": "D", "facts": [fact]}, allow_unicode=True)
        root = project({"decks/a.yaml": text}, "deepseek-v3:\n  title: T\n")
        if key == "image":
            (root / "images").mkdir(exist_ok=True)
            (root / "images" / "moe.png").write_bytes(b"\x89PNG")
        unknown_to_quizgen = f"unknown key {key!r}" in run("check", root).stderr
        schema_errors = errors("facts", text)
        assert unknown_to_quizgen == bool(schema_errors), (ftype, key, schema_errors)
        assert unknown_to_quizgen == (key not in validate.COMMON_KEYS + validate.TYPE_KEYS[ftype])


def test_validator_hints_come_from_the_spec(project):
    result = run("check", project({"decks/a.yaml": "tags: [a]\n"}))
    deck = spec.FACT_FILE["deck"]
    assert deck.example in result.stderr and deck.description.split(";")[0].lower() in result.stderr.lower()
    described = schema.schema("facts")["properties"]["deck"]
    assert described["description"] == deck.description and described["examples"] == [deck.example]


def test_citations_follow_the_same_rules(project):
    from test_citations import CORRECTION
    from test_citations import SOURCES as CITED_SOURCES

    assert errors("facts", CORRECTION) == [] and errors("sources", CITED_SOURCES) == []
    both = CORRECTION.replace("    answer: true\n", "    answer: true\n    source: paper\n")
    assert errors("facts", both)
    head = "deck: D\nfacts:\n  - id: a\n    question: Q\n    answer: A\n    cite:"
    for bad in (" paper", " []", "\n      - {source: article, role: claimm}", "\n      - {source: paper, qoute: x}",
                "\n      - {quote: x}", "\n      - just text"):  # fmt: skip
        assert errors("facts", head + bad + "\n"), bad
        assert run("check", project({"decks/a.yaml": head + bad + "\n"}, CITED_SOURCES)).exit_code == 1, bad


def test_a_choice_fact_has_wrong_or_options_in_both(project):
    base = "deck: D\nfacts:\n  - id: x\n    type: choice\n    question: q\n    answer: a\n"
    cases = {
        "wrong": (base + "    wrong: [b, c]\n", True),
        "options": (base + "    options: [a, b, c]\n    shuffle: true\n    points: 1.5\n", True),
        "both": (base + "    wrong: [b, c]\n    options: [a, b, c]\n", False),
        "neither": (base, False),
    }
    for name, (text, valid) in cases.items():
        root = project({"decks/a.yaml": text}, "src:\n  title: T\n")
        assert (run("check", root).exit_code == 0) == valid, name
        assert (errors("facts", text) == []) == valid, (name, errors("facts", text))


# ---------------------------------------------------------------------------
# quiz files: test_quiz.py's rejected files, split into what the file alone shows and what needs the facts

QUIZ_STRUCTURAL = (
    "unknown key", "must be a whole number", "must be a positive number", "unknown paper size",
    "did you mean 'circled-digits'", "unknown header box", "missing required key 'sections'", "the list is empty",
    "expected a mapping", "a quiz file must be a mapping", "unknown fact type",
)  # fmt: skip
QUIZ_NEEDS_PROJECT = (
    "unknown deck", "unknown tag", "unknown fact id", "unknown fact file", "no fact matches", "exclude leaves no fact",
    "already asked by an earlier section", "picks 10, but only", "unknown language",
)  # fmt: skip


def quiz_cases(kinds):
    from test_quiz import REJECTED

    return [(text, message) for text, _, message in REJECTED if any(k in message for k in kinds)]


def test_every_rejected_quiz_file_is_classified():
    from test_quiz import REJECTED

    for _, _, message in REJECTED:
        assert "YAML syntax" in message or any(k in message for k in QUIZ_STRUCTURAL + QUIZ_NEEDS_PROJECT), message


@pytest.mark.parametrize("text, message", quiz_cases(QUIZ_STRUCTURAL))
def test_structural_quiz_mistakes_are_rejected_by_the_schema(text, message):
    assert errors("quiz", text), message


@pytest.mark.parametrize("text, message", quiz_cases(QUIZ_NEEDS_PROJECT))
def test_quiz_mistakes_that_need_the_facts_are_left_to_check(text, message):
    assert errors("quiz", text) == [], message


def test_valid_quiz_files_are_accepted():
    from test_quiz import MIDTERM

    assert errors("quiz", MIDTERM) == []
    assert (
        errors("quiz", "paper: A4\nnumbering: Letters\nforms: '2'\nsections:\n  - from:\n") == []
    )  # as quizgen reads them
