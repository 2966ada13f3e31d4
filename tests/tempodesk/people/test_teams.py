"""Teams and roles in the database: rights as the union of roles and groups' roles, groups
within groups (no cycles, a depth limit), and what a supervisor of a parent group sees."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select, update

from tempodesk.core.db import transaction
from tempodesk.core.models import Group, Ticket, User
from tempodesk.people import accounts, roles, users
from tempodesk.people.common import AccountInvalid
from tempodesk.people.roles import RoleData
from tempodesk.reports import filters
from tempodesk.tickets import lists
from tests.helpers import Stack


def _name(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def _group(session, name: str, parent: str = "", supervisor: str = "") -> Group:  # type: ignore[no-untyped-def]
    group = users.create_group(session, name, "")
    users.update_group(
        session, group, description="", supervisor=supervisor, members=[], parent=parent
    )
    return group


def _user(session, name: str, roles: list[str], groups: list[str] | None = None) -> User:  # type: ignore[no-untyped-def]
    return accounts.create_user(session, name, "password-1", roles=roles, groups=groups or [])


def test_existing_admins_keep_admin_and_agents_act(stack: Stack) -> None:
    with stack.sessions() as session:
        admin = users.get_user(session, "admin")
        agent = users.get_user(session, "agent1")
        assert admin is not None and agent is not None
        assert admin.role_names == ["admin"] and admin.is_admin
        assert agent.role_names == ["agent"] and not agent.is_admin
        # The group "Customers" carries the customers right as a role now.
        assert agent.rights == ["act", "manage_customers"]


def test_an_agents_rights_are_the_union_of_their_roles_and_their_groups_roles(
    stack: Stack,
) -> None:
    with transaction(stack.sessions) as session:
        role = roles.create_role(session, _name("rep"), RoleData("Reports", ["view_reports"]))
        team = _group(session, _name("Team"))
        users.update_group(
            session, team, description="", supervisor="", members=[], roles=[role.name]
        )
        reader = _user(session, _name("reader"), ["read-only"], [team.name])
        assert reader.rights == ["view_reports"]
        actor = accounts.actor_for(reader)
        assert actor.rights == ["view_reports"] and not actor.is_admin
        reader.roles = [*reader.roles, roles.get_role(session, "agent")]  # type: ignore[list-item]
        assert reader.rights == ["act", "view_reports"]
        reader.roles = [roles.get_role(session, "admin")]  # type: ignore[list-item]
        assert reader.is_admin and accounts.actor_for(reader).is_admin


def test_a_group_cannot_be_under_itself(stack: Stack) -> None:
    with transaction(stack.sessions) as session:
        top = _group(session, _name("Top"))
        middle = _group(session, _name("Mid"), parent=top.name)
        low = _group(session, _name("Low"), parent=middle.name)
        for parent in (low.name, middle.name, top.name):
            with pytest.raises(AccountInvalid) as refused:
                users.update_group(
                    session, top, description="", supervisor="", members=[], parent=parent
                )
            assert "cycle" in refused.value.errors["parent"]
        assert top.parent is None


def test_groups_nest_at_most_five_levels_deep(stack: Stack) -> None:
    with transaction(stack.sessions) as session:
        chain = [_group(session, _name("L0"))]
        for level in range(1, 5):
            chain.append(_group(session, _name(f"L{level}"), parent=chain[-1].name))
        sixth = _group(session, _name("L5"))
        with pytest.raises(AccountInvalid) as refused:
            users.update_group(
                session, sixth, description="", supervisor="", members=[], parent=chain[-1].name
            )
        assert "at most 5 levels" in refused.value.errors["parent"]
        # Nor may a tree be hung under another so that it grows too deep.
        other = _group(session, _name("Top"))
        with pytest.raises(AccountInvalid):
            users.update_group(
                session, chain[0], description="", supervisor="", members=[], parent=other.name
            )


def test_a_supervisor_acts_in_every_group_under_the_one_they_supervise(stack: Stack) -> None:
    with transaction(stack.sessions) as session:
        chief = _user(session, _name("chief"), ["supervisor"])
        dept = _group(session, _name("Dept"), supervisor=chief.username)
        team = _group(session, _name("Team"), parent=dept.name)
        crew = _group(session, _name("Crew"), parent=team.name)
        member = _user(session, _name("member"), ["agent"], [dept.name])
        session.expire(chief)  # the groups they supervise, read afresh as a request would
        assert accounts.actor_for(chief).groups == sorted([team.name, crew.name])
        assert accounts.actor_for(member).groups == [dept.name]  # members see their own
        scope = filters.scope_for(session, chief)
        assert scope is not None and set(scope.groups or ()) == {dept.name, team.name, crew.name}


def test_a_supervisor_sees_the_subgroups_queue_and_its_restricted_states(stack: Stack) -> None:
    """Billing under a department: its supervisor sees Billing's tickets in "My groups" and
    the guarded process's escalated state (visible to Billing only), and may close them."""
    number = stack.client().post(
        "/api/v1/tickets",
        json={
            "subject": "Escalated to billing",
            "body": "Charged twice.",
            "channel": "phone",
            "customer": {"email": f"{_name('twice')}@example.com"},
        },
        headers=stack.api(),
    )
    assert number.status_code == 201, number.get_json()
    ticket = number.get_json()["number"]
    moved = stack.client().post(
        f"/api/v1/tickets/{ticket}/actions/escalate", json={}, headers=stack.api()
    )
    assert moved.get_json()["state"] == "escalated"
    with transaction(stack.sessions) as session:
        chief = _user(session, _name("chief"), ["supervisor"])
        dept = _group(session, _name("Dept"), supervisor=chief.username)
        session.execute(update(Ticket).where(Ticket.number == ticket).values(group_name="Billing"))
        billing = session.scalar(select(Group).where(Group.name == "Billing"))
        assert billing is not None
        billing.parent = dept
    try:
        with stack.sessions() as session:
            user = users.get_user(session, chief.username)
            assert user is not None
            actor = accounts.actor_for(user)
            mine = lists.page(session, actor, lists.BY_KEY["my_groups"].criteria, limit=500)
            assert ticket in [t.number for t in mine.items]
        with stack.sessions() as session:
            outsider = accounts.actor_for(_outsider(stack, session))
            visible = lists.page(session, outsider, {}, limit=500)
            assert ticket not in [t.number for t in visible.items]
        closed = stack.client().post(
            f"/api/v1/tickets/{ticket}/actions/close",
            json={},
            headers=_token_headers(stack, chief.username),
        )
        assert closed.status_code == 200, closed.get_json()
    finally:
        with transaction(stack.sessions) as session:
            billing = session.scalar(select(Group).where(Group.name == "Billing"))
            assert billing is not None
            billing.parent = None


def _outsider(stack: Stack, session) -> User:  # type: ignore[no-untyped-def]
    """A new agent of Support, as a request would load them."""
    with transaction(stack.sessions) as writing:
        name = _user(writing, _name("outsider"), ["agent"], ["Support"]).username
    user = users.get_user(session, name)
    assert user is not None
    return user


def _token_headers(stack: Stack, username: str) -> dict[str, str]:
    with transaction(stack.sessions) as session:
        user = users.get_user(session, username)
        assert user is not None
        token = accounts.create_token(session, user, name="teams test")
    return {"Authorization": f"Bearer {token}"}
