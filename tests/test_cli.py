"""Command-level behaviour: quote checking, progress only on a terminal, the real entry point."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import unicodedata
from pathlib import Path

from conftest import run

QUIZGEN = str(Path(sys.executable).parent / "quizgen")
SOURCES = "art:\n  title: An article\n  file: article.txt\n"
ARTICLE = "딥시크 개발에 엔비디아 저사양 AI칩 H800 2048대가\n사용됐다고 알려졌다. 다음 문장.\n"


def fact(quote: str) -> str:
    return (
        f'deck: D\nfacts:\n  - id: q\n    question: 몇 대?\n    answer: "2048"\n    source: art\n    quote: "{quote}"\n'
    )


def test_quotes_verbatim_after_nfc_and_whitespace(project, tmp_path):
    texts = tmp_path / "texts"
    texts.mkdir()
    (texts / "article.txt").write_text(ARTICLE, encoding="utf-8")
    decomposed = unicodedata.normalize("NFD", "엔비디아 저사양 AI칩 H800 2048대가 사용됐다고")
    root = project({"decks/a.yaml": fact(decomposed)}, SOURCES)  # NFD, and the line break is a space
    result = run("check", root, "--quotes", texts)
    assert result.exit_code == 0, result.stderr


def test_quote_not_in_source_is_located(project, tmp_path):
    texts = tmp_path / "texts"
    texts.mkdir()
    (texts / "article.txt").write_text(ARTICLE, encoding="utf-8")
    root = project({"decks/a.yaml": fact("엔비디아 저사양 AI칩 H800 2,048대가")}, SOURCES)  # one comma differs
    result = run("check", root, "--quotes", texts)
    assert result.exit_code == 1
    assert "decks/a.yaml:7: quote: not found verbatim in article.txt (source 'art')" in result.stderr
    (texts / "article.txt").unlink()
    missing = run("check", root, "--quotes", texts)
    assert missing.exit_code == 1 and "source file 'article.txt' not found" in missing.stderr


def test_quote_file_cannot_escape_the_quotes_folder(project, tmp_path):
    (tmp_path / "secret.txt").write_text("엔비디아", encoding="utf-8")
    texts = tmp_path / "texts"
    texts.mkdir()
    root = project({"decks/a.yaml": fact("엔비디아")}, "art:\n  title: T\n  file: ../secret.txt\n")
    result = run("check", root, "--quotes", texts)
    assert result.exit_code == 1 and "not found" in result.stderr


def example(tmp_path: Path) -> Path:
    target = tmp_path / "course"
    assert run("init", target).exit_code == 0
    return target


def test_quiet_in_a_pipe(tmp_path):
    root = example(tmp_path)
    proc = subprocess.run([QUIZGEN, "build", str(root), "--out", str(tmp_path / "out")], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout.startswith("built 5 facts")


def test_progress_on_a_terminal(tmp_path):
    root = example(tmp_path)
    leader, follower = pty.openpty()
    proc = subprocess.run(
        [QUIZGEN, "build", str(root), "--out", str(tmp_path / "out")],
        stdout=subprocess.PIPE,
        stderr=follower,
        text=True,
    )
    os.close(follower)
    shown = b""
    try:
        while chunk := os.read(leader, 4096):
            shown += chunk
    except OSError:  # the terminal is closed once the child has gone
        pass
    os.close(leader)
    assert proc.returncode == 0
    assert b"quizgen: writing apkg" in shown and b"quizgen: writing html" in shown


def test_entry_point_reports_bad_input_without_traceback(tmp_path):
    (tmp_path / "decks").mkdir()
    (tmp_path / "decks" / "a.yaml").write_text("deck: D\nfacts:\n  - id: x\n    question: [\n")
    proc = subprocess.run([QUIZGEN, "check", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr.startswith("decks/a.yaml:4: YAML syntax error") and "Traceback" not in proc.stderr


def test_unknown_format_is_a_usage_error(tmp_path):
    root = example(tmp_path)
    from quizgen.writers import registry

    result = run("build", root, "--format", "docx")
    available = ", ".join(registry())
    assert result.exit_code == 2 and f"unknown format 'docx' (available: {available}, all)" in result.stderr


def test_missing_libyaml_is_said_clearly(tmp_path, monkeypatch):
    from quizgen import loader

    monkeypatch.setattr(loader, "LIBYAML", False)
    result = run("check", example(tmp_path))
    assert result.exit_code == 0 and "no libyaml C extension" in result.stderr
