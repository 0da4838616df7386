"""Every class of bad input: exit code 1, the exact path:line, no traceback, --out untouched."""

from __future__ import annotations

import os

import pytest
from conftest import BASIC, run, snapshot

FACT_HEAD = 'deck: "Test::Deck"\nfacts:\n'

# (case, {file: content}, expected location, expected message fragment)
CASES = [
    ("unclosed-quote", {"decks/a.yaml": 'deck: "Test\nfacts:\n  - id: x\n'}, "decks/a.yaml:1:", "never closed"),
    ("unclosed-bracket", {"decks/a.yaml": "deck: T\ntags: [a, b\nfacts: []\n"}, "decks/a.yaml:2:", "']' to close"),
    (
        "tab-indent",
        {"decks/a.yaml": FACT_HEAD + "  - id: x\n\tquestion: q\n"},
        "decks/a.yaml:4:",
        "tab character in indentation",
    ),
    (
        "duplicate-key-top",
        {"decks/a.yaml": "deck: A\ndeck: B\nfacts: []\n"},
        "decks/a.yaml:2:",
        "duplicate key 'deck' (first at line 1)",
    ),
    (
        "duplicate-key-nested",
        {"decks/a.yaml": FACT_HEAD + "  - id: x\n    question: {ko: a, ko: b}\n    answer: y\n"},
        "decks/a.yaml:4:",
        "duplicate key 'ko'",
    ),
    (
        "unknown-key-fact",
        {"decks/a.yaml": FACT_HEAD + "  - id: x\n    questoin: q\n    answer: y\n"},
        "decks/a.yaml:4:",
        "unknown key 'questoin' in a fact; did you mean 'question'?",
    ),
    ("unknown-key-file", {"decks/a.yaml": "deck: A\nfacs: []\n"}, "decks/a.yaml:2:", "did you mean 'facts'?"),
    (
        "unknown-key-source",
        {"decks/a.yaml": BASIC, "decks/sources.yaml": "src:\n  title: T\n  urll: x\n"},
        "decks/sources.yaml:3:",
        "unknown key 'urll' in source 'src'; did you mean 'url'?",
    ),
    (
        "unknown-key-config",
        {"decks/a.yaml": BASIC, "quizgen.yaml": "languages: [ko, en]\nlanguage: ko\n"},
        "quizgen.yaml:2:",
        "unknown key 'language'",
    ),
    (
        "text-is-list",
        {"decks/a.yaml": FACT_HEAD + "  - id: x\n    question: q\n    answer: [a, b]\n"},
        "decks/a.yaml:5:",
        "answer: expected text or a mapping of languages, found a list",
    ),
    (
        "text-is-mapping-of-lists",
        {"decks/a.yaml": FACT_HEAD + "  - id: x\n    question: {ko: [a]}\n    answer: y\n"},
        "decks/a.yaml:4:",
        "question.ko: expected text, found a list",
    ),
    (
        "tags-not-list",
        {"decks/a.yaml": FACT_HEAD + "  - id: x\n    question: q\n    answer: a\n    tags: one\n"},
        "decks/a.yaml:6:",
        "tags: expected a list, found text",
    ),
    (
        "empty-text",
        {"decks/a.yaml": FACT_HEAD + '  - id: x\n    question: q\n    answer: ""\n'},
        "decks/a.yaml:5:",
        "answer: must not be empty",
    ),
    (
        "empty-text-lang",
        {"decks/a.yaml": FACT_HEAD + "  - id: x\n    question: {ko: q, en: '  '}\n    answer: a\n"},
        "decks/a.yaml:4:",
        "question.en: must not be empty",
    ),
    (
        "unknown-type",
        {"decks/a.yaml": FACT_HEAD + "  - id: x\n    type: choise\n    question: q\n"},
        "decks/a.yaml:4:",
        "did you mean 'choice'?",
    ),
    (
        "unknown-language",
        {"decks/a.yaml": FACT_HEAD + "  - id: x\n    question: {ko: q, jp: q}\n    answer: a\n"},
        "decks/a.yaml:4:",
        "question: unknown language 'jp'",
    ),
    (
        "unknown-source",
        {"decks/a.yaml": FACT_HEAD + "  - id: x\n    question: q\n    answer: a\n    source: scr\n"},
        "decks/a.yaml:6:",
        "unknown source id 'scr'",
    ),
    (
        "duplicate-id",
        {
            "decks/a.yaml": BASIC,
            "decks/b.yaml": FACT_HEAD + "  - id: g\n    question: q\n    answer: a\n"
            "  - id: f1\n    question: q\n    answer: a\n",
        },
        "decks/b.yaml:6:",
        "duplicate id 'f1' (first used at decks/a.yaml:3)",
    ),
    (
        "malformed-id",
        {"decks/a.yaml": FACT_HEAD + "  - id: Bad Id\n    question: q\n    answer: a\n"},
        "decks/a.yaml:3:",
        "id: 'Bad Id' must use lowercase",
    ),
    (
        "missing-id",
        {"decks/a.yaml": FACT_HEAD + "  - question: q\n    answer: a\n"},
        "decks/a.yaml:3:",
        "missing required key 'id'",
    ),
    (
        "missing-answer",
        {"decks/a.yaml": FACT_HEAD + "  - id: x\n    question: q\n"},
        "decks/a.yaml:3:",
        "missing required key 'answer' for a basic fact",
    ),
    (
        "choice-answer-in-wrong",
        {
            "decks/a.yaml": FACT_HEAD + "  - id: x\n    type: choice\n    question: q\n"
            "    answer: A\n    wrong:\n      - B\n      - A\n"
        },
        "decks/a.yaml:9:",
        "wrong[1]: equals the answer",
    ),
    (
        "choice-too-few-wrong",
        {"decks/a.yaml": FACT_HEAD + "  - id: x\n    type: choice\n    question: q\n    answer: A\n    wrong: [B]\n"},
        "decks/a.yaml:7:",
        "at least 2 wrong options",
    ),
    (
        "cloze-without-deletion",
        {"decks/a.yaml": FACT_HEAD + "  - id: x\n    type: cloze\n    text: no blanks here\n"},
        "decks/a.yaml:5:",
        "a cloze needs at least one deletion",
    ),
    (
        "cloze-numbers-differ",
        {"decks/a.yaml": FACT_HEAD + "  - id: x\n    type: cloze\n    text: {ko: '{{c1::가}}', en: '{{c2::a}}'}\n"},
        "decks/a.yaml:5:",
        "same cloze numbers",
    ),
    (
        "truefalse-not-bool",
        {"decks/a.yaml": FACT_HEAD + "  - id: x\n    type: truefalse\n    statement: s\n    answer: yes\n"},
        "decks/a.yaml:6:",
        "must be true or false (found 'yes')",
    ),
    (
        "truefalse-quoted-bool",
        {"decks/a.yaml": FACT_HEAD + "  - id: x\n    type: truefalse\n    statement: s\n    answer: 'true'\n"},
        "decks/a.yaml:6:",
        "must be true or false",
    ),
    (
        "image-missing",
        {"decks/a.yaml": FACT_HEAD + "  - id: x\n    question: q\n    answer: a\n    image: img/no.png\n"},
        "decks/a.yaml:6:",
        "image: 'img/no.png' does not exist",
    ),
    (
        "image-escapes",
        {"decks/a.yaml": FACT_HEAD + "  - id: x\n    question: q\n    answer: a\n    image: ../outside.png\n"},
        "decks/a.yaml:6:",
        "is outside the project",
    ),
    (
        "image-absolute",
        {"decks/a.yaml": FACT_HEAD + "  - id: x\n    question: q\n    answer: a\n    image: /etc/passwd\n"},
        "decks/a.yaml:6:",
        "must be a path relative to the project",
    ),
    ("empty-file", {"decks/a.yaml": "# nothing yet\n\n"}, "decks/a.yaml:1:", "file is empty"),
    ("not-a-mapping", {"decks/a.yaml": "- id: x\n"}, "decks/a.yaml:1:", "must be a mapping"),
    ("facts-not-list", {"decks/a.yaml": "deck: A\nfacts: {id: x}\n"}, "decks/a.yaml:2:", "facts: expected a list"),
    (
        "not-utf8",
        {"decks/a.yaml": b'deck: A\nfacts:\n  - id: x\n    question: "\xff\xfe"\n'},
        "decks/a.yaml:4:",
        "not valid UTF-8",
    ),
    (
        "python-tag",
        {
            "decks/a.yaml": FACT_HEAD + "  - id: x\n    question: !!python/object/apply:os.system [echo hi]\n"
            "    answer: a\n"
        },
        "decks/a.yaml:4:",
        "YAML tag '!!python/object/apply:os.system' is not allowed",
    ),
    (
        "custom-tag",
        {"decks/a.yaml": FACT_HEAD + "  - id: x\n    question: !foo q\n    answer: a\n"},
        "decks/a.yaml:4:",
        "YAML tag '!foo' is not allowed",
    ),
    (
        "alias-bomb",
        {
            "decks/a.yaml": "a: &a [x, x, x, x, x, x, x, x, x]\n"
            + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))
            + "deck: A\nfacts: []\n"
        },
        "decks/a.yaml:2:",
        "YAML alias '*a' is not allowed",
    ),
    (
        "deep-nesting",
        {"decks/a.yaml": "deck: " + "[" * 5000 + "]" * 5000 + "\nfacts: []\n"},
        "decks/a.yaml:1:",
        "nesting depth over 1,000 levels",
    ),
    (
        "deep-block-nesting",
        {"decks/a.yaml": "deck: A\nfacts:\n" + "".join(" " * (i + 2) + "- \n" for i in range(3000))},
        "decks/a.yaml:",
        "nesting depth",
    ),
    (
        "bad-lang-config",
        {"decks/a.yaml": BASIC, "quizgen.yaml": "languages: Korean\n"},
        "quizgen.yaml:1:",
        "languages: expected a list",
    ),
    (
        "source-without-title",
        {"decks/a.yaml": BASIC, "decks/sources.yaml": "src:\n  url: https://x.org\n"},
        "decks/sources.yaml:2:",
        "missing required key 'title'",
    ),
    (
        "source-bad-url",
        {"decks/a.yaml": BASIC, "decks/sources.yaml": "src:\n  title: T\n  url: javascript:alert(1)\n"},
        "decks/sources.yaml:3:",
        "url: must start with http:// or https://",
    ),
    (
        "multiple-documents",
        {"decks/a.yaml": "deck: A\nfacts: []\n---\ndeck: B\n"},
        "decks/a.yaml:3:",
        "expected a single document",
    ),
]


