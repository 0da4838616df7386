"""The Anki writer, proven with the official `anki` backend (the one the desktop app runs)."""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, run, write_project

anki = pytest.importorskip("anki.collection", reason="the official 'anki' package is in the test extras")
from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest  # noqa: E402

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)

FACTS = """\
deck: "Course::Unit 1"
tags: [unit one]
facts:
  - id: basic-1
    question: {ko: 딥시크-V3의 전체 파라미터 수는?, en: How many total parameters does DeepSeek-V3 have?}
    answer: {ko: 6710억 개, en: 671 billion}
    explanation: {ko: 토큰마다 370억 개만 활성화됩니다., en: Only 37 billion are active per token.}
    source: v3
    quote: "671B total parameters"
    image: img/dot.png
  - id: choice-1
    type: choice
    question: {ko: V3 학습에 쓰인 GPU는?, en: Which GPU trained V3?}
    answer: H800
    wrong: [H100, A100, H20]
    source: v3
  - id: cloze-1
    type: cloze
    text: {ko: "V3는 {{c1::H800}} GPU 2,048개로 학습했다.", en: "V3 was trained on 2,048 {{c1::H800}} GPUs."}
    source: v3
  - id: tf-1
    type: truefalse
    statement: {ko: V3는 MoE 모델이다., en: V3 is an MoE model.}
    answer: true
    source: v3
"""
SOURCES = "v3:\n  title: DeepSeek-V3 Technical Report\n  url: https://arxiv.org/abs/2412.19437\n  date: '2024-12'\n"


@pytest.fixture
def course(tmp_path):
    root = write_project(tmp_path / "course", {"decks/unit1.yaml": FACTS, "img/dot.png": PNG}, SOURCES)
    return root


