"""Articles and tickets: the knowledge-base panel of the ticket page (linked articles, link
another), and an article's text or link for the composer (next to canned answers).

**(decision)** A link between an article and a ticket is reference data written by the web
(like an agent's follows and read marks), never the ticket's state: it goes through no
workflow. Inserting an article into a reply links it too (the composer's no-JavaScript
insert, a POST, links it itself; ``compose.js`` posts the link after inserting), so no GET
writes.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, jsonify, redirect, request, url_for
from flask_login import current_user

from tempodesk.core.models import KbArticle, Ticket
from tempodesk.knowledge import articles, bodies, links
from tempodesk.people import accounts
from tempodesk.tickets import queries
from web import db
from web.i18n import gettext as _
from web.kb.common import article_url, kb_bp

#: Articles offered in a ticket's composer and link form (the newest).
OFFERED = 200


def _ticket_or_404(number: str) -> Ticket:
    ticket = queries.find_ticket(db(), number, accounts.actor_for(current_user))
    if ticket is None:
        abort(404)
    return ticket


def offered_articles() -> list[KbArticle]:
    """The published articles an agent may insert or link (the newest first)."""
    return articles.search_articles(db(), "", "agents", limit=OFFERED)


@kb_bp.app_context_processor
def _ticket_helpers() -> dict[str, Any]:
    def kb_panel(ticket: Ticket) -> dict[str, Any]:
        return {
            "linked": links.articles_of(db(), ticket.number),
            "offered": offered_articles(),
        }

    return {"kb_panel": kb_panel}


def insert_text(kind: str, article_id: int) -> str | None:
    """An article's text ("kb") or its title and public address ("kblink", public articles
    only) to insert into a reply; None if it is not offered."""
    article = articles.get(db(), article_id, "agents")
    if article is None:
        return None
    if kind == "kb":
        return bodies.plain_text(article.body)
    if kind == "kblink" and article.public:
        return f"{article.title}: {article_url(article)}"
    return None


@kb_bp.route("/tickets/<number>/articles/<int:article_id>/<any(text,link):kind>")
def article_for_ticket(number: str, article_id: int, kind: str) -> Any:
    """An article's text or link for this ticket's composer, as JSON."""
    _ticket_or_404(number)
    text = insert_text("kb" if kind == "text" else "kblink", article_id)
    if text is None:
        abort(404)
    response = jsonify({"text": text})
    response.headers["Cache-Control"] = "no-store"
    return response


@kb_bp.route("/tickets/<number>/links", methods=["POST"])
def link(number: str) -> Any:
    """Link an article to the ticket (a form, or the composer's script: JSON answer)."""
    ticket = _ticket_or_404(number)
    raw = request.form.get("article_id", "")
    article = (
        articles.get(db(), int(raw), "agents")
        if raw.isascii() and raw.isdigit() and len(raw) < 10
        else None
    )
    if article is None:
        abort(404)
    links.link(db(), ticket.number, article.id, by=current_user.username)
    db().commit()
    if request.accept_mimetypes.best == "application/json":
        return jsonify({"linked": article.id})
    flash(_("The article “%(title)s” is linked.", title=article.title), "success")
    return redirect(url_for("desk.ticket", number=ticket.number, _anchor="kb-links"))


@kb_bp.route("/tickets/<number>/links/<int:article_id>/delete", methods=["POST"])
def unlink(number: str, article_id: int) -> Any:
    ticket = _ticket_or_404(number)
    links.unlink(db(), ticket.number, article_id)
    db().commit()
    flash(_("The article is no longer linked."), "success")
    return redirect(url_for("desk.ticket", number=ticket.number, _anchor="kb-links"))
