"""The definition model: reading, validation with readable errors, compilation."""

from __future__ import annotations

import json

import pytest
import yaml

from statemachines import (
    DefinitionError,
    bundled,
    compile_definition,
    from_json,
    load_text,
    move,
    parse_definition,
    parse_duration,
    to_statechart,
)
from statemachines.compiler import TransitionNotAllowed


def default_document() -> dict:
    data: dict = yaml.safe_load(bundled("support"))
    return data


def problems_of(data: object, **kwargs: object) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        parse_definition(data, **kwargs)  # type: ignore[arg-type]
    return [str(p) for p in caught.value.problems]


def test_default_process_has_the_states_and_categories_of_a_support_desk() -> None:
    definition = load_text(bundled("support"))
    categories = {s.id: s.category for s in definition.states}
    assert categories == {
        "new": "new",
        "open": "open",
        "waiting_for_customer": "pending",
        "resolved": "resolved",
        "closed": "closed",
        "spam": "closed",
        "call_back": "pending",  # calls: not reached, called again by a timeout
        "calling_back": "open",
    }
    assert {a.id for a in definition.actions} == {
        "reply",
        "comment",
        "forward",
        "assign",
        "set_priority",
        "resolve",
        "close",
        "close_without_reply",
        "mark_spam",
        "reopen",
        "categorise",
        "close_no_answer",
        "call_customer",
        "call_agreed",
        "call_not_reached",
        "call_not_reached_again",
        "call_no_agreement",
        "call_again",
    }


def test_default_reply_requires_a_body_and_moves_to_waiting_for_customer() -> None:
    definition = load_text(bundled("support"))
    reply = definition.action("reply")
    assert reply is not None
    assert reply.target == "waiting_for_customer"
    body = reply.field("body")
    assert body is not None and body.required and body.type == "longtext"
    assign = definition.action("assign")
    assert assign is not None and assign.field("agent") is not None
    assert assign.field("agent").type == "agent"  # type: ignore[union-attr]


def test_unknown_target_state_is_reported_where_it_is() -> None:
    data = default_document()
    data["actions"]["reply"]["target"] = "limbo"
    assert "actions.reply.target: Unknown target state 'limbo'." in problems_of(data)


def test_unknown_action_in_a_state_is_reported() -> None:
    data = default_document()
    data["states"]["open"]["actions"].append("teleport")
    assert any(
        p.startswith("states.open.actions[") and p.endswith("Unknown action 'teleport'.")
        for p in problems_of(data)
    )


def test_unreachable_state_is_reported() -> None:
    data = default_document()
    data["states"]["archive"] = {"label": "Archive", "category": "closed"}
    assert "states.archive: This state cannot be reached from the initial state." in problems_of(
        data
    )


def test_dead_end_that_is_not_closed_is_reported() -> None:
    data = default_document()
    data["states"]["parked"] = {"label": "Parked", "category": "pending"}
    data["actions"]["park"] = {"label": "Park", "target": "parked"}
    data["states"]["open"]["actions"].append("park")
    assert "states.parked: This state has no way out but its category is not closed." in (
        problems_of(data)
    )


def test_process_without_a_reachable_closed_state_is_refused() -> None:
    data = {
        "name": "loop",
        "initial": "a",
        "states": {
            "a": {"category": "new", "actions": ["go"]},
            "b": {"category": "open", "actions": ["back"]},
        },
        "actions": {"go": {"target": "b"}, "back": {"target": "a"}},
    }
    assert "states: No closed state can be reached: tickets could never be closed." in (
        problems_of(data)
    )


def test_field_and_effect_mistakes_are_all_reported_at_once() -> None:
    data = default_document()
    data["actions"]["reply"]["fields"].append({"id": "body", "type": "longtext"})
    data["actions"]["comment"]["effects"] = [{"type": "add_note", "body_field": "nothing"}]
    data["actions"]["assign"]["fields"][0]["type"] = "colour"
    data["actions"]["close_without_reply"]["fields"][0]["choices"] = []
    problems = problems_of(data)
    assert "actions.reply.fields: The field id 'body' is used twice." in problems
    assert "actions.comment.effects[0].body_field: No field 'nothing' in this action." in problems
    assert any("Unknown field type 'colour'" in p for p in problems)
    assert "actions.close_without_reply.fields[0].choices: A select field needs choices." in (
        problems
    )


def test_effect_reading_a_field_of_the_wrong_type_is_refused() -> None:
    data = default_document()
    data["actions"]["set_priority"]["effects"] = [{"type": "send_email", "body_field": "priority"}]
    assert (
        "actions.set_priority.effects[0].body_field: The field 'priority' must be of type "
        "longtext." in problems_of(data)
    )


