"""Articles: checked and sanitised when saved, read by audience (the public sees published
public articles; agents every published one; editors drafts too), searched like tickets
(``tempodesk.core.search``) and counted "was this helpful"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from tempodesk.core import search
from tempodesk.core.models import KbArticle, KbCategory, utcnow
from tempodesk.knowledge import bodies
from tempodesk.knowledge.common import KbInvalid, check_common, one_line, slugify

SEARCH_TEXT_MAX = 120_000
#: Who reads: the public (published public articles), agents (every published article),
#: editors (drafts too).
AUDIENCES = ("public", "agents", "editors")


@dataclass
class ArticleData:
    """What an editor sets on an article (``body`` as typed: HTML, sanitised when saved)."""

    title: str = ""
    slug: str = ""
    body: str = ""
    category_id: int | None = None
    language: str = "en"
    public: bool = True
    published: bool = False


def data_of(article: KbArticle) -> ArticleData:
    return ArticleData(
        title=article.title,
        slug=article.slug,
        body=article.body,
        category_id=article.category_id,
        language=article.language,
        public=article.public,
        published=article.published,
    )


def _cleaned(
    session: Session, data: ArticleData, article: KbArticle | None
) -> tuple[str, str, str]:
    """(title, slug, sanitised body) of the input; KbInvalid with every problem."""
    errors: dict[str, str] = {}
    title = one_line(data.title)
    slug = data.slug.strip().lower() or slugify(title)
    check_common(
        errors,
        title=title,
        slug=slug,
        language=data.language,
        title_column=KbArticle.title,
        slug_column=KbArticle.slug,
    )
    body = ""
    try:
        body = bodies.sanitize(data.body)
    except bodies.BodyRefused as exc:
        errors["body"] = str(exc)
    else:
        if not bodies.plain_text(body).strip():
            errors["body"] = "Enter text."
    if data.category_id is not None:
        category = session.get(KbCategory, data.category_id)
        if category is None:
            errors["category_id"] = "There is no such category."
        elif category.language != data.language:
            errors["category_id"] = "The category is in another language."
    if "slug" not in errors:
        taken = session.scalar(
            select(KbArticle.id)
            .where(KbArticle.language == data.language)
            .where(KbArticle.slug == slug)
            .where(KbArticle.id != (article.id if article else -1))
        )
        if taken is not None:
            errors["slug"] = "Another article in this language has this slug."
    if errors:
        raise KbInvalid(errors)
    return title, slug, body


def save(
    session: Session, data: ArticleData, *, author: str, article: KbArticle | None = None
) -> KbArticle:
    """Create (or update) an article after checking all of it; KbInvalid if bad."""
    title, slug, body = _cleaned(session, data, article)
    if article is None:
        article = KbArticle(title=title, slug=slug, author=author, created_at=utcnow())
        session.add(article)
    article.title, article.slug, article.body = title, slug, body
    article.category_id = data.category_id
    article.language = data.language
    article.public = data.public
    article.published = data.published
    article.updated_by = author
    article.updated_at = utcnow()
    article.search_text = search.search_text([title, bodies.plain_text(body)], SEARCH_TEXT_MAX)
    session.flush()
    return article


def _readable(stmt: Select[Any], audience: str) -> Select[Any]:
    if audience != "editors":
        stmt = stmt.where(KbArticle.published.is_(True))
    if audience == "public":
        stmt = stmt.where(KbArticle.public.is_(True))
    return stmt


def readable(article: KbArticle | None, audience: str) -> KbArticle | None:
    """The article if this audience may read it, else None."""
    if article is None:
        return None
    if audience != "editors" and not article.published:
        return None
    if audience == "public" and not article.public:
        return None
    return article


def find(session: Session, language: str, slug: str, audience: str) -> KbArticle | None:
    """The article ``slug`` in ``language``, if this audience may read it."""
    return session.scalar(
        _readable(select(KbArticle), audience)
        .where(KbArticle.language == language)
        .where(KbArticle.slug == slug)
    )


def get(session: Session, article_id: int, audience: str) -> KbArticle | None:
    return readable(session.get(KbArticle, article_id), audience)


def in_category(session: Session, category_id: int, audience: str) -> list[KbArticle]:
    return list(
        session.scalars(
            _readable(select(KbArticle), audience)
            .where(KbArticle.category_id == category_id)
            .order_by(KbArticle.title, KbArticle.id)
        )
    )


def search_articles(
    session: Session,
    query: str,
    audience: str,
    *,
    language: str | None = None,
    limit: int = 20,
) -> list[KbArticle]:
    """Articles matching the query's words (all of them; the last a prefix), newest first;
    without words, the newest. ``language`` narrows to one language."""
    stmt = _readable(select(KbArticle), audience)
    if query.strip():
        stmt = stmt.where(
            search.matches(
                session, query, table="kb_articles", fts_table="kb_article_fts", row_id=KbArticle.id
            )
        )
    if language:
        stmt = stmt.where(KbArticle.language == language)
    stmt = stmt.order_by(KbArticle.updated_at.desc(), KbArticle.id.desc()).limit(limit)
    return list(session.scalars(stmt))


def all_articles(session: Session, query: str = "") -> list[KbArticle]:
    """Every article (the editors' list), or those matching ``query``."""
    if query.strip():
        return search_articles(session, query, "editors", limit=200)
    return list(session.scalars(select(KbArticle).order_by(KbArticle.language, KbArticle.title)))


def vote(session: Session, article_id: int, helpful: bool) -> None:
    """Count one "was this helpful" answer (in the database, so two votes never lose one)."""
    column = KbArticle.helpful_yes if helpful else KbArticle.helpful_no
    session.execute(
        update(KbArticle).where(KbArticle.id == article_id).values({column: column + 1})
    )


def counts(session: Session) -> dict[str, int]:
    """How many articles there are: published and drafts (the admin overview)."""
    rows = session.execute(
        select(KbArticle.published, func.count()).group_by(KbArticle.published)
    ).all()
    by_state = {bool(published): int(count) for published, count in rows}
    return {"published": by_state.get(True, 0), "drafts": by_state.get(False, 0)}


def suggest(session: Session, text: str, language: str, *, limit: int = 5) -> list[KbArticle]:
    """Public articles for what a customer is typing: its last few words, any of them (a
    question rarely repeats an article's every word), in their language first."""
    words = list(dict.fromkeys(w for w in search.query_words(text) if len(w) >= 3))[-6:]
    found: dict[int, KbArticle] = {}
    hits: dict[int, int] = {}
    for word in words:
        for article in search_articles(session, word, "public", limit=limit * 2):
            found.setdefault(article.id, article)
            hits[article.id] = hits.get(article.id, 0) + 1
    ranked = sorted(found.values(), key=lambda a: (-hits[a.id], a.language != language, -a.id))
    return ranked[:limit]
