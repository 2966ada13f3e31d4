"""Teams and roles through the web: a read-only agent reads but is refused every action in
the desk, the API and the workflow's own validator; the roles page, the group editor's
parent and roles and the user editor's roles round trip, audited; cycles are refused."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tempodesk.contracts import MergeTicketInput, PerformActionInput
from tempodesk.core.db import transaction
from tempodesk.core.models import AuditEntry, Group
from tempodesk.core.temporal import ActionRejected, MergeRefused
from tempodesk.people import accounts, roles, users
from tests.helpers import Stack, csrf_token


def _name(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def _form(client: FlaskClient, url: str, data: dict[str, Any]) -> Any:
    token = csrf_token(client.get(url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def _ticket(stack: Stack) -> str:
    response = stack.client().post(
        "/api/v1/tickets",
        json={
            "subject": "Where is my parcel?",
            "body": "It did not come.",
            "customer": {"email": f"{_name('parcel')}@example.com"},
        },
        headers=stack.api(),
    )
    assert response.status_code == 201, response.get_json()
    number: str = response.get_json()["number"]
    return number


@pytest.fixture
def reader(stack: Stack) -> tuple[str, str]:
    """A new agent of Support with the role read-only: (username, API token)."""
    name = _name("reader")
    with transaction(stack.sessions) as session:
        user = accounts.create_user(
            session, name, "reader-pass", roles=["read-only"], groups=["Support"]
        )
        token = accounts.create_token(session, user, name="read-only test")
    stack.logins[name] = "reader-pass"
    return name, token


def test_a_read_only_agent_reads_tickets_but_the_desk_refuses_their_actions(
    stack: Stack, reader: tuple[str, str]
) -> None:
    number = _ticket(stack)
    client = stack.login(reader[0])
    page = client.get(f"/desk/tickets/{number}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"/desk/tickets/{number}/actions/" not in html  # no buttons
    assert "/desk/tickets/new" not in html  # nor a "New ticket" link
    assert 'id="merge-form"' not in html  # nor a merge form
    token = csrf_token(html)
    refused = client.post(
        f"/desk/tickets/{number}/actions/comment", data={"csrf_token": token, "body": "Hi"}
    )
    assert refused.status_code == 403
    assert "Your role lets you read tickets, not act on them." in refused.get_data(as_text=True)
    assert client.get("/desk/tickets/new").status_code == 403
    bulk = client.post("/desk/bulk", data={"csrf_token": token, "ticket": number, "op": "assign"})
    assert bulk.status_code == 403


def test_the_api_refuses_a_read_only_agents_actions_and_new_tickets(
    stack: Stack, reader: tuple[str, str]
) -> None:
    number = _ticket(stack)
    headers = {"Authorization": f"Bearer {reader[1]}"}
    assert stack.client().get(f"/api/v1/tickets/{number}", headers=headers).status_code == 200
    action = stack.client().post(
        f"/api/v1/tickets/{number}/actions/comment",
        json={"fields": {"body": "Hi"}},
        headers=headers,
    )
    assert action.status_code == 403
    assert action.get_json()["error"]["code"] == "forbidden"
    created = stack.client().post(
        "/api/v1/tickets",
        json={"subject": "x", "body": "y", "customer": {"email": "ro@example.com"}},
        headers=headers,
    )
    assert created.status_code == 403
    other = _ticket(stack)
    merge = stack.client().post(
        f"/api/v1/tickets/{number}/merge", json={"into": other}, headers=headers
    )
    assert merge.status_code == 403 and "read tickets" in merge.get_json()["error"]["message"]
    # Relating is acting too (links, tags and splits were built beside roles, not after).
    for path, body in (
        ("links", {"ticket": other}),
        ("tags", {"tags": ["urgent"]}),
        ("split", {"message_id": 1}),
    ):
        related = stack.client().post(
            f"/api/v1/tickets/{number}/{path}", json=body, headers=headers
        )
        assert related.status_code == 403, path
    desk = stack.login(reader[0])
    token = csrf_token(desk.get(f"/desk/tickets/{number}").get_data(as_text=True))
    for path, form in (("links", {"ticket": other}), ("tags", {"tags": "urgent"})):
        posted = desk.post(f"/desk/tickets/{number}/{path}", data={"csrf_token": token, **form})
        assert posted.status_code == 403, path


def test_the_workflow_refuses_a_read_only_actor_past_the_web(
    stack: Stack, reader: tuple[str, str]
) -> None:
    """Straight to the Updates: the validator checks the rights the actor carries."""
    number, other = _ticket(stack), _ticket(stack)
    with stack.sessions() as session:
        user = users.get_user(session, reader[0])
        assert user is not None
        actor = accounts.actor_for(user)
    assert actor.rights == [] and actor.groups == ["Support"]
    with pytest.raises(ActionRejected) as refused:
        stack.runtime.temporal.perform_action(number, PerformActionInput("resolve", actor))
    assert refused.value.rejection.code == "read_only"
    with pytest.raises(MergeRefused):
        stack.runtime.temporal.merge_ticket(number, MergeTicketInput(other, actor))
    detail = stack.client().get(f"/api/v1/tickets/{number}", headers=stack.api()).get_json()
    assert detail["state"] == "new"


def test_admin_creates_a_role_gives_it_to_a_group_with_a_parent_and_to_a_user(
    stack: Stack,
) -> None:
    client = stack.login("admin")
    role, parent, team, agent = _name("watch"), _name("Dept"), _name("Team"), _name("agent")
    created = _form(
        client,
        "/admin/roles",
        {"name": role, "description": "Watches", "rights": ["see_all_queues", "view_reports"]},
    )
    assert created.status_code == 302
    assert role in client.get("/admin/roles").get_data(as_text=True)
    edited = _form(client, f"/admin/roles/{role}", {"description": "Sees", "rights": ["act"]})
    assert edited.status_code == 302
    for name in (parent, team):
        assert _form(client, "/admin/groups", {"name": name, "description": ""}).status_code == 302
    saved = _form(
        client,
        f"/admin/groups/{team}",
        {"description": "", "supervisor": "", "parent": parent, "roles": ["", role]},
    )
    assert saved.status_code == 302
    cycle = _form(
        client,
        f"/admin/groups/{parent}",
        {"description": "", "supervisor": "", "parent": team, "roles": [""]},
    )
    assert cycle.status_code == 422 and "makes a cycle" in cycle.get_data(as_text=True)
    user = _form(
        client,
        "/admin/users/new",
        {
            "username": agent,
            "password": "agent-password",
            "language": "en",
            "groups": [team],
            "roles": ["", "read-only"],
        },
    )
    assert user.status_code == 302
    with stack.sessions() as session:
        group = session.scalar(select(Group).where(Group.name == team))
        assert group is not None and group.parent_name == parent and group.role_names == [role]
        member = users.get_user(session, agent)
        assert member is not None and member.role_names == ["read-only"]
        assert member.rights == ["act"]  # from the group's role
        stored = roles.get_role(session, role)
        assert stored is not None and stored.rights == ["act"]
        entries = {
            e.action: e
            for e in session.scalars(
                select(AuditEntry).where(AuditEntry.object_id.in_([role, team, agent]))
            )
        }
    assert entries["role.create"].after["rights"] == ["see_all_queues", "view_reports"]
    assert entries["role.update"].before["rights"] == ["see_all_queues", "view_reports"]
    assert entries["group.update"].after["parent_name"] == parent
    assert entries["user.create"].after["role_names"] == ["read-only"]
    page = client.get(f"/admin/users/{agent}").get_data(as_text=True)
    assert 'value="read-only" checked' in page


def test_shipped_roles_cannot_be_deleted_and_admins_keep_their_own_admin_right(
    stack: Stack,
) -> None:
    client = stack.login("admin")
    refused = _form(client, "/admin/roles/read-only/delete", {})
    assert refused.status_code == 302
    demote = _form(client, "/admin/roles/admin", {"description": "", "rights": ["act"]})
    assert demote.status_code == 422
    assert "You cannot remove your own admin rights." in demote.get_data(as_text=True)
    with stack.sessions() as session:
        assert roles.get_role(session, "read-only") is not None
        admin = roles.get_role(session, "admin")
        assert admin is not None and "admin" in admin.rights
    role = _name("temp")
    assert _form(client, "/admin/roles", {"name": role, "rights": ["act"]}).status_code == 302
    assert _form(client, f"/admin/roles/{role}/delete", {}).status_code == 302
    with stack.sessions() as session:
        assert roles.get_role(session, role) is None


def test_agents_get_403_on_the_roles_pages(stack: Stack) -> None:
    client = stack.login("agent1")
    assert client.get("/admin/roles").status_code == 403
    assert client.get("/admin/roles/agent").status_code == 403
