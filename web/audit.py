"""The web's door to the audit log: who (the signed-in user), from where (the client's
address), in the request's session, committed with the change (``tempodesk.core.audit``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import request
from flask_login import current_user

from tempodesk.core import audit
from web import db


def record(
    action: str,
    *,
    object_type: str,
    object_id: str | int = "",
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    actor: str | None = None,
    actor_kind: str = "agent",
) -> None:
    """Add an entry for the change this request makes (the view commits it)."""
    if actor is None:
        actor = current_user.username if current_user.is_authenticated else ""
    audit.record(
        db(),
        action,
        actor=actor,
        actor_kind=actor_kind,
        object_type=object_type,
        object_id=object_id,
        before=before,
        after=after,
        address=request.remote_addr or "",
    )
