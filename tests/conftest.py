"""Shared helpers: small projects written as real files, and the CLI run as a user runs it."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from quizgen.cli import cli

REPO = Path(__file__).resolve().parent.parent
SHARED_SOURCES = REPO.parent / "shared" / "sources"

SOURCES = """\
src:
  title: A source
  url: https://example.org/a
  file: a.txt
"""

BASIC = """\
deck: "Test::Deck"
facts:
  - id: f1
    question: {ko: 질문, en: Question}
    answer: {ko: 답, en: Answer}
    source: src
"""


PROJECT_ID = "test-course-0001"


def write_project(
    root: Path, files: dict[str, str | bytes], sources: str | None = SOURCES, project_id: str | None = PROJECT_ID
) -> Path:
    """Write `files` (path -> text or bytes) under root; text is dedented.

    Every project gets `id: PROJECT_ID` in its quizgen.yaml (appended to one the test gives,
    unless that one has its own id); `project_id=None` leaves it out."""
    (root / "decks").mkdir(parents=True, exist_ok=True)
    if project_id is not None:
        config = files.get("quizgen.yaml", "")
        if isinstance(config, str) and not any(line.startswith("id:") for line in config.splitlines()):
            config = textwrap.dedent(config)
            config += ("" if not config or config.endswith("\n") else "\n") + f"id: {project_id}\n"
            files = {**files, "quizgen.yaml": config}
    if sources is not None and "decks/sources.yaml" not in files:
        (root / "decks" / "sources.yaml").write_text(sources, encoding="utf-8")
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content), encoding="utf-8")
    return root


@pytest.fixture
def project(tmp_path):
    def make(files: dict[str, str | bytes], sources: str | None = SOURCES) -> Path:
        return write_project(tmp_path / "proj", files, sources)

    return make


def run(*args: str):
    """Invoke the CLI in-process; the result has exit_code, stdout, stderr, output."""
    result = CliRunner().invoke(cli, [str(a) for a in args])
    # A bug would surface as a non-SystemExit exception: never acceptable for any input.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under folder with its bytes, to prove a failed build touched nothing."""
    out = {}
    for dirpath, _, names in os.walk(folder):
        for name in names:
            path = Path(dirpath) / name
            out[str(path.relative_to(folder))] = path.read_bytes()
    return out
