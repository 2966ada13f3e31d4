"""Ticket numbers: ``HD-{year}-{seq:06d}`` by default, one sequence per year (or month)."""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tempodesk.core.models import TicketCounter

_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,40}$")


class _Sequence:
    def __format__(self, spec: str) -> str:
        return "#"


def check_number_template(template: str) -> None:
    """Refuse templates with unknown placeholders or without a sequence."""
    names = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
    if "seq" not in names or names - {"seq", "year", "month"}:
        raise ValueError("The ticket number template needs {seq} and may use {year}, {month}.")
    sample = template.format(year=2026, month="01", seq=1)
    if not _NUMBER.match(sample):
        raise ValueError("Ticket numbers may contain only letters, digits, '.', '_' and '-'.")


def allocate_number(session: Session, template: str) -> str:
    """The next ticket number; sequences restart whenever the rest of the template changes."""
    check_number_template(template)
    now = datetime.now(UTC)
    scope = template.format(year=now.year, month=f"{now.month:02d}", seq=_Sequence())[:64]
    # One statement (a round trip less per ticket): the first of a scope inserts 1, the
    # others add one under the row's lock and read the result back.
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(TicketCounter).values(scope=scope, value=1)
    value = session.execute(
        stmt.on_conflict_do_update(
            index_elements=["scope"], set_={"value": TicketCounter.value + 1}
        ).returning(TicketCounter.value)
    ).scalar_one()
    return template.format(year=now.year, month=f"{now.month:02d}", seq=value)
