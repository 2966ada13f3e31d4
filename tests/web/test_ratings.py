"""Satisfaction ratings (CSAT) end to end through Flask, Temporal and PostgreSQL: the
resolving action mails signed rating links, the link's page rates only by its POST, the
rating reaches the ticket as a signal (closed tickets too) and shows on the desk and in the
API; forged links, bad scores, missing CSRF tokens and someone else's request are refused,
hostile comments stay inert."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from tempodesk.core.models import TicketRating
from tempodesk.mail.sink import MailSink
from tempodesk.tickets import ratings
from tests.helpers import Stack, csrf_token
from tests.web.portal_helpers import create, eventually, portal_client, unique_email


def act(stack: Stack, number: str, action: str, **fields: Any) -> None:
    done = stack.client().post(
        f"/api/v1/tickets/{number}/actions/{action}",
        json={"fields": fields},
        headers=stack.api("agent1"),
    )
    assert done.status_code == 200, done.get_json()


def detail(stack: Stack, number: str) -> dict[str, Any]:
    found: dict[str, Any] = (
        stack.client().get(f"/api/v1/tickets/{number}", headers=stack.api()).get_json()
    )
    return found


def run_of(stack: Stack, number: str) -> tuple[str, str]:
    """The ticket's latest run: its status and run id."""

    async def describe(temporal: Any) -> tuple[str, str]:
        found = await temporal.client.get_workflow_handle(f"ticket-{number}").describe()
        return str(found.status.name), str(found.run_id)

    run: tuple[str, str] = stack.runtime.temporal.run(describe)
    return run


def rating_link(sink: MailSink, address: str, score: int) -> str:
    """The path of the link for ``score`` in the rating mail the customer got."""
    found: list[str] = []

    def arrived() -> bool:
        for caught in list(sink.caught):
            if address in caught.recipients:
                body = caught.message.get_body(("plain",)).get_content()
                match = re.search(rf"http://desk\.test(/rate/\S+\?score={score})", body)
                if match:
                    found.append(match.group(1))
                    return True
        return False

    eventually(arrived)
    return found[0]


def resolved(stack: Stack, sink: MailSink) -> tuple[str, str]:
    email = unique_email()
    number = create(stack, email)
    act(stack, number, "resolve")
    return email, number


def send(client: FlaskClient, path: str, score: Any, comment: str = "") -> Any:
    page = client.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)
    data = {"csrf_token": csrf_token(page.get_data(as_text=True)), "comment": comment}
    data["submission"] = re.search(
        r'name="submission" type="hidden" value="([^"]*)"', page.get_data(as_text=True)
    ).group(1)  # type: ignore[union-attr]
    if score is not None:
        data["score"] = score
    return client.post(path.split("?")[0], data=data)


def test_the_mailed_link_rates_the_answer_by_its_button_and_the_desk_shows_it(
    stack: Stack, sink: MailSink
) -> None:
    email, number = resolved(stack, sink)
    path = rating_link(sink, email, 4)
    client = stack.client()
    page = client.get(path)
    assert page.status_code == 200
    assert re.search(r'value="4"[^>]*checked|checked[^>]*value="4"', page.get_data(as_text=True))
    assert detail(stack, number)["rating"] is None  # opening the link rated nothing
    done = send(client, path, 4, "Quick and kind.")
    assert done.status_code == 200 and "Thank you" in done.get_data(as_text=True)
    eventually(lambda: detail(stack, number)["rating"] is not None)
    rating = detail(stack, number)["rating"]
    assert rating["score"] == 4 and rating["via"] == "email"
    assert rating["agent"] == "agent1" and rating["comment"] == "Quick and kind."
    rated = [e for e in detail(stack, number)["events"] if e["kind"] == "rated"]
    assert rated and rated[0]["actor"] == email
    for wanted, found in (("rated", True), ("4", True), ("1", False)):
        listed = stack.client().get(f"/api/v1/tickets?rating={wanted}", headers=stack.api())
        numbers = [t["number"] for t in listed.get_json()["items"]]
        assert (number in numbers) is found, wanted
    agent = stack.login("agent1")
    desk = agent.get(f"/desk/tickets/{number}").get_data(as_text=True)
    assert "4/5" in desk and "Quick and kind." in desk
    rated_list = agent.get("/desk/?view=view:all&filter=1&rating=rated").get_data(as_text=True)
    assert number in rated_list
    low_list = agent.get("/desk/?view=view:all&filter=1&rating=1").get_data(as_text=True)
    assert number not in low_list


