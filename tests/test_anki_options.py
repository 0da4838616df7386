"""What learners choose: one-language decks, one package per course, reverse cards, deck
descriptions and review-time shuffling, each proven by importing into the real Anki backend."""

from __future__ import annotations

import json
import re
import sqlite3
import zipfile
from pathlib import Path

import pytest
from conftest import run, write_project
from test_anki import FACTS, PNG, SOURCES, fields_of, import_package, open_collection

pytest.importorskip("anki.collection", reason="the official 'anki' package is in the test extras")

UNIT2 = """\
deck: "Course::Unit 2"
description: {ko: "두 번째 단원: <b>굵게</b> & 더", en: "Unit two"}
facts:
  - id: vocab-1
    question: {ko: 전문가 혼합, en: What is "mixture of experts" in Korean?}
    answer: {ko: MoE, en: 전문가 혼합}
    reverse: true
    source: v3
  - id: only-en
    question: {en: A question written in English only}
    answer: {en: English only}
    source: v3
"""
OTHER = """\
deck: "Other course part"
facts:
  - id: other-1
    question: {ko: 다른 질문, en: Another question}
    answer: {ko: 다른 답, en: Another answer}
    source: v3
"""


@pytest.fixture
def course(tmp_path):
    files = {"decks/unit1.yaml": FACTS, "decks/unit2.yaml": UNIT2, "img/dot.png": PNG}
    return write_project(tmp_path / "course", files, SOURCES)


def build(root: Path, out: Path, *args: str) -> list[str]:
    result = run("build", root, "--out", out, "--format", "apkg", *args)
    assert result.exit_code == 0, result.output
    return sorted(p.name for p in out.glob("*.apkg"))


def test_one_language_deck_shows_only_that_language_and_falls_back(course, tmp_path):
    assert build(course, tmp_path / "ko", "--lang", "ko") == ["course-ko.apkg"]
    col = open_collection(tmp_path)
    import_package(col, tmp_path / "ko" / "course-ko.apkg")
    for nid in col.find_notes(""):
        note = col.get_note(nid)
        assert note["Lang1"] == "ko" and not note["Lang2"] and not note["Prompt2"] and not note["Answer2"]
        for card in note.cards():
            assert 'lang="en"' not in card.question() + card.answer()
    assert fields_of(col, "basic-1")["Prompt1"] == "딥시크-V3의 전체 파라미터 수는?"
    # A text without Korean shows its English rather than an empty card; lint says so.
    assert fields_of(col, "only-en")["Prompt1"] == "A question written in English only"
    lint = run("check", course, "--lint")
    assert re.search(r"decks/unit2\.yaml:\d+: warning: \w+: no ko text \[missing-language\]", lint.output)
    col.close()


def test_one_language_and_bilingual_packages_are_separate_notes(course, tmp_path):
    """Decided: a ko-only package holds its own notes (own GUIDs and lock entries), so importing it
    beside the bilingual one neither overwrites nor half-updates the bilingual notes."""
    build(course, tmp_path / "both")
    build(course, tmp_path / "ko", "--lang", "ko")
    col = open_collection(tmp_path)
    first = import_package(col, tmp_path / "both" / "course.apkg")
    second = import_package(col, tmp_path / "ko" / "course-ko.apkg")
    assert len(second.new) == len(first.new) == 6 and not second.updated
    assert col.note_count() == 12
    lock = (course / "quizgen.lock").read_text()
    assert '"basic-1"' in lock and '"basic-1@ko"' in lock  # each variant keeps its own note times
    col.close()


def test_anki_lang_and_package_in_quizgen_yaml(tmp_path):
    files = {
        "decks/unit1.yaml": FACTS,
        "decks/other.yaml": OTHER,
        "img/dot.png": PNG,
        "quizgen.yaml": "title: My Course\nanki: {lang: en, package: one}\n",
    }
    root = write_project(tmp_path / "course", files, SOURCES)
    assert build(root, tmp_path / "a") == ["my-course-en.apkg"]
    assert build(root, tmp_path / "b", "--lang", "both", "--apkg", "per-deck") == [
        "course.apkg",
        "other-course-part.apkg",
    ]
    bad = write_project(tmp_path / "bad", {**files, "quizgen.yaml": "anki: {lang: fr, package: all}\n"}, SOURCES)
    result = run("check", bad)
    assert result.exit_code == 1
    assert "quizgen.yaml:1: anki.lang: 'fr' is not a project language" in result.output
    assert "quizgen.yaml:1: anki.package: must be one of per-deck, one (found 'all')" in result.output


def test_one_package_holds_every_top_level_deck_with_the_same_notes(tmp_path):
    files = {"decks/unit1.yaml": FACTS, "decks/other.yaml": OTHER, "img/dot.png": PNG}
    root = write_project(tmp_path / "course", files, SOURCES)
    per_deck = build(root, tmp_path / "per", "--apkg", "per-deck")
    assert per_deck == ["course.apkg", "other-course-part.apkg"]
    assert build(root, tmp_path / "one", "--apkg", "one") == ["course.apkg"]  # no title: the folder's name
    col = open_collection(tmp_path)
    log = import_package(col, tmp_path / "one" / "course.apkg")
    assert len(log.new) == 5 and col.card_count() == 5
    assert {"Course::Unit 1", "Other course part"} <= set(col.decks.all_names())
    for name in per_deck:  # the same notes: importing the per-deck packages afterwards adds nothing
        again = import_package(col, tmp_path / "per" / name)
        assert not again.new and not again.updated
    col.close()


