"""The desk's list page counts nothing itself: the panel's counts come after the page
(``/desk/counts``) and are kept per agent for a few seconds."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event

from tempodesk.tickets.panel_counts import CountCache
from tests.helpers import Stack


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Clock:
    """An empty cache of counts on a clock the test moves."""
    clock = Clock()
    cache = CountCache(stack.settings.desk_counts_seconds, clock=clock)
    monkeypatch.setitem(stack.app.extensions, "tempodesk_counts", cache)
    return clock


@contextmanager
def counting_queries(stack: Stack) -> Iterator[list[str]]:
    """The COUNT statements the web app sends meanwhile."""
    engine = stack.sessions.kw["bind"]
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "count(" in statement.lower():
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def list_page(client: FlaskClient) -> str:
    response = client.get("/desk/?view=open")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def shown_counts(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-count-for="([^"]+)">([^<]*)<', html))


def test_the_list_page_counts_nothing_and_asks_for_the_counts_afterwards(
    stack: Stack, clock: Clock
) -> None:
    client = stack.login("agent1")
    with counting_queries(stack) as counts:
        html = list_page(client)
    assert counts == []
    assert "data-counts-pending" in html
    assert set(shown_counts(html).values()) == {""}


def test_counts_fetched_after_the_page_show_on_the_next_pages_for_a_few_seconds(
    stack: Stack, clock: Clock
) -> None:
    client = stack.login("agent1")
    fetched = client.get("/desk/counts").get_json()
    assert fetched and all(value.rstrip("+").isdigit() for value in fetched.values())
    clock.now += stack.settings.desk_counts_seconds - 1
    with counting_queries(stack) as counts:
        html = list_page(client)
    assert counts == []
    assert shown_counts(html) == fetched
    assert "data-counts-pending" not in html
    clock.now += 1.5
    assert set(shown_counts(list_page(client)).values()) == {""}  # too old: asked for again


def test_the_counts_endpoint_always_counts_afresh(stack: Stack, clock: Clock) -> None:
    client = stack.login("agent1")
    client.get("/desk/counts")
    with counting_queries(stack) as counts:
        assert client.get("/desk/counts").status_code == 200
    assert counts


def test_counts_kept_for_one_agent_are_not_shown_to_another(stack: Stack, clock: Clock) -> None:
    stack.login("admin").get("/desk/counts")
    html = list_page(stack.login("limited"))
    assert set(shown_counts(html).values()) == {""}