def test_a_closed_ticket_takes_a_rating_stays_closed_and_the_latest_counts_once(
    stack: Stack, sink: MailSink
) -> None:
    email, number = resolved(stack, sink)
    path = rating_link(sink, email, 2)
    act(stack, number, "close")
    eventually(lambda: run_of(stack, number)[0] == "COMPLETED")  # the run has ended
    _, ended = run_of(stack, number)
    assert send(stack.client(), path, 2).status_code == 200
    eventually(lambda: (detail(stack, number)["rating"] or {}).get("score") == 2)
    assert send(stack.client(), path, 5).status_code == 200  # a change of mind
    eventually(lambda: (detail(stack, number)["rating"] or {}).get("score") == 5)
    assert detail(stack, number)["state"] == "closed"
    eventually(lambda: run_of(stack, number)[0] == "COMPLETED")  # the rating's run ended too
    assert run_of(stack, number)[1] != ended  # a new run took it, restored, not reopened
    with stack.sessions() as session:
        rows = session.scalar(select(func.count()).where(TicketRating.ticket_number == number))
        assert rows == 1
        figures = ratings.agent_figures(session)
    assert figures["agent1"].count >= 1
    users = stack.login("admin").get("/admin/users").get_data(as_text=True)
    assert "/5 from" in users
    own = stack.login("agent1").get("/desk/profile").get_data(as_text=True)
    assert f"from {figures['agent1'].count} ratings" in own


def test_forged_and_altered_links_answer_404(stack: Stack, sink: MailSink) -> None:
    email, number = resolved(stack, sink)
    path = rating_link(sink, email, 5).split("?")[0]
    token = path.rsplit("/", 1)[1]
    altered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    other = ratings.sign("another-secret", ratings.RatingLink(number, 2, "agent1"))
    renamed = ratings.sign(stack.settings.session_secret(), ratings.RatingLink("HD-X", 2, "x"))
    client = stack.client()
    for bad in ("nonsense", altered, other, renamed):
        assert client.get(f"/rate/{bad}").status_code == 404, bad
        assert client.post(f"/rate/{bad}", data={"score": "5"}).status_code in (400, 404)


def test_scores_outside_one_to_five_and_posts_without_csrf_are_refused(
    stack: Stack, sink: MailSink
) -> None:
    email, number = resolved(stack, sink)
    path = rating_link(sink, email, 3)
    client = stack.client()
    for score in ("0", "6", "-1", "x", None):
        assert send(client, path, score).status_code == 422, score
    no_csrf = client.post(path.split("?")[0], data={"score": "3"})
    assert no_csrf.status_code == 400
    assert detail(stack, number)["rating"] is None


def test_a_hostile_comment_is_shown_inert(stack: Stack, sink: MailSink) -> None:
    email, number = resolved(stack, sink)
    path = rating_link(sink, email, 1)
    hostile = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    assert send(stack.client(), path, 1, hostile).status_code == 200
    eventually(lambda: detail(stack, number)["rating"] is not None)
    desk = stack.login("agent1").get(f"/desk/tickets/{number}").get_data(as_text=True)
    assert "<script>alert(1)" not in desk and "&lt;script&gt;alert(1)" in desk
    assert "<img src=x" not in desk


def test_the_portal_rates_a_resolved_request_and_only_the_customers_own(
    stack: Stack, sink: MailSink
) -> None:
    email, number = resolved(stack, sink)
    _, theirs = resolved(stack, sink)
    client = portal_client(stack, email)
    page = client.get(f"/portal/tickets/{number}").get_data(as_text=True)
    assert "Rate our answer" in page
    token = csrf_token(page)
    other = client.post(f"/portal/tickets/{theirs}/rate", data={"csrf_token": token, "score": 5})
    assert other.status_code == 404
    no_csrf = client.post(f"/portal/tickets/{number}/rate", data={"score": "5"})
    assert no_csrf.status_code == 400
    sent = client.post(
        f"/portal/tickets/{number}/rate",
        data={"csrf_token": token, "score": "5", "comment": "Great", "submission": "p1"},
    )
    assert sent.status_code == 302
    eventually(lambda: (detail(stack, number)["rating"] or {}).get("via") == "portal")
    assert detail(stack, theirs)["rating"] is None
    open_one = create(stack, email)
    refused = client.post(
        f"/portal/tickets/{open_one}/rate", data={"csrf_token": token, "score": 5}
    )
    assert refused.status_code == 404  # not resolved, never asked
