"""What the knowledge base's pages share: the two blueprints, who reads (the audience), the
visitor's language and an article's public address."""

from __future__ import annotations

from flask import Blueprint, abort, url_for
from flask_login import current_user, login_required

from tempodesk.core.models import KbArticle
from tempodesk.knowledge import LANGUAGES
from web import runtime
from web.i18n import current_language

help_bp = Blueprint("help", __name__, url_prefix="/help")
kb_bp = Blueprint("kb", __name__, url_prefix="/kb")


@kb_bp.before_request
@login_required
def _signed_in() -> None:
    """Every page of the editors needs a signed-in agent."""


def admins_only() -> None:
    if not current_user.is_admin:
        abort(403)


def audience() -> str:
    """Signed-in agents read internal articles too; everyone else the public ones."""
    return "agents" if current_user.is_authenticated else "public"


def visitor_language() -> str:
    language = current_language()
    return language if language in LANGUAGES else LANGUAGES[0]


def article_path(article: KbArticle) -> str:
    return url_for("help.article", lang=article.language, slug=article.slug)


def article_url(article: KbArticle) -> str:
    """The article's address for a customer (the site's public URL)."""
    return runtime().settings.public_url.rstrip("/") + article_path(article)
