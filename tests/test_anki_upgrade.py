"""The notetype upgrade, as a learner lives it: today's deck imported and reviewed, then the new build.

The first builds had a 17-field layout with one template per notetype; the final layout appends
seven fields and gives quizgen Basic a second template (Reverse).  Anki matches a notetype by its
field and template names, so this is the one change of layout quizgen will ever make
(writers/anki.py).  What Anki does with it, proven here with the real backend:

- with its default import options, Anki keeps the learner's notetypes, adds copies ("quizgen
  Basic+") for the new layout and updates no existing note (all "conflicting");
- with "Merge note types" ticked (Anki 23.10+), the notetypes are upgraded in place: no copy, no
  duplicate, every card and review kept, the new fields and templates present, and every later
  release updates notes as before.

The old package is built by quizgen's own code at LAYOUT_BASE (before the final layout).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
from conftest import REPO, write_project
from test_anki import FACTS, PNG, SOURCES, answer_all, import_package, open_collection

from quizgen import ids
from quizgen.writers import anki as writer

anki = pytest.importorskip("anki.collection", reason="the official 'anki' package is in the test extras")
from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest  # noqa: E402

LAYOUT_BASE = "273af051fdd76a2c1f0eeb3b02818d82ad6e0ac8"  # main with the first (17-field) layout


def old_code(tmp_path: Path) -> Path:
    """quizgen as it was at LAYOUT_BASE, unpacked from git (skip when this clone lacks the commit)."""
    probe = subprocess.run(["git", "-C", str(REPO), "cat-file", "-e", f"{LAYOUT_BASE}^{{commit}}"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"commit {LAYOUT_BASE} (the first notetype layout) is not in this clone's history")
    folder = tmp_path / "old-code"
    folder.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", LAYOUT_BASE, "quizgen", "templates"], capture_output=True, check=True
    )
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(folder, filter="data") if hasattr(tarfile, "data_filter") else tar.extractall(folder)
    shutil.move(str(folder / "templates"), str(folder / "quizgen" / "templates"))
    return folder


def build_with(code: Path | None, root: Path, out: Path, epoch: int) -> Path:
    prog = "import sys; sys.path.insert(0, sys.argv.pop(1)); from quizgen.cli import main; main()"
    cmd = [sys.executable, "-c", prog, str(code or REPO), "build", str(root), "--out", str(out), "--format", "apkg"]
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(epoch)}
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return out / "course.apkg"


def state(col: Collection) -> dict:
    """What a learner would not want to lose, card by card, plus the counts."""
    cards = {
        (guid, ord_): (ivl, due, reps, lapses, queue)
        for guid, ord_, ivl, due, reps, lapses, queue in col.db.all(
            "select n.guid, c.ord, c.ivl, c.due, c.reps, c.lapses, c.queue from cards c join notes n on n.id = c.nid"
        )
    }
    revlog = sorted(
        (guid, ord_, rid, ease, ivl)
        for guid, ord_, rid, ease, ivl in col.db.all(
            "select n.guid, c.ord, r.id, r.ease, r.ivl from revlog r join cards c on c.id = r.cid "
            "join notes n on n.id = c.nid"
        )
    )
    return {
        "notes": col.note_count(),
        "cards": col.card_count(),
        "notetypes": sum(1 for m in col.models.all_names_and_ids() if m.name.startswith("quizgen")),
        "reviews": col.db.scalar("select count() from revlog"),
        "per_card": cards,
        "revlog": revlog,
    }


def import_with(col: Collection, path: Path, **options):
    request = ImportAnkiPackageRequest(package_path=str(path), options=ImportAnkiPackageOptions(**options))
    return col.import_anki_package(request).log


@pytest.fixture
def learner(tmp_path):
    """A learner who imported today's package (first layout) and reviewed every card, twice for some."""
    code = old_code(tmp_path)
    root = write_project(tmp_path / "course", {"decks/unit1.yaml": FACTS, "img/dot.png": PNG}, SOURCES)
    old = build_with(code, root, tmp_path / "old", 1_700_000_000)
    col = open_collection(tmp_path)
    import_package(col, old)
    assert answer_all(col) == 4
    first = col.get_card(col.find_cards("")[0])
    first.start_timer()
    col.sched.answerCard(first, 4)
    yield col, root
    col.close()


