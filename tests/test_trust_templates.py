"""A shared course's templates, links and options cannot run code, read outside the project, or hang."""

from __future__ import annotations

import base64
import os
import re

import pytest
from conftest import BASIC, run, snapshot, write_project

from quizgen import templating

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def html_build(root, out, *extra):
    return run("build", root, "--out", out, "--format", "html", *extra)


def assert_refused(result, out_before, out, where):
    assert result.exit_code == 1, result.output
    assert any(line.startswith(where) for line in result.stderr.splitlines()), result.stderr
    assert snapshot(out) == out_before


@pytest.fixture
def built(tmp_path):
    """A project built once, so that a later failed build can be shown to leave OUT untouched."""
    root = write_project(tmp_path / "p", {"decks/a.yaml": BASIC})
    out = tmp_path / "out"
    assert html_build(root, out).exit_code == 0
    return root, out, snapshot(out)


ESCAPES = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.system('touch MARKER') }}",
    "{{ self._TemplateReference__context.cycler.__init__.__globals__.os.popen('touch MARKER').read() }}",
    "{{ lipsum.__globals__['os'].system('touch MARKER') }}",
]


@pytest.mark.parametrize("payload", ESCAPES)
def test_project_templates_are_sandboxed(built, payload, tmp_path):
    root, out, before = built
    marker = tmp_path / "MARKER"
    (root / "templates").mkdir()
    (root / "templates" / "index.html.j2").write_text("line one\n" + payload.replace("MARKER", str(marker)) + "\n")
    result = html_build(root, out)
    assert_refused(result, before, out, "templates/index.html.j2:2:")
    assert not marker.exists()


def test_template_syntax_error_and_undefined_name_are_located(built):
    root, out, before = built
    (root / "templates").mkdir()
    (root / "templates" / "index.html.j2").write_text("<p>\n<p>\n{% if %}\n")
    assert_refused(html_build(root, out), before, out, "templates/index.html.j2:3: template syntax error")
    (root / "templates" / "index.html.j2").write_text("<p>\n{{ no_such_name }}\n")
    result = html_build(root, out)
    assert_refused(result, before, out, "templates/index.html.j2:2: template error")
    assert "no_such_name" in result.stderr


def test_a_template_cannot_hang_or_blow_up(built, monkeypatch):
    root, out, before = built
    monkeypatch.setattr(templating, "RENDER_SECONDS", 1)
    (root / "templates").mkdir()
    page = root / "templates" / "index.html.j2"
    page.write_text("{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}\n")
    result = html_build(root, out)
    assert_refused(result, before, out, "templates/index.html.j2:1:")
    assert "longer than 1 s" in result.stderr
    page.write_text("x\n{{ 'a' * 1000000000 }}\n")
    assert_refused(html_build(root, out), before, out, "templates/index.html.j2:2: not allowed in a template")
    page.write_text("x\n{{ 7 ** 999999999 }}\n")
    assert_refused(html_build(root, out), before, out, "templates/index.html.j2:2: not allowed in a template")


def test_links_out_of_the_project_are_refused(built, tmp_path):
    root, out, before = built
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET\n")
    (root / "templates").mkdir()
    os.symlink(secret, root / "templates" / "quiz.css")
    result = html_build(root, out)
    assert_refused(result, before, out, "templates/quiz.css: is a link to a file outside the project")
    assert "TOP-SECRET" not in result.output
    os.remove(root / "templates" / "quiz.css")
    os.rmdir(root / "templates")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "index.html.j2").write_text("{{ title }}\n")
    os.symlink(elsewhere, root / "templates")
    assert_refused(html_build(root, out), before, out, "templates: is a link to a folder outside the project")
    os.remove(root / "templates")
    config = tmp_path / "config.yaml"
    config.write_text((root / "quizgen.yaml").read_text())
    os.remove(root / "quizgen.yaml")
    os.symlink(config, root / "quizgen.yaml")
    assert_refused(html_build(root, out), before, out, "quizgen.yaml: is a link to a file outside the project")


