"""Rights as roles give them: the union of roles, what an actor from before roles holds, and
a read-only agent refused by the rules the web and the Update validator share."""

from __future__ import annotations

from statemachines import (
    RIGHTS,
    SHIPPED_ROLES,
    Rejection,
    actions_for,
    bundled,
    check_action,
    holds,
    load_text,
    may_see,
    rights_of,
)
from statemachines.rights import union
from tempodesk.contracts import SYSTEM, Actor
from tests.helpers import GUARDED_PROCESS

SUPPORT = load_text(bundled("support"))
GUARDED = load_text(GUARDED_PROCESS)


def test_rights_are_the_union_of_the_roles_in_the_lists_order() -> None:
    assert union(["view_reports"], ["act"], []) == ["act", "view_reports"]
    assert union(SHIPPED_ROLES["read-only"], SHIPPED_ROLES["agent"]) == ["act"]
    assert union(["admin"]) == list(RIGHTS)  # admin holds every right
    assert union(["no_such_right"]) == []


def test_shipped_roles_are_agent_supervisor_admin_and_read_only() -> None:
    assert set(SHIPPED_ROLES) == {"agent", "supervisor", "admin", "read-only"}
    assert SHIPPED_ROLES["read-only"] == ()
    assert "delete_tickets" in RIGHTS and "delete_tickets" in SHIPPED_ROLES["admin"]


def test_an_actor_from_before_roles_keeps_what_the_admin_flag_and_its_groups_gave() -> None:
    assert rights_of(Actor("old-agent", ["Support"])) == {"act"}
    assert rights_of(Actor("old-customers", ["Customers"])) == {"act", "manage_customers"}
    assert rights_of(Actor("old-admin", is_admin=True)) == set(RIGHTS)
    assert holds(SYSTEM, "act")


def test_a_read_only_agent_is_refused_every_action_with_its_own_code() -> None:
    reader = Actor("reader", ["Support"], rights=[])
    for state in ("new", "open", "resolved"):
        assert actions_for(SUPPORT, state, reader) == []
    refused = check_action(SUPPORT, "open", "comment", reader, assignee=None, customer_email="")
    assert isinstance(refused, Rejection)
    assert refused.code == "read_only" and refused.kind == "forbidden"
    agent = Actor("agent", ["Support"], rights=["act"])
    allowed = check_action(SUPPORT, "open", "comment", agent, assignee=None, customer_email="")
    assert not isinstance(allowed, Rejection)


def test_a_read_only_agent_still_sees_what_their_groups_see() -> None:
    billing_reader = Actor("reader", ["Billing"], rights=[])
    support_reader = Actor("reader2", ["Support"], rights=[])
    assert may_see(GUARDED, "escalated", billing_reader)
    assert not may_see(GUARDED, "escalated", support_reader)


def test_see_all_queues_sees_every_state_without_being_admin() -> None:
    watcher = Actor("watcher", [], rights=["see_all_queues"])
    assert may_see(GUARDED, "escalated", watcher)
    assert actions_for(GUARDED, "escalated", watcher) == []  # seeing is not acting


def test_a_supervisor_acting_in_a_subgroup_may_do_what_its_members_may() -> None:
    # The web puts the subgroups of a supervised group among the actor's groups.
    supervisor = Actor("chief", ["Department", "Billing"], rights=["act", "view_reports"])
    assert "close" in [a.id for a in actions_for(GUARDED, "new", supervisor)]
    assert may_see(GUARDED, "escalated", supervisor)
