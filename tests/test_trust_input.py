"""Input that Anki (or the file system) would refuse is refused by `check`, at its line and column."""

from __future__ import annotations

import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run

from quizgen import cloze
from quizgen.limits import MAX_CLOZE_NUMBER, MAX_OPTIONS

HEAD = 'deck: "T::D"\nfacts:\n'


def check(root: Path):
    result = run("check", root)
    assert result.exit_code in (0, 1), result.output  # never 3, never a traceback
    return result


def lines_of(result) -> list[str]:
    return result.stderr.splitlines()


# -- control characters -------------------------------------------------------------------


@pytest.mark.parametrize(
    "field,line",
    [
        ("question", 4),
        ("answer", 5),
        ("explanation", 6),
        ("quote", 7),
    ],
)
def test_raw_control_character_located_at_line_and_column(project, field, line):
    values = {"question": "q", "answer": "a", "explanation": "e", "quote": "u"}
    values[field] = "ab\x1fcd"
    body = HEAD + "  - id: x\n" + "".join(f"    {k}: {v}\n" for k, v in values.items()) + "    source: src\n"
    root = project({"decks/a.yaml": body})
    result = check(root)
    assert result.exit_code == 1
    column = len(f"    {field}: ab") + 1
    assert f"decks/a.yaml:{line}: column {column}: control character U+001F" in result.stderr
    assert ":0:" not in result.stderr and not any(ln.startswith("decks/a.yaml: ") for ln in lines_of(result))


@pytest.mark.parametrize("escape", ["\\x1f", "\\u001F", "\\0", "\\e", "\\x7f", "\\x85", "\\r", "\\U0000001f"])
def test_escaped_control_character_located_at_line_and_column(project, escape):
    body = HEAD + f'  - id: x\n    question: q\n    answer: "a {escape} b"\n'
    root = project({"decks/a.yaml": body})
    result = check(root)
    assert result.exit_code == 1
    column = len('    answer: "a ') + 1
    assert f"decks/a.yaml:5: column {column}: the escape '{escape}'" in result.stderr


def test_control_characters_do_not_hide_the_files_other_problems(project):
    body = HEAD + '  - id: x\n    question: "a\\x1fb"\n    answer: a\n    questoin: typo\n  - id: x\n    question: q\n'
    root = project({"decks/a.yaml": body})
    result = check(root)
    err = result.stderr
    assert "decks/a.yaml:4: column" in err and "U+001F" in err
    assert "decks/a.yaml:6: unknown key 'questoin'" in err
    assert "decks/a.yaml:7: missing required key 'answer'" in err
    assert "decks/a.yaml:7: duplicate id 'x'" in err  # the first fact is invalid, yet its id still counts


def test_nul_in_image_is_located_not_an_internal_error(project):
    body = HEAD + '  - id: x\n    question: q\n    answer: a\n    image: "img\\0.png"\n'
    root = project({"decks/a.yaml": body})
    result = check(root)
    assert result.exit_code == 1 and "decks/a.yaml:6: column" in result.stderr and "U+0000" in result.stderr
    build = run("build", root, "--out", root / "out")
    assert build.exit_code == 1 and "internal error" not in build.stderr


def test_tab_and_newline_allowed_in_texts_not_in_names(project):
    ok = HEAD + '  - id: x\n    question: "line one\\nline\\ttwo"\n    answer: |\n      a\n      b\n'
    assert check(project({"decks/a.yaml": ok})).exit_code == 0
    for value, line in [('deck: "T\\tD"\nfacts:\n  - id: x\n    question: q\n    answer: a\n', 1)]:
        result = check(project({"decks/a.yaml": value}))
        assert result.exit_code == 1 and f"decks/a.yaml:{line}: deck: must be one line" in result.stderr