def test_a_fifo_named_like_a_fact_file_does_not_hang(project):
    root = project({"decks/a.yaml": BASIC})
    os.mkfifo(root / "decks" / "b.yaml")
    result = run("check", root)
    assert result.exit_code == 1
    assert "decks/b.yaml: is not a regular file" in result.stderr


def test_extra_css_adds_to_the_shipped_stylesheet_and_quiz_css_warns(built):
    root, out, _ = built
    shipped = (out / "a-quiz.html").read_text()
    (root / "templates").mkdir()
    (root / "templates" / "extra.css").write_text(".q { color: #123456; }\n")
    result = html_build(root, out)
    assert result.exit_code == 0 and "warning" not in result.stderr
    page = (out / "a-quiz.html").read_text()
    style = re.search(r"<style>(.*?)</style>", page, re.S).group(1)
    shipped_style = re.search(r"<style>(.*?)</style>", shipped, re.S).group(1)
    assert style.startswith(shipped_style.rstrip("\n")) and "#123456" in style
    (root / "templates" / "quiz.css").write_text("body { margin: 0; }\n")
    result = html_build(root, out)
    assert result.exit_code == 0
    assert "templates/quiz.css: replaces the shipped stylesheet entirely" in result.stderr


def test_templates_copy_starts_an_override(tmp_path, built):
    root, out, _ = built
    dest = root / "templates"
    result = run("templates", "--copy", dest)
    assert result.exit_code == 0
    names = sorted(p.name for p in dest.iterdir())
    assert "quiz.html.j2" in names and "quiz.css" in names and "anki-card.css" not in names
    assert run("templates", "--copy", dest).exit_code == 1  # never overwrites without --force
    assert run("templates", "--copy", dest, "--force").exit_code == 0
    # The copies render exactly as the shipped files do (sandboxed or not, same bytes).
    before = snapshot(out)
    assert html_build(root, out, "--no-cache").exit_code == 0
    assert snapshot(out) == before


def test_study_sheet_shows_the_image(project, tmp_path):
    facts = BASIC.replace("    source: src\n", "    source: src\n    image: img/dot.png\n")
    root = project({"decks/a.yaml": facts, "img/dot.png": PNG})
    out = tmp_path / "out"
    assert html_build(root, out).exit_code == 0
    study = (out / "a-study.html").read_text()
    assert '<img src="data:image/png;base64,' in study


def test_stats_aligns_wide_names(project):
    deck = BASIC.replace('deck: "Test::Deck"', 'deck: "딥시크::전문가 혼합"')
    other = BASIC.replace('deck: "Test::Deck"', 'deck: "Plain::Deck"').replace("id: f1", "id: f2")
    root = project({"decks/a.yaml": deck, "decks/b.yaml": other})
    result = run("stats", root)
    assert result.exit_code == 0
    assert "facts per with quote" not in result.stdout and "facts with and without a quote:" in result.stdout

    def width(s):
        return sum(2 if "\uac00" <= ch <= "\ud7a3" else 1 for ch in s)

    block = result.stdout.split("facts per deck:")[1].split("\n\n")[0].strip("\n").splitlines()
    ends = {width(line.rstrip()) for line in block}
    assert len(block) == 2 and len(ends) == 1, block


def test_usage_errors_are_usage_errors(project, tmp_path):
    root = project({"decks/a.yaml": BASIC})
    result = run("build", root, "--out", tmp_path / "o", "--lang", "kr")
    assert result.exit_code == 2 and "did you mean 'ko'" in result.stderr
    result = run("build", root, "--out", tmp_path / "o", "--seed", "midterm")
    assert result.exit_code == 2 and "--forms" in result.stderr
    assert run("build", root, "--out", tmp_path / "o", "--seed", "x", "--forms", "2").exit_code == 0
    result = run("check", tmp_path / "no-such-folder")
    assert result.exit_code == 1 and "does not exist" in result.stderr
    assert not (tmp_path / "o2").exists()
