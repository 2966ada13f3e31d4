"""Ratings as data: the ``ask_rating`` effect and what the ``rate`` signal does to a ticket
(``workflows.rating``), without a workflow."""

from __future__ import annotations

import pytest
import yaml

from statemachines import DefinitionError, bundled, load_text, parse_definition
from tempodesk.contracts import RateInput, TicketSnapshot
from workflows.effects import Pressed, apply_effects
from workflows.rating import take_rating


def ticket(**more: object) -> TicketSnapshot:
    base = TicketSnapshot(
        number="HD-1",
        subject="Kettle",
        state="resolved",
        state_label="Resolved",
        state_category="resolved",
        process_name="support",
        process_version=1,
        customer_email="jana@example.com",
        assignee="agent2",
        seq=7,
    )
    for name, value in more.items():
        setattr(base, name, value)
    return base


def test_resolving_asks_for_a_rating_of_the_assignees_answer_by_template() -> None:
    resolve = load_text(bundled("support")).action("resolve")
    assert resolve is not None
    outcome = apply_effects(ticket(), Pressed(resolve, {}, "agent1", seq=8))
    assert outcome.ticket.rating_asked_seq == 8 and outcome.ticket.rating_agent == "agent2"
    [mail] = outcome.outbox
    assert (mail.template, mail.to_role, mail.event_seq) == ("rate_answer", "customer", 8)


def test_ask_rating_needs_a_template() -> None:
    data = yaml.safe_load(bundled("support"))
    data["actions"]["resolve"]["effects"] = [{"type": "ask_rating"}]
    with pytest.raises(DefinitionError) as caught:
        parse_definition(data)
    assert any("template" in str(p) for p in caught.value.problems)


def test_a_rating_is_kept_and_recorded_with_its_comment() -> None:
    asked = ticket(rating_asked_seq=5, rating_agent="agent2")
    rated = take_rating(
        asked, RateInput(4, 5, "agent2", comment_message_id=9, key="k1"), "2026-12-05T07:00:00"
    )
    assert rated is not None
    assert (rated.ticket.rating_score, rated.ticket.rated_at) == (4, "2026-12-05T07:00:00")
    assert rated.data == {
        "score": 4,
        "asked_seq": 5,
        "agent": "agent2",
        "via": "email",
        "comment_message_id": 9,
    }
    assert rated.actor == "jana@example.com" and rated.message_id == 9
    [link] = rated.links
    assert (link.channel, link.sender_role, link.internal) == ("rating", "customer", False)


@pytest.mark.parametrize("score", [0, 6, -1, 100])
def test_a_score_outside_one_to_five_is_ignored(score: int) -> None:
    assert take_rating(ticket(rating_asked_seq=5), RateInput(score, 5), "now") is None


def test_a_ticket_never_asked_or_an_answer_it_lacks_takes_no_rating() -> None:
    assert take_rating(ticket(), RateInput(5, 5), "now") is None
    assert take_rating(ticket(rating_asked_seq=5), RateInput(5, 99), "now") is None
    assert take_rating(ticket(rating_asked_seq=5), RateInput(5, 0), "now") is None


def test_the_same_form_twice_counts_once() -> None:
    asked = ticket(rating_asked_seq=5, rating_score=3, rating_key="k1")
    assert take_rating(asked, RateInput(3, 5, key="k1"), "now") is None
    assert take_rating(asked, RateInput(5, 5, key="k2"), "now") is not None