def test_id_with_a_trailing_newline_is_refused_at_its_line(project):
    body = HEAD + '  - id: "a\\n"\n    question: q\n    answer: a\n'
    root = project({"decks/a.yaml": body})
    result = check(root)
    assert result.exit_code == 1 and "decks/a.yaml:3: id: 'a\\n' must" in result.stderr
    body = HEAD + "  - id: |\n      a\n    question: q\n    answer: a\n"
    assert "decks/a.yaml:3: id:" in check(project({"decks/a.yaml": body})).stderr


# -- cloze numbers, options ---------------------------------------------------------------


@pytest.mark.parametrize("number", ["0", str(MAX_CLOZE_NUMBER + 1), "65537", "9" * 5000])
def test_cloze_numbers_anki_refuses(project, number):
    body = HEAD + f"  - id: x\n    type: cloze\n    text: 'a {{{{c1::b}}}} and {{{{c{number}::c}}}}'\n"
    result = check(project({"decks/a.yaml": body}))
    assert result.exit_code == 1
    assert f"decks/a.yaml:5: text: '{{{{c{number[:10]}" in result.stderr
    assert f"cloze numbers run from c1 to c{MAX_CLOZE_NUMBER}" in result.stderr


def test_nested_cloze_is_refused(project):
    body = HEAD + "  - id: x\n    type: cloze\n    text: 'a {{c1::b {{c2::c}} d}}'\n"
    result = check(project({"decks/a.yaml": body}))
    assert result.exit_code == 1 and "decks/a.yaml:5: text: a cloze deletion inside another" in result.stderr


def test_more_options_than_labels_is_refused(project):
    def fact(n_wrong):
        wrong = ", ".join(f"w{i}" for i in range(n_wrong))
        return HEAD + f"  - id: x\n    type: choice\n    question: q\n    answer: a\n    wrong: [{wrong}]\n"

    assert check(project({"decks/a.yaml": fact(MAX_OPTIONS - 1)})).exit_code == 0
    result = check(project({"decks/a.yaml": fact(MAX_OPTIONS)}))
    assert result.exit_code == 1
    assert f"decks/a.yaml:7: wrong: {MAX_OPTIONS} wrong options give {MAX_OPTIONS + 1} options" in result.stderr


# -- output names -------------------------------------------------------------------------


def test_two_decks_with_one_package_name_are_found_by_check(project):
    a = 'deck: "Foo Bar"\nfacts:\n  - id: a\n    question: q\n    answer: a\n'
    b = '# the same package\ndeck: "foo-bar::Sub"\nfacts:\n  - id: b\n    question: q\n    answer: a\n'
    root = project({"decks/a.yaml": a, "decks/b.yaml": b})
    result = check(root)
    assert result.exit_code == 1
    assert "decks/b.yaml:2: deck: 'foo-bar' and 'Foo Bar' (in decks/a.yaml) both give" in result.stderr
    assert "'foo-bar.apkg'" in result.stderr
    assert run("build", root, "--out", root / "out").exit_code == 1


def test_deck_name_too_long_for_a_file_name(project):
    body = f'deck: "{"덱" * 90}::Sub"\nfacts:\n  - id: a\n    question: q\n    answer: a\n'
    root = project({"decks/a.yaml": body})
    result = check(root)
    assert result.exit_code == 1 and "decks/a.yaml:1: deck: the top-level name" in result.stderr
    build = run("build", root, "--out", root / "out")
    assert build.exit_code == 1 and "internal error" not in build.stderr


def test_fact_file_path_too_long_for_page_names(project):
    deep = "/".join(["folder-name-" + "x" * 40] * 5)
    root = project({f"decks/{deep}/a.yaml": HEAD + "  - id: a\n    question: q\n    answer: a\n"})
    result = check(root)
    assert result.exit_code == 1 and "gives an HTML page name of" in result.stderr


# -- YAML features the README refuses -----------------------------------------------------