def build(root: Path, out: Path, env: dict | None = None) -> Path:
    """Build through the real `quizgen` command, as a user (and CI) would."""
    exe = Path(sys.executable).parent / "quizgen"
    proc = subprocess.run(
        [str(exe), "build", str(root), "--out", str(out), "--format", "apkg"],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert proc.returncode == 0, proc.stderr
    return out


def open_collection(tmp_path: Path) -> Collection:
    (tmp_path / "learner").mkdir(exist_ok=True)
    return Collection(str(tmp_path / "learner" / "collection.anki2"))


def import_package(col: Collection, path: Path):
    request = ImportAnkiPackageRequest(package_path=str(path), options=ImportAnkiPackageOptions())
    return col.import_anki_package(request).log


def fields_of(col: Collection, fact_id: str) -> dict[str, str]:
    (nid,) = col.find_notes(f'"FactId:{fact_id}"')
    note = col.get_note(nid)
    return dict(note.items())


def cut_from(path: Path, fact_id: str) -> str:
    """Remove the fact `fact_id` and everything after it from a fact file; return what was cut."""
    text = path.read_text()
    start = text.index(f"  - id: {fact_id}")
    path.write_text(text[:start])
    return text[start:]


def answer_all(col: Collection) -> int:
    """Review every card once (Good), as a learner would, so that there is history to lose."""
    answered = 0
    for cid in col.find_cards(""):
        card = col.get_card(cid)
        card.start_timer()
        col.sched.answerCard(card, 3)
        answered += 1
    return answered


def test_import_counts_and_integrity(course, tmp_path):
    out = build(course, tmp_path / "out")
    assert sorted(n for n in os.listdir(out) if not n.startswith(".")) == ["course.apkg"]
    col = open_collection(tmp_path)
    log = import_package(col, out / "course.apkg")
    assert len(log.new) == 4
    assert col.note_count() == 4 and col.card_count() == 4
    message, ok = col.fix_integrity()
    assert ok and "Database rebuilt" in message and "fixed" not in message.lower()
    names = {col.get_note(n).note_type()["name"] for n in col.find_notes("")}
    assert names == {"quizgen Basic", "quizgen Multiple choice", "quizgen Cloze", "quizgen True/False"}
    assert "Course::Unit 1" in col.decks.all_names()
    tags = col.get_note(col.find_notes('"FactId:basic-1"')[0]).tags
    assert set(tags) == {"unit_one", "quizgen::basic", "source::v3"}
    # the image travelled as media under a content-addressed name
    assert any(name.startswith("qg-") for name in os.listdir(col.media.dir()))
    col.close()


def test_cards_render_both_languages_and_source(course, tmp_path):
    out = build(course, tmp_path / "out")
    col = open_collection(tmp_path)
    import_package(col, out / "course.apkg")
    for fact_id, ko, en in [
        ("basic-1", "딥시크-V3의 전체 파라미터 수는?", "How many total parameters"),
        ("choice-1", "V3 학습에 쓰인 GPU는?", "Which GPU trained V3?"),
        ("cloze-1", "GPU 2,048개로 학습했다", "V3 was trained on 2,048"),
        ("tf-1", "V3는 MoE 모델이다.", "V3 is an MoE model."),
    ]:
        card = col.get_note(col.find_notes(f'"FactId:{fact_id}"')[0]).cards()[0]
        question, answer = card.question(), card.answer()
        assert ko in question and en in question, fact_id
        assert question.index(ko) < question.index(en)  # primary language first
        assert "DeepSeek-V3 Technical Report" in answer and "https://arxiv.org/abs/2412.19437" in answer
    cloze = col.get_note(col.find_notes('"FactId:cloze-1"')[0]).cards()[0]
    visible = re.sub(r"<[^>]+>", "", cloze.question().split("</style>")[-1])
    assert "H800" not in visible and "[...]" in visible and "H800" in cloze.answer()
    tf = col.get_note(col.find_notes('"FactId:tf-1"')[0]).cards()[0]
    assert "참" in tf.question() and "True" in tf.question() and "○ 참" in tf.answer()
    choice = col.get_note(col.find_notes('"FactId:choice-1"')[0]).cards()[0]
    assert 'class="qg-correct"><span class="qg-o1" lang="ko">H800' in choice.answer() and "H20" in choice.question()
    basic = col.get_note(col.find_notes('"FactId:basic-1"')[0]).cards()[0]
    assert "671B total parameters" in basic.answer() and "6710억 개" in basic.answer()
    col.close()


def test_update_cycle_keeps_history_and_delivers_edits(course, tmp_path):
    out = build(course, tmp_path / "out")
    col = open_collection(tmp_path)
    import_package(col, out / "course.apkg")
    assert answer_all(col) == 4
    reviews = col.db.scalar("select count() from revlog")
    intervals = dict(col.db.all("select n.guid, c.ivl from cards c join notes n on c.nid = n.id"))
    learner_note = col.get_note(col.find_notes('"FactId:tf-1"')[0])
    learner_note["Explanation1"] = "my own note"  # a learner's edit to a fact that will not change
    col.update_note(learner_note)

    text = (course / "decks/unit1.yaml").read_text()
    text = text.replace("6710억 개", "약 6710억 개").replace(
        "facts:\n",
        """facts:
  - id: new-1
    question: {ko: 새 질문, en: New question}
    answer: {ko: 새 답, en: New answer}
    source: v3
""",
    )
    (course / "decks/unit1.yaml").write_text(text)
    build(course, out)
    log = import_package(col, out / "course.apkg")
    assert len(log.new) == 1 and len(log.updated) == 1
    assert col.note_count() == 5
    assert fields_of(col, "basic-1")["Answer1"] == "약 6710억 개"
    assert col.db.scalar("select count() from revlog") == reviews
    after = dict(col.db.all("select n.guid, c.ivl from cards c join notes n on c.nid = n.id"))
    assert all(after[g] == ivl for g, ivl in intervals.items())
    assert fields_of(col, "tf-1")["Explanation1"] == "my own note"  # unchanged fact: learner's edit kept
    assert col.fix_integrity()[1]
    col.close()


def test_edit_arrives_with_source_date_epoch(course, tmp_path):
    env = {"SOURCE_DATE_EPOCH": "1700000000"}
    out = build(course, tmp_path / "out", env)
    col = open_collection(tmp_path)
    import_package(col, out / "course.apkg")
    path = course / "decks/unit1.yaml"
    path.write_text(path.read_text().replace("671 billion", "671 billion (671B)"))
    build(course, out, env)
    log = import_package(col, out / "course.apkg")
    assert len(log.updated) == 1
    assert fields_of(col, "basic-1")["Answer2"] == "671 billion (671B)"
    col.close()


def test_rebuild_is_byte_identical_across_hash_seeds(course, tmp_path):
    first = build(course, tmp_path / "a", {"PYTHONHASHSEED": "1"})
    second = build(course, tmp_path / "b", {"PYTHONHASHSEED": "2"})
    assert (first / "course.apkg").read_bytes() == (second / "course.apkg").read_bytes()


def test_markup_in_facts_is_escaped(tmp_path):
    root = write_project(
        tmp_path / "p",
        {
            "decks/x.yaml": """\
        deck: X
        facts:
          - id: xss
            question: "<script>alert(1)</script> & <b>bold</b>"
            answer: "<img src=x onerror=alert(1)>"
        """
        },
        None,
    )
    out = build(root, tmp_path / "out")
    col = open_collection(tmp_path)
    import_package(col, out / "x.apkg")
    fields = fields_of(col, "xss")
    assert fields["Prompt1"] == "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;"
    assert fields["Answer1"] == "&lt;img src=x onerror=alert(1)&gt;"
    card = col.get_note(col.find_notes('"FactId:xss"')[0]).cards()[0]
    assert "<script>" not in card.question() and "<img src=x" not in card.answer()
    col.close()


def test_deleted_fact_leaves_learners_note(course, tmp_path):
    out = build(course, tmp_path / "out")
    col = open_collection(tmp_path)
    import_package(col, out / "course.apkg")
    cut_from(course / "decks/unit1.yaml", "tf-1")
    build(course, out)
    log = import_package(col, out / "course.apkg")
    assert len(log.new) == 0 and len(log.duplicate) == 3
    assert col.note_count() == 4  # Anki never deletes on import: the learner keeps the note and its history
    assert col.fix_integrity()[1]
    col.close()


def copy_shipped(tmp_path: Path) -> Path:
    """The shipped project, copied so that the build's lock update never touches the repository."""
    root = tmp_path / "shipped"
    shutil.copytree(REPO / "decks", root / "decks")
    for name in ("quizgen.yaml", "quizgen.lock"):
        if (REPO / name).exists():
            shutil.copy(REPO / name, root / name)
    return root


def test_shipped_decks_import(tmp_path):
    root = copy_shipped(tmp_path)
    out = tmp_path / "out"
    result = run("build", root, "--out", out, "--format", "apkg")
    assert result.exit_code == 0, result.output
    from quizgen.project import load_project

    project = load_project(str(root))
    col = open_collection(tmp_path)
    packages = sorted(out.glob("*.apkg"))
    assert [p.name for p in packages] == ["deepseek.apkg"]
    assert (root / "quizgen.lock").read_text() == (REPO / "quizgen.lock").read_text(), (
        "decks changed but quizgen.lock did not: run `make build` and commit quizgen.lock"
    )
    for package in packages:
        import_package(col, package)
    assert col.note_count() == len(project.facts)
    expected_cards = sum(
        len({m for _, v in f.text.items for m in re.findall(r"\{\{c(\d+)::", v)}) if f.type == "cloze" else 1
        for f in project.facts
    )
    assert col.card_count() == expected_cards
    assert col.fix_integrity()[1]
    col.close()


def test_moved_fact_updates_note_but_cards_stay(course, tmp_path):
    out = build(course, tmp_path / "out")
    col = open_collection(tmp_path)
    import_package(col, out / "course.apkg")
    moved = cut_from(course / "decks/unit1.yaml", "tf-1")
    (course / "decks/unit2.yaml").write_text(
        'deck: "Course::Unit 2"\nfacts:\n' + moved.replace("V3는 MoE 모델이다.", "DeepSeek-V3는 MoE 모델이다.")
    )
    build(course, out)
    log = import_package(col, out / "course.apkg")
    assert len(log.updated) == 1 and len(log.new) == 0
    card = col.get_note(col.find_notes('"FactId:tf-1"')[0]).cards()[0]
    assert fields_of(col, "tf-1")["Prompt1"] == "DeepSeek-V3는 MoE 모델이다."
    assert col.decks.name(card.did) == "Course::Unit 1"  # what the README and `quizgen diff` tell learners
    col.close()


def test_newer_notetype_templates_reach_the_learner(course, tmp_path, monkeypatch):
    """Templates/CSS improve between releases: bumping NOTETYPE_MOD updates the learner's notetype in place."""
    from quizgen import ids
    from quizgen.writers import anki as writer

    real_css = writer.read_shipped("anki-card.css")
    monkeypatch.setattr(writer, "NOTETYPE_MOD", writer.NOTETYPE_MOD - 1000)
    monkeypatch.setattr(writer, "read_shipped", lambda name: "/* old release */")
    old = tmp_path / "old"
    assert run("build", course, "--out", old, "--format", "apkg", "--no-cache").exit_code == 0
    monkeypatch.undo()
    new = tmp_path / "new"
    assert run("build", course, "--out", new, "--format", "apkg", "--no-cache").exit_code == 0

    col = open_collection(tmp_path)
    import_package(col, old / "course.apkg")
    assert col.models.get(ids.NOTETYPE_IDS["basic"])["css"] == "/* old release */"
    import_package(col, new / "course.apkg")
    col.close()
    col = open_collection(tmp_path)  # reopened: the Python side caches notetypes
    assert col.models.get(ids.NOTETYPE_IDS["basic"])["css"] == real_css
    assert col.note_count() == 4 and len(col.models.all()) == len({m["id"] for m in col.models.all()})
    assert sum(1 for m in col.models.all() if m["name"].startswith("quizgen")) == 4  # updated, not copied
    col.close()


def test_renamed_then_reverted_id_keeps_the_learners_edits(course, tmp_path):
    """A rename and its revert bring back the old content: the old note time too, so Anki leaves the note alone."""
    path = course / "decks/unit1.yaml"
    original = path.read_text()
    out = build(course, tmp_path / "out", {"SOURCE_DATE_EPOCH": "1700000000"})
    col = open_collection(tmp_path)
    import_package(col, out / "course.apkg")
    note = col.get_note(col.find_notes('"FactId:tf-1"')[0])
    note["Explanation1"] = "my own note"
    col.update_note(note)

    later = int(time.time()) + 100  # the author's next builds come after the learner's edit
    path.write_text(original.replace("id: tf-1", "id: tf-renamed"))
    build(course, out, {"SOURCE_DATE_EPOCH": str(later)})
    import_package(col, out / "course.apkg")
    path.write_text(original)  # the author reverts the rename
    build(course, out, {"SOURCE_DATE_EPOCH": str(later + 100)})
    log = import_package(col, out / "course.apkg")
    assert len(log.updated) == 0
    assert fields_of(col, "tf-1")["Explanation1"] == "my own note"
    col.close()


def test_removed_id_readded_under_an_older_epoch_still_arrives(course, tmp_path):
    """The lock remembers a removed fact's time, so its changed return is newer than what the learner has."""
    path = course / "decks/unit1.yaml"
    out = build(course, tmp_path / "out", {"SOURCE_DATE_EPOCH": "1800000000"})
    col = open_collection(tmp_path)
    import_package(col, out / "course.apkg")
    removed = cut_from(path, "tf-1")
    build(course, out, {"SOURCE_DATE_EPOCH": "1800000000"})
    path.write_text(path.read_text() + removed.replace("V3는 MoE 모델이다.", "V3는 MoE 언어 모델이다."))
    build(course, out, {"SOURCE_DATE_EPOCH": "1700000000"})  # e.g. a rebuild from an older commit's date
    log = import_package(col, out / "course.apkg")
    assert len(log.updated) == 1
    assert fields_of(col, "tf-1")["Prompt1"] == "V3는 MoE 언어 모델이다."
    col.close()
