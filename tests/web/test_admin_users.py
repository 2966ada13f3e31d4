"""Admin: users and groups, the rights they carry, and forms that read only their own fields."""

from __future__ import annotations

import uuid
from typing import Any

from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import select
from werkzeug.security import check_password_hash

from tempodesk.core.db import transaction
from tempodesk.core.models import Group, User
from tempodesk.people import users
from tests.helpers import Stack, csrf_token


def _unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def _form(client: FlaskClient, url: str, data: dict[str, Any]) -> Any:
    token = csrf_token(client.get(url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def _sign_in(stack: Stack, username: str, password: str) -> tuple[FlaskClient, int]:
    client = stack.client()
    page = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_token(page)},
    )
    return client, response.status_code


def _create_user(stack: Stack, username: str, password: str, groups: list[str]) -> Any:
    return _form(
        stack.login("admin"),
        "/admin/users/new",
        {
            "username": username,
            "display_name": f"Test {username}",
            "email": f"{username}@example.com",
            "password": password,
            "groups": groups,
            "language": "cs",
        },
    )


def _user(stack: Stack, username: str) -> User:
    with stack.sessions() as session:
        user = users.get_user(session, username)
        assert user is not None
        return user


def test_a_new_user_signs_in_and_sees_only_what_their_groups_allow(stack: Stack) -> None:
    biller, helper = _unique("bill"), _unique("help")
    assert _create_user(stack, biller, "billing-pass", ["Billing"]).status_code == 302
    assert _create_user(stack, helper, "support-pass", ["Support"]).status_code == 302
    created = _user(stack, biller)
    assert [g.name for g in created.groups] == ["Billing"]
    assert (created.language, created.is_admin, created.is_active) == ("cs", False, True)

    # A ticket of the "guarded" process (the phone channel), escalated: Billing only.
    ticket = stack.client().post(
        "/api/v1/tickets",
        json={
            "subject": "Refund for a double charge",
            "body": "Charged twice.",
            "channel": "phone",
            "customer": {"email": "double@example.com"},
        },
        headers=stack.api(),
    )
    assert ticket.status_code == 201, ticket.get_data(as_text=True)
    number = ticket.get_json()["number"]
    moved = stack.client().post(
        f"/api/v1/tickets/{number}/actions/escalate", json={}, headers=stack.api()
    )
    assert moved.get_json()["state"] == "escalated"

    billing, status = _sign_in(stack, biller, "billing-pass")
    assert status == 302
    assert billing.get(f"/desk/tickets/{number}").status_code == 200
    assert number in billing.get("/desk/?view=all").get_data(as_text=True)
    assert billing.get("/admin/").status_code == 403

    support, status = _sign_in(stack, helper, "support-pass")
    assert status == 302
    assert support.get(f"/desk/tickets/{number}").status_code == 404
    assert number not in support.get("/desk/?view=all").get_data(as_text=True)


def test_the_user_list_shows_groups_admin_flag_activity_and_language(stack: Stack) -> None:
    html = stack.login("admin").get("/admin/users").get_data(as_text=True)
    row = html[html.index(">agent2</a>") :]
    row = row[: row.index("</tr>")]
    assert "Billing" in row and "Active" in row and "<td>en</td>" in row
    admin_row = html[html.index(">admin</a>") :]
    assert "<td>Admin</td>" in admin_row[: admin_row.index("</tr>")]


def test_an_admin_cannot_remove_their_own_admin_rights_or_deactivate_themselves(
    stack: Stack,
) -> None:
    client = stack.login("admin")
    keep = {"display_name": "Ada Admin", "email": "admin@example.com", "language": "en"}
    demote = _form(client, "/admin/users/admin", {**keep, "is_active": "on"})
    assert demote.status_code == 422
    assert str(escape("You cannot remove your own admin rights.")) in demote.get_data(as_text=True)
    leave = _form(client, "/admin/users/admin", {**keep, "is_admin": "on"})
    assert leave.status_code == 422
    assert "You cannot deactivate yourself." in leave.get_data(as_text=True)
    admin = _user(stack, "admin")
    assert admin.is_admin and admin.is_active
    assert client.get("/admin/users").status_code == 200


def test_another_admin_can_deactivate_a_user_who_then_cannot_sign_in(stack: Stack) -> None:
    name = _unique("gone")
    assert _create_user(stack, name, "gone-password", []).status_code == 302
    client = stack.login("admin")
    keep = {"display_name": "Gone", "email": "", "language": "en"}
    assert _form(client, f"/admin/users/{name}", keep).status_code == 302
    assert not _user(stack, name).is_active
    assert _sign_in(stack, name, "gone-password")[1] == 401

    again = {**keep, "is_active": "on", "password": "a-new-password"}
    assert _form(client, f"/admin/users/{name}", again).status_code == 302
    assert _sign_in(stack, name, "gone-password")[1] == 401
    assert _sign_in(stack, name, "a-new-password")[1] == 302


