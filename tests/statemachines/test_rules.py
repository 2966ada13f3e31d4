"""Rights and field validation: the rules shared by the web and the Update validator."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from statemachines import (
    FieldErrors,
    Rejection,
    actions_for,
    bundled,
    check_action,
    clean_fields,
    coerce_form,
    customer_actions,
    load_text,
    may_perform,
    may_see,
)
from tests.helpers import GUARDED_PROCESS


@dataclass
class Who:
    username: str
    groups: list[str] = field(default_factory=list)
    is_admin: bool = False


SUPPORT = load_text(bundled("support"))
GUARDED = load_text(GUARDED_PROCESS)


def action(definition, action_id):  # type: ignore[no-untyped-def]
    spec = definition.action(action_id)
    assert spec is not None
    return spec


def test_every_agent_may_act_where_the_definition_names_no_groups() -> None:
    anyone = Who("agent1", ["Support"])
    assert [a.id for a in actions_for(SUPPORT, "resolved", anyone)] == [
        "reopen",
        "comment",
        "close",
    ]


def test_action_restricted_to_a_group_is_hidden_from_others() -> None:
    support, billing = Who("a", ["Support"]), Who("b", ["Billing"])
    close = action(GUARDED, "close")
    assert not may_perform(GUARDED, "new", close, support)
    assert may_perform(GUARDED, "new", close, billing)
    assert "close" not in [a.id for a in actions_for(GUARDED, "new", support)]


def test_state_restricted_to_a_group_is_invisible_to_others_and_admins_see_all() -> None:
    assert not may_see(GUARDED, "escalated", Who("a", ["Support"]))
    assert may_see(GUARDED, "escalated", Who("b", ["Billing"]))
    assert may_see(GUARDED, "escalated", Who("root", [], is_admin=True))
    assert not may_perform(GUARDED, "escalated", action(GUARDED, "comment"), Who("a", ["Support"]))


def test_required_field_missing_is_an_error_for_that_field() -> None:
    with pytest.raises(FieldErrors) as caught:
        clean_fields(action(SUPPORT, "reply"), {}, claimed=False)
    assert caught.value.errors == {"body": "This field is required."}


def test_blank_text_does_not_count_as_filled_in() -> None:
    with pytest.raises(FieldErrors) as caught:
        clean_fields(action(SUPPORT, "reply"), {"body": "   "}, claimed=False)
    assert caught.value.errors == {"body": "Enter some text."}


def test_unknown_field_is_refused_so_nothing_extra_can_be_smuggled_in() -> None:
    with pytest.raises(FieldErrors) as caught:
        clean_fields(action(SUPPORT, "close"), {"state": "closed"}, claimed=False)
    assert caught.value.errors == {"state": "The action 'Close' has no field 'state'."}


def test_claimed_long_text_must_be_a_stored_message_id() -> None:
    reply = action(SUPPORT, "reply")
    assert clean_fields(reply, {"body": 42}, claimed=True) == {"body": 42}
    with pytest.raises(FieldErrors):
        clean_fields(reply, {"body": "inline text"}, claimed=True)
    with pytest.raises(FieldErrors):
        clean_fields(reply, {"body": True}, claimed=True)


def test_select_accepts_only_its_choices() -> None:
    close = action(SUPPORT, "close_without_reply")
    assert clean_fields(close, {"reason": "duplicate"}, claimed=False) == {"reason": "duplicate"}
    with pytest.raises(FieldErrors) as caught:
        clean_fields(close, {"reason": "boredom"}, claimed=False)
    assert caught.value.errors == {"reason": "Choose one of the offered values."}


def test_priority_and_recipient_are_checked_by_shape() -> None:
    assert clean_fields(action(SUPPORT, "set_priority"), {"priority": "4"}, claimed=False) == {
        "priority": 4
    }
    with pytest.raises(FieldErrors):
        clean_fields(action(SUPPORT, "set_priority"), {"priority": 9}, claimed=False)
    forward = action(SUPPORT, "forward")
    cleaned = clean_fields(forward, {"to": "group:Billing", "note": "please"}, claimed=False)
    assert cleaned["to"] == "group:Billing"
    with pytest.raises(FieldErrors) as caught:
        clean_fields(forward, {"to": "everyone", "note": "x"}, claimed=False)
    assert caught.value.errors == {"to": "Choose an agent or a group."}


def test_form_values_are_coerced_to_field_types() -> None:
    values = coerce_form(action(SUPPORT, "set_priority"), {"priority": ["3"], "csrf_token": ["x"]})
    assert values == {"priority": "3"}
    assert clean_fields(action(SUPPORT, "set_priority"), values, claimed=False) == {"priority": 3}
    empty = coerce_form(action(SUPPORT, "reply"), {"body": [""]})
    assert empty == {"body": None}


def test_assignee_only_lets_just_the_assignee_act_on_an_assigned_ticket() -> None:
    import dataclasses

    strict = dataclasses.replace(SUPPORT, assignee_only=True)
    reply = action(strict, "reply")
    alice, bob = Who("alice", ["Support"]), Who("bob", ["Support"])
    assert may_perform(strict, "open", reply, alice, assignee="alice")
    assert not may_perform(strict, "open", reply, bob, assignee="alice")
    assert may_perform(strict, "open", reply, bob, assignee=None)  # unassigned: anyone
    assert may_perform(strict, "open", reply, Who("root", [], is_admin=True), assignee="alice")
    relaxed = dataclasses.replace(reply, any_agent=True)
    assert may_perform(strict, "open", relaxed, bob, assignee="alice")


@dataclass
class Customer:
    username: str = "jana@example.com"
    groups: list[str] = field(default_factory=list)
    is_admin: bool = False
    kind: str = "customer"
    contact_id: int | None = None


def test_a_customer_may_press_only_the_actions_marked_for_customers() -> None:
    assert [a.id for a in customer_actions(SUPPORT, "open")] == ["close"]
    assert customer_actions(SUPPORT, "new") == []  # "close" is not offered while new
    assert customer_actions(SUPPORT, "closed") == []
    allowed = check_action(
        SUPPORT, "open", "close", Customer(), assignee="agent1", customer_email="Jana@Example.com"
    )
    assert allowed == action(SUPPORT, "close")
    for other in ("reply", "comment", "resolve", "mark_spam", "close_without_reply"):
        refused = check_action(
            SUPPORT, "open", other, Customer(), assignee=None, customer_email="x"
        )
        assert isinstance(refused, Rejection) and refused.code == "forbidden", other
    # Even an admin flag does not let a customer past the mark.
    admin_customer = Customer(is_admin=True)
    refused = check_action(
        SUPPORT, "open", "reply", admin_customer, assignee=None, customer_email="x"
    )
    assert isinstance(refused, Rejection) and refused.code == "forbidden"


def test_an_unknown_kind_of_actor_may_press_nothing_even_a_customers_action() -> None:
    stranger = Customer(kind="robot")
    refused = check_action(SUPPORT, "open", "close", stranger, assignee=None, customer_email="x")
    assert isinstance(refused, Rejection) and refused.code == "forbidden"


def test_a_customer_may_press_a_customers_action_only_on_their_own_request() -> None:
    mine_by_contact = check_action(
        SUPPORT,
        "open",
        "close",
        Customer(username="new@example.com", contact_id=7),
        assignee=None,
        customer_email="old@example.com",
        contact_id=7,
    )
    assert mine_by_contact == action(SUPPORT, "close")
    for email, contact in (("eva@example.com", None), ("eva@example.com", 8), ("", None)):
        refused = check_action(
            SUPPORT,
            "open",
            "close",
            Customer(contact_id=7),
            assignee=None,
            customer_email=email,
            contact_id=contact,
        )
        assert isinstance(refused, Rejection) and refused.code == "forbidden", (email, contact)
