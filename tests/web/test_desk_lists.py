"""The desk's lists: built-in views, the left panel, saved filters, sorting and pages, bulk
actions, search, the split view's preview, follows, unread marks and presence.

Tickets are made through the API. The "guarded" process (channel "phone") has a state
"escalated" that only Billing may see: agent1 (Support) must never see such a ticket, in any
list, search, preview, bulk action, API answer or direct URL.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from tempodesk.core.db import transaction
from tempodesk.core.models import DeskLayout, Follow, Presence, SavedFilter, utcnow
from tempodesk.tickets import lists
from tests.helpers import Stack, csrf_token


def new_ticket(stack: Stack, **values: Any) -> str:
    body: dict[str, Any] = {
        "subject": f"Question {uuid.uuid4().hex[:8]}",
        "body": "Hello, I have a question.",
        "customer": {"email": f"c-{uuid.uuid4().hex[:8]}@example.org"},
    }
    body.update(values)
    response = stack.client().post("/api/v1/tickets", json=body, headers=stack.api())
    assert response.status_code == 201, response.get_json()
    number: str = response.get_json()["number"]
    return number


def act(stack: Stack, number: str, action: str, user: str = "admin", **fields: Any) -> None:
    response = stack.client().post(
        f"/api/v1/tickets/{number}/actions/{action}",
        json={"fields": fields},
        headers=stack.api(user),
    )
    assert response.status_code == 200, response.get_json()


def api_ticket(stack: Stack, number: str) -> dict[str, Any]:
    ticket: dict[str, Any] = (
        stack.client().get(f"/api/v1/tickets/{number}", headers=stack.api()).get_json()
    )
    return ticket


def hidden_ticket(stack: Stack, word: str = "") -> str:
    """A guarded ticket in the state only Billing may see."""
    number = new_ticket(
        stack,
        channel="phone",
        subject=f"Escalated secret {word or uuid.uuid4().hex[:8]}",
        customer={"phone": f"+420 777 {uuid.uuid4().int % 1000:03d} {uuid.uuid4().int % 1000:03d}"},
    )
    act(stack, number, "escalate")
    return number


def page(client: FlaskClient, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.get_data(as_text=True)


def open_ticket(client: FlaskClient, number: str) -> str:
    """Open the ticket page as a browser does: the GET writes nothing, then the page's
    script reports it read as far as shown, and the agent present (desk.js)."""
    html = page(client, f"/desk/tickets/{number}")
    seen = re.search(r'data-seen-seq="(\d+)"', html)
    assert seen
    response = client.post(
        f"/desk/tickets/{number}/presence",
        json={"activity": "viewing", "read": int(seen.group(1))},
        headers={"X-CSRFToken": csrf_token(html)},
    )
    assert response.status_code == 200
    return html


def token_of(client: FlaskClient) -> str:
    return csrf_token(page(client, "/desk/?view=view:all&per=1"))


def rows(html: str) -> list[str]:
    """The ticket numbers of a list page, in order."""
    return re.findall(r'data-row data-number="([^"]+)"', html)


def panel_keys(html: str) -> list[str]:
    return re.findall(r'<li class="panel-entry" draggable="true" data-key="([^"]+)"', html)


def listed(client: FlaskClient, view: str, **args: str) -> list[str]:
    query = "&".join(f"{k}={v}" for k, v in {"view": view, "per": "100", **args}.items())
    return rows(page(client, f"/desk/?{query}"))


# ------------------------------------------------------------------ built-in views


_SCENARIOS: dict[int, dict[str, str]] = {}


def scenario(stack: Stack) -> dict[str, str]:
    """One ticket for each situation the built-in views tell apart (made once per run)."""
    if id(stack) not in _SCENARIOS:
        _SCENARIOS[id(stack)] = _make_scenario(stack)
    return _SCENARIOS[id(stack)]


def _make_scenario(stack: Stack) -> dict[str, str]:
    jana = {"email": "jana.novakova@example.com", "name": "Jana"}  # account owner: agent1
    made = {
        "mine": new_ticket(stack, customer=jana),
        "read": new_ticket(stack, customer=jana),
        "waiting": new_ticket(stack, customer=jana),
        "spam": new_ticket(stack, customer=jana),
        "closed": new_ticket(stack, customer=jana),
        "unassigned": new_ticket(stack),
        "hidden": hidden_ticket(stack),
    }
    act(stack, made["waiting"], "reply", body="We are on it.")
    act(stack, made["spam"], "mark_spam")
    act(stack, made["closed"], "close_without_reply", reason="duplicate")
    agent1 = stack.login("agent1")
    open_ticket(agent1, made["read"])  # opening it marks it read
    agent1.post(
        f"/desk/tickets/{made['unassigned']}/follow",
        data={"csrf_token": token_of(agent1), "follow": "1"},
    )
    return made


VIEWS = {
    # view: (tickets agent1 sees in it, tickets agent1 does not see in it)
    "mine": ({"mine", "read", "waiting"}, {"unassigned", "spam", "closed", "hidden"}),
    "unassigned": ({"unassigned"}, {"mine", "waiting", "hidden"}),
    "my_groups": ({"mine", "unassigned", "waiting"}, {"spam", "closed", "hidden"}),
    "unread": ({"mine", "unassigned"}, {"read", "closed", "hidden"}),
    "followed": ({"unassigned"}, {"mine", "read", "hidden"}),
    "open": ({"mine", "read", "waiting", "unassigned"}, {"spam", "closed", "hidden"}),
    "waiting": ({"waiting"}, {"mine", "unassigned", "closed", "hidden"}),
    "spam": ({"spam"}, {"mine", "closed", "hidden"}),
    "all": ({"mine", "spam", "closed", "unassigned"}, {"hidden"}),
    # The demo's policy (4 business hours): answered, waiting or closed tickets run no clock;
    # whether a new one is at risk depends on the hour (tests/web/test_admin_sla.py shows one).
    "sla_at_risk": (set(), {"waiting", "closed", "spam", "hidden"}),
    "sla_breached": (set(), {"mine", "waiting", "unassigned", "closed", "hidden"}),
}


def test_every_built_in_view_has_a_case_here() -> None:
    assert set(VIEWS) == set(lists.BY_KEY)


@pytest.mark.parametrize("view", sorted(VIEWS))
def test_each_built_in_view_shows_and_hides_the_right_tickets(stack: Stack, view: str) -> None:
    made = scenario(stack)
    shown, hidden = VIEWS[view]
    numbers = set(listed(stack.login("agent1"), f"view:{view}"))
    assert {made[k] for k in shown} <= numbers
    assert not {made[k] for k in hidden} & numbers


def test_short_view_names_still_work_and_unknown_lists_are_404(stack: Stack) -> None:
    made = scenario(stack)
    client = stack.login("agent1")
    assert made["waiting"] in rows(page(client, "/desk/?view=waiting&per=100"))
    page(client, "/desk/?view=view:nope", 404)
    page(client, "/desk/?view=filter:999999", 404)
    page(client, "/desk/?view=open&cursor=forged", 400)
    page(client, "/desk/?view=open&sort=sideways", 400)


# ------------------------------------------------------------------ what agents never see


def test_a_ticket_in_a_state_of_another_group_is_never_shown(any_stack: Stack) -> None:
    word = f"hush{uuid.uuid4().hex[:8]}"
    number = hidden_ticket(any_stack, word)
    agent1 = any_stack.login("agent1")
    for view in lists.BY_KEY:
        html = page(agent1, f"/desk/?view=view:{view}&per=100")
        assert number not in html and word not in html, view
    # Crafted criteria and the search: still nothing.
    assert number not in page(agent1, "/desk/?view=view:all&filter=1&state=escalated")
    assert number not in page(agent1, f"/desk/search?q={word}")
    assert rows(page(agent1, f"/desk/search?q={number}")) == []  # the query is echoed, no more
    # Direct URLs: the ticket, its preview, and what one could post about it.
    page(agent1, f"/desk/tickets/{number}", 404)
    page(agent1, f"/desk/tickets/{number}/preview", 404)
    token = token_of(agent1)
    for path in ("follow", "unread", "presence"):
        response = agent1.post(f"/desk/tickets/{number}/{path}", data={"csrf_token": token})
        assert response.status_code == 404, path
    # The filter form does not even offer the state.
    assert 'value="escalated"' not in page(agent1, "/desk/?view=view:all&per=1")
    # The API, with agent1's token.
    items = (
        any_stack.client()
        .get(f"/api/v1/tickets?q={word}&view=all", headers=any_stack.api("agent1"))
        .get_json()["items"]
    )
    assert items == []
    api = any_stack.client().get(f"/api/v1/tickets/{number}", headers=any_stack.api("agent1"))
    assert api.status_code == 404
    # Billing sees it everywhere.
    agent2 = any_stack.login("agent2")
    assert number in page(agent2, f"/desk/search?q={word}")
    assert word in page(agent2, f"/desk/tickets/{number}/preview")


def test_a_crafted_bulk_post_naming_a_hidden_ticket_neither_acts_nor_reveals(
    stack: Stack,
) -> None:
    word = f"bulkhush{uuid.uuid4().hex[:6]}"
    number = hidden_ticket(stack, word)
    before = api_ticket(stack, number)
    agent1 = stack.login("agent1")
    token = token_of(agent1)
    for form in (
        {"op": "perform", "action": "close"},
        {"op": "assign", "agent": "agent1"},
    ):
        response = agent1.post("/desk/bulk", data={"csrf_token": token, "ticket": [number], **form})
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "No such ticket (or you may not see it)." in html
        assert word not in html and "Escalated" not in html
    after = api_ticket(stack, number)
    assert after["events"] == before["events"] and after["state"] == "escalated"


# ------------------------------------------------------------------ the left panel


def reset_layout(stack: Stack, username: str) -> None:
    with transaction(stack.sessions) as session:
        row = session.get(DeskLayout, username)
        if row is not None:
            session.delete(row)


def test_the_panel_starts_with_the_built_in_views_and_their_counts(stack: Stack) -> None:
    reset_layout(stack, "limited")
    client = stack.login("limited")
    html = page(client, "/desk/")
    assert panel_keys(html) == [f"view:{v.key}" for v in lists.BUILT_IN]
    # The counts come after the page (desk.js), then stay with the next pages for a while.
    assert client.get("/desk/counts").get_json()["view:all"].rstrip("+").isdigit()
    assert re.search(r'data-count-for="view:all">\d+<', page(client, "/desk/"))


def test_panel_add_remove_and_reorder_persist(stack: Stack) -> None:
    reset_layout(stack, "limited")
    client = stack.login("limited")
    token = token_of(client)
    client.post("/desk/layout/remove", data={"csrf_token": token, "key": "view:spam"})
    client.post(
        "/desk/layout/move", data={"csrf_token": token, "key": "view:all", "direction": "up"}
    )
    keys = panel_keys(page(client, "/desk/"))
    assert "view:spam" not in keys
    assert keys[-2:] == ["view:all", "view:waiting"]
    # Drag and drop posts the whole order as JSON (with the CSRF token in a header).
    order = list(reversed(keys))
    response = client.post("/desk/layout/order", json={"views": order})
    assert response.status_code == 400  # no CSRF token
    response = client.post(
        "/desk/layout/order",
        json={"views": [*order, "view:bogus"]},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200 and response.get_json()["views"] == order
    assert panel_keys(page(stack.login("limited"), "/desk/")) == order  # a new session too
    client.post("/desk/layout/add", data={"csrf_token": token, "key": "view:spam"})
    client.post("/desk/layout/add", data={"csrf_token": token, "key": "filter:999999"})
    assert panel_keys(page(client, "/desk/")) == [*order, "view:spam"]
    client.post("/desk/layout/reset", data={"csrf_token": token})
    assert panel_keys(page(client, "/desk/")) == [f"view:{v.key}" for v in lists.BUILT_IN]


def test_the_view_mode_is_kept_per_agent(stack: Stack) -> None:
    made = scenario(stack)
    client = stack.login("admin")
    token = token_of(client)
    try:
        client.post("/desk/layout/mode", data={"csrf_token": token, "mode": "split"})
        html = page(client, "/desk/?view=view:all")
        assert 'id="preview"' in html and '<ul class="compact"' in html
        assert f'data-preview="/desk/tickets/{made["mine"]}/preview"' in html
        assert 'id="preview"' not in page(stack.login("agent1"), "/desk/?view=view:all")
        client.post("/desk/layout/mode", data={"csrf_token": token, "mode": "compact"})
        html = page(client, "/desk/?view=view:all")
        assert '<ul class="compact"' in html and 'id="preview"' not in html
        response = client.post("/desk/layout/mode", data={"csrf_token": token, "mode": "3d"})
        assert response.status_code == 302
    finally:
        client.post("/desk/layout/mode", data={"csrf_token": token, "mode": "table"})
    assert '<table class="tickets"' in page(client, "/desk/?view=view:all")


def test_the_preview_partial_shows_the_header_and_the_last_messages(stack: Stack) -> None:
    number = new_ticket(stack, subject="Preview <b>me</b>", body="Body <i>escaped</i>")
    html = page(stack.login("agent1"), f"/desk/tickets/{number}/preview")
    assert "<html" not in html  # a partial, not a page
    assert "Preview &lt;b&gt;me&lt;/b&gt;" in html and "Body &lt;i&gt;escaped&lt;/i&gt;" in html
    assert f'href="/desk/tickets/{number}"' in html


# ------------------------------------------------------------------ saved filters


def save_filter(client: FlaskClient, name: str, **form: Any) -> Any:
    return client.post("/desk/filters", data={"csrf_token": token_of(client), "name": name, **form})


def filter_id(response: Any) -> int:
    match = re.search(r"view=filter:(\d+)", response.headers["Location"])
    assert match, response.get_data(as_text=True)
    return int(match.group(1))


def test_a_personal_filter_is_only_its_owners(stack: Stack) -> None:
    agent1 = stack.login("agent1")
    response = save_filter(agent1, "My urgent ones", priority=["4"], category=["new", "open"])
    assert response.status_code == 302
    fid = filter_id(response)
    html = page(agent1, f"/desk/?view=filter:{fid}")
    assert f'data-key="filter:{fid}"' in html  # saving put it in the owner's panel
    with stack.sessions() as session:
        saved = session.get(SavedFilter, fid)
        assert saved is not None
        assert saved.criteria == {"priority": ["4"], "category": ["new", "open"]}
        assert saved.owner == "agent1" and saved.shared_with == []
    for other in ("agent2", "admin"):
        client = stack.login(other)
        page(client, f"/desk/?view=filter:{fid}", 404)
        page(client, f"/desk/filters/{fid}", 404)
        assert f"filter:{fid}" not in page(client, "/desk/?view=view:all&per=1")


def test_a_shared_filter_is_seen_by_its_groups_and_edited_by_owner_or_admin(
    stack: Stack,
) -> None:
    agent1 = stack.login("agent1")
    response = save_filter(agent1, "Support queue", group="mine", shared_with=["Support"])
    fid = filter_id(response)
    admin, agent2, limited = (stack.login(u) for u in ("admin", "agent2", "limited"))
    page(admin, f"/desk/?view=filter:{fid}")  # admin is in Support
    page(agent2, f"/desk/?view=filter:{fid}", 404)
    page(limited, f"/desk/?view=filter:{fid}", 404)
    # Others in the group may add it to their panel; others may not.
    assert f'<option value="filter:{fid}">Support queue (shared by agent1)' in page(
        admin, "/desk/?per=1"
    )
    token = token_of(agent2)
    agent2.post("/desk/layout/add", data={"csrf_token": token, "key": f"filter:{fid}"})
    assert f"filter:{fid}" not in panel_keys(page(agent2, "/desk/"))
    # Edit: the owner and an admin; a group member who is not an admin may only use it.
    page(admin, f"/desk/filters/{fid}")
    response = admin.post(
        f"/desk/filters/{fid}",
        data={
            "csrf_token": token_of(admin),
            "name": "Support queue (all)",
            "shared_with": ["Support"],
        },
    )
    assert response.status_code == 302
    with stack.sessions() as session:
        saved = session.get(SavedFilter, fid)
        assert saved is not None and saved.name == "Support queue (all)"
        assert saved.owner == "agent1" and saved.criteria == {}
    response = agent2.post(f"/desk/filters/{fid}/delete", data={"csrf_token": token})
    assert response.status_code == 404
    response = agent1.post(f"/desk/filters/{fid}/delete", data={"csrf_token": token_of(agent1)})
    assert response.status_code == 302
    page(admin, f"/desk/?view=filter:{fid}", 404)


def test_an_agent_shares_only_with_their_own_groups(stack: Stack) -> None:
    agent1 = stack.login("agent1")
    response = save_filter(agent1, "Sneaky", shared_with=["Billing"])
    assert response.status_code == 422
    assert "only with groups you belong to" in response.get_data(as_text=True)
    response = save_filter(agent1, "   ")
    assert response.status_code == 422 and "Give the filter a name." in response.get_data(
        as_text=True
    )
    response = save_filter(stack.login("admin"), "Billing only", shared_with=["Billing"])
    assert response.status_code == 302  # admins share with any group
    page(stack.login("agent2"), f"/desk/?view=filter:{filter_id(response)}")


def test_a_filter_on_a_field_set_by_an_action(stack: Stack) -> None:
    tag = f"cat{uuid.uuid4().hex[:6]}"
    complaint = new_ticket(stack, subject=f"{tag} broken again")
    question = new_ticket(stack, subject=f"{tag} how do I")
    act(stack, complaint, "categorise", type="complaint")
    act(stack, question, "categorise", type="question")
    agent1 = stack.login("agent1")
    # Narrow the list on the spot...
    html = page(
        agent1, f"/desk/?view=view:all&filter=1&text={tag}&field_name=type&field_value=complaint"
    )
    assert rows(html) == [complaint]
    # ...then save it and use it from the panel.
    response = save_filter(agent1, "Complaints", field_name=["type"], field_value=["complaint"])
    fid = filter_id(response)
    numbers = rows(page(agent1, f"/desk/?view=filter:{fid}&per=100"))
    assert complaint in numbers and question not in numbers
    with stack.sessions() as session:
        saved = session.get(SavedFilter, fid)
        assert saved is not None and saved.criteria == {"fields": {"type": "complaint"}}


# ------------------------------------------------------------------ sorting, pages, search


def test_sorts_and_keyset_pages_of_a_search(stack: Stack) -> None:
    tag = f"sort{uuid.uuid4().hex[:6]}"
    made = [new_ticket(stack, subject=f"{tag} #{i}", priority=p) for i, p in enumerate((1, 4, 2))]
    client = stack.login("agent1")
    assert rows(page(client, f"/desk/search?q={tag}")) == made[::-1]
    assert rows(page(client, f"/desk/search?q={tag}&sort=oldest")) == made
    assert rows(page(client, f"/desk/search?q={tag}&sort=priority")) == [made[1], made[2], made[0]]
    # Keyset pages: "More tickets" carries the search, the sort and the cursor.
    html = page(client, f"/desk/search?q={tag}&sort=oldest&per=2")
    assert rows(html) == made[:2]
    more = re.search(r'<a class="button" href="([^"]+)" rel="next">More tickets', html)
    assert more
    url = more.group(1).replace("&amp;", "&")
    assert f"q={tag}" in url and "sort=oldest" in url and "cursor=" in url
    second = page(client, url)
    assert rows(second) == made[2:] and "More tickets" not in second
    # Query arguments never become url_for options (an absolute or javascript: link).
    crafted = page(client, f"/desk/search?q={tag}&per=1&_external=1&_scheme=javascript")
    assert 'href="/desk/search?' in crafted and "javascript:" not in crafted


def test_search_box_is_in_the_top_bar_for_agents_only(stack: Stack) -> None:
    assert 'id="desk-search"' in page(stack.login("agent1"), "/desk/?per=1")
    assert 'id="desk-search"' not in page(stack.client(), "/login")
    html = page(stack.login("agent1"), "/desk/search")
    assert "Type a few words" in html


def test_search_inside_a_view(stack: Stack) -> None:
    tag = f"inview{uuid.uuid4().hex[:6]}"
    waiting = new_ticket(stack, subject=f"{tag} one")
    fresh = new_ticket(stack, subject=f"{tag} two")
    act(stack, waiting, "reply", body="Any news?")
    client = stack.login("agent1")
    assert set(rows(page(client, f"/desk/search?q={tag}"))) == {waiting, fresh}
    assert rows(page(client, f"/desk/search?q={tag}&view=view:waiting")) == [waiting]


# ------------------------------------------------------------------ bulk actions


def test_bulk_assign_goes_through_each_workflow_and_reports_a_refusal(stack: Stack) -> None:
    first, second, closed = (new_ticket(stack) for _ in range(3))
    act(stack, closed, "close_without_reply", reason="no_action")
    agent1 = stack.login("agent1")
    response = agent1.post(
        "/desk/bulk",
        data={
            "csrf_token": token_of(agent1),
            "op": "assign",
            "agent": "agent2",
            "ticket": [first, second, closed],
            "request_id": str(uuid.uuid4()),
            "next": "/desk/?view=view:unassigned",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "2 of 3 tickets done" in html
    assert re.search(
        rf"{closed}</td>\s*<td><span class=\"failed\">Refused: It cannot be assigned", html
    )
    assert 'href="/desk/?view=view:unassigned"' in html
    for number in (first, second):
        ticket = api_ticket(stack, number)
        assert ticket["assignee"] == "agent2"
        [event] = [e for e in ticket["events"] if e["kind"] == "action"]
        assert event["actor"] == "agent1" and event["action"] == "assign"
        timeline = page(agent1, f"/desk/tickets/{number}")
        assert "<strong>agent1</strong>: Assign" in timeline


def test_bulk_perform_refuses_where_the_action_is_not_available(stack: Stack) -> None:
    fresh, resolved = new_ticket(stack), new_ticket(stack)
    act(stack, resolved, "resolve")
    agent1 = stack.login("agent1")
    html = page(agent1, "/desk/?view=view:all&per=1")
    assert '<option value="mark_spam">Mark as spam</option>' in html
    assert '<option value="reply">' not in html  # needs a text: not offered in bulk
    response = agent1.post(
        "/desk/bulk",
        data={
            "csrf_token": token_of(agent1),
            "op": "perform",
            "action": "mark_spam",
            "ticket": [fresh, resolved],
        },
    )
    html = response.get_data(as_text=True)
    assert "1 of 2 tickets done" in html
    assert "Done: the ticket is now “Spam”." in html
    assert "is not available while the ticket is &#39;Resolved&#39;" in html
    assert api_ticket(stack, fresh)["state"] == "spam"
    assert api_ticket(stack, resolved)["state"] == "resolved"


def test_bulk_refuses_a_ticket_that_moved_after_the_list_was_drawn(stack: Stack) -> None:
    still, moved = new_ticket(stack), new_ticket(stack)
    agent1 = stack.login("agent1")
    html = page(agent1, "/desk/?view=view:all&per=50")
    seen = dict(re.findall(r'<input type="hidden" name="(seen:[^"]+)" value="([^"]*)"', html))
    assert seen[f"seen:{still}"] == "new" and seen[f"seen:{moved}"] == "new"
    act(stack, moved, "reply", body="We are on it.")  # meanwhile a colleague answered
    response = agent1.post(
        "/desk/bulk",
        data={
            "csrf_token": token_of(agent1),
            "op": "perform",
            "action": "resolve",  # offered in "new" and in "waiting"
            "ticket": [still, moved],
            f"seen:{still}": seen[f"seen:{still}"],
            f"seen:{moved}": seen[f"seen:{moved}"],
        },
    )
    html = response.get_data(as_text=True)
    assert "1 of 2 tickets done" in html
    assert "has meanwhile moved to &#39;Waiting for customer&#39;" in html
    assert api_ticket(stack, still)["state"] == "resolved"
    assert api_ticket(stack, moved)["state"] == "waiting_for_customer"


def test_bulk_without_a_selection_or_with_an_action_not_offered_does_nothing(
    stack: Stack,
) -> None:
    number = new_ticket(stack)
    agent1 = stack.login("agent1")
    token = token_of(agent1)
    response = agent1.post(
        "/desk/bulk", data={"csrf_token": token, "op": "assign", "agent": "agent2"}
    )
    assert response.status_code == 302
    response = agent1.post(
        "/desk/bulk",
        data={"csrf_token": token, "op": "perform", "action": "reply", "ticket": [number]},
    )
    assert response.status_code == 302
    assert [e["kind"] for e in api_ticket(stack, number)["events"]] == ["created"]
    assert agent1.post("/desk/bulk", data={"op": "assign", "ticket": [number]}).status_code == 400


# ------------------------------------------------------------------ the ticket header


def test_follow_and_unfollow(stack: Stack) -> None:
    number = new_ticket(stack)
    client = stack.login("agent1")
    token = token_of(client)
    assert 'aria-pressed="false"' in page(client, f"/desk/tickets/{number}")
    client.post(f"/desk/tickets/{number}/follow", data={"csrf_token": token, "follow": "1"})
    assert "Following ✓" in page(client, f"/desk/tickets/{number}")
    assert number in listed(client, "view:followed")
    client.post(f"/desk/tickets/{number}/follow", data={"csrf_token": token, "follow": "0"})
    assert number not in listed(client, "view:followed")
    with stack.sessions() as session:
        assert session.get(Follow, (number, "agent1")) is None


def test_opening_marks_read_and_mark_unread_brings_it_back(stack: Stack) -> None:
    number = new_ticket(stack)
    client = stack.login("agent1")
    assert re.search(
        rf'class="prio-2 unread" data-row data-number="{number}"',
        page(client, "/desk/?view=view:all"),
    )
    open_ticket(client, number)
    assert number not in listed(client, "view:unread")
    response = client.post(f"/desk/tickets/{number}/unread", data={"csrf_token": token_of(client)})
    assert response.status_code == 302 and response.headers["Location"].startswith("/desk/")
    assert number in listed(client, "view:unread")


def test_presence_shows_who_else_is_looking_or_writing(any_stack: Stack) -> None:
    number = new_ticket(any_stack)
    agent2 = any_stack.login("agent2")
    open_ticket(agent2, number)  # opening the page counts as looking at it
    agent1 = any_stack.login("agent1")
    html = open_ticket(agent1, number)
    assert re.search(r'id="presence" role="status" aria-live="polite"', html)
    assert "agent2 is looking at this ticket" in html
    assert "agent1 is" not in html  # never yourself
    response = agent2.post(
        f"/desk/tickets/{number}/presence",
        json={"activity": "composing"},
        headers={"X-CSRFToken": token_of(agent2)},
    )
    assert response.status_code == 200
    assert {o["username"] for o in response.get_json()["others"]} == {"agent1"}
    response = agent1.post(
        f"/desk/tickets/{number}/presence",
        json={"activity": "viewing"},
        headers={"X-CSRFToken": token_of(agent1)},
    )
    assert response.get_json()["others"] == [
        {"username": "agent2", "activity": "composing", "text": "agent2 is writing a reply"}
    ]
    bad = agent1.post(
        f"/desk/tickets/{number}/presence",
        json={"activity": "dancing"},
        headers={"X-CSRFToken": token_of(agent1)},
    )
    assert bad.status_code == 400
    # A minute later without a sign of life, the notice goes.
    with transaction(any_stack.sessions) as session:
        row = session.get(Presence, (number, "agent2"))
        assert row is not None
        row.seen_at = utcnow() - timedelta(seconds=61)
    assert "agent2 is" not in page(agent1, f"/desk/tickets/{number}")
    # Stale marks are pruned when the agent shows up on another ticket.
    open_ticket(agent2, new_ticket(any_stack))
    with any_stack.sessions() as session:
        assert session.get(Presence, (number, "agent2")) is None
        assert session.get(Presence, (number, "agent1")) is not None


def test_ticket_page_keeps_the_temporal_link_and_offers_the_shortcuts(stack: Stack) -> None:
    number = new_ticket(stack)
    html = page(stack.login("agent1"), f"/desk/tickets/{number}")
    assert f"/namespaces/default/workflows/ticket-{number}" in html
    assert '<dialog id="shortcuts"' in html and "<kbd>r</kbd>" in html


@pytest.mark.parametrize(
    "path",
    [
        "/desk/?view=view:all",
        "/desk/search?q=question",
        "/desk/tickets/{n}",
        "/desk/tickets/{n}/preview",
    ],
)
def test_desk_pages_have_no_inline_script_or_style(stack: Stack, path: str) -> None:
    number = scenario(stack)["mine"]
    html = page(stack.login("agent1"), path.format(n=number))
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert not re.search(r"\son[a-z]+=", html)
    assert not re.search(r"\sstyle=", html)


def test_panel_counts_match_the_lists(stack: Stack) -> None:
    scenario(stack)
    client = stack.login("agent1")
    counts = client.get("/desk/counts").get_json()
    assert counts["view:waiting"] == str(len(listed(client, "view:waiting")))
