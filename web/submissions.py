"""What every support form checks before it files a request: its signed submission key (a
resubmit files one ticket, a made-up or replayed key is refused, a form sent too quickly is
a bot's), the hidden trap field, the content (links, blocked words) and how often one
address sends.

The key is issued when the form is shown, signed with the time and the form it belongs to.
On our own pages it is also kept in the session (nobody else can replay it). An embedded
form lives in another site's iframe, where browsers do not send our session cookie
(SameSite), so there the signed key *is* the form's CSRF token: only a page we served holds
one, it names its form and expires; a post from a page we did not serve has none.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from typing import Any

from flask import session
from itsdangerous import BadSignature, URLSafeTimedSerializer

from tempodesk.people.addresses import normalize_email
from tempodesk.tickets.form_fields import ContentRules, content_problem
from web import limits, runtime
from web.i18n import gettext as _

#: Submissions a session keeps (a customer with several tabs open).
KEPT_SUBMISSIONS = 5
#: How long a shown form may wait before it is sent.
MAX_AGE = 86400


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(runtime().settings.session_secret(), salt="support-form")


def issue(scope: str, *, in_session: bool = True) -> str:
    """A new signed submission key for the form ``scope`` ("new": the default form)."""
    nonce = secrets.token_urlsafe(18)
    if in_session:
        session["support_forms"] = [*session.get("support_forms", []), nonce][-KEPT_SUBMISSIONS:]
    return _signer().dumps({"n": nonce, "s": scope})


def read(token: str | None, scope: str) -> tuple[str, float] | None:
    """The key's nonce and when it was issued, if it is ours, for this form, not expired."""
    try:
        data, issued = _signer().loads(token or "", max_age=MAX_AGE, return_timestamp=True)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("s") != scope or not isinstance(data.get("n"), str):
        return None
    return data["n"], issued.timestamp()


def problem(token: str | None, scope: str, trap: Any, *, in_session: bool = True) -> str | None:
    """Why this submission is not taken (a replayed or made-up key, a bot), else None."""
    found = read(token, scope)
    if found is None or (in_session and found[0] not in session.get("support_forms", [])):
        return _("This form has expired. Please check it and send it again.")
    if trap:
        return _("Your request could not be sent.")
    if time.time() - found[1] < runtime().settings.public_form_min_seconds:
        return _("That was very quick. Please check the form and send it again.")
    return None


def nonce(token: str | None, scope: str) -> str:
    found = read(token, scope)
    return found[0] if found else ""


def spam_problem(rules: ContentRules, email: str, texts: Sequence[str]) -> str | None:
    """Content that looks like spam (a readable reason), else None; counts one submission
    of ``email`` (over the per-address limit: ``RateLimited``, a 429)."""
    found = content_problem(rules, texts)
    if found is None and email:
        limits.hit(
            runtime().settings.public_form_address_rate_limit,
            "support-address",
            normalize_email(email),
        )
    return found
