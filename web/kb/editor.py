"""The knowledge base's editors' pages in the desk: the list of articles (with search) and
the article editor. Every agent may write articles (a support team writes what it answers
often); categories, information pages and the help centre's look are admins' (``site_admin``).

The editor posts HTML from the rich-text editor (``kb-editor.js``) or, without JavaScript,
what was typed into the textarea; ``tempodesk.knowledge`` sanitises it when it is saved.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from tempodesk.core.models import KbArticle
from tempodesk.knowledge import LANGUAGES, articles, links, site
from tempodesk.knowledge.common import KbInvalid
from web import db
from web.i18n import gettext as _
from web.kb.common import kb_bp


def _form() -> articles.ArticleData:
    form = request.form
    category = form.get("category_id", "")
    return articles.ArticleData(
        title=form.get("title", ""),
        slug=form.get("slug", ""),
        body=form.get("body", "").replace("\r\n", "\n"),
        category_id=int(category)
        if category.isascii() and category.isdigit() and len(category) < 10
        else None,
        language=form.get("language", "en"),
        public=form.get("visibility", "public") == "public",
        published=form.get("published") == "1",
    )


def _editor(
    data: articles.ArticleData,
    article: KbArticle | None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Any:
    tickets = links.tickets_of(db(), article.id) if article is not None else []
    return (
        render_template(
            "kb/article.html",
            data=data,
            article=article,
            errors=errors or {},
            languages=LANGUAGES,
            categories=site.categories(db()),
            tickets=tickets,
        ),
        status,
    )


@kb_bp.route("/")
def index() -> Any:
    query = request.args.get("q", "")[:200]
    return render_template(
        "kb/articles.html",
        articles=articles.all_articles(db(), query),
        query=query,
        counts=articles.counts(db()),
    )


@kb_bp.route("/articles/new", methods=["GET", "POST"])
def article_new() -> Any:
    if request.method == "GET":
        return _editor(articles.ArticleData(language=request.args.get("language", "en")), None)
    data = _form()
    try:
        article = articles.save(db(), data, author=current_user.username)
    except KbInvalid as exc:
        db().rollback()
        return _editor(data, None, exc.errors, 422)
    db().commit()
    flash(_("The article “%(title)s” is saved.", title=article.title), "success")
    return redirect(url_for("kb.article_edit", article_id=article.id))


def _article_or_404(article_id: int) -> KbArticle:
    article = db().get(KbArticle, article_id)
    if article is None:
        abort(404)
    return article


@kb_bp.route("/articles/<int:article_id>", methods=["GET", "POST"])
def article_edit(article_id: int) -> Any:
    article = _article_or_404(article_id)
    if request.method == "GET":
        return _editor(articles.data_of(article), article)
    data = _form()
    try:
        articles.save(db(), data, author=current_user.username, article=article)
    except KbInvalid as exc:
        db().rollback()
        return _editor(data, _article_or_404(article_id), exc.errors, 422)
    db().commit()
    flash(_("The article “%(title)s” is saved.", title=article.title), "success")
    return redirect(url_for("kb.article_edit", article_id=article.id))


@kb_bp.route("/articles/<int:article_id>/delete", methods=["POST"])
def article_delete(article_id: int) -> Any:
    article = _article_or_404(article_id)
    title = article.title
    db().delete(article)
    db().commit()
    flash(_("The article “%(title)s” is deleted.", title=title), "success")
    return redirect(url_for("kb.index"))
