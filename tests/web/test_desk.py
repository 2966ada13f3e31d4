"""The agent desk: sign-in, lists, the ticket page and its action buttons."""

from __future__ import annotations

import re
import uuid
from typing import Any

import yaml
from flask.testing import FlaskClient

from statemachines import bundled
from tempodesk.core.db import transaction
from tempodesk.tickets import processes
from tests.helpers import Stack, csrf_token, workflow_history


def new_ticket(stack: Stack, channel: str = "api", **customer: str) -> str:
    response = stack.client().post(
        "/api/v1/tickets",
        json={
            "subject": "Wrong colour delivered",
            "body": "I ordered blue, I got <b>red</b>.",
            "customer": customer or {"email": "jana.novakova@example.com", "name": "Jana"},
            "order_number": "ORD-1001",
            "channel": channel,
        },
        headers=stack.api(),
    )
    assert response.status_code == 201
    number: str = response.get_json()["number"]
    return number


def action_form(html: str, action: str) -> dict[str, str]:
    """The hidden fields of one action's form on the ticket page."""
    match = re.search(
        rf'<form method="post" action="[^"]*/actions/{action}"[^>]*>(.*?)</form>', html, re.S
    )
    assert match, f"no form for {action}"
    fields = dict(
        re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', match.group(1))
    )
    return fields


def press(client: FlaskClient, number: str, action: str, **fields: str) -> Any:
    page = client.get(f"/desk/tickets/{number}").get_data(as_text=True)
    return client.post(
        f"/desk/tickets/{number}/actions/{action}", data={**action_form(page, action), **fields}
    )


def test_desk_requires_signing_in(stack: Stack) -> None:
    response = stack.client().get("/desk/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_wrong_password_is_refused(stack: Stack) -> None:
    client = stack.client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"username": "agent1", "password": "nope", "csrf_token": token}
    )
    assert response.status_code == 401
    assert "Wrong username or password." in response.get_data(as_text=True)


def test_login_without_csrf_token_is_refused(stack: Stack) -> None:
    response = stack.client().post(
        "/login", data={"username": "agent1", "password": stack.logins["agent1"]}
    )
    assert response.status_code == 400
    assert "did not come from this site" in response.get_data(as_text=True)


def test_login_never_redirects_off_site(stack: Stack) -> None:
    client = stack.client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login?next=https://evil.example/",
        data={"username": "agent1", "password": stack.logins["agent1"], "csrf_token": token},
    )
    assert response.headers["Location"] == "/desk/"


def test_new_ticket_appears_in_the_lists_at_once(stack: Stack) -> None:
    number = new_ticket(stack)
    client = stack.login("agent1")
    for view in ("open", "mine", "all"):
        assert number in client.get(f"/desk/?view={view}").get_data(as_text=True), view
    assert number not in client.get("/desk/?view=unassigned").get_data(as_text=True)


def test_ticket_page_shows_timeline_customer_order_buttons_and_temporal_link(stack: Stack) -> None:
    number = new_ticket(stack)
    html = stack.login("agent1").get(f"/desk/tickets/{number}").get_data(as_text=True)
    assert "I ordered blue, I got &lt;b&gt;red&lt;/b&gt;." in html  # shown as text, never HTML
    assert "Jana Nováková" in html and "Order ORD-1001" in html and "Electric kettle" in html
    for label in ("Reply", "Internal note", "Assign", "Forward", "Resolve", "Mark as spam"):
        assert f">{label}</summary>" in html
    assert ">Reopen</summary>" not in html
    assert f"/namespaces/default/workflows/ticket-{number}" in html


