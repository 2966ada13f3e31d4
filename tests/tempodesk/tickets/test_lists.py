"""Ticket lists and full-text search, on PostgreSQL (tsvector) and SQLite (FTS5)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from tempodesk.core.db import transaction
from tempodesk.core.models import Follow, Ticket, User
from tempodesk.people import accounts
from tempodesk.tickets import lists, marks
from tests.helpers import Stack


def new_ticket(stack: Stack, **values: Any) -> str:
    body: dict[str, Any] = {
        "subject": "A question",
        "body": "Hello",
        "customer": {"email": f"c-{uuid.uuid4().hex[:6]}@example.org"},
    }
    body.update(values)
    response = stack.client().post("/api/v1/tickets", json=body, headers=stack.api())
    assert response.status_code == 201, response.get_json()
    number: str = response.get_json()["number"]
    return number


def actor(stack: Stack, username: str = "admin") -> Any:
    with stack.sessions() as session:
        user = session.query(User).filter_by(username=username).one()
        return accounts.actor_for(user)


def found(stack: Stack, query: str, username: str = "admin") -> list[str]:
    with stack.sessions() as session:
        page = lists.page(session, actor(stack, username), {"text": query}, limit=200)
        return [t.number for t in page.items]


def test_search_finds_words_of_subjects_bodies_notes_customers_and_orders(any_stack: Stack) -> None:
    word = f"zebra{uuid.uuid4().hex[:6]}"
    by_subject = new_ticket(any_stack, subject=f"The {word} kettle")
    by_body = new_ticket(any_stack, body=f"Something about {word}kettles and more")
    email = f"{word}@customer.example"
    by_customer = new_ticket(any_stack, customer={"email": email, "name": "Quirina Quill"})
    by_order = new_ticket(
        any_stack, order_number="ORD-1001", customer={"email": "jana.novakova@example.com"}
    )
    noted = new_ticket(any_stack)
    any_stack.client().post(
        f"/api/v1/tickets/{noted}/actions/comment",
        json={"fields": {"body": f"internal {word}note"}},
        headers=any_stack.api(),
    )
    assert by_subject in found(any_stack, word)
    assert by_body in found(any_stack, f"{word}kett")  # the last word may be a prefix
    assert by_customer in found(any_stack, email)
    assert by_customer in found(any_stack, "quirina quill")
    assert by_order in found(any_stack, "ORD-1001")
    assert noted in found(any_stack, f"{word}note")
    assert found(any_stack, f"{word} absentword") == []


def test_search_ignores_diacritics_both_ways(any_stack: Stack) -> None:
    word = uuid.uuid4().hex[:6]
    number = new_ticket(
        any_stack,
        subject=f"Rychlovarná konvice {word} nehřeje",
        customer={"email": f"jirina-{word}@example.org", "name": "Jiřina Nováková"},
    )
    for query in (
        f"konvice {word} nehreje",
        f"rychlovarna {word}",
        f"Jiřina Nováková {word}",
        f"jirina novakova {word}",
        f"{word} NOVÁK",  # the last word is a prefix, with or without its accents
        f"{word} novak",
    ):
        assert number in found(any_stack, query), query
    assert found(any_stack, f"{word} novakovo") == []


def test_greek_search_folds_case_and_accents(any_stack: Stack) -> None:
    word = uuid.uuid4().hex[:6]
    number = new_ticket(
        any_stack,
        subject=f"Ο βραστήρας δεν ζεσταίνει {word}",  # noqa: RUF001
        customer={"email": f"eleni-{word}@example.gr", "name": "Ελένη Παπαδοπούλου"},
    )
    for query in (
        f"βραστήρας {word}",
        f"ΒΡΑΣΤΗΡΑΣ {word}",  # capitals without the tonos
        f"{word} ζεσταινει",
        f"ελενη {word}",
        f"{word} ΠΑΠΑΔΟΠ",  # a prefix, in capitals
    ):
        assert number in found(any_stack, query), query
    assert found(any_stack, f"{word} βραστηρες") == []


def test_cyrillic_search_folds_case_and_accents_in_ukrainian_and_russian(
    any_stack: Stack,
) -> None:
    word = uuid.uuid4().hex[:6]
    ukrainian = new_ticket(any_stack, subject=f"Чайник не нагрівається {word}")
    russian = new_ticket(
        any_stack, subject=f"Заказ ещё не пришёл {word}", body="Мой номер заказа потерян"
    )
    for query, number in (
        (f"ЧАЙНИК {word}", ukrainian),
        (f"{word} НАГРІВАЄТЬСЯ", ukrainian),
        (f"{word} нагрів", ukrainian),  # a prefix
        (f"пришел {word}", russian),  # ё written as е  # noqa: RUF003
        (f"ПРИШЁЛ {word}", russian),
        (f"{word} мой", russian),
    ):
        assert number in found(any_stack, query), query
    assert found(any_stack, f"{word} чайники") == []


def test_search_text_adds_each_word_with_diacritics_once_without_them() -> None:
    text = lists.search_text(["HD-1", "Žluťoučký kůň", "", "Kůň úpěl"])
    assert text.splitlines() == ["HD-1", "Žluťoučký kůň", "Kůň úpěl", "zlutoucky kun upel"]
    assert lists.search_text(["plain ascii"]) == "plain ascii"
    assert len(lists.search_text(["ž" * (lists.SEARCH_TEXT_MAX + 10)])) <= (
        2 * lists.SEARCH_TEXT_MAX + 1
    )


@pytest.mark.parametrize(
    "query", ['"', "*", "OR", "NEAR(a b)", "a' OR 1=1 --", "(((", "é\\", "-", "\x00"]
)
def test_search_syntax_in_a_query_is_taken_literally(any_stack: Stack, query: str) -> None:
    with any_stack.sessions() as session:
        lists.page(session, actor(any_stack), {"text": query}, limit=5)  # no error


def test_search_never_shows_what_the_agent_may_not_see(stack: Stack) -> None:
    word = f"secret{uuid.uuid4().hex[:6]}"
    hidden = new_ticket(
        stack, channel="phone", subject=word, customer={"phone": "+420 777 010 203"}
    )
    stack.client().post(f"/api/v1/tickets/{hidden}/actions/escalate", json={}, headers=stack.api())
    assert hidden in found(stack, word, "agent2")  # Billing sees the escalated state
    assert hidden not in found(stack, word, "agent1")
    response = stack.client().get(f"/api/v1/tickets?q={word}", headers=stack.api("agent1"))
    assert [t["number"] for t in response.get_json()["items"]] == []


def test_a_ticket_is_unread_until_opened_and_again_after_news(stack: Stack) -> None:
    number = new_ticket(stack)
    agent = actor(stack, "agent1")

    def unread() -> bool:
        with stack.sessions() as session:
            page = lists.page(session, agent, {"unread": True}, limit=500)
            return number in [t.number for t in page.items]

    assert unread()
    with transaction(stack.sessions) as session:
        ticket = session.query(Ticket).filter_by(number=number).one()
        marks.mark_read(session, "agent1", ticket)
    assert not unread()
    stack.client().post(
        f"/api/v1/tickets/{number}/actions/set_priority",
        json={"fields": {"priority": 3}},
        headers=stack.api("agent2"),
    )
    assert unread()
    with transaction(stack.sessions) as session:
        marks.mark_unread(session, "agent1", number)
    assert unread()


def test_followed_lists_only_the_agents_follows(stack: Stack) -> None:
    number = new_ticket(stack)
    with transaction(stack.sessions) as session:
        session.add(Follow(ticket_number=number, username="agent1"))
    with stack.sessions() as session:
        mine = lists.page(session, actor(stack, "agent1"), {"followed": True}, limit=500)
        theirs = lists.page(session, actor(stack, "agent2"), {"followed": True}, limit=500)
    assert number in [t.number for t in mine.items]
    assert number not in [t.number for t in theirs.items]


@pytest.mark.parametrize("sort", lists.SORTS)
def test_keyset_pages_cover_every_ticket_once_in_order(any_stack: Stack, sort: str) -> None:
    tag = f"page{uuid.uuid4().hex[:6]}"
    made = []
    for priority in (1, 3, 2, 4, 3):
        made.append(new_ticket(any_stack, subject=f"{tag} ticket", priority=priority))
        time.sleep(0.01)
    seen: list[Ticket] = []
    cursor = None
    with any_stack.sessions() as session:
        while True:
            page = lists.page(
                session, actor(any_stack), {"text": tag}, sort=sort, limit=2, cursor=cursor
            )
            seen += page.items
            cursor = page.next_cursor
            if cursor is None:
                break
    assert sorted(t.number for t in seen) == sorted(made)
    keys = {
        "newest": lambda t: -t.id,
        "oldest": lambda t: t.id,
        "updated": lambda t: (-t.updated_at.timestamp(), -t.id),
        "priority": lambda t: (-t.priority, -t.id),
    }
    assert seen == sorted(seen, key=keys[sort])


def test_a_cursor_from_another_list_or_forged_is_refused(stack: Stack) -> None:
    with stack.sessions() as session:
        page = lists.page(session, actor(stack), {}, sort="newest", limit=1)
        assert page.next_cursor
        with pytest.raises(lists.BadQuery):
            lists.page(session, actor(stack), {}, sort="priority", cursor=page.next_cursor)
        with pytest.raises(lists.BadQuery):
            lists.page(session, actor(stack), {}, cursor="not-a-cursor")


def test_saved_filter_criteria_accept_only_known_keys() -> None:
    assert lists.clean_criteria({"state": "open", "priority": [3, 4], "text": ""}) == {
        "state": ["open"],
        "priority": ["3", "4"],
    }
    with pytest.raises(lists.BadQuery):
        lists.clean_criteria({"sql": "1=1"})


def test_tag_criteria_are_normalised_from_a_list_or_one_text_of_tags() -> None:
    assert lists.clean_criteria({"tag": "VIP, Billing Issue,,vip"}) == {
        "tag": ["vip", "billing-issue"]
    }
    assert lists.clean_criteria({"tag": ["A b", " c "]}) == {"tag": ["a-b", "c"]}
