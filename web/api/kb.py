"""The knowledge base for integrations: search the published articles.

Every token reads the public articles; a token's user is an agent, so ``internal=true``
adds the internal ones (a chat bot answering customers leaves it out).
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from tempodesk.core.db import iso
from tempodesk.knowledge import LANGUAGES, articles, bodies
from web import db
from web.api.common import ApiInvalid, bp
from web.kb.common import article_url

MAX_QUERY = 200


@bp.route("/kb/articles", methods=["GET"])
def kb_articles() -> Any:
    """Published articles matching ``q`` (all words; the last a prefix), newest first."""
    query = request.args.get("q", "")
    if len(query) > MAX_QUERY:
        raise ApiInvalid("invalid", f"'q' is at most {MAX_QUERY} characters.", 422)
    language = request.args.get("lang", "")
    if language and language not in LANGUAGES:
        raise ApiInvalid("invalid", f"'lang' is one of {', '.join(LANGUAGES)}.", 422)
    internal = request.args.get("internal", "") in ("1", "true")
    raw_limit = request.args.get("limit", "20")
    limit = (
        min(max(int(raw_limit), 1), 100)
        if raw_limit.isascii() and raw_limit.isdigit() and len(raw_limit) < 6
        else 20
    )
    found = articles.search_articles(
        db(), query, "agents" if internal else "public", language=language or None, limit=limit
    )
    return jsonify(
        {
            "articles": [
                {
                    "id": a.id,
                    "title": a.title,
                    "language": a.language,
                    "public": a.public,
                    "url": article_url(a) if a.public else None,
                    "category": a.category.name if a.category else None,
                    "html": a.body,
                    "text": bodies.plain_text(a.body),
                    "updated_at": iso(a.updated_at),
                    "helpful_yes": a.helpful_yes,
                    "helpful_no": a.helpful_no,
                }
                for a in found
            ]
        }
    )
