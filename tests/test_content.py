"""The shipped decks' promises, so that later edits cannot quietly erode them (issue: shipped decks)."""

from __future__ import annotations

import collections

import pytest
from conftest import REPO, SHARED_SOURCES

from quizgen import cloze
from quizgen.lint import lint
from quizgen.model import NEUTRAL
from quizgen.project import load_project
from quizgen.quotes import check_quotes

ARTICLES = {"joongdo-column", "deepseek-blog"}
TOPICS = {  # deck -> minimum facts
    "DeepSeek::Mixture of Experts": 12,
    "DeepSeek::Distillation and Efficiency Recipes": 12,
    "DeepSeek::Stargate Project": 12,
    "DeepSeek::H800 and Export Controls": 12,
}


@pytest.fixture(scope="module")
def project():
    return load_project(str(REPO))


def test_size_and_topics(project):
    facts = project.facts
    assert len(facts) >= 120
    per_deck = collections.Counter(f.deck for f in facts)
    for deck, minimum in TOPICS.items():
        assert per_deck[deck] >= minimum, (deck, per_deck[deck])
    assert {d.split("::")[0] for d in per_deck} == {"DeepSeek"}
    assert len(per_deck) == len(project.files)  # one fact file per topic


def test_types(project):
    per_type = collections.Counter(f.type for f in project.facts)
    assert all(per_type[t] >= 15 for t in ("basic", "choice", "cloze", "truefalse")), per_type
    truth = collections.Counter(f.truth for f in project.facts if f.type == "truefalse")
    assert abs(truth[True] - truth[False]) <= 2, truth  # split evenly between true and false


def test_every_text_field_is_bilingual(project):
    for fact in project.facts:
        for name, text in fact.texts():
            assert NEUTRAL in text.langs() or set(text.langs()) == {"ko", "en"}, (fact.id, name)
        assert fact.explanation is not None, fact.id
        if fact.type == "cloze":
            for lang, value in fact.text.items:
                assert cloze.scan(value), (fact.id, lang)


def test_sources_and_quotes(project):
    for fact in project.facts:
        assert fact.source in project.sources, fact.id
        if fact.quote:
            assert fact.source in ARTICLES, f"{fact.id}: a quote must come from one of the two articles"
            assert len(fact.quote) <= 200, f"{fact.id}: a quote is a sentence or less"
    quoted = [f for f in project.facts if f.quote]
    assert len(quoted) >= 40
    for sid in ARTICLES:
        source = project.sources[sid]
        assert source.title and source.publisher and source.date and source.file


@pytest.mark.skipif(not SHARED_SOURCES.is_dir(), reason="../shared/sources (the article copies) is not beside the repo")
def test_quotes_are_verbatim(project):
    assert check_quotes(project, str(SHARED_SOURCES)) == []


def test_article_errors_are_not_taught_as_facts(project):
    """The blog's 'former president' and the column's technique names appear only as claims, never as answers."""
    for fact in project.facts:
        answers = [v for t in ([fact.answer] if fact.answer else []) for v in t.values()]
        answers += [d.hidden for t in ([fact.text] if fact.text else []) for v in t.values() for d in cloze.scan(v)]
        for value in answers:
            assert "전 대통령" not in value.replace("전 대통령이었", ""), fact.id
            for term in ("계층적 동적 토큰 관리", "양자화 기반 분산 학습", "다단계 지식 증류"):
                assert term not in value, (fact.id, term)
        if fact.type == "truefalse" and fact.truth:
            statement = " ".join(fact.statement.values())
            assert "former president" not in statement.lower() and "10분의 1" not in statement, fact.id


def test_shipped_decks_pass_strict_lint(project):
    assert lint(project) == []