def test_reply_button_sends_the_reply_and_shows_the_new_state(stack: Stack, sink: Any) -> None:
    number = new_ticket(stack)
    client = stack.login("agent1")
    response = press(client, number, "reply", body="Sorry! A blue one is on its way.")
    assert response.status_code == 302
    page = client.get(f"/desk/tickets/{number}").get_data(as_text=True)
    assert 'id="ticket-state">Waiting for customer<' in page
    assert "Reply: done." in page
    assert "Sorry! A blue one is on its way." in page
    [mail] = sink.wait_for(1)
    assert "Sorry! A blue one is on its way." in mail.text()
    # The click is an Update in the ticket's workflow history (what the Temporal UI shows).
    accepted = [
        e.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
        for e in workflow_history(stack.settings, f"ticket-{number}")
        if e.HasField("workflow_execution_update_accepted_event_attributes")
    ]
    assert accepted == ["confirm_created", "perform_action"]


def test_missing_field_reopens_the_form_with_the_error(stack: Stack) -> None:
    number = new_ticket(stack)
    response = press(stack.login("agent1"), number, "comment", body="  ")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "This field is required." in html
    assert re.search(
        r'<details class="action action-default" open>\s*'
        r'<summary class="button default">Internal note',
        html,
    )


def test_action_on_a_stale_page_is_refused_with_the_reason(stack: Stack) -> None:
    number = new_ticket(stack)
    client = stack.login("agent1")
    stale = client.get(f"/desk/tickets/{number}").get_data(as_text=True)
    assert press(client, number, "resolve").status_code == 302
    response = client.post(
        f"/desk/tickets/{number}/actions/close", data={**action_form(stale, "mark_spam")}
    )
    assert response.status_code == 409
    assert "moved to &#39;Resolved&#39;" in response.get_data(as_text=True)


def test_action_post_without_csrf_token_is_refused(stack: Stack) -> None:
    number = new_ticket(stack)
    response = stack.login("agent1").post(f"/desk/tickets/{number}/actions/mark_spam", data={})
    assert response.status_code == 400


def test_crafted_post_for_an_action_of_another_group_is_refused(stack: Stack) -> None:
    number = new_ticket(stack, "phone", phone="+420 777 000 333")
    client = stack.login("agent1")
    page = client.get(f"/desk/tickets/{number}").get_data(as_text=True)
    assert ">Close</summary>" not in page  # the button is not even offered
    response = client.post(
        f"/desk/tickets/{number}/actions/close",
        data={**action_form(page, "comment"), "request_id": "crafted-0001"},
    )
    assert response.status_code == 403
    ticket = stack.client().get(f"/api/v1/tickets/{number}", headers=stack.api()).get_json()
    assert ticket["state"] == "new" and [e["kind"] for e in ticket["events"]] == ["created"]


def test_ticket_in_a_state_the_agent_may_not_see_is_404(stack: Stack) -> None:
    number = new_ticket(stack, "phone", phone="+420 777 000 444")
    billing = stack.login("agent2")
    assert press(billing, number, "escalate").status_code == 302
    assert stack.login("agent1").get(f"/desk/tickets/{number}").status_code == 404
    assert billing.get(f"/desk/tickets/{number}").status_code == 200


def test_caught_mail_page_lists_what_the_sink_caught(stack: Stack, tmp_path: Any) -> None:
    from tempodesk.mail.sink import MailSink

    directory = tmp_path / "mail-sink"
    sink = MailSink(0, directory)
    sink.store(
        "support@tempodesk.localhost",
        ["jana@example.com"],
        b"Subject: [HD-1] Re: kettle\r\nTo: jana@example.com\r\n"
        b"X-Tempodesk-Ticket: HD-1\r\n\r\nHello Jana\r\n",
    )
    stack.settings.mail_sink_dir = directory
    try:
        html = stack.login("agent1").get("/desk/mail").get_data(as_text=True)
    finally:
        stack.settings.mail_sink_dir = None
    assert "[HD-1] Re: kettle" in html and "Hello Jana" in html