@pytest.mark.parametrize("case,files,where,fragment", CASES, ids=[c[0] for c in CASES])
def test_rejected(project, tmp_path, case, files, where, fragment):
    root = project(files)
    check = run("check", root)
    assert check.exit_code == 1, check.output
    lines = check.stderr.splitlines()
    matching = [ln for ln in lines if ln.startswith(where) and fragment in ln]
    assert matching, f"expected a line starting {where!r} containing {fragment!r}; got:\n{check.stderr}"

    # build reports the same and leaves an existing output folder byte-for-byte alone
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.apkg").write_bytes(b"previous build")
    (out / "sub").mkdir()
    (out / "sub" / "index.html").write_text("old page")
    before = snapshot(out)
    result = run("build", root, "--out", out)
    assert result.exit_code == 1
    assert any(ln.startswith(where) and fragment in ln for ln in result.stderr.splitlines())
    assert snapshot(out) == before
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".quizgen-build-")]


def test_every_problem_is_reported_not_just_the_first(project):
    root = project(
        {
            "decks/a.yaml": FACT_HEAD + "  - id: x\n    question: q\n    answer: ''\n  - id: Y\n    question: q\n"
            "    answer: a\n",
            "decks/b.yaml": "deck: B\nfacts:\n  - id: z\n    question: q\n    answr: a\n",
        }
    )
    result = run("check", root)
    assert result.exit_code == 1
    err = result.stderr
    assert "decks/a.yaml:5: answer: must not be empty" in err
    assert "decks/a.yaml:6: id: 'Y' must use lowercase" in err
    assert "decks/b.yaml:5: unknown key 'answr'" in err
    assert "decks/b.yaml:3: missing required key 'answer'" in err
    assert "4 problems found" in err


def test_symlink_out_of_project_is_refused(project, tmp_path):
    secret = tmp_path / "secret.yaml"
    secret.write_text("deck: S\nfacts:\n  - id: s\n    question: q\n    answer: a\n")
    root = project({"decks/a.yaml": BASIC})
    os.symlink(secret, root / "decks" / "link.yaml")
    result = run("check", root)
    assert result.exit_code == 1
    assert "decks/link.yaml: is a link to a file outside the project" in result.stderr


def test_not_a_project_is_a_clean_error(tmp_path):
    result = run("check", tmp_path)
    assert result.exit_code == 1
    assert "not a quiz project" in result.stderr


def test_usage_error_exits_2(project):
    root = project({"decks/a.yaml": BASIC})
    assert run("build", root, "--forms", "0").exit_code == 2
    assert run("frobnicate").exit_code == 2
