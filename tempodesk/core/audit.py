"""The audit log: one helper every change calls, in the same transaction as the change.

``record`` adds an ``AuditEntry`` to the caller's session and never commits: the entry is
written with the change or not at all. ``snapshot`` turns a model into the plain, JSON-safe
dict the entry keeps as "before" and "after"; secrets (password hashes, sealed keys, API
token hashes) are never copied, only whether they changed. ``entries`` and ``csv_text`` are
what the admin page and its export read.

Action names are ``<object type>.<verb>`` (``user.update``, ``template.save``,
``mailbox.create``) or a fact about an actor (``sign_in``, ``sign_in.portal``,
``token.create``); the README's Operations section lists them. Other rooms (webhooks, GDPR)
call ``record`` the same way.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tempodesk.core.db import fit, iso
from tempodesk.core.models import AuditEntry

#: Attribute names whose values never enter the log (only "changed" does).
SECRET_NAMES = ("password", "secret", "token_hash", "api_key")
SECRET_MARK = "(secret)"
#: What a caller puts in place of a secret it has just replaced (kept as it is).
CHANGED = "(changed)"

#: How many entries one page of the admin view shows; the export takes up to EXPORT_LIMIT.
PAGE_SIZE = 100
EXPORT_LIMIT = 50_000


def _plain(value: Any) -> Any:
    """A JSON-safe copy of a value (models by their name or id, times as ISO 8601)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date | Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, Iterable) and not isinstance(value, bytes | bytearray):
        return [_plain(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return f"({len(value)} bytes)"
    for name in ("username", "name", "slug", "id"):
        if hasattr(value, name):
            return _plain(getattr(value, name))
    return str(value)


def is_secret(name: str) -> bool:
    return any(part in name.lower() for part in SECRET_NAMES)


def _masked(name: str, value: Any) -> Any:
    if not is_secret(name) or value == CHANGED:
        return _plain(value)
    return SECRET_MARK if value else ""


def snapshot(obj: Any, fields: Iterable[str]) -> dict[str, Any]:
    """The listed attributes of ``obj`` as plain data; a secret shows only whether it is set."""
    return {name: _masked(name, getattr(obj, name, None)) for name in fields}


def plain(values: Mapping[str, Any]) -> dict[str, Any]:
    """A dict of values made JSON-safe, secrets masked as in ``snapshot``."""
    return {str(k): _masked(str(k), v) for k, v in values.items()}


def record(
    session: Session,
    action: str,
    *,
    actor: str,
    actor_kind: str = "agent",
    object_type: str = "",
    object_id: str | int = "",
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    address: str = "",
) -> AuditEntry | None:
    """Add an entry for a change to ``session`` (the caller commits it with the change).

    An update whose before and after are equal changes nothing and records nothing (None).
    """
    old = plain(before) if before is not None else None
    new = plain(after) if after is not None else None
    if old is not None and new is not None and old == new:
        return None
    entry = AuditEntry(
        actor=fit(AuditEntry.actor, actor),
        actor_kind=fit(AuditEntry.actor_kind, actor_kind),
        action=fit(AuditEntry.action, action),
        object_type=fit(AuditEntry.object_type, object_type),
        object_id=fit(AuditEntry.object_id, str(object_id)),
        before=old,
        after=new,
        address=fit(AuditEntry.address, address or ""),
    )
    session.add(entry)
    return entry


def os_actor() -> str:
    """Who runs a command (the CLI), for the audit log: the operating system's user."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


@dataclass
class AuditFilter:
    """What the admin view narrows the log by (all optional)."""

    action: str = ""  # an action, or its prefix ("user." finds every user change)
    actor: str = ""
    object_type: str = ""
    object_id: str = ""
    since: datetime | None = None
    until: datetime | None = None


#: The text filters, by name (the admin page's query parameters).
FILTER_KEYS = ("action", "actor", "object_type", "object_id")


def entries(
    session: Session, where: AuditFilter, *, limit: int = PAGE_SIZE, before_id: int | None = None
) -> list[AuditEntry]:
    """The newest entries matching ``where``, at most ``limit``, older than ``before_id``."""
    query = select(AuditEntry)
    if where.action:
        if where.action.endswith("."):
            query = query.where(AuditEntry.action.startswith(where.action, autoescape=True))
        else:
            query = query.where(AuditEntry.action == where.action)
    if where.actor:
        query = query.where(AuditEntry.actor == where.actor)
    if where.object_type:
        query = query.where(AuditEntry.object_type == where.object_type)
    if where.object_id:
        query = query.where(AuditEntry.object_id == where.object_id)
    if where.since is not None:
        query = query.where(AuditEntry.at >= where.since)
    if where.until is not None:
        query = query.where(AuditEntry.at < where.until)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return list(session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit)))


def changed_fields(entry: AuditEntry) -> list[str]:
    """The keys whose value differs between before and after (all keys of a create/delete)."""
    old, new = entry.before or {}, entry.after or {}
    return sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))


CSV_COLUMNS = ("id", "at", "actor", "actor_kind", "action", "object_type", "object_id")


def _cell(value: str) -> str:
    """Formula-safe: a spreadsheet never evaluates a cell we wrote (OWASP CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def csv_text(rows: Iterable[AuditEntry]) -> str:
    """The entries as CSV: the columns, the address, and before/after as JSON."""
    import json

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*CSV_COLUMNS, "address", "before", "after"])
    for e in rows:
        values = [str(e.id), iso(e.at) or "", e.actor, e.actor_kind, e.action]
        values += [e.object_type, e.object_id, e.address]
        values += [json.dumps(e.before, ensure_ascii=False, sort_keys=True) if e.before else ""]
        values += [json.dumps(e.after, ensure_ascii=False, sort_keys=True) if e.after else ""]
        writer.writerow([_cell(v) for v in values])
    return out.getvalue()


def as_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": iso(entry.at),
        "actor": entry.actor,
        "actor_kind": entry.actor_kind,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "before": entry.before,
        "after": entry.after,
        "address": entry.address,
    }
