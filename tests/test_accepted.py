"""Valid input in all its forms loads exactly as written."""

from __future__ import annotations

from conftest import BASIC, run

from quizgen.project import load_project


def texts(root):
    return {f.id: f for f in load_project(str(root)).facts}


def test_bom_crlf_and_korean(project):
    content = (
        'deck: "한국어::덱"\r\nfacts:\r\n  - id: ko-1\r\n    question: {ko: 전문가 혼합이란?, en: What is MoE?}\r\n'
        "    answer: {ko: 여러 전문가 중 일부만 쓰는 구조, en: Only some experts run}\r\n"
    )
    root = project({"decks/a.yaml": b"\xef\xbb\xbf" + content.encode("utf-8")})
    facts = texts(root)
    assert facts["ko-1"].question.get("ko") == "전문가 혼합이란?"
    assert facts["ko-1"].deck == "한국어::덱"
    assert run("check", root).exit_code == 0


def test_scalars_are_kept_as_written(project):
    root = project(
        {
            "decks/a.yaml": """\
        deck: D
        facts:
          - id: yes-no
            question: Is it?
            answer: Yes
          - id: version
            question: Which Python?
            answer: 3.10
          - id: chips
            question: How many H800s?
            answer: 2048
          - id: nothing
            question: null
            answer: ~
          - id: octal
            question: 0o17
            answer: 1e3
        """
        }
    )
    facts = texts(root)
    assert facts["yes-no"].answer.get("en") == "Yes"
    assert facts["version"].answer.get("en") == "3.10"
    assert facts["chips"].answer.get("en") == "2048"
    assert facts["nothing"].question.get("ko") == "null"
    assert facts["nothing"].answer.get("ko") == "~"
    assert facts["octal"].question.get("en") == "0o17" and facts["octal"].answer.get("en") == "1e3"


def test_huge_field(project):
    """A text as long as the limit is kept whole; one character more is refused at its line."""
    from quizgen.limits import MAX_TEXT_CHARS

    big = "가" * MAX_TEXT_CHARS
    root = project({"decks/a.yaml": f"deck: D\nfacts:\n  - id: big\n    question: q\n    answer: {big}\n"})
    assert texts(root)["big"].answer.get("ko") == big
    assert run("check", root).exit_code == 0
    (root / "decks/a.yaml").write_text(f"deck: D\nfacts:\n  - id: big\n    question: q\n    answer: {big}가\n")
    result = run("check", root)
    assert result.exit_code == 1 and f"decks/a.yaml:5: answer: {MAX_TEXT_CHARS + 1:,} characters" in result.stderr


def test_plain_text_is_language_neutral_and_tags_merge(project):
    root = project(
        {
            "decks/a.yaml": """\
        deck: D
        tags: [file-tag]
        facts:
          - id: a
            question: {ko: 질문, en: Question}
            answer: H800
            tags: [own tag, file-tag]
        """
        }
    )
    fact = texts(root)["a"]
    assert fact.answer.get("ko") == fact.answer.get("en") == "H800"
    assert fact.tags == ("file-tag", "own tag")


def test_yml_suffix_and_subfolders(project):
    root = project({"decks/topic/a.yml": BASIC})
    assert [f.path for f in load_project(str(root)).files] == ["decks/topic/a.yml"]


def test_custom_languages(project):
    root = project(
        {
            "quizgen.yaml": "languages: [ja, en]\n",
            "decks/a.yaml": "deck: D\nfacts:\n  - id: a\n    question: {ja: 質問, en: Q}\n    answer: {ja: 答え, en: A}\n",
        }
    )
    assert load_project(str(root)).languages == ("ja", "en")


def test_stats_counts(project):
    root = project({"decks/a.yaml": BASIC})
    result = run("stats", root)
    assert result.exit_code == 0
    assert "1 facts in 1 files" in result.stdout
    assert "Test::Deck" in result.stdout and "basic" in result.stdout


def test_init_creates_a_project_that_builds(tmp_path):
    target = tmp_path / "course"
    assert run("init", target).exit_code == 0
    assert run("check", target).exit_code == 0
    assert run("init", target).exit_code == 1  # never overwrites
    result = run("build", target, "--out", tmp_path / "out", "--format", "apkg")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "example.apkg").exists()


def test_help_has_examples():
    for command in ("build", "check", "init", "stats"):
        result = run(command, "--help")
        assert result.exit_code == 0 and "Example" in result.stdout
