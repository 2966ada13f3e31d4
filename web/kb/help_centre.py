"""The public help centre: home with categories, category and article pages, search,
"was this helpful", information pages, suggestions while a customer types, and the look
(a stylesheet of the admin's colours, the logo)."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, jsonify, redirect, render_template, request, session

from tempodesk.core.models import KbCategory
from tempodesk.knowledge import LANGUAGES, articles, site
from web import db, limits, runtime
from web.i18n import gettext as _
from web.kb.common import article_path, audience, help_bp, visitor_language

#: The longest search or suggestion text read (longer ones are cut).
MAX_QUERY = 200
#: Articles a session remembers having voted on (one vote each).
KEPT_VOTES = 200
LANGUAGE_PATH = "any(" + ",".join(LANGUAGES) + ")"


@help_bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {"kb_article_path": article_path}


def _page(template: str, **context: Any) -> str:
    """A help centre page with its frame: the look and the information pages (the
    visitor's language's, else English's)."""
    language = visitor_language()
    pages = site.pages(db(), language) or site.pages(db(), LANGUAGES[0])
    frame = {"look": site.look(db()), "pages": pages}
    return render_template(template, frame=frame, **context)


def _categories(language: str) -> tuple[str, list[KbCategory]]:
    """The visitor's language's categories, else English's (a help centre not translated)."""
    found = site.categories(db(), language)
    if not found and language != LANGUAGES[0]:
        return LANGUAGES[0], site.categories(db(), LANGUAGES[0])
    return language, found


@help_bp.route("/")
def home() -> Any:
    language, categories = _categories(visitor_language())
    who = audience()
    sections = [(c, articles.in_category(db(), c.id, who)) for c in categories]
    return _page(
        "help/home.html",
        sections=[(c, found) for c, found in sections if found],
        language=language,
    )


@help_bp.route(f"/<{LANGUAGE_PATH}:lang>/category/<slug>")
def category(lang: str, slug: str) -> Any:
    found = site.find_category(db(), lang, slug)
    if found is None:
        abort(404)
    return _page(
        "help/category.html",
        category=found,
        articles=articles.in_category(db(), found.id, audience()),
    )


@help_bp.route(f"/<{LANGUAGE_PATH}:lang>/<slug>")
def article(lang: str, slug: str) -> Any:
    found = articles.find(db(), lang, slug, audience())
    if found is None:
        abort(404)
    return _page("help/article.html", article=found, voted=found.id in session.get("kb_voted", []))


@help_bp.route(f"/<{LANGUAGE_PATH}:lang>/<slug>/helpful", methods=["POST"])
def helpful(lang: str, slug: str) -> Any:
    """Count "was this helpful" once per session and article."""
    found = articles.find(db(), lang, slug, audience())
    if found is None:
        abort(404)
    answer = request.form.get("helpful")
    if answer not in ("yes", "no"):
        abort(400)
    voted = list(session.get("kb_voted", []))
    if found.id not in voted:
        articles.vote(db(), found.id, answer == "yes")
        db().commit()
        session["kb_voted"] = [*voted, found.id][-KEPT_VOTES:]
    flash(_("Thank you for your feedback."), "success")
    return redirect(article_path(found))


@help_bp.route("/search")
def search() -> Any:
    query = request.args.get("q", "")[:MAX_QUERY]
    found = articles.search_articles(db(), query, audience(), limit=50) if query.strip() else []
    return _page("help/search.html", query=query, articles=found)


@help_bp.route("/suggest")
def suggest() -> Any:
    """Public articles for what a customer types (JSON, for ``kb-suggest.js``)."""
    limits.hit(runtime().settings.kb_suggest_rate_limit, "kb-suggest", limits.client_address())
    text = request.args.get("q", "")[-MAX_QUERY:]
    found = articles.suggest(db(), text, visitor_language())
    response = jsonify({"articles": [{"title": a.title, "url": article_path(a)} for a in found]})
    response.headers["Cache-Control"] = "no-store"
    return response


@help_bp.route("/pages/<slug>")
def page(slug: str) -> Any:
    language = visitor_language()
    found = site.find_page(db(), language, slug) or site.find_page(db(), LANGUAGES[0], slug)
    if found is None:
        abort(404)
    return _page("help/page.html", page=found)


@help_bp.route("/theme.css")
def theme() -> Any:
    """The admin's colours as CSS custom properties (a stylesheet: CSP stays style-src 'self')."""
    response = Response(site.stylesheet(site.look(db())), mimetype="text/css")
    response.headers["Cache-Control"] = "no-cache"
    return response


@help_bp.route("/logo")
def logo() -> Any:
    look = site.look(db())
    if not look.logo or look.logo_type not in site.LOGO_TYPES.values():
        abort(404)
    response = Response(look.logo, mimetype=look.logo_type)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Content-Disposition"] = "inline"
    return response
