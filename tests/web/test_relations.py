"""Ticket relations besides merging, through the REST API end to end (Flask, the facade, a
real worker, Temporal, PostgreSQL): links show on both sides, a parent waits for its
children, tags are kept, filtered and searched, a deleted ticket leaves nothing."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import func, select

from tempodesk.core.models import (
    AuditEntry,
    Message,
    Ticket,
    TicketEvent,
    TicketLink,
    TicketTag,
)
from tempodesk.tickets import tags as tag_store
from tests.helpers import Stack
from tests.web.test_inbound_email import ticket
from tests.web.test_merge import post_ticket


def link(stack: Stack, number: str, other: str, kind: str, **extra: Any) -> Any:
    return stack.client().post(
        f"/api/v1/tickets/{number}/links",
        json={"ticket": other, "kind": kind, **extra},
        headers=stack.api(),
    )


def until(check: Any, what: str) -> Any:
    for _ in range(200):
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(what)


def links_of(stack: Stack, number: str) -> dict[str, str]:
    return {link["ticket"]: link["kind"] for link in ticket_detail(stack, number)["links"]}


def ticket_detail(stack: Stack, number: str) -> dict[str, Any]:
    return ticket(stack, number)


def test_a_link_shows_on_both_tickets_and_on_both_timelines(stack: Stack) -> None:
    one, two = post_ticket(stack, "Printer jams"), post_ticket(stack, "Printer jams again")

    response = link(stack, one, two, "duplicate")

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["ticket"]["links"][0]["kind"] == "duplicate_of"
    assert links_of(stack, one) == {two: "duplicate_of"}
    assert links_of(stack, two) == {one: "duplicated_by"}
    events = until(
        lambda: [e for e in ticket(stack, two)["events"] if e["kind"] == "linked"],
        "the other ticket never recorded the link",
    )
    assert events[0]["data"]["ticket"] == one
    assert [e["kind"] for e in ticket(stack, one)["events"]].count("linked") == 1


def test_unlinking_removes_the_link_from_both_tickets(stack: Stack) -> None:
    one, two = post_ticket(stack, "Related A"), post_ticket(stack, "Related B")
    assert link(stack, one, two, "related").status_code == 200

    response = stack.client().delete(
        f"/api/v1/tickets/{one}/links", json={"ticket": two}, headers=stack.api()
    )

    assert response.status_code == 200, response.get_json()
    assert links_of(stack, one) == {} and links_of(stack, two) == {}


def test_a_ticket_cannot_be_linked_to_itself(stack: Stack) -> None:
    one = post_ticket(stack, "Lonely")

    response = link(stack, one, one, "related")

    assert response.status_code == 409
    assert "itself" in response.get_json()["error"]["message"]


def resolve(stack: Stack, number: str) -> Any:
    return stack.client().post(
        f"/api/v1/tickets/{number}/actions/resolve", json={"fields": {}}, headers=stack.api()
    )


def test_a_parent_is_not_resolved_while_a_child_it_waits_for_is_open(stack: Stack) -> None:
    parent, child = post_ticket(stack, "Office move"), post_ticket(stack, "Move the printer")
    assert link(stack, parent, child, "child", wait=True).status_code == 200

    refused = resolve(stack, parent)

    assert refused.status_code == 409, refused.get_json()
    assert child in refused.get_json()["error"]["message"]
    assert resolve(stack, child).status_code == 200
    until(lambda: resolve(stack, parent).status_code == 200, "the parent never resolved")
    assert ticket(stack, parent)["state_category"] == "resolved"


def test_a_parent_that_does_not_wait_is_resolved_with_open_children(stack: Stack) -> None:
    parent, child = post_ticket(stack, "Plan A"), post_ticket(stack, "Step 1")
    assert link(stack, child, parent, "parent").status_code == 200

    assert resolve(stack, parent).status_code == 200
    assert links_of(stack, parent) == {child: "child"}


def tag(stack: Stack, number: str, *names: str, method: str = "post") -> Any:
    return stack.client().open(
        f"/api/v1/tickets/{number}/tags",
        method=method.upper(),
        json={"tags": list(names)},
        headers=stack.api(),
    )


def test_tags_are_kept_shown_filtered_and_searched(stack: Stack) -> None:
    number, other = post_ticket(stack, "Invoice wrong"), post_ticket(stack, "Invoice right")
    word = f"vip{time.time_ns()}"

    response = tag(stack, number, f"  {word.upper()} ", "Billing Issue")

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["ticket"]["tags"] == ["billing-issue", word]
    assert tag(stack, other, "billing-issue").status_code == 200
    listed = stack.client().get(f"/api/v1/tickets?tag={word}", headers=stack.api()).get_json()
    assert [t["number"] for t in listed["items"]] == [number]
    both = (
        stack.client()
        .get(f"/api/v1/tickets?tag={word}&tag=billing-issue", headers=stack.api())
        .get_json()
    )
    assert [t["number"] for t in both["items"]] == [number]
    found = stack.login("agent1").get(f"/desk/search?q={word}")
    assert number in found.get_data(as_text=True)
    assert tag(stack, number, word, method="delete").get_json()["ticket"]["tags"] == [
        "billing-issue"
    ]
    with stack.sessions() as session:
        kept = session.scalars(select(TicketTag.tag).where(TicketTag.ticket_number == number))
        assert list(kept) == ["billing-issue"]


def test_only_curated_tags_may_be_given_when_the_admins_say_so(stack: Stack) -> None:
    number = post_ticket(stack, "Curated only")
    with stack.sessions() as session:
        before = [t.name for t in tag_store.curated(session)], tag_store.only_curated(session)
        tag_store.save_curated(session, ["hardware", "software"], True, actor="admin")
        session.commit()
    try:
        refused = tag(stack, number, "whatever")
        allowed = tag(stack, number, "Hardware")
    finally:
        with stack.sessions() as session:
            tag_store.save_curated(session, before[0], before[1], actor="admin")
            session.commit()

    assert refused.status_code == 422
    assert "hardware" in refused.get_json()["error"]["message"]
    assert allowed.status_code == 200 and allowed.get_json()["ticket"]["tags"] == ["hardware"]


def test_deleting_a_ticket_leaves_nothing_of_it(stack: Stack) -> None:
    number, other = post_ticket(stack, "Buy cheap pills"), post_ticket(stack, "Real question")
    assert link(stack, number, other, "related").status_code == 200
    assert tag(stack, number, "spam").status_code == 200

    refused = stack.client().delete(f"/api/v1/tickets/{number}", headers=stack.api("agent1"))
    response = stack.client().delete(f"/api/v1/tickets/{number}", headers=stack.api())

    assert refused.status_code == 403
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["deleted"] == [number]
    gone = stack.client().get(f"/api/v1/tickets/{number}", headers=stack.api())
    assert gone.status_code == 404
    with stack.sessions() as session:
        for model, column in (
            (Ticket, Ticket.number),
            (Message, Message.ticket_number),
            (TicketEvent, TicketEvent.ticket_number),
            (TicketTag, TicketTag.ticket_number),
            (TicketLink, TicketLink.ticket_number),
            (TicketLink, TicketLink.other_number),
        ):
            left = session.scalar(select(func.count()).select_from(model).where(column == number))
            assert left == 0, model
        audited = session.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "ticket.delete", AuditEntry.object_id == number
            )
        )
        assert audited is not None and audited.actor == "admin"
    assert links_of(stack, other) == {}
    search = stack.client().get(f"/api/v1/tickets?q={number}", headers=stack.api()).get_json()
    assert search["items"] == []


def test_deleting_a_child_lets_its_waiting_parent_be_resolved(stack: Stack) -> None:
    parent, child = post_ticket(stack, "Rollout"), post_ticket(stack, "Test laptop")
    assert link(stack, parent, child, "child", wait=True).status_code == 200
    assert resolve(stack, parent).status_code == 409

    assert stack.client().delete(f"/api/v1/tickets/{child}", headers=stack.api()).status_code == 200

    assert resolve(stack, parent).status_code == 200
    assert links_of(stack, parent) == {}


def test_a_child_merged_into_another_ticket_no_longer_holds_its_parent(stack: Stack) -> None:
    parent, child = post_ticket(stack, "Migration"), post_ticket(stack, "Copy the mail")
    survivor = post_ticket(stack, "Copy the mail (again)")
    assert link(stack, child, parent, "parent", wait=True).status_code == 200
    assert resolve(stack, parent).status_code == 409

    merged = stack.client().post(
        f"/api/v1/tickets/{child}/merge", json={"into": survivor}, headers=stack.api()
    )

    assert merged.status_code == 200, merged.get_json()
    until(lambda: resolve(stack, parent).status_code == 200, "the parent still waits")