def test_user_forms_explain_every_invalid_field(stack: Stack) -> None:
    response = _form(
        stack.login("admin"),
        "/admin/users/new",
        {
            "username": "Bad Name!",
            "email": "not-an-email",
            "password": "short",
            "groups": ["Nope"],
            "language": "xx",
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for message in (
        "Use a-z, 0-9, '.', '_' and '-' (at most 64 characters).",
        "Enter a valid email address (or leave it empty).",
        "A password has at least 8 characters (at most 200).",
        "There is no group 'Nope'.",
        "Use one of: en, cs, de, uk, lt, el, ru.",
    ):
        assert str(escape(message)) in html
    assert "short" not in html  # a password is never sent back
    taken = _form(
        stack.login("admin"), "/admin/users/new", {"username": "agent1", "password": "x" * 8}
    )
    assert str(escape("The username 'agent1' is taken.")) in taken.get_data(as_text=True)


def test_crafted_fields_on_admin_forms_change_nothing_else(stack: Stack) -> None:
    name = _unique("craft")
    assert _create_user(stack, name, "craft-password", []).status_code == 302
    before = _user(stack, name)
    client = stack.login("admin")

    # The user form never reads a username, id, hash or creation time.
    edited = _form(
        client,
        f"/admin/users/{name}",
        {
            "display_name": "Crafty",
            "language": "en",
            "is_active": "on",
            "username": "renamed",
            "id": "1",
            "password_hash": "scrypt:forged",
            "created_at": "2000-01-01",
        },
    )
    assert edited.status_code == 302
    after = _user(stack, name)
    assert (after.id, after.password_hash, after.created_at) == (
        before.id,
        before.password_hash,
        before.created_at,
    )
    assert after.display_name == "Crafty" and not after.is_admin
    assert check_password_hash(after.password_hash, "craft-password")
    with stack.sessions() as session:
        assert session.scalar(select(User).where(User.username == "renamed")) is None

    # A group form with user fields: the group is renamed no more than the user made admin.
    group = _unique("G")
    assert _form(client, "/admin/groups", {"name": group}).status_code == 302
    crafted = _form(
        client,
        f"/admin/groups/{group}",
        {
            "description": "Crafted",
            "members": [name],
            "name": "Renamed",
            "is_admin": "1",
            "username": name,
            "id": "1",
        },
    )
    assert crafted.status_code == 302
    member = _user(stack, name)
    assert not member.is_admin and [g.name for g in member.groups] == [group]
    with stack.sessions() as session:
        assert session.scalar(select(Group).where(Group.name == "Renamed")) is None


def test_groups_are_created_and_given_a_description_supervisor_and_members(
    stack: Stack,
) -> None:
    client = stack.login("admin")
    name = _unique("Team")
    created = _form(client, "/admin/groups", {"name": name, "description": "Night shift"})
    assert created.status_code == 302
    assert created.headers["Location"].endswith(f"/admin/groups/{name}")
    duplicate = _form(client, "/admin/groups", {"name": name.lower()})
    assert duplicate.status_code == 422
    assert str(escape(f"There is a group '{name.lower()}' already.")) in duplicate.get_data(
        as_text=True
    )

    saved = _form(
        client,
        f"/admin/groups/{name}",
        {"description": "Nights", "supervisor": "agent2", "members": ["agent1", "agent2"]},
    )
    assert saved.status_code == 302
    with stack.sessions() as session:
        group = users.get_group(session, name)
        assert group is not None
        assert (group.description, group.supervisor) == ("Nights", "agent2")
        assert [u.username for u in group.members] == ["agent1", "agent2"]
    listing = client.get("/admin/groups").get_data(as_text=True)
    assert "agent1, agent2" in listing

    wrong = _form(client, f"/admin/groups/{name}", {"supervisor": "nobody", "members": ["ghost"]})
    assert wrong.status_code == 422
    html = wrong.get_data(as_text=True)
    assert str(escape("There is no active user 'nobody'.")) in html
    assert str(escape("There is no user 'ghost'.")) in html

    # Leave the demo users as they were for the other tests.
    with transaction(stack.sessions) as session:
        group = users.get_group(session, name)
        assert group is not None
        group.members = []


def test_agents_get_403_on_the_user_and_group_pages(stack: Stack) -> None:
    client = stack.login("agent1")
    for url in ("/admin/users", "/admin/users/new", "/admin/users/agent1", "/admin/groups"):
        assert client.get(url).status_code == 403
    token = csrf_token(client.get("/desk/").get_data(as_text=True))
    promote = client.post(
        "/admin/users/agent1",
        data={"csrf_token": token, "is_admin": "on", "is_active": "on", "language": "en"},
    )
    assert promote.status_code == 403
    assert not _user(stack, "agent1").is_admin
