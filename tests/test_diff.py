"""`quizgen diff` and CHANGES.md: what a re-import will do, against a real earlier .apkg and a real git revision."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from conftest import run, write_project

V1 = {
    "decks/a.yaml": """\
        deck: "Course::A"
        facts:
          - id: keep
            question: {ko: 변하지 않는 질문, en: An unchanged question}
            answer: {ko: 그대로, en: Same}
          - id: edit-me
            question: {ko: 딥시크-V3의 전체 파라미터 수는?, en: How many parameters does DeepSeek-V3 have?}
            answer: {ko: 6710억 개, en: 671 billion in total}
          - id: moe-intro
            question: {ko: 전문가 혼합 모델은 토큰마다 무엇을 고르나?, en: What does a mixture-of-experts model pick for each token?}
            answer: {ko: 일부 전문가, en: A few of its experts}
          - id: drop-me
            question: {ko: 사라질 질문, en: A question to be removed}
            answer: {ko: 삭제, en: Removed}
          - id: move-me
            question: {ko: 옮겨질 질문, en: A question that moves}
            answer: {ko: 이동, en: Moved}
        """,
}


def v2(root):
    a = (root / "decks/a.yaml").read_text()
    a = a.replace("671 billion in total", "671 billion in total (37 billion active)")
    a = a.replace("  - id: moe-intro", "  - id: moe-definition")
    start = a.index("  - id: drop-me")
    a = a[:start]
    (root / "decks/a.yaml").write_text(
        a + "  - id: brand-new\n    question: {ko: 새 질문, en: A new question}\n"
        "    answer: {ko: 새 답, en: New answer}\n"
    )
    (root / "decks/b.yaml").write_text(
        'deck: "Course::B"\nfacts:\n  - id: move-me\n'
        "    question: {ko: 옮겨질 질문, en: A question that moves}\n"
        "    answer: {ko: 이동, en: Moved}\n"
    )


@pytest.fixture
def built(tmp_path):
    root = write_project(tmp_path / "p", V1, None)
    old = tmp_path / "old"
    assert run("build", root, "--out", old, "--format", "apkg").exit_code == 0
    v2(root)
    return root, old


def test_diff_against_apkg_text(built):
    root, old = built
    result = run("diff", root, "--against", old / "course.apkg")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "2 added, 1 changed, 2 removed, 1 moved, 1 unchanged" in out
    assert "answer (en): 671 billion in total {+(37 billion active)+}" in out
    assert "move-me (from Course::A)" in out
    assert "did you rename `moe-intro` to `moe-definition`?" in out
    assert "drop-me" in out and "brand-new" in out


def test_diff_markdown_and_json(built):
    root, old = built
    md = run("diff", root, "--against", old, "--format", "markdown").stdout
    assert md.startswith("# Changes") and "## Course::A" in md and "**(37 billion active)**" in md
    data = json.loads(run("diff", root, "--against", old, "--format", "json").stdout)
    assert data["counts"] == {"added": 2, "changed": 1, "removed": 2, "moved": 1, "unchanged": 1}
    kinds = {c["id"]: c["kind"] for c in data["changes"]}
    assert kinds["edit-me"] == "changed" and kinds["move-me"] == "moved" and kinds["drop-me"] == "removed"
    assert any("moe-intro" in w for w in data["warnings"])


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_diff_against_git_revision(tmp_path):
    root = write_project(tmp_path / "repo" / "course", V1, None)
    repo = tmp_path / "repo"

    def git(*args):
        subprocess.run(
            ["git", "-C", str(repo), *args],
            check=True,
            capture_output=True,
            env={
                "GIT_AUTHOR_NAME": "t",
                "GIT_AUTHOR_EMAIL": "t@x",
                "GIT_COMMITTER_NAME": "t",
                "GIT_COMMITTER_EMAIL": "t@x",
                "HOME": str(tmp_path),
                "PATH": "/usr/bin:/bin",
            },
        )

    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "v1")
    git("tag", "v1")
    v2(root)
    result = run("diff", root, "--against", "git:v1")
    assert result.exit_code == 0, result.output
    assert "2 added, 1 changed, 2 removed, 1 moved, 1 unchanged" in result.stdout
    bad = run("diff", root, "--against", "git:no-such-tag")
    assert bad.exit_code == 1 and "no such revision" in bad.stderr


def test_build_writes_changes_md_only_over_an_earlier_build(built, tmp_path):
    root, old = built
    assert not (old / "CHANGES.md").exists()
    assert run("build", root, "--out", old, "--format", "apkg").exit_code == 0
    changes = (old / "CHANGES.md").read_text()
    assert changes.startswith("# Changes since the previous build")
    assert "2 added, 1 changed, 2 removed, 1 moved" in changes


def test_bad_against_is_a_clean_error(built, tmp_path):
    root, _ = built
    junk = tmp_path / "junk.apkg"
    junk.write_bytes(b"not a zip")
    result = run("diff", root, "--against", junk)
    assert result.exit_code == 1 and "not an Anki package written by quizgen" in result.stderr
    assert run("diff", root, "--against", tmp_path / "missing").exit_code == 1


def test_a_changed_fact_type_is_warned_about_because_anki_keeps_the_old_note(tmp_path):
    """Anki refuses to update a note whose notetype changed (a "conflict"): the warning is the only
    way an author learns that the corrected card will never reach a learner."""
    anki = pytest.importorskip("anki.collection", reason="the official 'anki' package is in the test extras")
    basic = """\
        deck: D
        facts:
          - id: retyped
            question: {ko: 발표 당시 트럼프는 전직 대통령이었나?, en: Was Trump a former president then?}
            answer: {ko: 아니다, en: No}
        """
    root = write_project(tmp_path / "p", {"decks/a.yaml": basic})
    assert run("build", root, "--out", tmp_path / "v1", "--format", "apkg").exit_code == 0
    (root / "decks/a.yaml").write_text(
        "deck: D\nfacts:\n  - id: retyped\n    type: truefalse\n"
        "    statement: {ko: 트럼프는 재임 중이었다., en: Trump was in office.}\n    answer: true\n",
        encoding="utf-8",
    )
    result = run("diff", root, "--against", tmp_path / "v1" / "d.apkg")
    assert result.exit_code == 0, result.output
    assert "`retyped` changes type from basic to truefalse" in result.output
    assert run("build", root, "--out", tmp_path / "v2", "--format", "apkg").exit_code == 0
    col = anki.Collection(str(tmp_path / "learner.anki2"))
    try:
        for build in ("v1", "v2"):
            request = anki.ImportAnkiPackageRequest(
                package_path=str(tmp_path / build / "d.apkg"), options=anki.ImportAnkiPackageOptions()
            )
            log = col.import_anki_package(request).log
        assert len(log.conflicting) == 1 and not log.updated
        (nid,) = col.find_notes('"FactId:retyped"')
        assert col.get_note(nid).note_type()["name"] == "quizgen Basic"  # the learner still has the old card
    finally:
        col.close()
