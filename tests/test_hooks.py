"""`quizgen lock`, and the pre-commit hooks run through the real `pre-commit try-repo`.

try-repo installs the hooks' environment from this repository each time (a fresh
virtualenv with quizgen and its dependencies from the package index), so the three
scenarios run in parallel: most of their time is spent waiting on pip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, run

PRE_COMMIT = Path(sys.executable).parent / "pre-commit"
GIT = ["git", "-c", "user.email=t@example.org", "-c", "user.name=t", "-c", "commit.gpgsign=false"]


def course(root: Path) -> Path:
    assert run("init", root).exit_code == 0
    assert run("lock", root).exit_code == 0
    return root


def answer_edited(root: Path) -> None:
    path = root / "decks" / "example.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("Geoffrey Hinton", "G. Hinton"), encoding="utf-8")


# ---------------------------------------------------------------------------
# quizgen lock


def test_lock_check_finds_every_stale_note_and_writes_nothing(tmp_path):
    root = course(tmp_path / "c")
    assert run("lock", root, "--check").exit_code == 0
    before = (root / "quizgen.lock").read_bytes()
    answer_edited(root)
    path = root / "decks" / "example.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("  - id: kd-same-temperature", "  - id: kd-renamed")
    path.write_text(text, encoding="utf-8")
    result = run("lock", root, "--check")
    assert result.exit_code == 1
    lines = text.splitlines()
    changed = next(i for i, ln in enumerate(lines, 1) if "id: kd-authors" in ln)
    new = next(i for i, ln in enumerate(lines, 1) if "id: kd-renamed" in ln)
    assert f"decks/example.yaml:{changed}: fact 'kd-authors' changed since quizgen.lock was written" in result.stderr
    assert f"decks/example.yaml:{new}: fact 'kd-renamed' is not in quizgen.lock yet" in result.stderr
    assert "quizgen.lock: fact 'kd-same-temperature' is in quizgen.lock but no longer in the decks" in result.stderr
    assert "quizgen.lock is stale" in result.stderr
    assert (root / "quizgen.lock").read_bytes() == before


def test_lock_updates_exactly_as_a_build_would(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    a, b = course(tmp_path / "a"), course(tmp_path / "b")
    (b / "quizgen.yaml").write_text((a / "quizgen.yaml").read_text())  # the same project id
    assert run("lock", b).exit_code == 0
    before = (a / "quizgen.lock").read_text()
    assert (b / "quizgen.lock").read_text() == before
    for root in (a, b):
        answer_edited(root)
    assert run("lock", a).exit_code == 0
    assert run("build", b, "--out", tmp_path / "out").exit_code == 0
    assert (a / "quizgen.lock").read_text() == (b / "quizgen.lock").read_text()
    assert (a / "quizgen.lock").read_text() != before
    assert run("lock", a, "--check").exit_code == 0
    assert not (a / "dist").exists()  # no output written


def test_the_shipped_lock_is_current():
    assert run("lock", REPO, "--check").exit_code == 0


# ---------------------------------------------------------------------------
# pre-commit


def git_repo(root: Path, change=None) -> Path:
    course(root)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run([*GIT, "-C", str(root), "add", "-A"], check=True)
    subprocess.run([*GIT, "-C", str(root), "commit", "-qm", "course"], check=True)
    if change:
        change(root)
        subprocess.run([*GIT, "-C", str(root), "add", "-A"], check=True)  # staged, as for a commit
    return root


def broken(root: Path) -> None:
    path = root / "decks" / "example.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("    question:\n", "    questoin:\n", 1), encoding="utf-8")


@pytest.fixture(scope="module")
def hook_runs(tmp_path_factory):
    """(name -> (exit code, output)) of `pre-commit try-repo REPO` in three repositories, run at once."""
    if shutil.which("git") is None:
        pytest.skip("git not installed")
    tmp = tmp_path_factory.mktemp("hooks")
    repos = {
        "clean": git_repo(tmp / "clean", answer_edited_and_locked),
        "stale": git_repo(tmp / "stale", answer_edited),
        "broken": git_repo(tmp / "broken", broken),
    }
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp / "home"), "PRE_COMMIT_COLOR": "never"}
    procs = {
        name: subprocess.Popen(
            [str(PRE_COMMIT), "try-repo", str(REPO)],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for name, root in repos.items()
    }
    return {name: (p.wait(timeout=600), p.communicate()[0]) for name, p in procs.items()}


def answer_edited_and_locked(root: Path) -> None:
    answer_edited(root)
    assert run("lock", root).exit_code == 0


def hook_line(output: str, name: str) -> str:
    return next(ln for ln in output.splitlines() if ln.startswith(name + "..") or ln.startswith(name + " .."))


def test_hooks_pass_on_a_valid_commit_with_its_lock(hook_runs):
    code, out = hook_runs["clean"]
    assert code == 0, out
    assert hook_line(out, "quizgen check").endswith("Passed"), out
    assert hook_line(out, "quizgen.lock is up to date").endswith("Passed"), out


def test_lock_hook_fails_when_the_lock_was_not_updated(hook_runs):
    code, out = hook_runs["stale"]
    assert code == 1, out
    assert hook_line(out, "quizgen check").endswith("Passed"), out
    assert hook_line(out, "quizgen.lock is up to date").endswith("Failed"), out
    assert "fact 'kd-authors' changed since quizgen.lock was written" in out


def test_check_hook_reports_the_problem_with_its_line(hook_runs):
    code, out = hook_runs["broken"]
    assert code == 1, out
    assert hook_line(out, "quizgen check").endswith("Failed"), out
    assert "decks/example.yaml:" in out and "unknown key 'questoin' in a fact; did you mean 'question'?" in out
