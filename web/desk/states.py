"""State colours: the colour admins gave each state, as a stylesheet (the CSP allows no
inline styles) and the badge class that uses it."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import make_response, request

from tempodesk.contracts import Actor
from tempodesk.tickets import processes
from web import db
from web.desk.common import bp, current_actor


@bp.route("/states.css")
def state_styles() -> Any:
    """The colour admins gave each state the agent may see, as a stylesheet (the CSP allows
    no inline styles): ``.st-<process>-<version>-<state>`` sets ``--state-colour`` for the
    badge's dot. Cached by the browser until a version is published (ETag)."""
    session = db()
    actor = current_actor()
    # What an agent may see depends on their groups: the tag names them (a hash of them).
    seeing = "admin" if actor.is_admin else ",".join(sorted(actor.groups))
    digest = hashlib.sha256(seeing.encode()).hexdigest()[:12]
    etag = f"states-{processes.published_stamp(session)}-{digest}"
    if request.if_none_match.contains(etag):
        response = make_response("", 304)
    else:
        response = make_response(_state_css(session, actor))
        response.mimetype = "text/css"
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _state_css(session: Any, actor: Actor) -> str:
    # Process names and state ids are [a-z][a-z0-9_]* and colours #rrggbb (the definition's
    # validator checks both), so nothing here can break out of a rule.
    return "".join(
        f".st-{name}-{version}-{state}{{--state-colour:{colour}}}\n"
        for name, version, state, colour in processes.state_colours(session, actor)
    )


@bp.app_template_global()
def state_class(ticket: Any, state: str | None = None) -> str:
    """The class of a state badge of ``ticket`` (its current state unless ``state``); a
    template global, so macros imported without context have it too."""
    return f"st-{ticket.process_name}-{ticket.process_version}-{state or ticket.state}"
