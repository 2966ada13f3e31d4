"""Articles linked to tickets: an agent's reference (like a mark), never the ticket's state.

An agent links an article to a ticket on the ticket page, or by inserting it into a reply
(the composer's no-JavaScript insert, or its script, posts the link). The ticket page lists
the linked articles; the article's page in the desk lists its tickets.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tempodesk.core import limits
from tempodesk.core.db import upsert
from tempodesk.core.models import KbArticle, KbArticleLink


def link(session: Session, ticket_number: str, article_id: int, *, by: str) -> None:
    """Link the article to the ticket (once: a second link is ignored)."""
    if limits.too_long(ticket_number, KbArticleLink.ticket_number):
        raise ValueError("ticket number too long")
    upsert(
        session,
        KbArticleLink,
        {"ticket_number": ticket_number, "article_id": article_id, "linked_by": by},
        on=("ticket_number", "article_id"),
    )


def unlink(session: Session, ticket_number: str, article_id: int) -> None:
    found = session.scalar(
        select(KbArticleLink)
        .where(KbArticleLink.ticket_number == ticket_number)
        .where(KbArticleLink.article_id == article_id)
    )
    if found is not None:
        session.delete(found)
        session.flush()


def articles_of(session: Session, ticket_number: str) -> list[KbArticle]:
    """The articles linked to a ticket, in the order they were linked."""
    return list(
        session.scalars(
            select(KbArticle)
            .join(KbArticleLink, KbArticleLink.article_id == KbArticle.id)
            .where(KbArticleLink.ticket_number == ticket_number)
            .order_by(KbArticleLink.linked_at, KbArticleLink.id)
        )
    )


def tickets_of(session: Session, article_id: int) -> list[str]:
    """The numbers of the tickets an article is linked to, newest link first."""
    return list(
        session.scalars(
            select(KbArticleLink.ticket_number)
            .where(KbArticleLink.article_id == article_id)
            .order_by(KbArticleLink.linked_at.desc(), KbArticleLink.id.desc())
        )
    )
