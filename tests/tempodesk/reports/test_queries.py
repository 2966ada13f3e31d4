"""Each report against seeded tickets with known answers, on PostgreSQL and SQLite."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from tempodesk.core.db import transaction
from tempodesk.core.models import Ticket
from tempodesk.reports import queries
from tempodesk.reports.filters import Filters, Scope
from tempodesk.reports.percentiles import PERCENTILES, duration_stats, percentile
from tests.helpers import Stack
from tests.tempodesk.reports.seed import Seeded, seed

ADMIN = Scope(groups=None)


@pytest.fixture
def seeded(any_stack: Stack) -> Seeded:
    return seed(any_stack)


def run(stack: Stack, name: str, filters: Filters, scope: Scope = ADMIN) -> list[tuple]:
    with stack.sessions() as session:
        return queries.run(session, name, filters, scope).rows


def test_created_and_resolved_per_day_count_every_day_of_the_period(
    any_stack: Stack, seeded: Seeded
) -> None:
    assert run(any_stack, "created_resolved", seeded.filters()) == [
        ("2020-03-01", 2, 0),
        ("2020-03-02", 1, 2),
        ("2020-03-03", 2, 1),
    ]


def test_backlog_counts_waiting_tickets_by_category_and_group(
    any_stack: Stack, seeded: Seeded
) -> None:
    assert run(any_stack, "backlog", seeded.filters()) == [
        ("new", seeded.group, 1),
        ("open", seeded.group, 1),
        ("pending", seeded.group, 1),
    ]


def test_first_response_is_the_first_public_attached_agent_reply(
    any_stack: Stack, seeded: Seeded
) -> None:
    # email: 1 h and 3 h answered, one never answered; web: 1 h, one not answered.
    assert run(any_stack, "first_response", seeded.filters()) == [
        ("email", 3, 2, 2.0, 2.8),
        ("web", 2, 1, 1.0, 1.0),
    ]


def test_resolution_times_count_tickets_resolved_in_the_period(
    any_stack: Stack, seeded: Seeded
) -> None:
    # email: 24 h, and 298 h for a ticket created before the period; web: 6 h.
    assert run(any_stack, "resolution", seeded.filters()) == [
        ("email", 2, 2, 161.0, 270.6),
        ("web", 1, 1, 6.0, 6.0),
    ]


def test_durations_break_down_by_the_chosen_dimension(any_stack: Stack, seeded: Seeded) -> None:
    rows = run(any_stack, "resolution", seeded.filters(by="agent"))
    assert rows == [(seeded.alice, 2, 2, 161.0, 270.6), (seeded.bob, 1, 1, 6.0, 6.0)]
    assert run(any_stack, "first_response", seeded.filters(by="process")) == [
        ("support", 5, 3, 1.0, 2.6)
    ]


def test_sla_compliance_counts_tickets_under_a_policy_created_in_the_period(
    any_stack: Stack, seeded: Seeded
) -> None:
    assert run(any_stack, "sla", seeded.filters()) == [
        ("Premium", 1, 0, 100.0),
        ("Standard", 3, 1, 66.7),
    ]


def test_agent_load_counts_waiting_now_and_resolved_in_the_period(
    any_stack: Stack, seeded: Seeded
) -> None:
    assert run(any_stack, "agent_load", seeded.filters()) == [
        ("", 1, 0),
        (seeded.alice, 1, 2),
        (seeded.bob, 1, 1),
    ]


def test_satisfaction_counts_ratings_given_in_the_period(any_stack: Stack, seeded: Seeded) -> None:
    assert run(any_stack, "csat", seeded.filters(by="agent")) == [
        (seeded.alice, 2, 4.5, 100.0),
        (seeded.bob, 1, 2.0, 0.0),
    ]


def test_filters_by_channel_keep_only_that_channel(any_stack: Stack, seeded: Seeded) -> None:
    assert run(any_stack, "created_resolved", seeded.filters(channel="web")) == [
        ("2020-03-01", 0, 0),
        ("2020-03-02", 1, 1),
        ("2020-03-03", 1, 0),
    ]
    assert run(any_stack, "backlog", seeded.filters(process="other")) == []


def test_a_supervisor_sees_only_the_groups_they_supervise(any_stack: Stack, seeded: Seeded) -> None:
    everything = Filters(start=date(2020, 3, 1), end=date(2020, 3, 1))
    mine = Scope(groups=(seeded.group,))
    assert run(any_stack, "created_resolved", everything, mine) == [("2020-03-01", 2, 0)]
    theirs = Scope(groups=(seeded.other_group,))
    assert run(any_stack, "created_resolved", everything, theirs) == [("2020-03-01", 1, 0)]
    assert run(any_stack, "csat", seeded.filters(by="agent"), theirs) == []


def test_percentile_interpolates_like_percentile_cont() -> None:
    assert percentile([], 0.5) is None
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile([0.0, 10.0], 0.9) == 9.0


def test_percentiles_of_many_durations_match_percentile_cont_to_the_microsecond(
    any_stack: Stack,
) -> None:
    # Odd and even counts, microseconds, tickets never answered, a key with no answer at all:
    # the database's ranks (a window function on SQLite) must give what sorting every
    # duration in Python gives.
    rng = random.Random(15)
    tag = uuid.uuid4().hex[:8]
    created = datetime(2020, 5, 1, tzinfo=UTC)
    durations: dict[str, list[timedelta | None]] = {
        "email": [timedelta(microseconds=rng.randrange(1, 10**12)) for _ in range(23)] + [None],
        "phone": [timedelta(seconds=rng.randrange(1, 10**6)) for _ in range(10)],
        "web": [None, None],
    }
    with transaction(any_stack.sessions) as session:
        for channel, spans in durations.items():
            for n, span in enumerate(spans):
                session.add(
                    Ticket(
                        number=f"P{channel}{n}-{tag}",
                        workflow_id=f"ticket-P{channel}{n}-{tag}",
                        state="open",
                        state_category="open",
                        process_name="support",
                        process_version=1,
                        channel=channel,
                        group_name=f"pct-{tag}",
                        created_at=created,
                        updated_at=created,
                        first_response_at=None if span is None else created + span,
                    )
                )
    rows = select(
        Ticket.channel.label("key"),
        Ticket.created_at.label("started"),
        Ticket.first_response_at.label("ended"),
    ).where(Ticket.group_name == f"pct-{tag}")
    with any_stack.sessions() as session:
        found = duration_stats(session, rows)
    assert [(s.key, s.tickets, s.ended) for s in found] == [
        ("email", 24, 23),
        ("phone", 10, 10),
        ("web", 2, 0),
    ]
    for stats in found:
        ordered = sorted(s.total_seconds() for s in durations[stats.key] if s is not None)
        expected = [percentile(ordered, p) for p in PERCENTILES]
        assert stats.percentiles == pytest.approx(expected, abs=1e-6), stats.key