@pytest.mark.parametrize(
    "value,what",
    [("&x q", "anchor '&x'"), ("!!str q", "tag '!!str'"), ("! q", "tag '!'"), ("!foo q", "tag '!foo'")],
)
def test_anchors_and_every_explicit_tag_are_refused_and_located(project, value, what):
    body = HEAD + f"  - id: x\n    question: {value}\n    answer: a\n    questoin: typo\n"
    result = check(project({"decks/a.yaml": body}))
    assert result.exit_code == 1
    assert f"decks/a.yaml:4: column 15: YAML {what} is not allowed" in result.stderr
    assert "decks/a.yaml:6: unknown key 'questoin'" in result.stderr  # the rest of the file is still checked


def test_tags_and_anchors_inside_quotes_are_text(project):
    body = HEAD + "  - id: x\n    question: \"!!str &x *y\"\n    answer: 'a & b !c'\n"
    assert check(project({"decks/a.yaml": body})).exit_code == 0


# -- the cloze scanner --------------------------------------------------------------------

OLD_CLOZE_RE = re.compile(r"\{\{c([0-9]+)::(.*?)(?:::(.*?))?\}\}", re.S)  # the regex it replaces, ASCII digits


def test_cloze_scanner_reads_deletions_as_the_old_regex_did():
    rng = random.Random(11)
    pieces = ["{{c", "{{", "c", "1", "23", "::", ":", "}}", "}", "x", " ", "가", "\n"]
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 25)))
        old = [(int(m.group(1)), m.group(2), m.group(3), m.start(), m.end()) for m in OLD_CLOZE_RE.finditer(text)]
        new = [(d.number, d.hidden, d.hint, d.start, d.end) for d in cloze.scan(text)]
        assert new == old, text
        assert cloze.replace(text, lambda d: d.hidden) == OLD_CLOZE_RE.sub(lambda m: m.group(2), text)


def test_cloze_scanner_is_linear_on_hostile_text():
    import time

    for text in ["{{c1::" * 50_000, "{{c1::a::" * 50_000 + "}", "{{c" * 100_000, "{{c1::x}}" * 50_000]:
        start = time.perf_counter()
        cloze.scan(text)
        assert time.perf_counter() - start < 2.0


# -- the real consumer --------------------------------------------------------------------


def test_boundary_cases_build_and_import_into_anki(project, tmp_path):
    """Everything at its limit still builds, and the official Anki backend takes the package whole."""
    collection = pytest.importorskip("anki.collection", reason="the official 'anki' package is in the test extras")
    wrong = ", ".join(f"w{i}" for i in range(MAX_OPTIONS - 1))
    body = (
        'deck: "Edge::Cases"\nfacts:\n'
        f'  - id: {"a" * 200}\n    question: "tab\\there, newline\\nthere"\n    answer: a\n'
        f"  - id: choice\n    type: choice\n    question: q\n    answer: a\n    wrong: [{wrong}]\n"
        f"  - id: cloze\n    type: cloze\n    text: 'first {{{{c1::a}}}}, last {{{{c{MAX_CLOZE_NUMBER}::b}}}}'\n"
    )
    root = project({"decks/a.yaml": body})
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "quizgen"), "build", str(root), "--out", str(root / "out")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    (tmp_path / "learner").mkdir()
    col = collection.Collection(str(tmp_path / "learner" / "c.anki2"))
    try:
        request = collection.ImportAnkiPackageRequest(
            package_path=str(root / "out" / "edge.apkg"), options=collection.ImportAnkiPackageOptions()
        )
        log = col.import_anki_package(request).log
        assert len(log.new) == 3
        ords = sorted(col.db.list("select ord from cards where nid = ?", col.find_notes('"FactId:cloze"')[0]))
        assert ords == [0, MAX_CLOZE_NUMBER - 1]
        col.fix_integrity()  # Anki's own "Check Database" keeps every card as it is
        assert sorted(col.db.list("select ord from cards where nid = ?", col.find_notes('"FactId:cloze"')[0])) == ords
        assert col.card_count() == 4
    finally:
        col.close()
