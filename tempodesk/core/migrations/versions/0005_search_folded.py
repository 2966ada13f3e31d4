"""search: words without diacritics; PostgreSQL keeps the tsvector in a stored column

Existing tickets' search_text gets its words without diacritics (new tickets get them from the
projection). On PostgreSQL the tsvector is a stored generated column with the GIN index on it,
instead of an expression index: a search that walks the newest tickets and filters them (the
planner's choice for common words) then reads a stored vector instead of parsing every
ticket's text again, which made two common words together take ~300 ms at 100k tickets.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 16:30:00
"""

import re
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500


def _fold(text: str) -> str:
    # Frozen copy of tempodesk.tickets.lists.fold as of this revision (migrations never import code
    # that may change after them).
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _with_folded_line(text: str) -> str:
    folded = dict.fromkeys(
        plain for word in re.findall(r"\w+", text) if (plain := _fold(word)) != word.lower()
    )
    return f"{text}\n{' '.join(folded)}" if folded else text


def upgrade() -> None:
    tickets = sa.table("tickets", sa.column("id", sa.Integer), sa.column("search_text", sa.Text))
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.select(tickets.c.id, tickets.c.search_text)
            .where(tickets.c.id > last)
            .order_by(tickets.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        for ticket_id, text in rows:
            new = _with_folded_line(text or "")
            if new != (text or ""):
                bind.execute(
                    tickets.update().where(tickets.c.id == ticket_id).values(search_text=new)
                )
        last = rows[-1][0]
    if bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_tickets_search")
        op.execute(
            "ALTER TABLE tickets ADD COLUMN search_vector tsvector "
            "GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED"
        )
        op.execute("CREATE INDEX ix_tickets_search ON tickets USING gin (search_vector)")


def downgrade() -> None:
    # The folded words are harmless to older code (they only add words): they stay.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_tickets_search")
        op.execute("ALTER TABLE tickets DROP COLUMN IF EXISTS search_vector")
        op.execute(
            "CREATE INDEX ix_tickets_search ON tickets "
            "USING gin (to_tsvector('simple', search_text))"
        )
