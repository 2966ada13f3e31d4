"""Pushed mail: a raw RFC 822 message from a mail provider's webhook (a token with the inbound
scope), answered 202 once it is durable.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, make_response, request

from tempodesk.mail import mailboxes
from tempodesk.mail.inbound import MAX_ATTEMPTS, MailNotRouted
from web import db, error_response, release_db, runtime
from web.api.common import ApiInvalid, bp


@bp.route("/inbound/email", methods=["POST"])
def inbound_email() -> Any:
    """A raw RFC 822 message pushed by a mail provider; 202 only once it is durable."""
    name = request.args.get("mailbox", "")
    with db() as session:
        try:
            config = mailboxes.config(session, name, runtime().settings)
        except mailboxes.UnknownMailbox:
            raise ApiInvalid("not_found", f"There is no mailbox '{name}'.", 404) from None
    # The message may be far larger than ordinary API requests (the mailbox's limit).
    request.max_content_length = config.max_bytes
    if request.mimetype not in ("message/rfc822", "application/octet-stream"):
        raise ApiInvalid(
            "unsupported_media_type",
            "Send the raw message with 'Content-Type: message/rfc822'.",
            415,
        )
    raw = request.get_data(cache=False)
    if not raw:
        raise ApiInvalid("bad_request", "The body is empty: send the raw message.")
    release_db()
    try:
        outcome = runtime().inbound.receive(name, raw, source="api")
    except MailNotRouted as exc:
        # Stored, not routed: the sender's retry is the next attempt; the last one quarantines.
        response = make_response(
            error_response(
                503,
                "not_routed",
                f"The message is stored but could not be processed ({exc}). Send it again "
                f"later; after {MAX_ATTEMPTS} attempts it waits in quarantine for an admin.",
            )
        )
        response.headers["Retry-After"] = "60"
        return response
    return jsonify(
        {"outcome": outcome.outcome, "ticket": outcome.ticket, "reason": outcome.reason}
    ), 202