def test_pages_carry_a_strict_content_security_policy(stack: Stack) -> None:
    response = stack.client().get("/login")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_state_colours_an_admin_defines_are_served_to_those_who_may_see_the_states(
    stack: Stack,
) -> None:
    name = f"colours_{uuid.uuid4().hex[:8]}"
    data = yaml.safe_load(bundled("support"))
    data["name"] = name
    data["states"]["new"]["colour"] = "#a01ec8"
    data["states"]["spam"]["visible_to"] = ["Support"]
    with transaction(stack.sessions) as session:
        version = processes.publish(session, yaml.safe_dump(data, sort_keys=False)).version
    response = stack.client().post(
        "/api/v1/tickets",
        json={
            "subject": "Colourful",
            "body": "Hello",
            "customer": {"email": "colours@example.org"},
            "process": name,
        },
        headers=stack.api(),
    )
    assert response.status_code == 201, response.get_json()
    number = response.get_json()["number"]
    client = stack.login("agent1")

    sheet = client.get("/desk/states.css")
    assert sheet.status_code == 200 and sheet.mimetype == "text/css"
    css = sheet.get_data(as_text=True)
    assert f".st-{name}-{version}-new{{--state-colour:#a01ec8}}" in css
    # The category's colour where the definition gives none.
    assert f".st-{name}-{version}-open{{--state-colour:#c77700}}" in css
    rule = re.compile(r"\.st-[a-z][a-z0-9_]*-\d+-[a-z][a-z0-9_]*\{--state-colour:#[0-9a-fA-F]{6}\}")
    assert all(rule.fullmatch(line) for line in css.splitlines())

    again = client.get("/desk/states.css", headers={"If-None-Match": sheet.headers["ETag"]})
    assert again.status_code == 304

    page = client.get(f"/desk/tickets/{number}").get_data(as_text=True)
    assert f"st-{name}-{version}-new" in page and "/desk/states.css" in page
    listing = client.get("/desk/?view=view:all").get_data(as_text=True)
    assert f"st-{name}-{version}-new" in listing
    assert stack.client().get("/desk/states.css").status_code == 302  # agents only

    # A state an agent's groups may not see is not even named in their stylesheet.
    assert f".st-{name}-{version}-spam{{" in css  # agent1 is in Support
    billing = stack.login("agent2").get("/desk/states.css")
    assert f".st-{name}-{version}-spam{{" not in billing.get_data(as_text=True)
    assert f".st-{name}-{version}-new{{" in billing.get_data(as_text=True)
    assert billing.headers["ETag"] != sheet.headers["ETag"]


def test_an_action_whose_answer_was_lost_shows_the_form_again_under_the_same_request_id(
    stack: Stack, monkeypatch: Any
) -> None:
    from tempodesk.core.temporal import EngineUnavailable

    number = new_ticket(stack)
    client = stack.login("agent1")
    real = stack.runtime.temporal.perform_action

    def accepted_then_lost(*args: Any, **kwargs: Any) -> Any:
        real(*args, **kwargs)  # performed; the answer never came back
        raise EngineUnavailable("The ticket engine did not answer in time.")

    monkeypatch.setattr(stack.runtime.temporal, "perform_action", accepted_then_lost)
    page = client.get(f"/desk/tickets/{number}").get_data(as_text=True)
    sent = action_form(page, "comment")
    lost = client.post(
        f"/desk/tickets/{number}/actions/comment", data={**sent, "body": "Label checked."}
    )
    assert lost.status_code == 503
    again = action_form(lost.get_data(as_text=True), "comment")
    assert again["request_id"] == sent["request_id"]  # sending it again is performed once
    assert "Label checked." in lost.get_data(as_text=True)  # the agent's text is kept
    monkeypatch.undo()
    retried = client.post(
        f"/desk/tickets/{number}/actions/comment", data={**again, "body": "Label checked."}
    )
    assert retried.status_code == 302
    ticket = stack.client().get(f"/api/v1/tickets/{number}", headers=stack.api()).get_json()
    assert [m["body"] for m in ticket["messages"]].count("Label checked.") == 1