def test_reverse_cards_on_the_same_note(course, tmp_path):
    build(course, tmp_path / "out")
    col = open_collection(tmp_path)
    import_package(col, tmp_path / "out" / "course.apkg")
    (nid,) = col.find_notes('"FactId:vocab-1"')
    cards = sorted(col.get_note(nid).cards(), key=lambda c: c.ord)
    assert [c.ord for c in cards] == [0, 1]  # Card 1 and Reverse
    assert col.card_count() == 7  # 6 notes; the cloze has one deletion; vocab-1 has two cards
    reverse = cards[1]
    assert 'lang="ko">MoE<' in reverse.question() and "What is" not in reverse.question()  # answer -> question
    assert 'What is "mixture of experts" in Korean?' in reverse.answer().split('<hr id="answer">')[1]
    (plain,) = col.find_notes('"FactId:basic-1"')
    assert len(col.get_note(plain).cards()) == 1  # the Reverse template is empty without the flag
    # Check Database generates no missing card and deletes none: the package's cards are what Anki wants.
    assert col.fix_integrity()[1] and col.card_count() == 7
    col.close()


def test_reverse_added_later_arrives_as_a_new_card(course, tmp_path):
    path = course / "decks/unit2.yaml"
    path.write_text(path.read_text().replace("    reverse: true\n", ""))
    build(course, tmp_path / "out")
    col = open_collection(tmp_path)
    import_package(col, tmp_path / "out" / "course.apkg")
    assert col.card_count() == 6
    path.write_text(UNIT2)
    build(course, tmp_path / "out")
    log = import_package(col, tmp_path / "out" / "course.apkg")
    assert len(log.updated) == 1 and col.card_count() == 7
    col.close()


def test_deck_description_in_the_overview_escaped(course, tmp_path):
    build(course, tmp_path / "out")
    col = open_collection(tmp_path)
    import_package(col, tmp_path / "out" / "course.apkg")
    deck = col.decks.by_name("Course::Unit 2")
    assert deck["desc"] == "두 번째 단원: &lt;b&gt;굵게&lt;/b&gt; &amp; 더<br><br>Unit two"
    assert not col.decks.by_name("Course::Unit 1")["desc"]
    col.close()
    build(course, tmp_path / "ko", "--lang", "ko")
    with zipfile.ZipFile(tmp_path / "ko" / "course-ko.apkg") as zf:
        (tmp_path / "ko.db").write_bytes(zf.read("collection.anki2"))
    decks = json.loads(sqlite3.connect(tmp_path / "ko.db").execute("select decks from col").fetchone()[0])
    (desc,) = [d["desc"] for d in decks.values() if d["name"] == "Course::Unit 2"]
    assert desc == "두 번째 단원: &lt;b&gt;굵게&lt;/b&gt; &amp; 더"


def test_shuffle_markup_in_the_package_deterministic(tmp_path):
    facts = """\
    deck: D
    facts:
      - id: s1
        type: choice
        question: Q1
        answer: A
        wrong: [B, C]
      - id: s2
        type: choice
        question: Q2
        answer: A
        wrong: [B, C]
        shuffle: false
    """
    root = write_project(tmp_path / "p", {"decks/d.yaml": facts}, None)
    build(root, tmp_path / "a")
    build(root, tmp_path / "b", "--no-cache")
    assert (tmp_path / "a/d.apkg").read_bytes() == (tmp_path / "b/d.apkg").read_bytes()
    col = open_collection(tmp_path)
    import_package(col, tmp_path / "a/d.apkg")
    assert 'data-qg-shuffle="s1"' in fields_of(col, "s1")["Options1"]
    assert "data-qg-shuffle" not in fields_of(col, "s2")["Options1"]
    letter = re.search(r'<span class="qg-letter">(\w)</span>', fields_of(col, "s1")["Answer1"])
    assert letter is not None
    col.close()


def test_fact_id_is_the_sort_field_and_not_printed(course, tmp_path):
    build(course, tmp_path / "out")
    col = open_collection(tmp_path)
    import_package(col, tmp_path / "out" / "course.apkg")
    for nid in col.find_notes(""):
        note = col.get_note(nid)
        assert note.note_type()["sortf"] == list(note.keys()).index("FactId")
        for card in note.cards():
            visible = re.sub(r"<style>.*?</style>|<script>.*?</script>|<[^>]+>", " ", card.answer(), flags=re.S)
            assert note["FactId"] not in visible
    assert col.find_notes('"FactId:vocab-1"') and col.db.scalar("select sfld from notes where sfld = 'vocab-1'")
    col.close()
