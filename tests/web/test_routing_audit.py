"""Routing changes are audited like every admin change: a rule's creation, change and
deletion (API or admin page), a group's strategy and an agent's availability and skills."""

from __future__ import annotations

from sqlalchemy import delete, select

from tempodesk.core.db import transaction
from tempodesk.core.models import AgentRouting, AgentSkill, AuditEntry, GroupRouting
from tests.helpers import Stack, csrf_token
from tests.web.test_api_routing import PROBE, rules_api


def entries(stack: Stack, action: str, object_id: str) -> list[AuditEntry]:
    with stack.sessions() as session:
        return list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == action, AuditEntry.object_id == object_id)
                .order_by(AuditEntry.id)
            )
        )


def test_a_routing_rule_is_audited_from_creation_to_deletion(stack: Stack) -> None:
    rule = rules_api(stack, "post", body={**PROBE, "name": "Audited invoices"}).get_json()
    ident = str(rule["id"])
    rules_api(stack, "put", f"/{ident}", {**PROBE, "name": "Audited invoices", "stop": False})
    assert rules_api(stack, "delete", f"/{ident}").status_code == 204
    [created] = entries(stack, "routing_rule.create", ident)
    [changed] = entries(stack, "routing_rule.update", ident)
    [deleted] = entries(stack, "routing_rule.delete", ident)
    assert created.actor == "admin" and (created.after or {})["name"] == "Audited invoices"
    assert ((changed.before or {})["stop"], (changed.after or {})["stop"]) == (True, False)
    assert deleted.before is not None and deleted.after is None


def test_a_groups_strategy_and_an_agents_availability_are_audited(stack: Stack) -> None:
    admin = stack.login("admin")
    token = csrf_token(admin.get("/admin/routing").get_data(as_text=True))
    try:
        admin.post(
            "/admin/routing/groups/Billing",
            data={"csrf_token": token, "strategy": "least_open", "max_open": "9"},
        )
        admin.post(
            "/admin/routing/agents/agent2",
            data={"csrf_token": token, "availability": "away", "skills": "audit:3"},
        )
        [group] = entries(stack, "group_routing.update", "Billing")[-1:]
        assert group.actor == "admin"
        assert (group.after or {})["strategy"] == "least_open"
        assert (group.after or {})["max_open"] == 9
        agent = entries(stack, "agent_routing.update", "agent2")[-2:]
        assert [e.after for e in agent] == [
            {"availability": "away", "calendar": ""},
            {"skills": {"audit": 3}},
        ]
    finally:
        with transaction(stack.sessions) as session:
            session.execute(delete(GroupRouting).where(GroupRouting.group_name == "Billing"))
            session.execute(delete(AgentRouting).where(AgentRouting.username == "agent2"))
            session.execute(delete(AgentSkill).where(AgentSkill.username == "agent2"))
