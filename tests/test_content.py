"""The shipped decks' promises, so that later edits cannot quietly erode them (issues: shipped decks, second edition)."""

from __future__ import annotations

import collections
import re

import pytest
from conftest import REPO, SHARED_SOURCES

from quizgen import cloze
from quizgen.lint import lint
from quizgen.model import NEUTRAL
from quizgen.project import load_project
from quizgen.quotes import check_quotes

ARTICLES = {"joongdo-column", "deepseek-blog"}
# How a prompt names each article: its outlet and its date, in both languages.
ARTICLE_NAMES = {
    "joongdo-column": (("중도일보", "Joongdo"), ("2025년 2월 7일", "7 February 2025")),
    "deepseek-blog": (("맹꽁이와 곰도리",), ("2025년 2월 3일", "3 February 2025")),
}
ARTICLE_WORDS = re.compile(r"칼럼|블로그|기사|column|blog|article", re.I)
TOPICS = {  # deck -> minimum facts; every other deck needs OTHER_MINIMUM
    "DeepSeek::Mixture of Experts": 12,
    "DeepSeek::Distillation and Efficiency Recipes": 12,
    "DeepSeek::Stargate Project": 12,
    "DeepSeek::H800 and Export Controls": 12,
}
OTHER_MINIMUM = 10


@pytest.fixture(scope="module")
def project():
    return load_project(str(REPO))


def test_size_and_topics(project):
    facts = project.facts
    assert len(facts) >= 150
    per_deck = collections.Counter(f.deck for f in facts)
    for deck, count in per_deck.items():
        assert count >= TOPICS.get(deck, OTHER_MINIMUM), (deck, count)
    assert set(TOPICS) <= set(per_deck)
    assert {d.split("::")[0] for d in per_deck} == {"DeepSeek"}
    assert len(per_deck) == len(project.files)  # one fact file per topic


def test_types(project):
    per_type = collections.Counter(f.type for f in project.facts)
    assert all(per_type[t] >= 15 for t in ("basic", "choice", "cloze", "truefalse")), per_type
    truth = collections.Counter(f.truth for f in project.facts if f.type == "truefalse")
    share = truth[True] / (truth[True] + truth[False])
    assert 0.40 <= share <= 0.60, truth  # neither "true" nor "false" is a safe guess


def test_every_text_field_is_bilingual(project):
    for fact in project.facts:
        for name, text in fact.texts():
            assert NEUTRAL in text.langs() or set(text.langs()) == {"ko", "en"}, (fact.id, name)
        assert fact.explanation is not None, fact.id
        if fact.type == "cloze":
            for lang, value in fact.text.items:
                assert cloze.scan(value), (fact.id, lang)


def names_article(text: str, sid: str) -> bool:
    outlets, dates = ARTICLE_NAMES[sid]
    return any(o in text for o in outlets) and any(d in text for d in dates)


def test_prompts_that_mention_an_article_name_its_outlet_and_date(project):
    """Anki shows cards one at a time and out of order: 'the column' alone says nothing."""
    for fact in project.facts:
        for lang, text in fact.prompt.items:
            if ARTICLE_WORDS.search(text):
                assert any(names_article(text, sid) for sid in ARTICLES), (fact.id, lang, text)


def test_no_undated_this_year(project):
    for fact in project.facts:
        for name, text in fact.texts():
            for lang, value in text.items:
                if re.search(r"올해|this year", value, re.I):
                    assert "2025" in value, (fact.id, name, lang)


def test_every_fact_cites_evidence_and_corrections_cite_both_sides(project):
    for fact in project.facts:
        evidence = [c.source for c in fact.evidence]
        claims = [c for c in fact.citations if c.role == "claim"]
        assert evidence and all(sid in project.sources for sid in evidence), fact.id
        for sid in set(evidence) & ARTICLES:
            # an article is evidence only for what that article says, and then the prompt names it
            assert any(names_article(v, sid) for _, v in fact.prompt.items), f"{fact.id}: cites {sid} as evidence"
        if claims or "correction" in fact.tags:
            assert claims and all(c.source in ARTICLES and c.quote for c in claims), fact.id
            assert not set(evidence) & ARTICLES, f"{fact.id}: a correction's evidence is a primary source"
    corrections = [f for f in project.facts if "correction" in f.tags]
    assert len(corrections) >= 10


def test_sources_and_quotes(project):
    quotes = [(f, c) for f in project.facts for c in f.citations if c.quote]
    for fact, citation in quotes:
        assert citation.source in ARTICLES, f"{fact.id}: a quote must come from one of the two articles"
        assert len(citation.quote) <= 200, f"{fact.id}: a quote is a sentence or less"
    assert len(quotes) >= 45
    for sid in ARTICLES:
        source = project.sources[sid]
        assert source.title and source.publisher and source.date and source.file


@pytest.mark.skipif(not SHARED_SOURCES.is_dir(), reason="../shared/sources (the article copies) is not beside the repo")
def test_quotes_are_verbatim(project):
    assert check_quotes(project, str(SHARED_SOURCES)) == []


def test_article_errors_are_not_taught_as_facts(project):
    """The articles' errors (background-facts.md, last section) appear only as claims, never as answers."""
    for fact in project.facts:
        answers = [v for t in ([fact.answer] if fact.answer else []) for v in t.values()]
        answers += [d.hidden for t in ([fact.text] if fact.text else []) for v in t.values() for d in cloze.scan(v)]
        for value in answers:
            assert "전 대통령" not in value.replace("전 대통령이었", ""), fact.id
            assert "300만" not in value and "저사양" not in value, fact.id  # B-6, A-1
            for term in ("계층적 동적 토큰 관리", "양자화 기반 분산 학습", "다단계 지식 증류"):
                assert term not in value, (fact.id, term)
        if fact.type == "truefalse" and fact.truth:
            statement = " ".join(fact.statement.values())
            for claim in ("former president", "전 대통령", "10분의 1", "300만", "one tenth"):
                assert claim not in statement.lower(), (fact.id, claim)


def test_shipped_decks_pass_strict_lint(project):
    assert lint(project) == []
