"""What admins configure, as the workflow carries it out: stored fields, templates, portal
replies, assignee-only rights, and migrating a ticket to another process version."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import yaml
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from statemachines import bundled, load_text
from tempodesk.contracts import (
    SA_PROCESS,
    Actor,
    MigrateProcessInput,
    MigrateProcessResult,
    PerformActionInput,
    PinnedProcess,
    TicketSnapshot,
)
from tempodesk.core.ids import ticket_workflow_id
from tests.helpers import GUARDED_PROCESS
from tests.workflows.conftest import WorkflowEnv
from tests.workflows.test_ticket_workflow import act, handle, rejection, update_events, wait_for
from workflows.ticket import TicketWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="session")

AGENT = Actor("agent1", ["Support"])
ADMIN = Actor("admin", ["Support"], is_admin=True)


def pinned_from(data: dict[str, Any], version: int) -> PinnedProcess:
    definition = load_text(yaml.safe_dump(data, sort_keys=False))
    return PinnedProcess(definition.name, version, definition.to_json())


async def test_set_field_stores_values_on_the_ticket_and_templates_go_out(wf: WorkflowEnv) -> None:
    start = wf.start_input(process=wf.pinned(bundled("returns")))
    await wf.create(start)
    await act(wf, start.number, "parcel_received")
    result = await act(wf, start.number, "quote_repair", price="900 CZK")
    assert result.state == "awaiting_payment"
    snapshot: TicketSnapshot = await handle(wf, start.number).query(TicketWorkflow.snapshot)
    assert snapshot.fields == {"repair_price": "900 CZK"}
    await wait_for(
        lambda: len([t for t in wf.stubs.templates if t.ticket_number == start.number]) == 2
    )
    sent = [t for t in wf.stubs.templates if t.ticket_number == start.number]
    assert [(t.template, t.to_role) for t in sent] == [
        ("parcel_received", "customer"),
        ("repair_quote", "customer"),
    ]
    assert sent[1].fields == {"price": "900 CZK"} and sent[1].event_seq == result.seq
    await wait_for(
        lambda: [e.kind for e in wf.stubs.events(start.number)].count("template_sent") == 2
    )


async def test_assign_tells_the_new_assignee(wf: WorkflowEnv) -> None:
    start = wf.start_input()
    await wf.create(start)
    await act(wf, start.number, "assign", agent="agent2")
    await wait_for(lambda: any(t.ticket_number == start.number for t in wf.stubs.templates))
    [sent] = [t for t in wf.stubs.templates if t.ticket_number == start.number]
    assert (sent.template, sent.to_role, sent.actor) == ("assigned_to_you", "assignee", "agent1")


async def test_portal_reply_stays_in_the_portal_and_only_a_link_is_mailed(wf: WorkflowEnv) -> None:
    data = yaml.safe_load(bundled("support"))
    data["actions"]["reply"]["effects"] = [
        {"type": "portal_reply", "body_field": "body", "template": "portal_reply"}
    ]
    start = wf.start_input(process=pinned_from(data, 1))
    await wf.create(start)
    await act(wf, start.number, "reply", body=77)
    await wait_for(lambda: any(t.ticket_number == start.number for t in wf.stubs.templates))
    [sent] = [t for t in wf.stubs.templates if t.ticket_number == start.number]
    assert (sent.template, sent.to_role, sent.message_id) == ("portal_reply", "customer", 77)
    assert not any(m.ticket_number == start.number for m in wf.stubs.sent)  # no reply by mail
    portal = [
        m for p in wf.stubs.projections[start.number] for m in p.messages if m.message_id == 77
    ]
    assert portal[0].channel == "portal" and portal[0].internal is False


async def test_only_the_assignee_may_act_when_the_process_says_so(wf: WorkflowEnv) -> None:
    data = yaml.safe_load(bundled("support"))
    data["assignee_only"] = True
    data["actions"]["comment"]["any_agent"] = True
    start = wf.start_input(process=pinned_from(data, 1))
    await wf.create(start)  # the stubbed assignment gives it to agent1
    bob = Actor("agent2", ["Support"])
    before = await update_events(wf, start.number)
    cause = await rejection(
        wf, start.number, PerformActionInput("set_priority", bob, {"priority": 3})
    )
    assert cause.type == "ActionForbidden"
    assert cause.message == (
        "You may not 'Priority' tickets in state 'New'. Only agent1, the assignee, may act on "
        "this ticket."
    )
    assert await update_events(wf, start.number) == before
    assert (await act(wf, start.number, "comment", bob, body=5)).state == "new"
    assert (await act(wf, start.number, "set_priority", AGENT, priority=3)).state == "new"


def guarded_v2() -> dict[str, Any]:
    """The guarded process with 'escalated' renamed to 'specialist' and a new action."""
    data = yaml.safe_load(GUARDED_PROCESS)
    data["states"]["specialist"] = data["states"].pop("escalated")
    data["actions"]["escalate"]["target"] = "specialist"
    data["actions"]["hand_back"] = {"label": "Hand back", "target": "new"}
    data["states"]["specialist"]["actions"] = ["comment", "hand_back", "close"]
    return data


async def migrate(
    wf: WorkflowEnv, number: str, request: MigrateProcessInput
) -> MigrateProcessResult:
    result: MigrateProcessResult = await handle(wf, number).execute_update(
        TicketWorkflow.migrate_process, request
    )
    return result


async def test_a_ticket_keeps_its_version_until_an_admin_migrates_it(wf: WorkflowEnv) -> None:
    start = wf.start_input(process=wf.guarded())
    await wf.create(start)
    await act(wf, start.number, "escalate", ADMIN)
    v2 = pinned_from(guarded_v2(), 2)
    before = await update_events(wf, start.number)

    async def refused(request: MigrateProcessInput) -> ApplicationError:
        with pytest.raises(WorkflowUpdateFailedError) as caught:
            await migrate(wf, start.number, request)
        assert isinstance(caught.value.cause, ApplicationError)
        return caught.value.cause

    assert (await refused(MigrateProcessInput(v2, AGENT, {"escalated": "specialist"}))).message == (
        "Only admins may migrate tickets."
    )
    assert (await refused(MigrateProcessInput(v2, ADMIN, {}))).message == (
        "The new version has no state 'escalated'; map it to one."
    )
    assert (await refused(MigrateProcessInput(v2, ADMIN, {"escalated": "closed"}))).message == (
        "'closed' is a final state; close the ticket with an action instead."
    )
    assert await update_events(wf, start.number) == before  # refusals leave no trace

    result = await migrate(
        wf, start.number, MigrateProcessInput(v2, ADMIN, {"escalated": "specialist"})
    )
    assert (result.from_version, result.to_version, result.to_state) == (1, 2, "specialist")
    snapshot: TicketSnapshot = await handle(wf, start.number).query(TicketWorkflow.snapshot)
    assert (snapshot.process_version, snapshot.state) == (2, "specialist")
    assert (await act(wf, start.number, "hand_back", ADMIN)).state == "new"  # v2's action
    migrated = [e for e in wf.stubs.events(start.number) if e.kind == "migrated"]
    assert migrated[0].data["from_version"] == 1 and migrated[0].data["to_version"] == 2
    description = await handle(wf, start.number).describe()
    assert description.typed_search_attributes.get(SA_PROCESS) == f"{v2.name}:2"
    again = await refused(MigrateProcessInput(v2, ADMIN, {}))
    assert again.type == "AlreadyMigrated"


async def test_migration_carries_over_continue_as_new(wf: WorkflowEnv) -> None:
    start = wf.start_input(process=wf.guarded(), continue_as_new_after=2)
    await wf.create(start)
    v2 = pinned_from(guarded_v2(), 2)
    await migrate(wf, start.number, MigrateProcessInput(v2, ADMIN, {}))
    await act(wf, start.number, "comment", ADMIN, body=3)  # the run continues as new here
    snapshot: TicketSnapshot = await handle(wf, start.number).query(TicketWorkflow.snapshot)
    assert snapshot.process_version == 2
    result = await act(wf, start.number, "escalate", ADMIN)
    assert result.state == "specialist"
    assert dataclasses.asdict(snapshot)["number"] == start.number
    assert ticket_workflow_id(start.number) == handle(wf, start.number).id


async def test_a_merged_contact_is_relinked_on_the_ticket(wf: WorkflowEnv) -> None:
    from tempodesk.contracts import (
        RelinkContactInput,
    )

    start = wf.start_input()
    await wf.create(start)
    await handle(wf, start.number).signal(
        TicketWorkflow.relink_contact, RelinkContactInput(99, "jana@example.org", "Jana", "admin")
    )
    await wait_for(lambda: wf.stubs.latest(start.number).contact_id == 99)
    changed = wf.stubs.events(start.number)[-1]
    assert changed.kind == "contact_changed" and changed.data["to_contact"] == 99


async def test_a_template_goes_to_each_recipient_by_an_activity_of_its_own(
    wf: WorkflowEnv,
) -> None:
    start = wf.start_input()
    await wf.create(start)
    wf.stubs.recipients[start.number] = ["ok@example.com", "gone@example.com"]
    wf.stubs.refuse_mail_to.add("gone@example.com")
    await act(wf, start.number, "assign", agent="agent2")
    await wait_for(
        lambda: (
            {"template_sent", "template_failed"} <= {e.kind for e in wf.stubs.events(start.number)}
        )
    )
    sends = [n for n in wf.stubs.notices if n.template.ticket_number == start.number]
    assert sorted(n.notice.recipient for n in sends) == ["gone@example.com", "ok@example.com"]
    failed = [e for e in wf.stubs.events(start.number) if e.kind == "template_failed"]
    assert [e.data["to"] for e in failed] == ["gone@example.com"]
    assert "550" in failed[0].data["detail"]
