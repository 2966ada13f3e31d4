"""Articles in the database: search like the desk's, audiences, votes, suggestions."""

from __future__ import annotations

import uuid

import pytest

from tempodesk.core.db import transaction
from tempodesk.knowledge import articles
from tempodesk.knowledge.common import KbInvalid
from tests.helpers import Stack


def test_search_matches_every_word_the_last_as_a_prefix(any_stack: Stack) -> None:
    with any_stack.sessions() as session:
        titles = [a.title for a in articles.search_articles(session, "goods retu", "public")]
        assert "How do I return goods?" in titles
        assert articles.search_articles(session, "goods zebra", "public") == []
        czech = articles.search_articles(session, "ZBOZI", "public", language="cs")
        assert [a.title for a in czech] == ["Jak vrátit zboží?"]


def test_audiences_see_what_they_may(any_stack: Stack) -> None:
    with any_stack.sessions() as session:
        public = {a.title for a in articles.search_articles(session, "refunds", "public")}
        agents = {a.title for a in articles.search_articles(session, "refunds", "agents")}
        assert "Refunds over 500 EUR (internal)" not in public
        assert "Refunds over 500 EUR (internal)" in agents


def test_a_slug_is_unique_per_language(any_stack: Stack) -> None:
    slug = f"same-{uuid.uuid4().hex[:6]}"
    with transaction(any_stack.sessions) as session:
        for language in ("en", "cs"):
            articles.save(
                session,
                articles.ArticleData(title="Same", slug=slug, body="<p>x</p>", language=language),
                author="admin",
            )
    with pytest.raises(KbInvalid) as refused, transaction(any_stack.sessions) as session:
        articles.save(
            session,
            articles.ArticleData(title="Again", slug=slug, body="<p>x</p>", language="en"),
            author="admin",
        )
    assert set(refused.value.errors) == {"slug"}


def test_suggestions_rank_articles_matching_more_words_first(any_stack: Stack) -> None:
    with any_stack.sessions() as session:
        found = articles.suggest(session, "the kettle does not heat at all", "en")
        assert found[0].title == "My kettle does not heat"
        assert all(a.public and a.published for a in found)
