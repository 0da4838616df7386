"""Project identity: two courses never share a note in a learner's collection (real Anki backend)."""

from __future__ import annotations

import re

import pytest
from conftest import run, write_project

pytest.importorskip("anki.collection", reason="the official 'anki' package is in the test extras")
from test_anki import build, import_package, open_collection  # noqa: E402

COURSE = """\
deck: "{deck}"
facts:
  - id: vocab-1
    question: {{ko: {q}, en: {q}}}
    answer: {{ko: {a}, en: {a}}}
    source: src
"""


def test_two_courses_with_the_same_fact_id_stay_apart(tmp_path):
    bio = write_project(
        tmp_path / "bio",
        {"decks/a.yaml": COURSE.format(deck="Biology", q="Cell?", a="Unit")},
        project_id="bio-course-1111",
    )
    chem = write_project(
        tmp_path / "chem",
        {"decks/a.yaml": COURSE.format(deck="Chemistry", q="Atom?", a="Element")},
        project_id="chem-course-2222",
    )
    col = open_collection(tmp_path)
    try:
        import_package(col, build(bio, tmp_path / "out-bio") / "biology.apkg")
        log = import_package(col, build(chem, tmp_path / "out-chem") / "chemistry.apkg")
        assert len(log.new) == 1 and len(log.updated) == 0
        assert col.note_count() == 2
        fronts = sorted(col.get_note(nid).fields[0] for nid in col.find_notes(""))
        assert fronts == ["Atom?", "Cell?"]
        for deck in ("Biology", "Chemistry"):
            assert len(col.find_cards(f'"deck:{deck}"')) == 1
    finally:
        col.close()


def test_a_project_without_an_id_is_told_one_to_paste(tmp_path):
    root = write_project(tmp_path / "p", {"decks/a.yaml": COURSE.format(deck="D", q="Q", a="A")}, project_id=None)
    out = tmp_path / "out"
    for command in (["build", root, "--out", out], ["check", root]):
        result = run(*command)
        assert result.exit_code == 1
        match = re.search(r"`id: ([0-9a-f]{16})`", result.stderr)
        assert match, result.stderr
        assert result.stderr.startswith("quizgen.yaml")
    assert not out.exists()
    # The printed line, pasted in, makes the project build.
    (root / "quizgen.yaml").write_text(f"id: {match.group(1)}\n")
    assert run("build", root, "--out", out, "--format", "apkg").exit_code == 0


@pytest.mark.parametrize("bad", ["short", "has space here", "a/b/c/d/e/f", "-leadingdash"])
def test_bad_project_ids_are_located(tmp_path, bad):
    root = write_project(
        tmp_path / "p",
        {"decks/a.yaml": COURSE.format(deck="D", q="Q", a="A"), "quizgen.yaml": f"title: T\nid: '{bad}'\n"},
    )
    result = run("check", root)
    assert result.exit_code == 1
    assert result.stderr.startswith("quizgen.yaml:2: id:"), result.stderr


def test_init_writes_a_random_id_and_a_gitignore(tmp_path):
    ids = []
    for name in ("one", "two"):
        assert run("init", tmp_path / name).exit_code == 0
        config = (tmp_path / name / "quizgen.yaml").read_text()
        ids.append(re.search(r"^id: (\S+)", config, re.M).group(1))
        assert "dist/" in (tmp_path / name / ".gitignore").read_text().split()
        assert run("build", tmp_path / name, "--out", tmp_path / name / "dist", "--format", "apkg").exit_code == 0
    assert ids[0] != ids[1]