def test_default_import_of_the_new_layout_makes_copies_and_updates_nothing(learner, tmp_path):
    """What README and `quizgen diff` warn about: without "Merge note types", Anki cannot upgrade."""
    col, root = learner
    before = state(col)
    new = build_with(None, root, tmp_path / "new", 1_700_000_100)
    log = import_with(col, new)
    after = state(col)
    assert len(log.conflicting) == 4 and not log.updated and not log.new
    names = sorted(m.name for m in col.models.all_names_and_ids() if m.name.startswith("quizgen"))
    assert "quizgen Basic+" in names and after["notetypes"] == 8  # copies, which every later import keeps using
    assert after["revlog"] == before["revlog"] and after["per_card"] == before["per_card"]


def test_merge_upgrades_the_notetypes_in_place_and_keeps_every_review(learner, tmp_path):
    col, root = learner
    before = state(col)
    new = build_with(None, root, tmp_path / "new", 1_700_000_100)
    log = import_with(col, new, merge_notetypes=True)
    col.close()
    col = open_collection(tmp_path)  # reopened: the Python side caches notetypes
    after = state(col)
    print(
        "upgrade:",
        {k: before[k] for k in ("notes", "cards", "notetypes", "reviews")},
        "->",
        {k: after[k] for k in ("notes", "cards", "notetypes", "reviews")},
    )
    assert not log.new and not log.conflicting  # no duplicates, nothing refused
    assert {k: after[k] for k in ("notes", "cards", "notetypes", "reviews")} == {
        k: before[k] for k in ("notes", "cards", "notetypes", "reviews")
    }
    assert after["revlog"] == before["revlog"]  # every review, card by card
    assert after["per_card"] == before["per_card"]  # every card's interval, due date and counts
    for kind, ntid in ids.NOTETYPE_IDS.items():
        notetype = col.models.get(ntid)
        assert notetype["name"] == writer.NOTETYPE_NAMES[kind]  # the same notetype, not a "+" copy
        assert [f["name"] for f in notetype["flds"]] == list(writer.FIELDS)  # exactly the final layout
        assert [t["name"] for t in notetype["tmpls"]] == list(writer.TEMPLATE_NAMES[kind])
        assert notetype["sortf"] == writer.SORT_FIELD
    choice = col.models.get(ids.NOTETYPE_IDS["choice"])
    assert "qg-order:" in choice["tmpls"][0]["qfmt"]  # the new templates arrived
    # Old notes render with the new templates (their options keep their fixed, baked-in letters).
    for cid in col.find_cards(""):
        card = col.get_card(cid)
        assert card.question() and 'class="qg-id"' not in card.answer()
    assert col.fix_integrity()[1]
    col.close()

    # From now on the layouts are equal: a later release updates notes as it always did.
    path = root / "decks/unit1.yaml"
    path.write_text(path.read_text().replace("671 billion", "671 billion in total"))
    later = build_with(None, root, tmp_path / "later", int(time.time()) + 100)
    col = open_collection(tmp_path)
    log = import_with(col, later)
    assert len(log.updated) == 1 and not log.conflicting and not log.new
    assert state(col)["notetypes"] == 4 and state(col)["revlog"] == before["revlog"]


def test_diff_against_the_old_package_says_how_to_upgrade(tmp_path):
    from conftest import run

    code = old_code(tmp_path)
    root = write_project(tmp_path / "course", {"decks/unit1.yaml": FACTS, "img/dot.png": PNG}, SOURCES)
    old = build_with(code, root, tmp_path / "old", 1_700_000_000)
    result = run("diff", root, "--against", old)
    assert result.exit_code == 0, result.output
    assert "warning: the notetypes' field layout changes (quizgen Basic 17 -> 24 fields" in result.output
    assert "'Merge note types'" in result.output
    same = build_with(None, root, tmp_path / "new", 1_700_000_100)
    assert "field layout" not in run("diff", root, "--against", same).output