def test_reserved_and_malformed_ids_are_refused() -> None:
    data = default_document()
    data["actions"]["customer_message"] = {"target": "open"}
    data["states"]["Bad State"] = {"category": "open"}
    problems = problems_of(data)
    assert "actions.customer_message: 'customer_message' is reserved." in problems
    assert any(p.startswith("states.Bad State: 'Bad State' is not a valid id") for p in problems)


def test_unknown_category_is_reported() -> None:
    data = default_document()
    data["states"]["open"]["category"] = "busy"
    assert any(
        p.startswith("states.open.category: Unknown category 'busy'") for p in problems_of(data)
    )


def test_rights_naming_unknown_groups_are_refused_when_groups_are_known() -> None:
    data = default_document()
    data["actions"]["mark_spam"]["groups"] = ["Moderators"]
    assert "actions.mark_spam.groups: Unknown group 'Moderators'." in problems_of(
        data, known_groups=["Support"]
    )


def test_broken_yaml_says_where() -> None:
    with pytest.raises(DefinitionError) as caught:
        load_text("name: x\nstates: [\n")
    assert caught.value.problems[0].location.startswith("line ")


def test_json_form_keeps_the_order_of_states_and_actions() -> None:
    definition = load_text(bundled("support"))
    again = from_json(definition.to_json())
    assert again == definition
    assert [s.id for s in again.states][:3] == ["new", "open", "waiting_for_customer"]


def test_compiles_to_a_python_statemachine_document() -> None:
    definition = load_text(bundled("support"))
    chart = to_statechart(definition)
    assert chart["states"]["new"]["initial"] is True
    assert chart["states"]["closed"]["final"] is True
    events = [t["event"] for t in chart["states"]["waiting_for_customer"]["transitions"]]
    assert "reply" in events and "customer_message" in events
    json.dumps(chart)  # it is plain data


def test_machine_moves_along_actions_and_customer_messages() -> None:
    compiled = compile_definition(load_text(bundled("support")))
    machine, _ = compiled.machine("new")
    assert move(machine, "reply") == "waiting_for_customer"
    assert move(machine, "customer_message") == "open"
    assert move(machine, "comment") == "open"
    assert move(machine, "close") == "closed"
    assert machine.is_terminated  # closed is final: the ticket's workflow ends


def test_machine_refuses_an_action_that_is_not_available() -> None:
    compiled = compile_definition(load_text(bundled("support")))
    machine, _ = compiled.machine("resolved")
    with pytest.raises(TransitionNotAllowed):
        move(machine, "reply")


def test_mermaid_diagram_shows_the_transitions() -> None:
    compiled = compile_definition(load_text(bundled("support")))
    diagram = compiled.mermaid()
    assert diagram.startswith("stateDiagram-v2")
    assert "new --> waiting_for_customer : Reply" in diagram


# ------------------------------------------------------------------ issue 3: the admin's model


def test_timeout_needs_a_real_duration() -> None:
    data = default_document()
    data["states"]["waiting_for_customer"]["timeout"] = {"after": "a week", "action": "close"}
    assert "states.waiting_for_customer.timeout.after: Use a duration like 30m, 12h or 7d." in (
        problems_of(data)
    )


def test_timeout_action_must_be_offered_in_the_state() -> None:
    data = default_document()
    data["states"]["waiting_for_customer"]["timeout"] = {"after": "7d", "action": "mark_spam"}
    assert (
        "states.waiting_for_customer.timeout.action: The action 'mark_spam' is not offered in "
        "this state." in problems_of(data)
    )


def test_timeout_action_cannot_ask_for_required_fields() -> None:
    data = default_document()
    data["states"]["waiting_for_customer"]["timeout"] = {"after": "7d", "action": "reply"}
    assert (
        "states.waiting_for_customer.timeout.action: The action 'reply' has required fields; "
        "a timeout cannot fill them in." in problems_of(data)
    )


def test_timeouts_are_read_in_seconds() -> None:
    definition = load_text(bundled("support"))
    timeout = definition.state("waiting_for_customer").timeout
    assert timeout is not None and (timeout.seconds, timeout.action) == (
        7 * 86400,
        "close_no_answer",
    )
    assert parse_duration("90s") == 90 and parse_duration("2w") == 1209600
    assert parse_duration("0d") is None and parse_duration("soon") is None


def test_colour_and_sla_pause_default_by_category_and_can_be_set() -> None:
    data = default_document()
    data["states"]["open"]["colour"] = "#123abc"
    data["states"]["open"]["sla_paused"] = True
    definition = parse_definition(data)
    assert definition.state("open").colour == "#123abc" and definition.state("open").sla_paused
    assert definition.state("waiting_for_customer").sla_paused is True
    assert definition.state("new").sla_paused is False
    data["states"]["new"]["colour"] = "blue"
    assert "states.new.colour: Use a colour like #2454d6." in problems_of(data)


def test_a_duplicated_id_in_yaml_is_refused_not_silently_overwritten() -> None:
    text = bundled("support").replace(
        "  closed:\n    label: Closed",
        "  open:\n    label: Second open\n  closed:\n    label: Closed",
    )
    with pytest.raises(DefinitionError) as caught:
        load_text(text)
    [problem] = caught.value.problems
    assert problem.location.startswith("line ")
    assert problem.message == "'open' is defined twice here; ids must be unique."


def test_unknown_template_is_refused_when_templates_are_known() -> None:
    data = default_document()
    assert "actions.assign.effects[1].template: There is no template 'assigned_to_you'." in (
        problems_of(data, known_templates=["closed_no_answer"])
    )


def test_template_effects_need_a_template_and_a_known_recipient() -> None:
    data = default_document()
    data["actions"]["assign"]["effects"][1] = {"type": "send_template", "to": "everybody"}
    problems = problems_of(data)
    assert "actions.assign.effects[1].template: The send_template effect needs 'template'." in (
        problems
    )
    assert (
        "actions.assign.effects[1].to: Send to one of customer, assignee, group, supervisor, "
        "followers." in problems
    )


def test_effects_refuse_arguments_they_do_not_have() -> None:
    data = default_document()
    data["actions"]["comment"]["effects"] = [
        {"type": "add_note", "body_field": "body", "recipient": "boss@example.com"}
    ]
    assert "actions.comment.effects[0].recipient: The add_note effect has no 'recipient'." in (
        problems_of(data)
    )


def test_set_field_stores_a_named_ticket_field_but_not_a_message_body() -> None:
    definition = load_text(bundled("returns"))
    assert definition.fields_set() == {
        "repair_price",
        "paid_amount",
        "payment_reference",
        "tracking_number",
    }
    data = default_document()
    data["actions"]["comment"]["effects"] = [{"type": "set_field", "field": "body"}]
    assert (
        "actions.comment.effects[0].field: The field 'body' must be of type anything but "
        "longtext." in problems_of(data)
    )


def test_every_documented_effect_type_is_known() -> None:
    from statemachines import EFFECTS

    assert set(EFFECTS) == {
        "send_email",
        "portal_reply",
        "send_template",
        "notify_followers",
        "ask_rating",
        "add_note",
        "assign",
        "forward",
        "assign_to_me",
        "set_priority",
        "set_field",
        "call_customer",
        "record_call",
    }


def test_yaml_export_reads_back_to_the_same_definition() -> None:
    from statemachines import to_yaml

    for name in ("support", "returns"):
        definition = load_text(bundled(name))
        assert load_text(to_yaml(definition)) == definition


def test_hostile_yaml_tags_are_refused_not_executed() -> None:
    with pytest.raises(DefinitionError) as caught:
        load_text("!!python/object/apply:os.system ['touch /tmp/tempodesk-pwned']\n")
    assert "Not valid YAML" in caught.value.problems[0].message
    import os

    assert not os.path.exists("/tmp/tempodesk-pwned")


def test_an_action_marked_for_customers_is_read_kept_and_takes_no_fields() -> None:
    definition = load_text(bundled("support"))
    close, reply = definition.action("close"), definition.action("reply")
    assert close is not None and close.customers
    assert reply is not None and not reply.customers  # unmarked: agents only
    from statemachines import to_yaml

    assert load_text(to_yaml(definition)).action("close") == close
    data = default_document()
    data["actions"]["reply"]["customers"] = True
    data["actions"]["comment"]["customers"] = "yes"
    problems = problems_of(data)
    assert "actions.reply.customers: An action for customers takes no fields." in problems
    assert "actions.comment.customers: Use true or false." in problems


def test_choices_that_are_not_a_list_are_a_located_problem_not_a_crash() -> None:
    data = default_document()
    data["actions"]["close_without_reply"]["fields"][0]["choices"] = 1.5
    assert "actions.close_without_reply.fields[0].choices: Choices must be a list." in (
        problems_of(data)
    )
